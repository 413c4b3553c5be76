// Tests for wake_signal, wake_on and the before_attempt hook, on virtual
// time: a wake ends the wait at once, failed woken attempts retry on the
// fast lane, then the schedule resumes; nothing passes the deadline.

#include <asio_backoff.hpp>
#include <asio_backoff/testing/manual_clock.hpp>

#include "support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio_backoff::outcome;
using asio_backoff::policy;
using asio_backoff::wake_signal;
using asio_backoff::testing::manual_clock;
using asio_backoff::testing::manual_timer;
using asio_backoff::testing::run_due;
using asio_backoff::testing::run_for;
using asio_backoff::testing::run_until;
using boost::system::error_code;
using test_support::at;
using test_support::refused;

namespace {

using times_type = test_support::time_points;
using test_support::noted_attempt;

times_type us_points(std::initializer_list<long> values)
{
  return test_support::points<std::chrono::microseconds>(values);
}

policy doubling_from_1ms()
{
  policy p;
  p.initial = 1ms;
  p.after_wake_delay = 1ms;
  return p;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(wake, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(a_wake_ends_the_wait_then_the_fast_lane_then_the_schedule_resumes)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, doubling_from_1ms(),
                              asio_backoff::wake_on(wake, noted_attempt{&times}),
                              [&](error_code ec) { result = ec; });
  // Attempts at 1, 3, 7 ms; the next wait is 8 ms, until 15 ms.
  run_until(ctx, at(10ms));
  BOOST_TEST(times.size() == 3u);
  wake.emit();
  BOOST_TEST(times.size() == 3u); // never inside emit()
  run_until(ctx, at(60ms));
  // Woken at 10 ms; the fast lane waits 1, 2, 4 ms (8 ms is not shorter than
  // the wait the wake cut short); then the schedule's next wait, 16 ms.
  BOOST_TEST(times == us_points({1000, 3000, 7000, 10000, 11000, 13000, 17000, 33000}),
             boost::test_tools::per_element());
  BOOST_TEST(!result.has_value());
  wake.emit(); // a second wake, at 60 ms during the 32 ms wait
  run_due(ctx);
  BOOST_TEST(times.size() == 9u);
  BOOST_TEST((times.back() == at(60ms)));
  timer.cancel();
  run_for(ctx, 1s);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(the_fast_lane_doubles_while_shorter_than_the_wait_cut_short)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  policy p = doubling_from_1ms();
  p.after_wake_delay = 100us;
  asio_backoff::async_backoff(timer, p, asio_backoff::wake_on(wake, noted_attempt{&times, 5}),
                              [](error_code) {});
  wake.emit(); // during the first wait (1 ms): the attempt runs now
  run_for(ctx, 1s);
  // The fast lane: 100, 200, 400, 800 us; 1.6 ms is not shorter than the
  // 1 ms wait that was cut short: the schedule resumes with 2 ms.
  BOOST_TEST(times == us_points({0, 100, 300, 700, 1500, 3500}), boost::test_tools::per_element());

  // A wake that cuts a wait shorter than after_wake_delay still gets one
  // quick retry.
  manual_clock::reset();
  times.clear();
  p.after_wake_delay = 5ms;
  asio_backoff::async_backoff(timer, p, asio_backoff::wake_on(wake, noted_attempt{&times, 2}),
                              [](error_code) {});
  wake.emit();
  run_for(ctx, 1s);
  BOOST_TEST(times == us_points({0, 5000, 7000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(several_wakes_in_one_wait_run_one_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  asio_backoff::async_backoff(timer, doubling_from_1ms(),
                              asio_backoff::wake_on(wake, noted_attempt{&times, 1}),
                              [](error_code) {});
  run_until(ctx, at(2ms));
  wake.emit();
  wake.emit();
  wake.emit();
  run_for(ctx, 1s);
  BOOST_TEST(times == us_points({1000, 2000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_wake_during_an_attempt_shortens_the_next_wait)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  // The attempt itself notices progress (a sync attempt cannot overlap an
  // event on one thread; an asynchronous one can).
  auto attempt = [&]() -> error_code {
    times.push_back(manual_clock::now());
    if (times.size() == 3)
      wake.emit();
    return refused();
  };
  std::optional<error_code> result;
  policy p = doubling_from_1ms();
  p.max_attempts = 6;
  asio_backoff::async_backoff(timer, p, asio_backoff::wake_on(wake, attempt),
                              [&](error_code ec) { result = ec; });
  run_for(ctx, 1s);
  // 1, 3, 7 (woken during it): 8 ms fast lane at 1 ms then 2 ms (4 ms: the
  // last scheduled wait), then the schedule: 8 ms.
  BOOST_TEST(times == us_points({1000, 3000, 7000, 8000, 10000, 18000}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::attempts_exhausted);
}

BOOST_AUTO_TEST_CASE(a_wake_during_an_async_attempt_is_remembered)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  manual_timer work(ctx); // the attempt takes 5 ms
  wake_signal wake;
  times_type times;
  auto attempt = [&] {
    times.push_back(manual_clock::now());
    work.expires_after(5ms);
    return work.async_wait(asio::deferred([](error_code) {
      return asio::deferred.values(refused());
    }));
  };
  policy p = doubling_from_1ms();
  p.initial = 100ms;
  p.max_attempts = 3;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, p, asio_backoff::wake_on(wake, attempt),
                              [&](error_code ec) { result = ec; });
  run_until(ctx, at(102ms));
  BOOST_TEST(times.size() == 1u);
  wake.emit(); // the attempt is in flight
  run_for(ctx, 1s);
  // It ends at 105 ms; the next attempt 1 ms later, not 200 ms later.
  BOOST_TEST(times == us_points({100000, 106000, 111000 + 2000}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::attempts_exhausted);
}

BOOST_AUTO_TEST_CASE(woken_attempts_never_pass_the_deadline_nor_max_attempts)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  policy p = doubling_from_1ms();
  p.initial = 4ms;
  p.after_wake_delay = 3ms;
  p.timeout = 9ms;
  outcome report;
  std::optional<error_code> result;
  std::optional<manual_clock::time_point> completed_at;
  asio_backoff::async_backoff(timer, p, asio_backoff::wake_on(wake, noted_attempt{&times}), report,
                              [&](error_code ec) {
                                result = ec;
                                completed_at = manual_clock::now();
                              });
  run_until(ctx, at(4ms)); // attempt at 4 ms; next wait 8 ms
  run_until(ctx, at(5ms));
  wake.emit();
  run_for(ctx, 1s);
  // Woken at 5; the fast lane's 3 ms then 6 ms: the second is cut to the
  // deadline, where the final attempt runs.
  BOOST_TEST(times == us_points({4000, 5000, 8000, 9000}), boost::test_tools::per_element());
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::timed_out);
  BOOST_TEST((*completed_at == at(9ms)));
  BOOST_TEST(report.attempts == 4u);

  // max_attempts counts woken attempts too.
  manual_clock::reset();
  times.clear();
  result.reset();
  policy limited = doubling_from_1ms();
  limited.max_attempts = 2;
  asio_backoff::async_backoff(timer, limited, asio_backoff::wake_on(wake, noted_attempt{&times}),
                              [&](error_code ec) { result = ec; });
  wake.emit();
  run_due(ctx);
  wake.emit();
  run_for(ctx, 1s);
  BOOST_TEST(times.size() == 2u);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::attempts_exhausted);
}

BOOST_AUTO_TEST_CASE(cancellation_wins_over_a_wake_and_a_completed_operation_ignores_wakes)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  asio::cancellation_signal cancel;
  times_type times;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, doubling_from_1ms(),
                              asio_backoff::wake_on(wake, noted_attempt{&times}),
                              asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
                                result = ec;
                              }));
  run_until(ctx, at(2ms));
  wake.emit();
  cancel.emit(asio::cancellation_type::terminal);
  run_for(ctx, 1s);
  BOOST_TEST(times.size() == 1u);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
  wake.emit(); // the operation is gone: its handler was removed
  BOOST_TEST(ctx.poll() == 0u);

  // The signal serves a new operation.
  times.clear();
  result.reset();
  asio_backoff::async_backoff(timer, doubling_from_1ms(),
                              asio_backoff::wake_on(wake, noted_attempt{&times, 0}),
                              [&](error_code ec) { result = ec; });
  wake.emit();
  run_due(ctx);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed());
  BOOST_TEST(times.size() == 1u);
  BOOST_TEST((times.front() == manual_clock::now()));
}

BOOST_AUTO_TEST_CASE(the_timer_owners_cancel_is_not_taken_for_a_wake)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  std::optional<error_code> result;
  asio_backoff::async_backoff(timer, doubling_from_1ms(),
                              asio_backoff::wake_on(wake, noted_attempt{&times}),
                              [&](error_code ec) { result = ec; });
  run_until(ctx, at(2ms));
  timer.cancel(); // the owner cancels; a wake follows in the same turn
  wake.emit();
  run_for(ctx, 1s);
  BOOST_TEST(times.size() == 1u);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(a_wake_after_the_io_context_is_gone_touches_nothing)
{
  wake_signal wake; // outlives the operation, as required
  times_type times;
  {
    asio::io_context ctx;
    asio_backoff::async_backoff(ctx, doubling_from_1ms(),
                                asio_backoff::wake_on(wake, noted_attempt{&times}),
                                [](error_code) {});
  } // destroyed pending
  wake.emit(); // ASan: no use of the freed operation
  BOOST_TEST(times.empty());
}

BOOST_AUTO_TEST_CASE(an_unconnected_slot_is_plain_backoff)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  times_type times;
  asio_backoff::wakeable_attempt<noted_attempt> attempt(asio_backoff::wake_slot(),
                                                        noted_attempt{&times, 2});
  asio_backoff::async_backoff(timer, doubling_from_1ms(), attempt, [](error_code) {});
  run_for(ctx, 1s);
  BOOST_TEST(times == us_points({1000, 3000, 7000}), boost::test_tools::per_element());
}

namespace {

// An attempt with a precondition: it stops the operation once `stop` is set.
struct guarded_attempt
{
  times_type* times;
  error_code* stop;

  error_code before_attempt() { return *stop; }
  error_code operator()()
  {
    times->push_back(manual_clock::now());
    return refused();
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(before_attempt_ends_the_operation_without_an_attempt)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  wake_signal wake;
  times_type times;
  error_code stop;
  outcome report;
  std::optional<error_code> result;
  std::optional<manual_clock::time_point> completed_at;
  asio_backoff::async_backoff(timer, doubling_from_1ms(),
                              asio_backoff::wake_on(wake, guarded_attempt{&times, &stop}), report,
                              [&](error_code ec) {
                                result = ec;
                                completed_at = manual_clock::now();
                              });
  run_until(ctx, at(5ms)); // attempts at 1, 3 ms
  stop = asio_backoff::error::child_exited;
  wake.emit(); // the event that made the precondition fail
  run_for(ctx, 1s);
  BOOST_TEST(times.size() == 2u);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::child_exited);
  BOOST_TEST((*completed_at == at(5ms)));
  BOOST_TEST((report.reason == outcome::reason_type::permanent_error));
  BOOST_TEST(report.attempts == 2u);
  BOOST_TEST(report.last_error == asio_backoff::error::child_exited);

  // Through the wrappers too, and before the first attempt.
  manual_clock::reset();
  times.clear();
  result.reset();
  asio_backoff::async_backoff(
      timer, doubling_from_1ms(),
      asio_backoff::observe([](const asio_backoff::retry_info&) {},
                            asio_backoff::permanent_if([](error_code) { return false; },
                                                       guarded_attempt{&times, &stop})),
      [&](error_code ec) { result = ec; });
  BOOST_TEST(!result.has_value()); // never inside the initiating call
  run_for(ctx, 1s);
  BOOST_TEST(times.empty());
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio_backoff::error::child_exited);
}

BOOST_AUTO_TEST_SUITE_END()
