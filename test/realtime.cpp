// The one real-time smoke test: async_backoff on a real steady_timer, with
// bounds generous enough for a loaded two-core machine.

#include <asio_backoff.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

BOOST_AUTO_TEST_SUITE(async_backoff_real_time)

BOOST_AUTO_TEST_CASE(waits_grow_and_the_deadline_holds_on_the_steady_clock)
{
  asio::io_context ctx;
  using clock = std::chrono::steady_clock;
  std::vector<clock::duration> at;
  const clock::time_point start = clock::now();
  std::optional<error_code> result;
  clock::duration finished{};
  asio_backoff::policy p;
  p.initial = 20ms;
  p.timeout = 300ms;
  asio_backoff::async_backoff(
      ctx, p,
      [&] {
        at.push_back(clock::now() - start);
        return make_error_code(boost::system::errc::connection_refused);
      },
      [&](error_code ec) {
        result = ec;
        finished = clock::now() - start;
      });
  ctx.run();
  // Nominal attempts at 20, 60, 140, 300 ms.
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::timed_out);
  BOOST_REQUIRE(at.size() >= 2u);
  BOOST_REQUIRE(at.size() <= 4u);
  BOOST_TEST((at[0] >= 20ms));
  for (std::size_t i = 1; i < at.size(); ++i)
    BOOST_TEST((at[i] - at[i - 1] >= 20ms)); // never a busy loop
  BOOST_TEST((at.back() >= 300ms)); // the last attempt runs at the deadline
  BOOST_TEST((finished < 5s));
}

BOOST_AUTO_TEST_SUITE_END()
