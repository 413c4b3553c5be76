// Benchmark of async_backoff against hand-written retry loops.
//
// Scenario: N operations on one thread (one io_context, run()). Each makes a
// first attempt at once, then waits 1, 2, 4, 8, 16, 16, ... ms (multiplier 2,
// cap 16 ms); the attempt is synchronous, returns an error_code and fails
// until its 20th call, which succeeds.
//
// Contenders:
//   1 lib_callback   async_backoff(ctx executor, policy, attempt, handler)
//   2 lib_timer      async_backoff(timer, policy, attempt, handler), caller's timers
//   3 lib_coroutine  co_await async_backoff(..., use_awaitable), one coroutine per operation
//   4 hand_callback  one steady_timer per waiter, a completion lambda re-arms it
//   5 hand_coroutine a C++20 coroutine for-loop on its own steady_timer
//
// Each measurement runs in a child process forked from a small driver, so
// that every run starts from the same heap and its peak RSS is its own; the
// repetitions interleave the contenders so that they share the machine's
// conditions. Per run: CPU time (CLOCK_PROCESS_CPUTIME_ID, user + system) of
// initiating and running all operations, heap allocations (every malloc-family
// call and operator new, see counting_alloc.cpp), peak RSS growth, and the
// lateness of each attempt after the first (when it ran minus when it was due).
//
//   asio_backoff_bench [--reps R] [--n LIST] [--contenders LIST]
//                      [--big-n LIST] [--big-contenders LIST]
//                      [--csv FILE] [--summary FILE] [--no-lateness]
//   asio_backoff_bench --single C --n N [--no-lateness]   one run, in process
//                                                         (for callgrind)

#include <asio_backoff.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "counting_alloc.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using executor_t = asio::io_context::executor_type;
using timer_t_ = asio::basic_waitable_timer<std::chrono::steady_clock,
                                            asio::wait_traits<std::chrono::steady_clock>,
                                            executor_t>;
using error_code = boost::system::error_code;

constexpr int attempts_per_op = 20;
constexpr int window_first = 3;  // steady state: from the last operation's 3rd attempt
constexpr int window_last = 18;  // to the first operation's 18th

const char* const contender_names[] = {"", "lib_callback", "lib_timer", "lib_coroutine",
                                       "hand_callback", "hand_coroutine"};

// The wait before attempt k (k >= 2): 1, 2, 4, 8, 16, 16, ... ms.
constexpr std::int64_t due_delay_ns(int k)
{
  const int shift = k - 2;
  return (shift >= 4 ? 16 : (1 << shift)) * 1'000'000LL;
}

std::int64_t steady_ns()
{
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t cpu_ns()
{
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// Lateness histogram: 1 us buckets below 1024 us, then 64 buckets per
// power of two (1.6 % resolution), up to ~2^31 us.
constexpr int linear_buckets = 1024;
constexpr int log_buckets = 22 * 64;
std::uint64_t g_hist[linear_buckets + log_buckets];

int bucket_of(std::int64_t ns)
{
  const std::uint64_t us = ns <= 0 ? 0 : static_cast<std::uint64_t>(ns) / 1000;
  if (us < linear_buckets)
    return static_cast<int>(us);
  const int e = 63 - __builtin_clzll(us); // >= 10
  const int sub = static_cast<int>((us >> (e - 6)) & 63);
  const int b = linear_buckets + (e - 10) * 64 + sub;
  return std::min(b, linear_buckets + log_buckets - 1);
}

double bucket_value_us(int b)
{
  if (b < linear_buckets)
    return b;
  const int e = (b - linear_buckets) / 64 + 10;
  const int sub = (b - linear_buckets) % 64;
  return std::ldexp(64 + sub, e - 6);
}

double percentile_us(double q)
{
  std::uint64_t total = 0;
  for (std::uint64_t c : g_hist)
    total += c;
  if (total == 0)
    return -1;
  const std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(q * total));
  std::uint64_t seen = 0;
  for (int b = 0; b < linear_buckets + log_buckets; ++b)
  {
    seen += g_hist[b];
    if (seen >= rank)
      return bucket_value_us(b);
  }
  return -1;
}

// What every run shares: counters, the steady-state window and options.
struct run_state
{
  std::size_t n = 0;
  bool lateness = true;
  std::uint64_t attempts = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::uint64_t reached_first = 0;
  bool window_open = false, window_closed = false;
  std::uint64_t allocs_a = 0, attempts_a = 0, allocs_b = 0, attempts_b = 0;
};

run_state g;

// The attempt, the same object for every contender: counts its calls,
// records its lateness, fails until the 20th call.
struct attempt_fn
{
  int count = 0;
  std::int64_t last_ns = 0;

  error_code operator()()
  {
    ++count;
    ++g.attempts;
    if (g.lateness)
    {
      const std::int64_t now = steady_ns();
      if (count > 1)
        ++g_hist[bucket_of(now - (last_ns + due_delay_ns(count)))];
      last_ns = now;
    }
    if (count == window_first && ++g.reached_first == g.n && !g.window_closed)
    {
      g.window_open = true;
      g.allocs_a = bench_alloc::allocations();
      g.attempts_a = g.attempts;
    }
    else if (count == window_last && !g.window_closed)
    {
      g.window_closed = true;
      g.allocs_b = bench_alloc::allocations();
      g.attempts_b = g.attempts;
    }
    if (count < attempts_per_op)
      return asio::error::try_again;
    return {};
  }
};

struct done_handler
{
  void operator()(error_code ec) const
  {
    ++g.completed;
    if (ec)
      ++g.failed;
  }
};

asio_backoff::policy bench_policy()
{
  asio_backoff::policy p;
  p.initial = 1ms;
  p.multiplier = 2.0;
  p.max_delay = 16ms;
  p.immediate_first_attempt = true;
  return p;
}

// --- 4: hand-written callback loop -----------------------------------------

struct waiter
{
  explicit waiter(const executor_t& ex) : timer(ex) {}
  timer_t_ timer;
  attempt_fn attempt;
  std::chrono::milliseconds delay{1};
};

void hand_step(waiter* w)
{
  if (!w->attempt())
  {
    done_handler{}(error_code());
    return;
  }
  w->timer.expires_after(w->delay);
  w->delay = std::min(w->delay * 2, std::chrono::milliseconds(16));
  w->timer.async_wait([w](error_code ec) {
    if (ec)
      return done_handler{}(ec);
    hand_step(w);
  });
}

// --- 3 and 5: coroutines ----------------------------------------------------

using awaitable_t = asio::awaitable<void, executor_t>;
constexpr asio::use_awaitable_t<executor_t> use_aw{};

awaitable_t lib_coroutine(asio_backoff::policy p)
{
  const executor_t ex = co_await asio::this_coro::executor;
  co_await asio_backoff::async_backoff(ex, p, attempt_fn{}, use_aw);
  done_handler{}(error_code());
}

awaitable_t hand_coroutine()
{
  timer_t_ timer(co_await asio::this_coro::executor);
  attempt_fn attempt;
  auto delay = std::chrono::milliseconds(1);
  while (attempt())
  {
    timer.expires_after(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(16));
    co_await timer.async_wait(use_aw);
  }
  done_handler{}(error_code());
}

// --- one run ----------------------------------------------------------------

struct result
{
  int contender = 0;
  std::uint64_t n = 0;
  int rep = 0;
  std::int64_t cpu_ns = 0;
  std::int64_t wall_ns = 0;
  std::uint64_t attempts = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::uint64_t allocs = 0;   // in the measured region
  std::uint64_t frees = 0;
  std::uint64_t bytes = 0;
  std::uint64_t window_allocs = 0;
  std::uint64_t window_attempts = 0;
  std::int64_t rss_before_kb = 0;
  std::int64_t hwm_kb = 0;
  double late_p50_us = -1;
  double late_p99_us = -1;
  double late_max_us = -1;
  // The allocation sizes seen at least N times: the per-operation ones.
  std::uint64_t op_sizes[6] = {};
  std::uint64_t op_size_counts[6] = {};
};

std::int64_t status_kb(const char* key)
{
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  std::int64_t value = -1;
  const std::size_t len = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, len) == 0)
    {
      value = std::strtoll(line + len, nullptr, 10);
      break;
    }
  std::fclose(f);
  return value;
}

void reset_peak_rss()
{
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w"))
  {
    std::fputs("5", f);
    std::fclose(f);
  }
}

// Everything measured: initiation of all N operations and run(). A named,
// never-inlined function, so that callgrind can restrict its counts to it
// (--toggle-collect=bench_measured_region).
extern "C" __attribute__((noinline)) void bench_measured_region(int contender, std::size_t n,
                                                                 result& r)
{
  asio::io_context ctx(1);
  const executor_t ex = ctx.get_executor();
  const asio_backoff::policy p = bench_policy();
  std::vector<timer_t_> timers;
  std::vector<waiter> waiters;

  switch (contender)
  {
  case 1:
    for (std::size_t i = 0; i < n; ++i)
      asio_backoff::async_backoff(ex, p, attempt_fn{}, done_handler{});
    break;
  case 2:
    timers.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
    {
      timers.emplace_back(ex);
      asio_backoff::async_backoff(timers.back(), p, attempt_fn{}, done_handler{});
    }
    break;
  case 3:
    for (std::size_t i = 0; i < n; ++i)
      asio::co_spawn(ex, lib_coroutine(p), asio::detached);
    break;
  case 4:
    waiters.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
    {
      waiter* w = &waiters.emplace_back(ex);
      asio::post(ex, [w] { hand_step(w); });
    }
    break;
  case 5:
    for (std::size_t i = 0; i < n; ++i)
      asio::co_spawn(ex, hand_coroutine(), asio::detached);
    break;
  }
  ctx.run();
  // Peak while all were pending; read before the vectors are freed.
  r.hwm_kb = status_kb("VmHWM:");
}

result run_one(int contender, std::size_t n, int rep, bool lateness)
{
  result r;
  r.contender = contender;
  r.n = n;
  r.rep = rep;
  g = run_state{};
  g.n = n;
  g.lateness = lateness;
  std::memset(g_hist, 0, sizeof g_hist); // touched before the baseline

  reset_peak_rss();
  r.rss_before_kb = status_kb("VmRSS:");
  const std::uint64_t a0 = bench_alloc::allocations();
  const std::uint64_t f0 = bench_alloc::deallocations();
  const std::uint64_t b0 = bench_alloc::bytes_requested();
  bench_alloc::start_sizes();
  const std::int64_t c0 = cpu_ns();
  const std::int64_t w0 = steady_ns();

  bench_measured_region(contender, n, r);

  const std::int64_t w1 = steady_ns();
  const std::int64_t c1 = cpu_ns();
  bench_alloc::stop_sizes();
  r.allocs = bench_alloc::allocations() - a0;
  r.frees = bench_alloc::deallocations() - f0;
  r.bytes = bench_alloc::bytes_requested() - b0;
  r.cpu_ns = c1 - c0;
  r.wall_ns = w1 - w0;
  r.attempts = g.attempts;
  r.completed = g.completed;
  r.failed = g.failed;
  if (g.window_open && g.window_closed)
  {
    r.window_allocs = g.allocs_b - g.allocs_a;
    r.window_attempts = g.attempts_b - g.attempts_a;
  }
  if (lateness)
  {
    r.late_p50_us = percentile_us(0.50);
    r.late_p99_us = percentile_us(0.99);
    r.late_max_us = percentile_us(1.0);
  }
  bench_alloc::size_count sizes[bench_alloc::max_sizes];
  const std::size_t ns = bench_alloc::sizes(sizes, bench_alloc::max_sizes);
  std::sort(sizes, sizes + ns,
            [](const auto& a, const auto& b) { return a.count > b.count; });
  int k = 0;
  for (std::size_t i = 0; i < ns && k < 6; ++i)
    if (sizes[i].count >= n)
    {
      r.op_sizes[k] = sizes[i].size;
      r.op_size_counts[k] = sizes[i].count;
      ++k;
    }
  return r;
}

// --- reporting --------------------------------------------------------------

double cpu_per_attempt(const result& r) { return double(r.cpu_ns) / double(r.attempts); }
double allocs_per_op(const result& r) { return double(r.allocs) / double(r.n); }
double rss_per_op(const result& r) { return double(r.hwm_kb - r.rss_before_kb) * 1024.0 / double(r.n); }
double allocs_per_retry(const result& r)
{
  return r.window_attempts ? double(r.window_allocs) / double(r.window_attempts) : -1;
}

std::string op_sizes_text(const result& r)
{
  std::string s;
  for (int k = 0; k < 6 && r.op_sizes[k]; ++k)
  {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%" PRIu64 "B x%.2f", s.empty() ? "" : " + ",
                  r.op_sizes[k], double(r.op_size_counts[k]) / double(r.n));
    s += buf;
  }
  return s.empty() ? "-" : s;
}

void print_csv_header(FILE* f)
{
  std::fprintf(f, "contender,name,n,rep,cpu_ns,wall_ns,attempts,completed,failed,cpu_ns_per_attempt,"
                  "allocs,frees,bytes,allocs_per_op,window_allocs,window_attempts,allocs_per_retry,"
                  "rss_before_kb,hwm_kb,rss_bytes_per_op,late_p50_us,late_p99_us,late_max_us,"
                  "op_alloc_sizes\n");
}

void print_csv(FILE* f, const result& r)
{
  std::fprintf(f,
               "%d,%s,%" PRIu64 ",%d,%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
               ",%.2f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%" PRIu64 ",%" PRIu64
               ",%.4f,%" PRId64 ",%" PRId64 ",%.1f,%.0f,%.0f,%.0f,%s\n",
               r.contender, contender_names[r.contender], r.n, r.rep, r.cpu_ns, r.wall_ns,
               r.attempts, r.completed, r.failed, cpu_per_attempt(r), r.allocs, r.frees, r.bytes,
               allocs_per_op(r), r.window_allocs, r.window_attempts, allocs_per_retry(r),
               r.rss_before_kb, r.hwm_kb, rss_per_op(r), r.late_p50_us, r.late_p99_us,
               r.late_max_us, op_sizes_text(r).c_str());
  std::fflush(f);
}

double median(std::vector<double> v)
{
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void print_summary(FILE* f, const std::vector<result>& all, const std::vector<std::size_t>& ns,
                   int reps)
{
  const int baseline = 4;
  for (std::size_t n : ns)
  {
    std::map<int, std::vector<const result*>> by;
    for (const result& r : all)
      if (r.n == n)
        by[r.contender].push_back(&r);
    if (by.empty())
      continue;
    auto med = [&](int c, double (*metric)(const result&)) {
      std::vector<double> v;
      for (const result* r : by[c])
        v.push_back(metric(*r));
      return median(v);
    };
    // Ratio of a contender to the baseline within each repetition (same
    // conditions), then the median of those ratios.
    auto ratio = [&](int c, double (*metric)(const result&)) {
      std::vector<double> v;
      for (const result* r : by[c])
        for (const result* b : by[baseline])
          if (b->rep == r->rep)
            v.push_back(metric(*r) / metric(*b));
      return median(v);
    };
    std::fprintf(f, "\n### N = %zu (median of %d repetitions)\n\n", n, reps);
    std::fprintf(f, "| contender | CPU ns/attempt | vs (4) | wall ms | allocs/op | vs (4) | "
                    "allocs/retry (steady) | RSS B/op | vs (4) | per-op allocations | "
                    "late p50 us | late p99 us |\n");
    std::fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
    for (auto& [c, rs] : by)
    {
      const bool has_base = by.count(baseline) > 0;
      char cpu_ratio[32] = "-", rss_ratio[32] = "-", alloc_diff[32] = "-";
      if (has_base)
      {
        std::snprintf(cpu_ratio, sizeof cpu_ratio, "%.2fx", ratio(c, cpu_per_attempt));
        std::snprintf(rss_ratio, sizeof rss_ratio, "%.2fx", ratio(c, rss_per_op));
        std::snprintf(alloc_diff, sizeof alloc_diff, "%+.2f",
                      med(c, allocs_per_op) - med(baseline, allocs_per_op));
      }
      const double retry = med(c, allocs_per_retry);
      char retry_text[32] = "n/a";
      if (retry >= 0)
        std::snprintf(retry_text, sizeof retry_text, "%.4f", retry);
      std::fprintf(f, "| (%d) %s | %.0f | %s | %.0f | %.2f | %s | %s | %.0f | %s | %s | %.0f | %.0f |\n",
                   c, contender_names[c], med(c, cpu_per_attempt), cpu_ratio,
                   med(c, [](const result& r) { return r.wall_ns / 1e6; }), med(c, allocs_per_op),
                   alloc_diff, retry_text, med(c, rss_per_op), rss_ratio,
                   op_sizes_text(*rs.front()).c_str(),
                   med(c, [](const result& r) { return r.late_p50_us; }),
                   med(c, [](const result& r) { return r.late_p99_us; }));
    }
  }
}

std::vector<std::size_t> parse_list(const char* s)
{
  std::vector<std::size_t> v;
  while (*s)
  {
    char* end;
    v.push_back(std::strtoull(s, &end, 10));
    if (*end == 'k' || *end == 'K')
      v.back() *= 1000, ++end;
    else if (*end == 'M')
      v.back() *= 1000000, ++end;
    s = *end == ',' ? end + 1 : end;
    if (end == s && *s)
      break;
  }
  return v;
}

bool check(const result& r)
{
  const bool ok = r.completed == r.n && r.failed == 0 && r.attempts == r.n * attempts_per_op;
  if (!ok)
    std::fprintf(stderr, "contender %d N=%" PRIu64 ": completed %" PRIu64 ", failed %" PRIu64
                         ", attempts %" PRIu64 "\n",
                 r.contender, r.n, r.completed, r.failed, r.attempts);
  return ok;
}

bool run_forked(int c, std::size_t n, int rep, bool lateness, result& out)
{
  int fds[2];
  if (pipe(fds) != 0)
    return false;
  const pid_t pid = fork();
  if (pid == 0)
  {
    close(fds[0]);
    result r = run_one(c, n, rep, lateness);
    const char* p = reinterpret_cast<const char*>(&r);
    std::size_t left = sizeof r;
    while (left > 0)
    {
      const ssize_t w = write(fds[1], p, left);
      if (w <= 0)
        _exit(1);
      p += w;
      left -= static_cast<std::size_t>(w);
    }
    _exit(0);
  }
  close(fds[1]);
  char* p = reinterpret_cast<char*>(&out);
  std::size_t got = 0;
  while (got < sizeof out)
  {
    const ssize_t rd = read(fds[0], p + got, sizeof out - got);
    if (rd <= 0)
      break;
    got += static_cast<std::size_t>(rd);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got == sizeof out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

int main(int argc, char** argv)
{
  int reps = 3;
  std::vector<std::size_t> ns{1000, 10000, 100000};
  std::vector<std::size_t> contenders{1, 2, 3, 4, 5};
  std::vector<std::size_t> big_ns;
  std::vector<std::size_t> big_contenders{1, 4};
  const char* csv_path = nullptr;
  const char* summary_path = nullptr;
  bool lateness = true;
  int single = 0;

  for (int i = 1; i < argc; ++i)
  {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc)
      {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--reps") reps = std::atoi(next());
    else if (a == "--n") ns = parse_list(next());
    else if (a == "--contenders") contenders = parse_list(next());
    else if (a == "--big-n") big_ns = parse_list(next());
    else if (a == "--big-contenders") big_contenders = parse_list(next());
    else if (a == "--csv") csv_path = next();
    else if (a == "--summary") summary_path = next();
    else if (a == "--no-lateness") lateness = false;
    else if (a == "--single") single = std::atoi(next());
    else
    {
      std::fprintf(stderr, "unknown option %s (see the comment at the top of backoff_bench.cpp)\n",
                   a.c_str());
      return 2;
    }
  }

  using op1 = asio_backoff::detail::backoff_op<asio_backoff::detail::owned_timer<timer_t_>,
                                               attempt_fn, done_handler, asio_backoff::detail::no_report>;
  using op2 = asio_backoff::detail::backoff_op<asio_backoff::detail::borrowed_timer<timer_t_>,
                                               attempt_fn, done_handler, asio_backoff::detail::no_report>;
  std::fprintf(stderr,
               "sizeof: backoff_op (1) %zu, backoff_op (2) %zu + timer %zu, waiter (4) %zu, "
               "steady_timer %zu, attempt %zu, schedule %zu, policy %zu\n",
               sizeof(op1), sizeof(op2), sizeof(timer_t_), sizeof(waiter), sizeof(timer_t_),
               sizeof(attempt_fn), sizeof(asio_backoff::schedule), sizeof(asio_backoff::policy));

  if (single)
  {
    const std::size_t n = ns.empty() ? 1000 : ns.front();
    result r = run_one(single, n, 0, lateness);
    print_csv_header(stdout);
    print_csv(stdout, r);
    return check(r) ? 0 : 1;
  }

  FILE* csv = csv_path ? std::fopen(csv_path, "w") : nullptr;
  if (csv)
    print_csv_header(csv);
  print_csv_header(stderr);
  std::vector<result> all;
  bool ok = true;
  std::vector<std::size_t> all_ns = ns;
  for (std::size_t n : big_ns)
    all_ns.push_back(n);
  for (int rep = 0; rep < reps; ++rep)
    for (std::size_t n : all_ns)
    {
      const bool big = std::find(ns.begin(), ns.end(), n) == ns.end();
      // Rotate the order each repetition so that no contender always runs
      // first (or right after the same neighbour).
      std::vector<std::size_t> order = big ? big_contenders : contenders;
      std::rotate(order.begin(), order.begin() + (rep % order.size()), order.end());
      for (std::size_t c : order)
      {
        result r;
        if (!run_forked(static_cast<int>(c), n, rep, lateness, r))
        {
          std::fprintf(stderr, "run of contender %zu with N=%zu failed\n", c, n);
          ok = false;
          continue;
        }
        ok = check(r) && ok;
        print_csv(stderr, r);
        if (csv)
          print_csv(csv, r);
        all.push_back(r);
      }
    }
  if (csv)
    std::fclose(csv);
  print_summary(stdout, all, all_ns, reps);
  if (summary_path)
    if (FILE* f = std::fopen(summary_path, "w"))
    {
      print_summary(f, all, all_ns, reps);
      std::fclose(f);
    }
  return ok ? 0 : 1;
}
