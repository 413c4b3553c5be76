// Tests for asio_backoff/async_backoff.hpp on virtual time: the schedule as
// the operation runs it, completions, cancellation in every phase,
// associated executor and allocator, and clean-up.

#include <asio_backoff.hpp>
#include <asio_backoff/testing/manual_clock.hpp>

#include "support.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio_backoff::outcome;
using asio_backoff::policy;
using asio_backoff::testing::manual_clock;
using asio_backoff::testing::manual_timer;
using asio_backoff::testing::run_due;
using asio_backoff::testing::run_for;
using boost::system::error_code;
using test_support::at;
using test_support::refused;

namespace {

// A synchronous attempt that fails `failures` times, noting when it ran.
struct flaky
{
  std::vector<manual_clock::time_point>* times;
  int failures;

  error_code operator()()
  {
    times->push_back(manual_clock::now());
    return static_cast<int>(times->size()) <= failures ? refused() : error_code();
  }
};

std::vector<manual_clock::time_point> ms_points(std::initializer_list<long> values)
{
  std::vector<manual_clock::time_point> out;
  for (long v : values)
    out.push_back(at(std::chrono::milliseconds(v)));
  return out;
}

policy seed_policy()
{
  policy p;
  p.initial = 1ms;
  p.timeout = 3000ms;
  return p;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(async_backoff_virtual_time, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(seed_schedule_then_timed_out_with_the_last_error_kept)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::vector<manual_clock::time_point> times;
  outcome report;
  std::optional<error_code> result;
  std::optional<manual_clock::time_point> completed_at;
  asio_backoff::async_backoff(timer, seed_policy(), flaky{&times, 1000000}, report,
                              [&](error_code ec) {
                                result = ec;
                                completed_at = manual_clock::now();
                              });
  run_for(ctx, 10s);
  BOOST_TEST(times == ms_points({1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 3000}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::timed_out);
  BOOST_TEST((*completed_at == at(3000ms)));
  BOOST_TEST((report.reason == outcome::reason_type::timed_out));
  BOOST_TEST(report.attempts == 12u);
  BOOST_TEST(report.elapsed.count() == std::chrono::nanoseconds(3000ms).count());
  BOOST_TEST(report.last_error == refused());
  BOOST_TEST(report.message() ==
             "timed out after 12 attempts in 3.000 s; last error: " + refused().message());
}

BOOST_AUTO_TEST_CASE(success_completes_at_once)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::vector<manual_clock::time_point> times;
  std::optional<error_code> result;
  std::optional<manual_clock::time_point> completed_at;
  outcome report;
  asio_backoff::async_backoff(timer, seed_policy(), flaky{&times, 4}, report, [&](error_code ec) {
    result = ec;
    completed_at = manual_clock::now();
  });
  run_for(ctx, 10s);
  BOOST_TEST(times.size() == 5u);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed());
  BOOST_TEST((*completed_at == at(31ms)));
  BOOST_TEST((report.reason == outcome::reason_type::succeeded));
  BOOST_TEST(report.attempts == 5u);
  BOOST_TEST(!report.last_error.failed());
}

BOOST_AUTO_TEST_CASE(cap_and_max_attempts)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  policy p;
  p.initial = 1ms;
  p.max_delay = 16ms;
  p.max_attempts = 20;
  p.immediate_first_attempt = true;
  std::vector<manual_clock::time_point> times;
  std::optional<error_code> result;
  outcome report;
  asio_backoff::async_backoff(timer, p, flaky{&times, 1000}, report,
                              [&](error_code ec) { result = ec; });
  run_for(ctx, 1h);
  BOOST_REQUIRE_EQUAL(times.size(), 20u);
  BOOST_TEST((times[0] == at(0ms)));
  BOOST_TEST((times[5] == at(31ms)));
  BOOST_TEST((times[19] == at(31ms + 14 * 16ms)));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::attempts_exhausted);
  BOOST_TEST((report.reason == outcome::reason_type::attempts_exhausted));
  BOOST_TEST(report.last_error == refused());
}

BOOST_AUTO_TEST_CASE(permanent_error_ends_at_once)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  outcome report;
  const error_code denied = make_error_code(boost::system::errc::permission_denied);
  asio_backoff::async_backoff(
      timer, seed_policy(),
      [&]() -> asio_backoff::attempt_result {
        ++calls;
        if (calls < 3)
          return refused();
        return asio_backoff::permanent(denied);
      },
      report, [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  BOOST_TEST(calls == 3);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == denied);
  BOOST_TEST((report.reason == outcome::reason_type::permanent_error));
}

BOOST_AUTO_TEST_CASE(permanent_if_classifies_errors)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  const error_code denied = make_error_code(boost::system::errc::permission_denied);
  asio_backoff::async_backoff(
      timer, seed_policy(),
      asio_backoff::permanent_if([&](error_code ec) { return ec == denied; },
                                 [&] { return ++calls < 4 ? refused() : denied; }),
      [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  BOOST_TEST(calls == 4);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == denied);
}

BOOST_AUTO_TEST_CASE(invalid_policy_is_reported_without_attempt_and_not_inline)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  outcome report;
  policy p;
  p.initial = 0ms; // would busy-loop in the seed
  asio_backoff::async_backoff(timer, p, [&] { ++calls; return error_code(); }, report,
                              [&](error_code ec) { result = ec; });
  BOOST_TEST(!result.has_value());
  run_due(ctx);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::invalid_initial);
  BOOST_TEST(calls == 0);
  BOOST_TEST((report.reason == outcome::reason_type::invalid_policy));
  BOOST_TEST(report.attempts == 0u);
}

BOOST_AUTO_TEST_CASE(immediate_first_attempt_is_posted_not_called_inline)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  policy p;
  p.immediate_first_attempt = true;
  asio_backoff::async_backoff(timer, p, [&] { ++calls; return error_code(); },
                              [&](error_code ec) { result = ec; });
  BOOST_TEST(calls == 0);
  BOOST_TEST(!result.has_value());
  run_due(ctx);
  BOOST_TEST(calls == 1);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed());
  BOOST_TEST((manual_clock::now() == at(0ms)));
}

BOOST_AUTO_TEST_CASE(zero_timeout_runs_one_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::vector<manual_clock::time_point> times;
  std::optional<error_code> result;
  policy p;
  p.timeout = 0ms;
  asio_backoff::async_backoff(timer, p, flaky{&times, 100}, [&](error_code ec) { result = ec; });
  run_for(ctx, 1s);
  BOOST_TEST(times == ms_points({0}), boost::test_tools::per_element());
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::timed_out);
}

BOOST_AUTO_TEST_CASE(huge_values_neither_overflow_nor_spin)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  policy p;
  p.initial = std::chrono::nanoseconds::max();
  p.timeout = std::chrono::nanoseconds::max();
  p.multiplier = 1e308;
  asio_backoff::async_backoff(timer, p, [&] { ++calls; return refused(); },
                              [&](error_code ec) { result = ec; });
  run_for(ctx, 1000h);
  BOOST_TEST(calls == 0); // the first wait is still running
  BOOST_TEST(!result.has_value());
  timer.cancel();
  run_due(ctx);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(ten_thousand_attempts_with_a_tiny_initial)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  policy p;
  p.initial = 1ns;
  p.max_delay = 1ms;
  p.max_attempts = 10000;
  asio_backoff::async_backoff(timer, p, [&] { ++calls; return refused(); },
                              [&](error_code ec) { result = ec; });
  run_for(ctx, 1h);
  BOOST_TEST(calls == 10000);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::attempts_exhausted);
}

BOOST_AUTO_TEST_CASE(a_timer_is_reusable_across_operations)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int completed = 0;
  std::vector<manual_clock::time_point> times;
  policy p;
  p.initial = 10ms;
  p.max_attempts = 2;
  std::function<void(error_code)> again = [&](error_code ec) {
    BOOST_TEST(ec == asio_backoff::error::attempts_exhausted);
    if (++completed < 3)
      asio_backoff::async_backoff(timer, p, flaky{&times, 1000}, again);
  };
  asio_backoff::async_backoff(timer, p, flaky{&times, 1000}, again);
  run_for(ctx, 1s);
  BOOST_TEST(completed == 3);
  BOOST_TEST(times == ms_points({10, 30, 40, 60, 70, 90}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ten_thousand_concurrent_operations_on_one_thread)
{
  asio::io_context ctx;
  constexpr int n = 10000;
  std::vector<std::unique_ptr<manual_timer>> timers;
  int succeeded = 0;
  long attempts = 0;
  for (int i = 0; i < n; ++i)
  {
    timers.push_back(std::make_unique<manual_timer>(ctx));
    policy p;
    p.initial = std::chrono::microseconds(1 + i % 7);
    p.max_delay = 16ms;
    p.immediate_first_attempt = true;
    const int needed = 1 + i % 20;
    asio_backoff::async_backoff(*timers.back(), p,
                                [&attempts, needed, count = 0]() mutable {
                                  ++attempts;
                                  return ++count < needed ? refused() : error_code();
                                },
                                [&](error_code ec) { succeeded += !ec; });
  }
  run_for(ctx, 1h);
  BOOST_TEST(succeeded == n);
  long expected = 0;
  for (int i = 0; i < n; ++i)
    expected += 1 + i % 20;
  BOOST_TEST(attempts == expected);
}

BOOST_AUTO_TEST_SUITE_END()
