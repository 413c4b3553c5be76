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
run simulate(const policy& p, ns attempt_cost = 0ns, std::size_t limit = 100000)
{
  schedule s(p);
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
    now += attempt_cost;
    BOOST_REQUIRE(r.attempts.size() < limit);
  }
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

BOOST_AUTO_TEST_SUITE_END()
