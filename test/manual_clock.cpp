// Tests for asio_backoff/testing/manual_clock.hpp: the virtual clock and its
// drivers, on plain Asio timers.

#include <asio_backoff/testing/manual_clock.hpp>

#include "support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio_backoff::testing::manual_clock;
using asio_backoff::testing::manual_timer;
using asio_backoff::testing::run_due;
using asio_backoff::testing::run_for;
using asio_backoff::testing::run_until;
using boost::system::error_code;
using test_support::at;

BOOST_FIXTURE_TEST_SUITE(manual_clock_drivers, test_support::virtual_time)

BOOST_AUTO_TEST_CASE(clock_moves_only_when_told)
{
  BOOST_TEST((manual_clock::now() == at(0ms)));
  manual_clock::advance(5ms);
  BOOST_TEST((manual_clock::now() == at(5ms)));
  manual_clock::advance(-1ms);
  BOOST_TEST((manual_clock::now() == at(5ms)));
  manual_clock::advance_to(at(3ms)); // never backwards
  BOOST_TEST((manual_clock::now() == at(5ms)));
  manual_clock::reset();
  BOOST_TEST((manual_clock::now() == at(0ms)));
}

BOOST_AUTO_TEST_CASE(timers_fire_at_their_exact_instants_in_order)
{
  asio::io_context ctx;
  std::vector<manual_clock::time_point> fired;
  std::vector<std::unique_ptr<manual_timer>> timers;
  for (auto t : {7ms, 1ms, 3ms, 1000ms, 3ms})
  {
    timers.push_back(std::make_unique<manual_timer>(ctx, at(t)));
    timers.back()->async_wait([&](error_code) { fired.push_back(manual_clock::now()); });
  }
  run_until(ctx, at(100ms));
  const std::vector<manual_clock::time_point> expected{at(1ms), at(3ms), at(3ms), at(7ms)};
  BOOST_TEST(fired == expected, boost::test_tools::per_element());
  BOOST_TEST((manual_clock::now() == at(100ms)));
  run_for(ctx, 1h);
  BOOST_TEST(fired.size() == 5u);
  BOOST_TEST((fired.back() == at(1000ms)));
}

BOOST_AUTO_TEST_CASE(timers_set_by_handlers_are_followed)
{
  asio::io_context ctx;
  manual_timer timer(ctx);
  std::vector<manual_clock::time_point> fired;
  std::function<void(error_code)> tick = [&](error_code) {
    fired.push_back(manual_clock::now());
    if (fired.size() < 4)
    {
      timer.expires_after(std::chrono::microseconds(fired.size() * 250));
      timer.async_wait(tick);
    }
  };
  timer.expires_after(1ns);
  timer.async_wait(tick);
  run_for(ctx, 1s);
  const std::vector<manual_clock::time_point> expected{at(1ns), at(1ns + 250us), at(1ns + 750us),
                                                       at(1ns + 1500us)};
  BOOST_TEST(fired == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(run_due_runs_posted_work_without_moving_time)
{
  asio::io_context ctx;
  int ran = 0;
  asio::post(ctx, [&] { ++ran; asio::post(ctx, [&] { ++ran; }); });
  BOOST_TEST(run_due(ctx) == 2u);
  BOOST_TEST(ran == 2);
  BOOST_TEST((manual_clock::now() == at(0ms)));
}

BOOST_AUTO_TEST_CASE(run_for_saturates)
{
  asio::io_context ctx;
  manual_clock::advance(1h);
  run_for(ctx, manual_clock::duration::max());
  BOOST_TEST((manual_clock::now() == manual_clock::time_point::max()));
}

BOOST_AUTO_TEST_SUITE_END()
