// Tests for asio_backoff/schedule.hpp: the delay arithmetic, with no I/O.

#include <asio_backoff/schedule.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <limits>
#include <vector>

using namespace std::chrono_literals;
using asio_backoff::policy;
using asio_backoff::schedule;
using ns = std::chrono::nanoseconds;

namespace {

struct run
{
  std::vector<ns> attempts; // elapsed time at each attempt
  schedule::step_kind end;
};

// Drives a schedule with attempts that take `attempt_cost` each and fail.
run simulate(schedule s, ns attempt_cost = 0ns, std::size_t limit = 100000)
{
  run r;
  ns now = 0ns;
  for (;;)
  {
    const schedule::step step = s.next(now);
    if (step.kind != schedule::step_kind::wait)
    {
      r.end = step.kind;
      return r;
    }
    BOOST_REQUIRE(step.delay >= 0ns);
    now += step.delay;
    r.attempts.push_back(now);
    s.attempt_started(now); // used with delay_origin::attempt_start only
    now += attempt_cost;
    BOOST_REQUIRE(r.attempts.size() < limit);
  }
}

run simulate(const policy& p, ns attempt_cost = 0ns)
{
  return simulate(schedule(p), attempt_cost);
}

std::vector<ns> ms_list(std::initializer_list<long> values)
{
  std::vector<ns> out;
  for (long v : values)
    out.push_back(std::chrono::milliseconds(v));
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(schedule_arithmetic)

BOOST_AUTO_TEST_CASE(the_seed_schedule_exactly)
{
  policy p;
  p.initial = 1ms;
  p.timeout = 3000ms;
  const run r = simulate(p);
  BOOST_TEST(r.attempts == ms_list({1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 3000}),
             boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(immediate_first_attempt_then_initial)
{
  policy p;
  p.initial = 1ms;
  p.max_delay = 16ms;
  p.max_attempts = 8;
  p.immediate_first_attempt = true;
  const run r = simulate(p);
  BOOST_TEST(r.attempts == ms_list({0, 1, 3, 7, 15, 31, 47, 63}), boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::attempts_exhausted));
}

BOOST_AUTO_TEST_CASE(cap_holds_every_wait)
{
  policy p;
  p.initial = 3ms;
  p.multiplier = 10;
  p.max_delay = 50ms;
  p.max_attempts = 6;
  const run r = simulate(p);
  BOOST_TEST(r.attempts == ms_list({3, 33, 83, 133, 183, 233}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(max_attempts_counts_every_attempt)
{
  policy p;
  p.max_attempts = 1;
  run r = simulate(p);
  BOOST_TEST(r.attempts.size() == 1u);
  BOOST_TEST((r.end == schedule::step_kind::attempts_exhausted));
  p.max_attempts = 5;
  r = simulate(p);
  BOOST_TEST(r.attempts.size() == 5u);
}

BOOST_AUTO_TEST_CASE(fractional_multiplier_does_not_drift)
{
  policy p;
  p.initial = 1ms;
  p.multiplier = 1.5;
  p.max_attempts = 5;
  const run r = simulate(p);
  // waits 1, 1.5, 2.25, 3.375, 5.0625 ms
  const std::vector<ns> expected{1000000ns, 2500000ns, 4750000ns, 8125000ns, 13187500ns};
  BOOST_TEST(r.attempts == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(multiplier_one_is_a_fixed_period)
{
  policy p;
  p.initial = 200ms;
  p.multiplier = 1;
  p.timeout = 1000ms;
  const run r = simulate(p);
  BOOST_TEST(r.attempts == ms_list({200, 400, 600, 800, 1000}), boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(slow_attempts_still_end_at_the_deadline)
{
  policy p;
  p.initial = 100ms;
  p.timeout = 1000ms;
  // Attempts take 300 ms: waits start after each attempt ends.
  const run r = simulate(p, 300ms);
  BOOST_TEST(r.attempts == ms_list({100, 600, 1000}), boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(an_attempt_past_the_deadline_is_the_last)
{
  policy p;
  p.initial = 10ms;
  p.timeout = 15ms;
  const run r = simulate(p, 100ms); // the first attempt ends past the deadline
  BOOST_TEST(r.attempts == ms_list({10}), boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(zero_timeout_still_runs_one_attempt)
{
  policy p;
  p.timeout = 0ms;
  const run r = simulate(p);
  BOOST_TEST(r.attempts == ms_list({0}), boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(deadline_wins_over_attempts_exhausted)
{
  policy p;
  p.initial = 10ms;
  p.timeout = 10ms;
  p.max_attempts = 1;
  const run r = simulate(p);
  BOOST_TEST(r.attempts.size() == 1u);
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(doubling_saturates_instead_of_overflowing)
{
  policy p;
  p.initial = 1ns;
  p.max_attempts = 10000;
  schedule s(p);
  ns previous = 0ns;
  for (int i = 0; i < 10000; ++i)
  {
    const schedule::step step = s.next(0ns);
    BOOST_REQUIRE((step.kind == schedule::step_kind::wait));
    BOOST_REQUIRE(step.delay >= previous); // never wraps to a small or negative value
    previous = step.delay;
  }
  BOOST_TEST(previous.count() == ns::max().count());
  BOOST_TEST((s.next(0ns).kind == schedule::step_kind::attempts_exhausted));
}

BOOST_AUTO_TEST_CASE(huge_values_stay_in_range)
{
  policy p;
  p.initial = ns::max();
  p.multiplier = 1e308;
  p.timeout = ns::max();
  schedule s(p);
  BOOST_TEST(s.next(0ns).delay.count() == ns::max().count());
  BOOST_TEST(s.next(ns::max() - 1ns).delay.count() == 1);
  BOOST_TEST((s.next(ns::max()).kind == schedule::step_kind::timed_out));

  policy inf;
  inf.multiplier = std::numeric_limits<double>::infinity();
  inf.max_delay = 5s;
  schedule t(inf);
  BOOST_TEST(t.next(0ns).delay.count() == ns(1ms).count());
  BOOST_TEST(t.next(0ns).delay.count() == ns(5s).count());
  BOOST_TEST(t.next(0ns).delay.count() == ns(5s).count());
}

BOOST_AUTO_TEST_CASE(cap_near_the_largest_duration_is_respected)
{
  policy p;
  p.initial = 1s;
  p.max_delay = ns::max() - 1ns; // not exactly representable as a double
  schedule s(p);
  ns last = 0ns;
  for (int i = 0; i < 100; ++i)
    last = s.next(0ns).delay;
  BOOST_TEST(last.count() == (ns::max() - 1ns).count());
}

BOOST_AUTO_TEST_CASE(attempts_counts_grants)
{
  policy p;
  p.max_attempts = 2;
  schedule s(p);
  BOOST_TEST(s.attempts() == 0u);
  s.next(0ns);
  BOOST_TEST(s.attempts() == 1u);
  s.next(0ns);
  BOOST_TEST(s.attempts() == 2u);
  s.next(0ns);
  BOOST_TEST(s.attempts() == 2u);
}

BOOST_AUTO_TEST_CASE(without_a_deadline_no_time_is_too_late_or_too_early)
{
  // No deadline: a clock that went back (negative elapsed time) or a huge
  // hint changes nothing, even when stopping before the deadline.
  policy p;
  p.max_attempts = 10;
  schedule s(p);
  s.next(0ns);
  const schedule::step back = s.next(-1ns);
  BOOST_TEST((back.kind == schedule::step_kind::wait));
  BOOST_TEST(back.delay.count() == ns(2ms).count());
  p.deadline_mode = asio_backoff::deadline_mode::stop_before_deadline;
  schedule t(p);
  t.next(0ns);
  const schedule::step hinted = t.next(1s, ns::max());
  BOOST_TEST((hinted.kind == schedule::step_kind::wait));
  BOOST_TEST(hinted.delay.count() == ns::max().count());
  BOOST_TEST(!t.timeout().has_value());
  policy forever;
  forever.timeout = ns::max(); // a deadline all the same
  BOOST_TEST(schedule(forever).timeout().has_value());
}

BOOST_AUTO_TEST_CASE(a_clock_that_went_back_saturates_the_time_left)
{
  policy p;
  p.timeout = ns::max() - ns(1);
  p.initial = 1h;
  schedule s(p);
  const schedule::step first = s.next(-1h);
  BOOST_TEST((first.kind == schedule::step_kind::wait));
  BOOST_TEST(first.delay.count() == ns(1h).count());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(schedule_options)

namespace {

policy constant(ns t, asio_backoff::jitter j, std::uint64_t seed = 42)
{
  policy p;
  p.initial = t;
  p.multiplier = 1;
  p.jitter = j;
  p.jitter_seed = seed;
  return p;
}

// The mean of `n` waits of one schedule, checking each against [low, high].
double mean_wait(const policy& p, ns low, ns high, int n = 100000)
{
  schedule s(p);
  double sum = 0;
  for (int i = 0; i < n; ++i)
  {
    const ns d = s.next(0ns).delay;
    BOOST_REQUIRE(d >= low);
    BOOST_REQUIRE(d <= high);
    sum += static_cast<double>(d.count());
  }
  return sum / n;
}

} // namespace

BOOST_AUTO_TEST_CASE(full_jitter_is_uniform_below_the_wait)
{
  const double mean = mean_wait(constant(1ms, asio_backoff::jitter::full), 0ns, 1ms);
  BOOST_TEST(mean == 500000.0, boost::test_tools::tolerance(0.02));
}

BOOST_AUTO_TEST_CASE(equal_jitter_keeps_half_the_wait)
{
  const double mean = mean_wait(constant(1ms, asio_backoff::jitter::equal), 500us, 1ms);
  BOOST_TEST(mean == 750000.0, boost::test_tools::tolerance(0.02));
}

BOOST_AUTO_TEST_CASE(proportional_jitter_stays_within_its_factor)
{
  policy p = constant(1ms, asio_backoff::jitter::proportional);
  p.jitter_factor = 0.2;
  const double mean = mean_wait(p, 800us, 1200us);
  BOOST_TEST(mean == 1000000.0, boost::test_tools::tolerance(0.02));
  p.max_delay = 1100us; // and never above the cap
  mean_wait(p, 800us, 1100us, 10000);
}

BOOST_AUTO_TEST_CASE(decorrelated_jitter_follows_its_formula)
{
  policy p = constant(1ms, asio_backoff::jitter::decorrelated);
  p.max_delay = 100ms;
  schedule s(p);
  ns previous = 1ms;
  for (int i = 0; i < 100000; ++i)
  {
    const ns d = s.next(0ns).delay;
    BOOST_REQUIRE(d >= 1ms);
    BOOST_REQUIRE(d <= std::min(ns(100ms), 3 * previous));
    previous = d;
  }
  // The first wait is uniform in [initial, 3 * initial]: mean 2 * initial.
  double sum = 0;
  for (std::uint64_t seed = 0; seed < 100000; ++seed)
    sum += static_cast<double>(schedule(constant(1ms, asio_backoff::jitter::decorrelated, seed))
                                   .next(0ns)
                                   .delay.count());
  BOOST_TEST(sum / 100000 == 2000000.0, boost::test_tools::tolerance(0.02));
}

BOOST_AUTO_TEST_CASE(a_seed_reproduces_a_run_and_each_operation_differs)
{
  auto draws = [](const policy& p) {
    schedule s(p);
    std::vector<ns> out;
    for (int i = 0; i < 20; ++i)
      out.push_back(s.next(0ns).delay);
    return out;
  };
  const policy seeded = constant(1s, asio_backoff::jitter::full, 7);
  BOOST_TEST(draws(seeded) == draws(seeded), boost::test_tools::per_element());
  BOOST_TEST((draws(seeded) != draws(constant(1s, asio_backoff::jitter::full, 8))));
  policy unseeded = seeded;
  unseeded.jitter_seed.reset();
  BOOST_TEST((draws(unseeded) != draws(unseeded)));
}

BOOST_AUTO_TEST_CASE(a_randomised_tiny_wait_is_never_zero)
{
  // Found by the fuzzer: full jitter of a 1 ns wait rounded down to no wait
  // at all, and the operation retried without ever letting time pass.
  for (auto j : {asio_backoff::jitter::full, asio_backoff::jitter::equal,
                 asio_backoff::jitter::decorrelated, asio_backoff::jitter::proportional})
  {
    policy p;
    p.initial = 1ns;
    p.multiplier = 1;
    p.max_delay = 1ns;
    p.jitter = j;
    p.jitter_factor = 1;
    p.jitter_seed = 7;
    schedule s(p);
    for (int i = 0; i < 1000; ++i)
      BOOST_REQUIRE(s.next(0ns).delay == 1ns);
  }
}

BOOST_AUTO_TEST_CASE(jitter_never_passes_the_deadline_and_never_overflows)
{
  for (auto j : {asio_backoff::jitter::none, asio_backoff::jitter::full, asio_backoff::jitter::equal,
                 asio_backoff::jitter::decorrelated, asio_backoff::jitter::proportional})
  {
    policy p;
    p.initial = 1ns;
    p.multiplier = 1e308;
    p.jitter = j;
    p.jitter_factor = 1;
    p.jitter_seed = 1;
    p.max_attempts = 10000;
    schedule unbounded(p);
    for (int i = 0; i < 10000; ++i)
    {
      const schedule::step step = unbounded.next(0ns);
      BOOST_REQUIRE((step.kind == schedule::step_kind::wait));
      BOOST_REQUIRE(step.delay >= 0ns);
    }
    p.timeout = 10s;
    p.max_delay = 1s;
    schedule bounded(p);
    ns now = 0ns;
    for (;;)
    {
      const schedule::step step = bounded.next(now);
      if (step.kind != schedule::step_kind::wait)
        break;
      BOOST_REQUIRE(step.delay >= 0ns);
      BOOST_REQUIRE(step.delay <= 1s);
      now += step.delay;
      BOOST_REQUIRE(now <= 10s);
    }
  }
}

BOOST_AUTO_TEST_CASE(stop_before_deadline_does_not_shorten_the_last_wait)
{
  policy p;
  p.initial = 1ms;
  p.timeout = 3000ms;
  p.deadline_mode = asio_backoff::deadline_mode::stop_before_deadline;
  const run r = simulate(p);
  BOOST_TEST(r.attempts == ms_list({1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047}),
             boost::test_tools::per_element());
  BOOST_TEST((r.end == schedule::step_kind::timed_out));
  p.initial = 5s; // not even one wait fits
  BOOST_TEST(simulate(p).attempts.empty());
}

BOOST_AUTO_TEST_CASE(absolute_deadline_is_shared_and_the_earlier_wins)
{
  const auto start = std::chrono::steady_clock::time_point(100h);
  policy p;
  p.initial = 1ms;
  p.deadline = start + 3000ms;
  auto attempts_of = [&](const policy& q) {
    return simulate(schedule::with_deadline(q, start)).attempts;
  };
  BOOST_TEST(attempts_of(p) == ms_list({1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 3000}),
             boost::test_tools::per_element());
  policy both = p;
  both.timeout = 1000ms; // earlier than the absolute deadline
  BOOST_TEST(attempts_of(both).back() == ns(1000ms));
  both.timeout = 10s;
  BOOST_TEST(attempts_of(both).back() == ns(3000ms));
  policy past = p;
  past.deadline = start - 1s; // already passed: one attempt, at once
  BOOST_TEST(attempts_of(past) == ms_list({0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(delay_origin_attempt_start_keeps_the_cadence)
{
  policy p;
  p.initial = 1000ms;
  p.multiplier = 1;
  p.max_attempts = 4;
  auto starts = [](const policy& q, ns attempt_cost) { return simulate(q, attempt_cost).attempts; };
  BOOST_TEST(starts(p, 300ms) == ms_list({1000, 2300, 3600, 4900}), boost::test_tools::per_element());
  p.delay_origin = asio_backoff::delay_origin::attempt_start;
  BOOST_TEST(starts(p, 300ms) == ms_list({1000, 2000, 3000, 4000}), boost::test_tools::per_element());
  // An attempt slower than the wait: the next one starts at once.
  BOOST_TEST(starts(p, 1500ms) == ms_list({1000, 2500, 4000, 5500}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(retry_after_hint_replaces_one_wait_and_the_schedule_continues)
{
  policy p;
  p.initial = 1ms;
  p.timeout = 100ms;
  schedule s(p);
  BOOST_TEST(s.next(0ns).delay == ns(1ms));
  BOOST_TEST(s.next(1ms, 50ms).delay == ns(50ms));
  BOOST_TEST(s.next(51ms).delay == ns(4ms));
  BOOST_TEST(s.next(55ms, 1h).delay == ns(45ms)); // bounded by the deadline
  BOOST_TEST((s.next(100ms).kind == schedule::step_kind::timed_out));
}

BOOST_AUTO_TEST_CASE(a_hint_is_not_shortened_by_the_attempt_duration)
{
  policy p;
  p.initial = 1s;
  p.delay_origin = asio_backoff::delay_origin::attempt_start;
  schedule s(p);
  BOOST_TEST(s.next(0ns).delay == ns(1s));
  s.attempt_started(1s);
  BOOST_TEST(s.next(4s, 5s).delay == ns(5s)); // the attempt took 3 s
  s.attempt_started(9s);
  BOOST_TEST(s.next(10s).delay == ns(3s)); // 4 s counted from the attempt's start
}

BOOST_AUTO_TEST_CASE(proportional_jitter_of_zero_is_no_jitter)
{
  policy p = constant(1ms, asio_backoff::jitter::proportional);
  p.jitter_factor = 0;
  p.jitter_seed.reset();
  schedule s(p);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(s.next(0ns).delay == ns(1ms));
}

BOOST_AUTO_TEST_CASE(describe_prints_the_schedule_in_one_line)
{
  policy p;
  p.initial = 1ms;
  p.max_delay = 1s;
  p.timeout = 30s;
  BOOST_TEST(asio_backoff::describe(p) == "1ms 2ms 4ms 8ms 16ms 32ms 64ms 128ms ... 1s, deadline 30s");
  p.max_delay = 4ms;
  p.jitter = asio_backoff::jitter::full;
  BOOST_TEST(asio_backoff::describe(p) == "1ms 2ms 4ms 4ms ..., deadline 30s, full jitter");
  policy q;
  q.initial = 250ms;
  q.multiplier = 1.5;
  q.max_attempts = 3;
  q.immediate_first_attempt = true;
  q.jitter = asio_backoff::jitter::proportional;
  BOOST_TEST(asio_backoff::describe(q) == "now 250ms 375ms, 3 attempts, jitter +-20%");
  policy capped;
  capped.max_delay = 2ms;
  capped.max_attempts = 3;
  BOOST_TEST(asio_backoff::describe(capped) == "1ms 2ms 2ms, 3 attempts");
  capped.max_attempts = 1;
  BOOST_TEST(asio_backoff::describe(capped) == "1ms, 1 attempt");
  policy huge;
  huge.initial = ns::max();
  BOOST_TEST(asio_backoff::describe(huge) == "forever forever ...");
  policy decorrelated;
  decorrelated.max_delay = 1s;
  decorrelated.jitter = asio_backoff::jitter::decorrelated;
  BOOST_TEST(asio_backoff::describe(decorrelated) ==
             "1ms to 3x the previous wait, up to 1s, decorrelated jitter");
  BOOST_TEST(asio_backoff::format_duration(90s) == "1.5min");
  BOOST_TEST(asio_backoff::format_duration(1500us) == "1.5ms");
  BOOST_TEST(asio_backoff::format_duration(ns::max()) == "forever");
}

BOOST_AUTO_TEST_SUITE_END()
