// The seed's way against ours: N waits as N threads each blocked in the
// seed's loop (virTimeBackOffWait: usleep between attempts), against N
// async_backoff operations on one thread. Same scenario as the main
// benchmark: first attempt at once, then waits of 1, 2, 4, 8, 16, 16, ... ms,
// 20 attempts, the 20th succeeds.
//
//   asio_backoff_seed_bench N...        e.g. 1000 10000
//
// Each measurement runs in a forked child, so that RSS and virtual memory
// are its own; CPU is the child's user + system time. Prints one markdown
// row per contender and N.

#include <asio_backoff.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr int attempts_per_wait = 20;

unsigned long long millis_now()
{
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<unsigned long long>(t.tv_sec) * 1000 + static_cast<unsigned long long>(t.tv_nsec) / 1000000;
}

// libvirt's virTimeBackOffVar and virTimeBackOffWait, with the scenario's
// cap of 16 ms (the seed doubles without one).
struct seed_backoff
{
  unsigned long long start_t, next, limit_t;

  seed_backoff(unsigned long long first, unsigned long long timeout)
    : start_t(millis_now()), next(first), limit_t(start_t + timeout)
  {
  }

  bool wait()
  {
    const unsigned long long t = millis_now();
    if (t > limit_t)
      return false;
    unsigned long long n = next;
    next = std::min<unsigned long long>(next * 2, 16);
    if (t + n > limit_t)
      n = limit_t - t;
    ::usleep(static_cast<useconds_t>(n * 1000));
    return true;
  }
};

// Virtual memory and resident set of this process now, in KiB.
std::pair<long, long> vm_and_rss_kib()
{
  std::ifstream status("/proc/self/status");
  std::string key;
  long vm = 0, rss = 0;
  while (status >> key)
  {
    if (key == "VmSize:")
      status >> vm;
    else if (key == "VmRSS:")
      status >> rss;
  }
  return {vm, rss};
}

struct figures
{
  double cpu_s = 0, wall_s = 0;
  long peak_vm_kib = 0, peak_rss_kib = 0;
  long completed = 0;
};

// The seed: one thread per wait, each blocked in usleep between attempts.
figures run_threads(int n)
{
  std::atomic<long> completed{0};
  // All threads exist before any starts: blocked on a condition, not spinning.
  std::mutex mutex;
  std::condition_variable cv;
  long started = 0;
  bool go = false;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  figures f;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&] {
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++started;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      int attempt = 0;
      if (++attempt == attempts_per_wait) // the first attempt, at once
        return void(++completed);
      seed_backoff b(1, 60000);
      while (b.wait())
        if (++attempt == attempts_per_wait)
          return void(++completed);
    });
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return started == n; });
    std::tie(f.peak_vm_kib, f.peak_rss_kib) = vm_and_rss_kib(); // all stacks exist now
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads)
    t.join();
  f.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.completed = completed;
  return f;
}

// Ours: every wait an async_backoff operation on one thread.
figures run_operations(int n)
{
  using namespace std::chrono_literals;
  boost::asio::io_context ctx(1);
  asio_backoff::policy p;
  p.immediate_first_attempt = true;
  p.initial = 1ms;
  p.max_delay = 16ms;
  long completed = 0;
  figures f;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    asio_backoff::async_backoff(
        ctx, p,
        [attempt = 0]() mutable -> boost::system::error_code {
          return ++attempt == attempts_per_wait
                     ? boost::system::error_code()
                     : make_error_code(boost::system::errc::connection_refused);
        },
        [&](boost::system::error_code ec) { completed += !ec; });
  std::tie(f.peak_vm_kib, f.peak_rss_kib) = vm_and_rss_kib(); // all pending now
  ctx.run();
  f.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.completed = completed;
  return f;
}

// Runs `run(n)` in a child; reads its figures back through a pipe.
template <class Run>
figures measure(Run run, int n)
{
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0)
    std::exit(1);
  const pid_t pid = ::fork();
  if (pid == 0)
  {
    ::close(pipe_fds[0]);
    figures f = run(n);
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    f.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
              static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    f.peak_rss_kib = std::max(f.peak_rss_kib, usage.ru_maxrss);
    if (::write(pipe_fds[1], &f, sizeof f) != static_cast<ssize_t>(sizeof f))
      ::_exit(1);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  figures f;
  if (::read(pipe_fds[0], &f, sizeof f) != static_cast<ssize_t>(sizeof f))
    f.completed = -1;
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return f;
}

void print(const char* who, int n, const figures& f)
{
  std::printf("| %s | %d | %ld | %.3f | %.1f | %.1f | %.1f | %.2f |\n", who, n, f.completed,
              f.cpu_s, f.cpu_s * 1e6 / (static_cast<double>(n) * attempts_per_wait),
              static_cast<double>(f.peak_rss_kib) / 1024.0,
              static_cast<double>(f.peak_vm_kib) / 1024.0, f.wall_s);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char* argv[])
{
  std::printf("| contender | N | completed | CPU s | CPU us per attempt | peak RSS MiB | "
              "virtual MiB | wall s |\n|---|---|---|---|---|---|---|---|\n");
  for (int i = 1; i < argc; ++i)
  {
    const int n = std::atoi(argv[i]);
    print("async_backoff, one thread", n, measure(run_operations, n));
    print("seed loop, one thread per wait (usleep)", n, measure(run_threads, n));
  }
}
