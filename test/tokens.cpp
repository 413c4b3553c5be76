// async_backoff with every kind of completion token.

#include <asio_backoff.hpp>
#include <asio_backoff/testing/manual_clock.hpp>

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <future>
#include <optional>
#include <variant>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio_backoff::policy;
using asio_backoff::testing::manual_clock;
using asio_backoff::testing::manual_timer;
using asio_backoff::testing::run_for;
using boost::system::error_code;
using test_support::at;
using test_support::refused;

namespace {

// Fails twice, then succeeds: with the default policy, success at 1+2+4 ms.
struct third_time_lucky
{
  int* calls;
  error_code operator()() const { return ++*calls < 3 ? refused() : error_code(); }
};

// Never succeeds.
struct hopeless
{
  error_code operator()() const { return refused(); }
};

policy three_attempts()
{
  policy p;
  p.max_attempts = 3;
  return p;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(async_backoff_tokens, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(use_awaitable_returns_on_success_and_throws_on_failure)
{
  asio::io_context ctx;
  int calls = 0;
  std::optional<manual_clock::time_point> succeeded_at;
  bool threw = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        manual_timer timer(co_await asio::this_coro::executor);
        co_await asio_backoff::async_backoff(timer, policy(), third_time_lucky{&calls},
                                             asio::use_awaitable);
        succeeded_at = manual_clock::now();
        try
        {
          co_await asio_backoff::async_backoff(timer, three_attempts(), hopeless{},
                                               asio::use_awaitable);
        }
        catch (const boost::system::system_error& e)
        {
          threw = e.code() == asio_backoff::error::attempts_exhausted;
        }
      },
      asio::detached);
  run_for(ctx, 1s);
  BOOST_TEST(calls == 3);
  BOOST_TEST((succeeded_at == at(7ms)));
  BOOST_TEST(threw);
}

BOOST_AUTO_TEST_CASE(as_tuple_and_redirect_error_and_values)
{
  asio::io_context ctx;
  std::optional<error_code> tuple_ec, redirected_ec;
  std::optional<int> value;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        manual_timer timer(co_await asio::this_coro::executor);
        auto [ec] = co_await asio_backoff::async_backoff(timer, three_attempts(), hopeless{},
                                                         asio::as_tuple(asio::use_awaitable));
        tuple_ec = ec;
        error_code redirected;
        co_await asio_backoff::async_backoff(timer, three_attempts(), hopeless{},
                                             asio::redirect_error(asio::use_awaitable, redirected));
        redirected_ec = redirected;
        // An asynchronous attempt with a value: the value is what co_await gives.
        value = co_await asio_backoff::async_backoff(
            timer, policy(), [] { return asio::deferred.values(error_code(), 42); },
            asio::use_awaitable);
      },
      asio::detached);
  run_for(ctx, 1s);
  BOOST_TEST((tuple_ec == make_error_code(asio_backoff::error::attempts_exhausted)));
  BOOST_TEST((redirected_ec == make_error_code(asio_backoff::error::attempts_exhausted)));
  BOOST_TEST((value == 42));
}

BOOST_AUTO_TEST_CASE(use_future)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  std::future<void> ok =
      asio_backoff::async_backoff(timer, policy(), third_time_lucky{&calls}, asio::use_future);
  run_for(ctx, 1s);
  BOOST_CHECK_NO_THROW(ok.get());

  std::future<int> failed = asio_backoff::async_backoff(
      timer, three_attempts(), [] { return asio::deferred.values(refused(), 7); },
      asio::use_future);
  run_for(ctx, 1s);
  BOOST_CHECK_THROW(failed.get(), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(deferred_starts_only_when_invoked)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  auto op = asio_backoff::async_backoff(timer, policy(), third_time_lucky{&calls}, asio::deferred);
  run_for(ctx, 1s);
  BOOST_TEST(calls == 0);
  std::optional<error_code> result;
  std::move(op)([&](error_code ec) { result = ec; });
  run_for(ctx, 1s);
  BOOST_TEST(calls == 3);
  BOOST_TEST((result == error_code()));
}

BOOST_AUTO_TEST_CASE(detached_runs_to_the_end)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  int calls = 0;
  asio_backoff::async_backoff(timer, policy(), third_time_lucky{&calls}, asio::detached);
  run_for(ctx, 1s);
  BOOST_TEST(calls == 3);
}

BOOST_AUTO_TEST_CASE(yield_context)
{
  asio::io_context ctx;
  int calls = 0;
  std::optional<error_code> result, failure;
  asio::spawn(
      ctx,
      [&](asio::yield_context yield) {
        manual_timer timer(yield.get_executor());
        error_code ec;
        asio_backoff::async_backoff(timer, policy(), third_time_lucky{&calls}, yield[ec]);
        result = ec;
        asio_backoff::async_backoff(timer, three_attempts(), hopeless{}, yield[ec]);
        failure = ec;
      },
      asio::detached);
  run_for(ctx, 1s);
  BOOST_TEST(calls == 3);
  BOOST_TEST((result == error_code()));
  BOOST_TEST((failure == make_error_code(asio_backoff::error::attempts_exhausted)));
}

BOOST_AUTO_TEST_CASE(parallel_group_cancels_the_loser)
{
  asio::io_context ctx;
  manual_timer fast(ctx), slow(ctx);
  int slow_calls = 0;
  std::optional<std::array<std::size_t, 2>> order;
  std::optional<error_code> fast_ec, slow_ec;
  policy p;
  p.initial = 10ms;
  p.timeout = 1h;
  policy sooner = p;
  sooner.initial = 5ms;
  asio::experimental::make_parallel_group(
      asio_backoff::async_backoff(fast, sooner, [] { return error_code(); }, asio::deferred),
      asio_backoff::async_backoff(slow, p, [&] { ++slow_calls; return refused(); }, asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> o, error_code a, error_code b) {
                    order = o;
                    fast_ec = a;
                    slow_ec = b;
                  });
  run_for(ctx, 10h);
  BOOST_REQUIRE(order.has_value());
  BOOST_TEST((*order)[0] == 0u);
  BOOST_TEST((fast_ec == error_code()));
  BOOST_TEST((slow_ec == make_error_code(asio::error::operation_aborted)));
  BOOST_TEST(slow_calls == 0); // cancelled during its first wait
}

BOOST_AUTO_TEST_CASE(awaitable_operators)
{
  using namespace asio::experimental::awaitable_operators;
  asio::io_context ctx;
  std::optional<std::size_t> winner;
  std::optional<manual_clock::time_point> finished_at;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        manual_timer backoff_timer(ex), give_up(ex, at(100ms));
        policy p;
        p.timeout = 1h;
        auto result = co_await (
            asio_backoff::async_backoff(backoff_timer, p, hopeless{}, asio::use_awaitable) ||
            give_up.async_wait(asio::use_awaitable));
        winner = result.index();
        finished_at = manual_clock::now();
      },
      asio::detached);
  run_for(ctx, 10h);
  BOOST_TEST((winner == 1u)); // the timer won; the backoff was cancelled
  BOOST_TEST((finished_at == at(100ms)));
}

BOOST_AUTO_TEST_CASE(default_completion_token_of_the_executor)
{
  asio::io_context ctx;
  int calls = 0;
  bool done = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto timer = asio::use_awaitable_t<>::as_default_on(
            manual_timer(co_await asio::this_coro::executor));
        co_await asio_backoff::async_backoff(timer, policy(), third_time_lucky{&calls});
        done = true;
      },
      asio::detached);
  run_for(ctx, 1s);
  BOOST_TEST(calls == 3);
  BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(executor_and_context_overloads)
{
  asio::io_context ctx;
  int calls = 0;
  std::optional<error_code> by_context, by_executor;
  policy p;
  p.initial = 1us;
  p.immediate_first_attempt = true;
  asio_backoff::async_backoff(ctx, p, third_time_lucky{&calls}, [&](error_code ec) { by_context = ec; });
  asio_backoff::async_backoff(ctx.get_executor(), three_attempts(), hopeless{},
                              [&](error_code ec) { by_executor = ec; });
  ctx.run(); // real time: a few milliseconds
  BOOST_TEST(calls == 3);
  BOOST_TEST((by_context == error_code()));
  BOOST_TEST((by_executor == make_error_code(asio_backoff::error::attempts_exhausted)));
}

BOOST_AUTO_TEST_SUITE_END()
