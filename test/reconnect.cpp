// Tests for asio_backoff/reconnect.hpp: backoff across connections.

#include <asio_backoff/reconnect.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace std::chrono_literals;
using asio_backoff::policy;
using asio_backoff::reconnect_backoff;
using ns = std::chrono::nanoseconds;

BOOST_AUTO_TEST_SUITE(reconnect_state)

namespace {

policy base()
{
  policy p;
  p.initial = 10ms;
  p.max_delay = 1s;
  p.immediate_first_attempt = true;
  return p;
}

} // namespace

BOOST_AUTO_TEST_CASE(first_connection_uses_the_policy_as_is)
{
  const reconnect_backoff r(base(), 5s);
  BOOST_TEST(r.next_policy().initial.count() == ns(10ms).count());
  BOOST_TEST(r.next_policy().immediate_first_attempt);
  BOOST_TEST(r.short_lived_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(flapping_connections_continue_the_backoff)
{
  reconnect_backoff r(base(), 5s);
  r.connection_lost(100ms);
  BOOST_TEST(r.next_policy().initial.count() == ns(20ms).count());
  BOOST_TEST(!r.next_policy().immediate_first_attempt); // never hammer a flapping peer
  r.connection_lost(0ms);
  r.connection_lost(4999ms);
  BOOST_TEST(r.short_lived_connections() == 3u);
  BOOST_TEST(r.next_policy().initial.count() == ns(80ms).count());
  for (int i = 0; i < 10000; ++i)
    r.connection_lost(1ms);
  BOOST_TEST(r.next_policy().initial.count() == ns(1s).count()); // capped, no overflow
}

BOOST_AUTO_TEST_CASE(resets_only_after_a_healthy_connection)
{
  reconnect_backoff r(base(), 5s);
  r.connection_lost(1s);
  r.connection_lost(1s);
  BOOST_TEST(r.next_policy().initial.count() == ns(40ms).count());
  r.connection_lost(5s); // lived long enough
  BOOST_TEST(r.short_lived_connections() == 0u);
  BOOST_TEST(r.next_policy().initial.count() == ns(10ms).count());
  BOOST_TEST(r.next_policy().immediate_first_attempt);
}

BOOST_AUTO_TEST_CASE(without_a_cap_it_saturates)
{
  policy p = base();
  p.max_delay.reset();
  p.multiplier = 1e10;
  reconnect_backoff r(p, 1s);
  for (int i = 0; i < 100; ++i)
    r.connection_lost(0ms);
  BOOST_TEST(r.next_policy().initial.count() == ns::max().count());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reconnect_state_limits)

BOOST_AUTO_TEST_CASE(never_grows_past_the_timeout)
{
  policy p;
  p.initial = 100ms;
  p.timeout = 2s;
  p.deadline_mode = asio_backoff::deadline_mode::stop_before_deadline;
  reconnect_backoff r(p, 1s);
  for (int i = 0; i < 50; ++i)
    r.connection_lost(0ms);
  BOOST_TEST(r.next_policy().initial.count() == ns(2s).count());
}

BOOST_AUTO_TEST_CASE(small_multipliers_still_reach_the_cap)
{
  policy p;
  p.initial = 1s;
  p.multiplier = 1.001;
  p.max_delay = 60s;
  reconnect_backoff r(p, 1s);
  for (int i = 0; i < 10000; ++i)
    r.connection_lost(0ms);
  BOOST_TEST(r.next_policy().initial.count() == ns(60s).count());
}

BOOST_AUTO_TEST_SUITE_END()
