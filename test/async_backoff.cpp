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
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
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
using flaky = test_support::noted_attempt;

std::vector<manual_clock::time_point> ms_points(std::initializer_list<long> values)
{
  return test_support::points<std::chrono::milliseconds>(values);
}

// Each handler was destroyed with its io_context, never invoked.
void check_destroyed_unrun(const std::vector<test_support::handler_probe>& probes)
{
  for (const auto& probe : probes)
  {
    BOOST_TEST(probe.invoked == 0);
    BOOST_TEST(probe.destroyed_unrun == 1);
  }
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

BOOST_FIXTURE_TEST_SUITE(async_backoff_asynchronous_attempts, test_support::virtual_time)

// An asynchronous attempt that takes `duration` of virtual time on a timer of
// its own and then fails (or succeeds from attempt number `succeed_at`).
struct timed_attempt
{
  manual_timer* timer;
  manual_clock::duration duration;
  int succeed_at;
  int* calls;

  auto operator()()
  {
    const int n = ++*calls;
    timer->expires_after(duration);
    return timer->async_wait(asio::deferred([n, this](error_code ec) {
      if (ec)
        return asio::deferred.values(ec, -1);
      return asio::deferred.values(n >= succeed_at ? error_code() : refused(), n * 10);
    }));
  }
};

BOOST_AUTO_TEST_CASE(value_of_the_successful_attempt_is_delivered)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx);
  int calls = 0;
  std::optional<std::pair<error_code, int>> result;
  asio_backoff::async_backoff(timer, seed_policy(), timed_attempt{&work, 5ms, 3, &calls},
                              [&](error_code ec, int value) { result.emplace(ec, value); });
  run_for(ctx, 10s);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->first.failed());
  BOOST_TEST(result->second == 30);
  BOOST_TEST(calls == 3);
  // waits 1, 2, 4 ms after attempts of 5 ms each: 1+5+2+5+4+5
  BOOST_TEST((manual_clock::now() == at(10s)));
}

BOOST_AUTO_TEST_CASE(attempt_timeout_cuts_slow_attempts_and_they_are_retried)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx);
  int calls = 0;
  std::optional<error_code> result;
  outcome report;
  policy p;
  p.initial = 10ms;
  p.max_attempts = 3;
  p.attempt_timeout = 100ms;
  std::vector<manual_clock::time_point> completions;
  asio_backoff::async_backoff(timer, p, timed_attempt{&work, 1h, 1, &calls}, report,
                              [&](error_code ec, int) {
                                result = ec;
                                completions.push_back(manual_clock::now());
                              });
  run_for(ctx, 10h);
  BOOST_TEST(calls == 3);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::attempts_exhausted);
  BOOST_TEST(report.last_error == asio::error::timed_out);
  // 10 + 100, 20 + 100, 40 + 100
  BOOST_TEST(completions == ms_points({370}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(deadline_cancels_an_attempt_in_flight)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx);
  int calls = 0;
  std::optional<error_code> result;
  outcome report;
  policy p;
  p.initial = 100ms;
  p.timeout = 1s;
  asio_backoff::async_backoff(timer, p, timed_attempt{&work, 1h, 1, &calls}, report,
                              [&](error_code ec, int) { result = ec; });
  run_for(ctx, 10h);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::timed_out);
  BOOST_TEST(calls == 1);
  BOOST_TEST(report.elapsed.count() == std::chrono::nanoseconds(1s).count());
  BOOST_TEST(report.last_error == asio::error::timed_out);
}

BOOST_AUTO_TEST_CASE(final_attempt_at_the_deadline_is_not_cut_by_it)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx);
  int calls = 0;
  std::optional<std::pair<error_code, int>> result;
  policy p;
  p.initial = 400ms;
  p.timeout = 1s;
  // The first attempt runs from 400 to 900 ms and fails; the final one starts
  // at the deadline and succeeds after its 500 ms.
  asio_backoff::async_backoff(timer, p, timed_attempt{&work, 500ms, 2, &calls},
                              [&](error_code ec, int v) {
                                result.emplace(ec, v);
                                BOOST_TEST((manual_clock::now() == at(1500ms)));
                              });
  run_for(ctx, 10h);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(calls == 2);
  BOOST_TEST(!result->first.failed());
  BOOST_TEST(result->second == 20);
}

BOOST_AUTO_TEST_CASE(attempt_completing_inline_is_handled)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  policy p;
  p.immediate_first_attempt = true;
  p.timeout = 1s;
  p.attempt_timeout = 10ms; // a watchdog is armed only if the attempt is still running
  asio_backoff::async_backoff(
      timer, p,
      [&] { return asio::deferred.values(++calls < 5 ? refused() : error_code()); },
      [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  BOOST_TEST(calls == 5);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed());
  BOOST_TEST((manual_clock::now() == at(10s)));
}

BOOST_AUTO_TEST_CASE(permanent_if_works_for_asynchronous_attempts_too)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  const error_code denied = make_error_code(boost::system::errc::permission_denied);
  asio_backoff::async_backoff(
      timer, seed_policy(),
      asio_backoff::permanent_if([&](error_code ec) { return ec == denied; },
                                 [&] { return asio::deferred.values(++calls < 3 ? refused() : denied); }),
      [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  BOOST_TEST(calls == 3);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == denied);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(async_backoff_cancellation, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(before_the_first_attempt_runs)
{
  for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                          asio::cancellation_type::total})
  {
    asio::io_context ctx;
    manual_timer timer(ctx);
    asio::cancellation_signal signal;
    int calls = 0;
    std::optional<error_code> result;
    policy p;
    p.immediate_first_attempt = true;
    asio_backoff::async_backoff(timer, p, [&] { ++calls; return error_code(); },
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](error_code ec) { result = ec; }));
    signal.emit(type);
    BOOST_TEST(!result.has_value()); // not inline from emit() either
    run_for(ctx, 1s);
    BOOST_TEST(calls == 0);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(*result == asio::error::operation_aborted);
  }
}

BOOST_AUTO_TEST_CASE(during_a_wait_completes_at_once)
{
  for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                          asio::cancellation_type::total})
  {
    manual_clock::reset();
    asio::io_context ctx;
    manual_timer timer(ctx), canceller(ctx);
    asio::cancellation_signal signal;
    std::vector<manual_clock::time_point> times;
    std::optional<error_code> result;
    std::optional<manual_clock::time_point> completed_at;
    outcome report;
    asio_backoff::async_backoff(timer, seed_policy(), flaky{&times, 1000}, report,
                                asio::bind_cancellation_slot(signal.slot(), [&](error_code ec) {
                                  result = ec;
                                  completed_at = manual_clock::now();
                                }));
    canceller.expires_at(at(5ms)); // during the wait from 3 ms to 7 ms
    canceller.async_wait([&](error_code) { signal.emit(type); });
    run_for(ctx, 10s);
    BOOST_TEST(times == ms_points({1, 3}), boost::test_tools::per_element());
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(*result == asio::error::operation_aborted);
    BOOST_TEST((*completed_at == at(5ms)));
    BOOST_TEST((report.reason == outcome::reason_type::cancelled));
    BOOST_TEST(report.last_error == refused());
  }
}

BOOST_AUTO_TEST_CASE(after_the_timer_fired_but_before_its_handler_ran)
{
  asio::io_context ctx;
  manual_timer timer(ctx), canceller(ctx);
  asio::cancellation_signal signal;
  std::vector<manual_clock::time_point> times;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, seed_policy(), flaky{&times, 1000},
                              asio::bind_cancellation_slot(signal.slot(),
                                                           [&](error_code ec) { result = ec; }));
  // Both timers are due when the clock jumps past 1 ms; the canceller's
  // handler runs first (earlier expiry) while the backoff wait's completion
  // is already queued.
  canceller.expires_at(at(1ms) - std::chrono::nanoseconds(1));
  canceller.async_wait([&](error_code) {
    BOOST_TEST(times.empty());
    signal.emit(asio::cancellation_type::terminal);
  });
  manual_clock::advance(2ms);
  asio_backoff::testing::run_due(ctx);
  BOOST_TEST(times.empty()); // the attempt never ran
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(during_an_asynchronous_attempt_it_is_forwarded)
{
  for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                          asio::cancellation_type::total})
  {
    manual_clock::reset();
    asio::io_context ctx;
    manual_timer timer(ctx), work(ctx), canceller(ctx);
    asio::cancellation_signal signal;
    int calls = 0;
    std::optional<error_code> result;
    std::optional<manual_clock::time_point> completed_at;
    policy p;
    p.timeout = 10s; // with a watchdog pending too
    asio_backoff::async_backoff(
        timer, p,
        [&] {
          ++calls;
          work.expires_after(1h);
          return work.async_wait(asio::deferred);
        },
        asio::bind_cancellation_slot(signal.slot(), [&](error_code ec) {
          result = ec;
          completed_at = manual_clock::now();
        }));
    canceller.expires_at(at(500ms));
    canceller.async_wait([&](error_code) { signal.emit(type); });
    run_for(ctx, 100s);
    BOOST_TEST(calls == 1);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(*result == asio::error::operation_aborted);
    BOOST_TEST((*completed_at == at(500ms)));
  }
}

BOOST_AUTO_TEST_CASE(emitted_from_inside_a_synchronous_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  asio::cancellation_signal signal;
  int calls = 0;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, seed_policy(),
                              [&] {
                                ++calls;
                                signal.emit(asio::cancellation_type::terminal);
                                return refused();
                              },
                              asio::bind_cancellation_slot(signal.slot(),
                                                           [&](error_code ec) { result = ec; }));
  run_for(ctx, 10s);
  BOOST_TEST(calls == 1);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(a_success_that_races_the_cancellation_is_kept)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  asio::cancellation_signal signal;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, seed_policy(),
                              [&] {
                                signal.emit(asio::cancellation_type::terminal);
                                return error_code();
                              },
                              asio::bind_cancellation_slot(signal.slot(),
                                                           [&](error_code ec) { result = ec; }));
  run_for(ctx, 10s);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed());
}

BOOST_AUTO_TEST_CASE(cancelling_the_timer_cancels_the_operation)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, seed_policy(), [] { return refused(); },
                              [&](error_code ec) { result = ec; });
  run_for(ctx, 2ms);
  timer.cancel();
  run_due(ctx);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(a_slot_emitted_after_completion_is_harmless)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  asio::cancellation_signal signal;
  int completions = 0;
  asio_backoff::async_backoff(timer, seed_policy(), [] { return error_code(); },
                              asio::bind_cancellation_slot(signal.slot(),
                                                           [&](error_code) { ++completions; }));
  run_for(ctx, 10s);
  BOOST_TEST(completions == 1);
  BOOST_TEST(!signal.slot().has_handler()); // cleared before the completion
  signal.emit(asio::cancellation_type::terminal);
  BOOST_TEST(completions == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(async_backoff_lifetime, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(destroying_the_io_context_destroys_pending_operations)
{
  test_support::allocation_counts counts;
  std::vector<test_support::handler_probe> probes(4);
  {
    asio::io_context ctx;
    manual_timer timer(ctx), work(ctx), shared_timer(ctx);
    auto alloc = [&] { return test_support::counting_allocator<void>(counts); };
    policy p;
    p.timeout = 1h;
    // waiting on its own steady timer, on a borrowed timer, attempting
    // asynchronously with a watchdog, and posted (immediate first attempt)
    asio_backoff::async_backoff(ctx, p, [] { return refused(); },
                                asio::bind_allocator(alloc(), test_support::probing_handler(probes[0])));
    asio_backoff::async_backoff(shared_timer, p, [] { return refused(); },
                                asio::bind_allocator(alloc(), test_support::probing_handler(probes[1])));
    asio_backoff::async_backoff(timer, p,
                                [&] {
                                  work.expires_after(1h);
                                  return work.async_wait(asio::deferred);
                                },
                                asio::bind_allocator(alloc(), test_support::probing_handler(probes[2])));
    policy now = p;
    now.immediate_first_attempt = true;
    asio_backoff::async_backoff(ctx, now, [] { return refused(); },
                                asio::bind_allocator(alloc(), test_support::probing_handler(probes[3])));
    run_for(ctx, 5ms);
    BOOST_TEST(counts.allocations.load() > 0);
  }
  check_destroyed_unrun(probes);
  BOOST_TEST(counts.allocations.load() == counts.deallocations.load());
}

BOOST_AUTO_TEST_CASE(destroying_the_io_context_destroys_operations_in_their_own_handler_memory)
{
  // Handlers without an allocator: the operation's waits and posts live in
  // the operation's handler memory, which must outlive Asio's clean-up.
  std::vector<test_support::handler_probe> probes(5);
  {
    asio::io_context ctx;
    manual_timer timer(ctx), work(ctx), shared_timer(ctx);
    auto strand = asio::make_strand(ctx);
    policy p;
    p.timeout = 1h;
    policy plain; // no options: the operation keeps no extras
    asio_backoff::async_backoff(ctx, plain, [] { return refused(); },
                                test_support::probing_handler(probes[0]));
    asio_backoff::async_backoff(shared_timer, p, [] { return refused(); },
                                test_support::probing_handler(probes[1]));
    asio_backoff::async_backoff(timer, p,
                                [&] {
                                  work.expires_after(1h);
                                  return work.async_wait(asio::deferred);
                                },
                                test_support::probing_handler(probes[2]));
    policy now = plain;
    now.immediate_first_attempt = true;
    asio_backoff::async_backoff(ctx, now, [] { return refused(); },
                                test_support::probing_handler(probes[3]));
    asio_backoff::async_backoff(ctx, p, [] { return refused(); },
                                asio::bind_executor(strand, test_support::probing_handler(probes[4])));
    run_for(ctx, 5ms);
  }
  check_destroyed_unrun(probes);
}

BOOST_AUTO_TEST_CASE(destroying_the_io_context_before_it_ran_destroys_posted_operations)
{
  std::vector<test_support::handler_probe> probes(2);
  {
    asio::io_context ctx;
    policy now;
    now.immediate_first_attempt = true;
    asio_backoff::async_backoff(ctx, now, [] { return refused(); },
                                test_support::probing_handler(probes[0]));
    policy invalid;
    invalid.initial = 0ms;
    asio_backoff::async_backoff(ctx, invalid, [] { return refused(); },
                                test_support::probing_handler(probes[1]));
  }
  check_destroyed_unrun(probes);
}

BOOST_AUTO_TEST_CASE(destroying_contexts_with_operations_queued_on_strands)
{
  // A strand queues its own function, allocated with the operation's handler
  // allocator, and frees it after the operation is gone (ASan checks that
  // nothing reaches into the freed operation).
  std::vector<test_support::handler_probe> probes(2);
  {
    asio::io_context ctx;
    policy now;
    now.immediate_first_attempt = true;
    asio_backoff::async_backoff(asio::make_strand(ctx), now, [] { return refused(); },
                                test_support::probing_handler(probes[0]));
  }
  {
    asio::io_context timers;
    manual_timer timer(timers);
    {
      asio::io_context handlers;
      asio_backoff::async_backoff(
          timer, policy{}, [] { return refused(); },
          asio::bind_executor(asio::make_strand(handlers), test_support::probing_handler(probes[1])));
      manual_clock::advance(1ms);
      BOOST_TEST(timers.run_one() == 1u); // the wait ends; its step is queued on the strand
    }
  }
  check_destroyed_unrun(probes);
}

BOOST_AUTO_TEST_CASE(the_operation_stores_options_only_when_its_policy_needs_them)
{
  // The handler's allocator sees the operation's one allocation: larger when
  // the policy has a deadline, a limit, jitter or attempt_start.
  struct sizes
  {
    std::vector<std::size_t> seen;
    void* allocate(std::size_t bytes)
    {
      seen.push_back(bytes);
      return ::operator new(bytes);
    }
    void deallocate(void* block, std::size_t) noexcept { ::operator delete(block); }
  };
  auto first_allocation = [](const policy& p) {
    sizes s;
    asio::io_context ctx;
    manual_timer timer(ctx);
    int result = 0;
    asio_backoff::async_backoff(
        timer, p, [] { return error_code(); },
        asio::bind_allocator(test_support::resource_allocator<void, sizes>(s),
                             [&](error_code ec) { result = ec ? 2 : 1; }));
    run_for(ctx, 1s);
    BOOST_TEST(result == 1);
    return s.seen.at(0);
  };
  const std::size_t plain = first_allocation(policy{});
  policy with_timeout;
  with_timeout.timeout = 1s;
  policy with_limit;
  with_limit.max_attempts = 3;
  policy with_jitter;
  with_jitter.jitter = asio_backoff::jitter::full;
  policy from_start;
  from_start.delay_origin = asio_backoff::delay_origin::attempt_start;
  policy until;
  until.deadline = std::chrono::steady_clock::now() + 1h;
  for (const policy& p : {with_timeout, with_limit, with_jitter, from_start, until})
    BOOST_TEST(first_allocation(p) > plain);
  policy proportional_without_spread;
  proportional_without_spread.jitter = asio_backoff::jitter::proportional;
  proportional_without_spread.jitter_factor = 0;
  BOOST_TEST(first_allocation(proportional_without_spread) == plain);
}

BOOST_AUTO_TEST_CASE(handler_memory_holds_one_operation_at_a_time)
{
  asio_backoff::detail::handler_memory<64> memory;
  bool in_use = false;
  struct alignas(32) over_aligned
  {
    char c;
  };
  using alloc = asio_backoff::detail::handler_memory_allocator<std::uint64_t, 64>;
  alloc a(memory, in_use);
  std::uint64_t* first = a.allocate(8); // 64 bytes: the room
  BOOST_TEST(static_cast<void*>(first) == static_cast<void*>(memory.bytes));
  BOOST_TEST(in_use);
  std::uint64_t* second = a.allocate(1); // the room is taken
  BOOST_TEST(static_cast<void*>(second) != static_cast<void*>(memory.bytes));
  a.deallocate(second, 1);
  BOOST_TEST(in_use);
  a.deallocate(first, 8);
  BOOST_TEST(!in_use);
  std::uint64_t* large = a.allocate(9); // does not fit
  BOOST_TEST(static_cast<void*>(large) != static_cast<void*>(memory.bytes));
  BOOST_TEST(!in_use);
  a.deallocate(large, 9);
  asio_backoff::detail::handler_memory_allocator<over_aligned, 64> b(a);
  over_aligned* aligned = b.allocate(1); // needs more alignment than the room has
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(aligned) % 32 == 0u);
  BOOST_TEST(!in_use);
  b.deallocate(aligned, 1);
  BOOST_TEST((a == alloc(b)));
}

BOOST_AUTO_TEST_CASE(the_timers_context_keeps_running_while_the_handler_runs_elsewhere)
{
  // The timer on one io_context, the handler on another's executor: between
  // waits, the operation's steps run on the second, and the first must not
  // run out of work meanwhile.
  asio::io_context timers, handlers;
  auto handler_work = asio::make_work_guard(handlers);
  std::atomic<bool> timers_returned{false};
  int attempts = 0;
  std::optional<error_code> result;
  int attempts_after_timers_returned = 0;
  policy p;
  p.initial = 1ms;
  // While the operation is pending, its timer's context keeps running.
  asio_backoff::async_backoff(timers, p,
                              [&] {
                                attempts_after_timers_returned += timers_returned ? 1 : 0;
                                return ++attempts < 3 ? refused() : error_code();
                              },
                              asio::bind_executor(handlers.get_executor(), [&](error_code ec) {
                                result = ec;
                                handler_work.reset();
                              }));
  std::thread timer_thread([&] {
    timers.run_for(std::chrono::seconds(10));
    timers_returned = true;
  });
  handlers.run_for(std::chrono::seconds(10));
  timer_thread.join();
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed());
  BOOST_TEST(attempts == 3);
  BOOST_TEST(attempts_after_timers_returned == 0);
}

// Asio's wait operation for the operation's own handler fits the room the
// operation keeps for it (otherwise each wait allocates: slower, not wrong).
template <class Timer, class Handler>
void check_wait_fits_handler_memory()
{
  struct attempt
  {
    error_code operator()() { return {}; }
  };
  using op = asio_backoff::detail::backoff_op<asio_backoff::detail::borrowed_timer<Timer>, attempt,
                                              Handler, asio_backoff::detail::no_report>;
  using wait_op = asio::detail::wait_handler<asio_backoff::detail::op_handler<op, asio_backoff::detail::waited>,
                                             typename Timer::executor_type>;
  BOOST_TEST(sizeof(wait_op) <= op::memory_room);
}

BOOST_AUTO_TEST_CASE(asio_wait_operations_fit_the_handler_memory)
{
  using io_executor = asio::io_context::executor_type;
  using io_timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                              asio::wait_traits<std::chrono::steady_clock>, io_executor>;
  struct plain
  {
    void operator()(error_code) {}
  };
  using on_strand = asio::executor_binder<plain, asio::strand<io_executor>>;
  using on_any = asio::executor_binder<plain, asio::any_io_executor>;
  using on_io = asio::executor_binder<plain, io_executor>; // as a coroutine's
  check_wait_fits_handler_memory<io_timer, plain>();
  check_wait_fits_handler_memory<io_timer, on_io>();
  check_wait_fits_handler_memory<io_timer, on_strand>();
  check_wait_fits_handler_memory<asio::steady_timer, plain>();
  check_wait_fits_handler_memory<asio::steady_timer, on_strand>();
  check_wait_fits_handler_memory<asio::steady_timer, on_any>();
  check_wait_fits_handler_memory<manual_timer, plain>();
}

BOOST_AUTO_TEST_CASE(the_report_counts_only_attempts_that_ran)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  // cancelled while waiting for the third attempt
  {
    outcome report;
    asio::cancellation_signal signal;
    std::optional<error_code> result;
    asio_backoff::async_backoff(timer, seed_policy(), [] { return refused(); }, report,
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](error_code ec) { result = ec; }));
    run_for(ctx, 4ms); // attempts at 1 and 3 ms
    signal.emit(asio::cancellation_type::terminal);
    run_for(ctx, 1ms);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST((report.reason == outcome::reason_type::cancelled));
    BOOST_TEST(report.attempts == 2u);
  }
  // cancelled before an immediate first attempt ran
  {
    outcome report;
    asio::cancellation_signal signal;
    std::optional<error_code> result;
    policy now;
    now.immediate_first_attempt = true;
    asio_backoff::async_backoff(timer, now, [] { return refused(); }, report,
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](error_code ec) { result = ec; }));
    signal.emit(asio::cancellation_type::terminal);
    run_for(ctx, 1ms);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(report.attempts == 0u);
  }
  // stopped by the check before the fourth attempt
  {
    struct checked
    {
      int* calls;
      error_code operator()() { ++*calls; return refused(); }
      error_code before_attempt() const
      {
        return *calls == 3 ? make_error_code(boost::system::errc::no_such_process) : error_code();
      }
    };
    outcome report;
    int calls = 0;
    std::optional<error_code> result;
    asio_backoff::async_backoff(timer, seed_policy(), checked{&calls}, report,
                                [&](error_code ec) { result = ec; });
    run_for(ctx, 1s);
    BOOST_REQUIRE(result.has_value());
    BOOST_TEST(*result == boost::system::errc::no_such_process);
    BOOST_TEST(calls == 3);
    BOOST_TEST(report.attempts == 3u);
    BOOST_TEST((report.reason == outcome::reason_type::permanent_error));
  }
}

BOOST_AUTO_TEST_CASE(a_throwing_attempt_propagates_and_leaks_nothing)
{
  test_support::allocation_counts counts;
  test_support::handler_probe probe;
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  asio_backoff::async_backoff(timer, seed_policy(),
                              [&]() -> error_code {
                                if (++calls == 3)
                                  throw std::runtime_error("attempt failed loudly");
                                return refused();
                              },
                              asio::bind_allocator(test_support::counting_allocator<void>(counts),
                                                   test_support::probing_handler(probe)));
  BOOST_CHECK_THROW(run_for(ctx, 10s), std::runtime_error);
  BOOST_TEST(calls == 3);
  BOOST_TEST(probe.invoked == 0);
  BOOST_TEST(probe.destroyed_unrun == 1);
  BOOST_TEST(counts.allocations.load() == counts.deallocations.load());
  run_for(ctx, 10s); // nothing is left to run
  BOOST_TEST(calls == 3);
}

BOOST_AUTO_TEST_CASE(a_throwing_asynchronous_attempt_leaks_nothing)
{
  test_support::handler_probe probe;
  asio::io_context ctx;
  manual_timer timer(ctx);
  policy p;
  p.timeout = 1s;
  asio_backoff::async_backoff(timer, p,
                              [&]() -> decltype(asio::deferred.values(error_code())) {
                                throw std::runtime_error("cannot even start");
                              },
                              test_support::probing_handler(probe));
  BOOST_CHECK_THROW(run_for(ctx, 10s), std::runtime_error);
  BOOST_TEST(probe.invoked == 0);
  BOOST_TEST(probe.destroyed_unrun == 1);
}

BOOST_AUTO_TEST_CASE(the_handler_allocator_is_used_and_balanced)
{
  test_support::allocation_counts counts;
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::optional<error_code> result;
  std::vector<manual_clock::time_point> times;
  asio_backoff::async_backoff(timer, seed_policy(), flaky{&times, 3},
                              asio::bind_allocator(test_support::counting_allocator<void>(counts),
                                                   [&](error_code ec) { result = ec; }));
  BOOST_TEST(counts.allocations.load() >= 1); // the operation itself
  run_for(ctx, 10s);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(counts.allocations.load() == counts.deallocations.load());
}

BOOST_AUTO_TEST_CASE(no_allocation_per_retry)
{
  // Everything the operation and Asio allocate for it goes through the
  // handler's allocator. The operation allocates itself once; each retry
  // costs only what Asio's own operations take (one block per timer wait, one
  // per post), and a pool that recycles needs no more blocks for 1000
  // attempts than for 10.
  struct counts
  {
    long allocations;
    long fresh_blocks;
  };
  auto run = [](std::size_t attempts, bool asynchronous) {
    test_support::recycling_pool pool;
    asio::io_context ctx;
    manual_timer timer(ctx);
    policy p;
    p.initial = 1us;
    p.max_delay = 1ms;
    p.max_attempts = attempts;
    p.attempt_timeout = 1s;
    std::optional<error_code> result;
    auto handler = asio::bind_allocator(test_support::pool_allocator<void>(pool),
                                        [&](error_code ec) { result = ec; });
    if (asynchronous)
      asio_backoff::async_backoff(
          timer, p,
          [] { return asio::post(asio::deferred([] { return asio::deferred.values(refused()); })); },
          std::move(handler));
    else
      asio_backoff::async_backoff(timer, p, [] { return refused(); }, std::move(handler));
    run_for(ctx, 1h);
    BOOST_TEST((result == make_error_code(asio_backoff::error::attempts_exhausted)));
    return counts{pool.allocations, pool.fresh_blocks};
  };
  // Synchronous: the operation, then one timer wait per attempt.
  BOOST_TEST(run(10, false).allocations == 1 + 10);
  BOOST_TEST(run(1000, false).allocations == 1 + 1000);
  // Asynchronous: the operation, then per attempt its wait and what Asio
  // takes for the attempt (its post, the attempt-timeout wait): at most 3.
  const long few = run(10, true).allocations, many = run(1000, true).allocations;
  const long per_attempt = (many - few) / 990;
  BOOST_TEST((many - few) % 990 == 0);
  BOOST_TEST(few == 1 + 10 * per_attempt);
  BOOST_TEST(per_attempt <= 3);
  for (bool asynchronous : {false, true})
    BOOST_TEST(run(1000, asynchronous).fresh_blocks == run(10, asynchronous).fresh_blocks);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(async_backoff_executors)

BOOST_AUTO_TEST_CASE(attempts_and_completion_run_on_the_handler_strand)
{
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(pool);
  constexpr int n = 200;
  std::atomic<int> off_strand{0}, completed{0}, attempts{0};
  for (int i = 0; i < n; ++i)
  {
    policy p;
    p.initial = std::chrono::microseconds(10);
    p.max_attempts = 5;
    p.attempt_timeout = 1s;
    asio_backoff::async_backoff(
        pool, p,
        [&, strand] {
          ++attempts;
          if (!strand.running_in_this_thread())
            ++off_strand;
          return asio::post(strand, asio::deferred([] { return asio::deferred.values(refused()); }));
        },
        asio::bind_executor(strand, [&, strand](error_code ec) {
          if (!strand.running_in_this_thread() || ec != asio_backoff::error::attempts_exhausted)
            ++off_strand;
          ++completed;
        }));
  }
  pool.join();
  BOOST_TEST(completed.load() == n);
  BOOST_TEST(attempts.load() == 5 * n);
  BOOST_TEST(off_strand.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(async_backoff_edge_cases, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(a_timeout_never_reaches_the_previous_attempts_cancellation_handler)
{
  // Attempt 1 waits on a timer of its own, destroyed when attempt 2 starts;
  // attempt 2 ignores cancellation. The timeout of attempt 2 must not call
  // the handler attempt 1 left in the slot (a use-after-free under ASan).
  asio::io_context ctx;
  manual_timer timer(ctx), slow(ctx);
  std::unique_ptr<manual_timer> own;
  int n = 0;
  std::optional<error_code> result;
  policy p;
  p.initial = 1ms;
  p.max_attempts = 3;
  p.attempt_timeout = 20ms;
  asio_backoff::async_backoff(
      timer, p,
      [&] {
        own.reset();
        return asio::async_initiate<const asio::deferred_t&, void(error_code)>(
            [&](auto handler) {
              if (n++ == 0)
              {
                own = std::make_unique<manual_timer>(ctx, manual_clock::now() + 1h);
                own->async_wait(std::move(handler));
                return;
              }
              slow.expires_after(50ms);
              slow.async_wait([h = std::move(handler)](error_code) mutable {
                std::move(h)(refused());
              });
            },
            asio::deferred);
      },
      [&](error_code ec) { result = ec; });
  run_for(ctx, 1h);
  BOOST_TEST(n == 3);
  BOOST_TEST((result == make_error_code(asio_backoff::error::attempts_exhausted)));
}

BOOST_AUTO_TEST_CASE(cancellation_emitted_while_the_attempt_is_made_reaches_it)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx);
  asio::cancellation_signal signal;
  std::optional<error_code> result;
  std::optional<manual_clock::time_point> completed_at;
  asio_backoff::async_backoff(
      timer, seed_policy(),
      [&] {
        signal.emit(asio::cancellation_type::terminal);
        work.expires_after(2s);
        return work.async_wait(asio::deferred);
      },
      asio::bind_cancellation_slot(signal.slot(), [&](error_code ec) {
        result = ec;
        completed_at = manual_clock::now();
      }));
  run_for(ctx, 1h);
  BOOST_TEST((result == make_error_code(asio::error::operation_aborted)));
  BOOST_TEST((completed_at == at(1ms)));
}

BOOST_AUTO_TEST_CASE(cancelling_the_timer_during_an_attempt_cancels_the_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx), canceller(ctx, at(500ms));
  std::optional<error_code> result;
  std::optional<manual_clock::time_point> completed_at;
  int calls = 0;
  policy p;
  p.attempt_timeout = 1s;
  asio_backoff::async_backoff(
      timer, p,
      [&] {
        ++calls;
        work.expires_after(1h);
        return work.async_wait(asio::deferred);
      },
      [&](error_code ec) {
        result = ec;
        completed_at = manual_clock::now();
      });
  canceller.async_wait([&](error_code) { timer.cancel(); });
  run_for(ctx, 10h);
  BOOST_TEST(calls == 1);
  BOOST_TEST((result == make_error_code(asio::error::operation_aborted)));
  BOOST_TEST((completed_at == at(500ms)));
}

BOOST_AUTO_TEST_CASE(a_signal_destroyed_before_the_io_context_is_not_touched)
{
  test_support::handler_probe probe;
  asio::io_context ctx; // destroyed last, with the operation pending
  asio::cancellation_signal signal;
  manual_timer timer(ctx);
  asio_backoff::async_backoff(
      timer, seed_policy(), [] { return refused(); },
      asio::bind_cancellation_slot(signal.slot(), test_support::probing_handler(probe)));
  run_for(ctx, 10ms);
  BOOST_TEST(probe.invoked == 0);
}

namespace {

// An allocator whose moved-from state is empty, as a defaulted move leaves it.
struct arena
{
  long live = 0;
};

template <class T>
struct arena_allocator
{
  using value_type = T;
  std::shared_ptr<arena> a;
  explicit arena_allocator(std::shared_ptr<arena> p) : a(std::move(p)) {}
  template <class U>
  arena_allocator(const arena_allocator<U>& o) : a(o.a)
  {
  }
  T* allocate(std::size_t n)
  {
    ++a->live;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n)
  {
    --a->live;
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const arena_allocator<U>& o) const
  {
    return a == o.a;
  }
  template <class U>
  bool operator!=(const arena_allocator<U>& o) const
  {
    return a != o.a;
  }
};

struct handler_with_allocator
{
  using allocator_type = arena_allocator<void>;
  allocator_type alloc;
  int* ran;
  allocator_type get_allocator() const noexcept { return alloc; }
  void operator()(error_code) { ++*ran; }
};

} // namespace

BOOST_AUTO_TEST_CASE(memory_is_freed_with_the_allocator_before_the_handler_moves)
{
  asio::io_context ctx;
  auto pool = std::make_shared<arena>();
  int ran = 0;
  policy p;
  p.immediate_first_attempt = true;
  asio_backoff::async_backoff(ctx, p, [] { return error_code(); },
                              handler_with_allocator{arena_allocator<void>(pool), &ran});
  ctx.run();
  BOOST_TEST(ran == 1);
  BOOST_TEST(pool->live == 0);
}

BOOST_AUTO_TEST_CASE(the_timer_context_keeps_running_during_an_attempt_elsewhere)
{
  // The timer is on ctx1; the attempt and the handler are on ctx2. While the
  // attempt runs nothing else is pending on ctx1, yet ctx1.run() must not
  // return: the next wait is on its timer. (Real time, about 100 ms.)
  asio::io_context ctx1, ctx2;
  asio::steady_timer timer(ctx1), work(ctx2);
  std::atomic<bool> done{false};
  asio_backoff::policy p;
  p.initial = 1ms;
  p.max_attempts = 3;
  asio_backoff::async_backoff(
      timer, p,
      [&] {
        work.expires_after(20ms);
        return work.async_wait(asio::deferred([](error_code) {
          return asio::deferred.values(refused());
        }));
      },
      asio::bind_executor(ctx2, [&](error_code) { done = true; }));
  std::thread ctx1_thread([&] { ctx1.run(); });
  ctx2.run_for(5s);
  ctx1_thread.join();
  BOOST_TEST(done.load());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(async_backoff_options, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(observer_is_called_once_per_wait_with_the_facts)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::vector<asio_backoff::retry_info> seen;
  std::vector<manual_clock::time_point> times;
  std::optional<error_code> result;
  const error_code denied = make_error_code(boost::system::errc::permission_denied);
  int calls = 0;
  asio_backoff::async_backoff(
      timer, seed_policy(),
      asio_backoff::observe(
          [&](const asio_backoff::retry_info& info) { seen.push_back(info); },
          asio_backoff::permanent_if([&](error_code ec) { return ec == denied; },
                                     [&] { return ++calls < 4 ? refused() : denied; })),
      [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  BOOST_TEST((result == denied)); // permanent_if still works through observe
  BOOST_REQUIRE_EQUAL(seen.size(), 3u); // waits after attempts 1, 2, 3
  for (std::size_t i = 0; i < seen.size(); ++i)
  {
    BOOST_TEST(seen[i].attempt == i + 1);
    BOOST_TEST(seen[i].error == refused());
    BOOST_TEST(seen[i].delay.count() == std::chrono::nanoseconds(std::chrono::milliseconds(2 << i)).count());
  }
  BOOST_TEST(seen[0].elapsed.count() == std::chrono::nanoseconds(1ms).count());
  BOOST_TEST(seen[2].elapsed.count() == std::chrono::nanoseconds(7ms).count());
}

BOOST_AUTO_TEST_CASE(wrappers_forward_each_others_members_in_any_order)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int observed = 0, calls = 0;
  std::optional<error_code> result;
  const error_code denied = make_error_code(boost::system::errc::permission_denied);
  asio_backoff::async_backoff(
      timer, seed_policy(),
      asio_backoff::permanent_if(
          [&](error_code ec) { return ec == denied; },
          asio_backoff::observe([&](const asio_backoff::retry_info&) { ++observed; },
                                [&] { return ++calls < 3 ? refused() : denied; })),
      [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  BOOST_TEST(calls == 3);
  BOOST_TEST(observed == 2);
  BOOST_TEST((result == denied));
}

BOOST_AUTO_TEST_CASE(a_throwing_observer_leaks_nothing)
{
  test_support::handler_probe probe;
  asio::io_context ctx;
  manual_timer timer(ctx);
  asio::cancellation_signal signal;
  asio_backoff::async_backoff(
      timer, seed_policy(),
      asio_backoff::observe([](const asio_backoff::retry_info&) { throw std::logic_error("log full"); },
                            [] { return refused(); }),
      asio::bind_cancellation_slot(signal.slot(), test_support::probing_handler(probe)));
  BOOST_CHECK_THROW(run_for(ctx, 10s), std::logic_error);
  BOOST_TEST(probe.destroyed_unrun == 1);
  BOOST_TEST(!signal.slot().has_handler()); // disconnected before the operation went
}

BOOST_AUTO_TEST_CASE(retry_after_from_a_synchronous_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::vector<manual_clock::time_point> times;
  std::optional<error_code> result;
  asio_backoff::async_backoff(
      timer, seed_policy(),
      [&]() -> asio_backoff::attempt_result {
        times.push_back(manual_clock::now());
        if (times.size() == 2)
          return asio_backoff::retry_after(refused(), 500ms);
        return times.size() < 4 ? refused() : error_code();
      },
      [&](error_code ec) { result = ec; });
  run_for(ctx, 10s);
  // 1, 3 (then the hint: 500 ms), 503, then 8 ms as scheduled: 511
  BOOST_TEST(times == ms_points({1, 3, 503, 511}), boost::test_tools::per_element());
  BOOST_TEST((result == error_code()));
}

BOOST_AUTO_TEST_CASE(retry_after_from_an_attempt_object)
{
  // An attempt class of the user's own, with the optional members.
  struct http_like
  {
    int* calls;
    auto operator()() { return asio::deferred.values(++*calls < 3 ? refused() : error_code()); }
    std::optional<std::chrono::nanoseconds> retry_after(const error_code&) { return 100ms; }
    bool is_permanent(const error_code& ec) { return ec == asio::error::access_denied; }
  };
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<manual_clock::time_point> done_at;
  asio_backoff::async_backoff(timer, seed_policy(), http_like{&calls},
                              [&](error_code) { done_at = manual_clock::now(); });
  run_for(ctx, 10s);
  BOOST_TEST(calls == 3);
  BOOST_TEST((done_at == at(201ms)));
}

BOOST_AUTO_TEST_CASE(stop_before_deadline_with_no_room_for_an_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::optional<error_code> result;
  outcome report;
  policy p;
  p.initial = 5s;
  p.timeout = 1s;
  p.deadline_mode = asio_backoff::deadline_mode::stop_before_deadline;
  asio_backoff::async_backoff(timer, p, [&] { ++calls; return refused(); }, report,
                              [&](error_code ec) { result = ec; });
  BOOST_TEST(!result.has_value());
  run_due(ctx);
  BOOST_TEST(calls == 0);
  BOOST_TEST((result == make_error_code(asio::error::timed_out)));
  BOOST_TEST((report.reason == outcome::reason_type::timed_out));
  BOOST_TEST((manual_clock::now() == at(0ms)));
}

BOOST_AUTO_TEST_CASE(delay_from_attempt_start_with_slow_asynchronous_attempts)
{
  asio::io_context ctx;
  manual_timer timer(ctx), work(ctx);
  std::vector<manual_clock::time_point> starts;
  policy p;
  p.initial = 1s;
  p.multiplier = 1;
  p.max_attempts = 4;
  p.delay_origin = asio_backoff::delay_origin::attempt_start;
  asio_backoff::async_backoff(
      timer, p,
      [&] {
        starts.push_back(manual_clock::now());
        work.expires_after(300ms);
        return work.async_wait(asio::deferred([](error_code) {
          return asio::deferred.values(refused());
        }));
      },
      asio::detached);
  run_for(ctx, 1h);
  BOOST_TEST(starts == ms_points({1000, 2000, 3000, 4000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(seeded_jitter_is_reproducible_through_the_operation)
{
  auto attempt_times = [](std::uint64_t seed) {
    manual_clock::reset();
    asio::io_context ctx;
    manual_timer timer(ctx);
    std::vector<manual_clock::time_point> times;
    policy p;
    p.initial = 100ms;
    p.max_attempts = 6;
    p.jitter = asio_backoff::jitter::full;
    p.jitter_seed = seed;
    asio_backoff::async_backoff(timer, p, flaky{&times, 100}, asio::detached);
    run_for(ctx, 1h);
    return times;
  };
  const auto a = attempt_times(1), b = attempt_times(1), c = attempt_times(2);
  BOOST_TEST(a.size() == 6u);
  BOOST_TEST(a == b, boost::test_tools::per_element());
  BOOST_TEST((a != c));
  // full jitter: each wait is at most the nominal 100, 200, 400, ... ms
  BOOST_TEST((a[0] <= at(100ms)));
  BOOST_TEST((a[5] <= at(6300ms)));
  BOOST_TEST((a[5] < at(6299ms))); // and some jitter happened
}

BOOST_AUTO_TEST_SUITE_END()
