// Tests for asio_backoff/policy.hpp and asio_backoff/error.hpp.

#include <asio_backoff/error.hpp>
#include <asio_backoff/policy.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

using namespace std::chrono_literals;
using asio_backoff::error;
using asio_backoff::policy;
using asio_backoff::validate;

BOOST_AUTO_TEST_SUITE(policy_validation)

BOOST_AUTO_TEST_CASE(defaults_are_valid_and_match_the_seed)
{
  const policy p;
  BOOST_TEST(!validate(p).failed());
  BOOST_TEST(p.initial.count() == std::chrono::nanoseconds(1ms).count());
  BOOST_TEST(p.multiplier == 2.0);
  BOOST_TEST(!p.timeout.has_value());
  BOOST_TEST(!p.max_delay.has_value());
  BOOST_TEST(!p.max_attempts.has_value());
  BOOST_TEST(!p.immediate_first_attempt);
}

BOOST_AUTO_TEST_CASE(designated_initializers_and_literals_work)
{
// g++ before 14 warns about members left out of designated initializers,
// which is the point of them here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  const policy p{.initial = 10ms, .timeout = 3s, .multiplier = 1.5, .max_delay = 1s,
                 .max_attempts = 5, .immediate_first_attempt = true};
#pragma GCC diagnostic pop
  BOOST_TEST(!validate(p).failed());
}

BOOST_AUTO_TEST_CASE(each_nonsense_value_has_its_own_error)
{
  auto check = [](auto change, error expected) {
    policy p;
    change(p);
    BOOST_TEST(validate(p) == make_error_code(expected));
    BOOST_TEST(!validate(p).message().empty());
  };
  check([](policy& p) { p.initial = 0ms; }, error::invalid_initial);
  check([](policy& p) { p.initial = -1ms; }, error::invalid_initial);
  check([](policy& p) { p.multiplier = 0.5; }, error::invalid_multiplier);
  check([](policy& p) { p.multiplier = std::nan(""); }, error::invalid_multiplier);
  check([](policy& p) { p.multiplier = -std::numeric_limits<double>::infinity(); },
        error::invalid_multiplier);
  check([](policy& p) { p.timeout = -1ns; }, error::invalid_timeout);
  check([](policy& p) { p.max_delay = 500us; }, error::invalid_max_delay);
  check([](policy& p) { p.max_attempts = 0; }, error::invalid_max_attempts);
  check([](policy& p) { p.attempt_timeout = 0ms; }, error::invalid_attempt_timeout);
  check([](policy& p) { p.jitter_factor = 1.5; }, error::invalid_jitter);
  check([](policy& p) { p.jitter_factor = std::nan(""); }, error::invalid_jitter);
  check([](policy& p) { p.after_wake_delay = 0ns; }, error::invalid_after_wake_delay);
  check([](policy& p) { p.after_wake_delay = -1ms; }, error::invalid_after_wake_delay);
}

BOOST_AUTO_TEST_CASE(extreme_but_meaningful_values_are_valid)
{
  policy p;
  p.initial = std::chrono::nanoseconds::max();
  p.timeout = std::chrono::nanoseconds::max();
  p.multiplier = 1e308;
  p.max_attempts = std::numeric_limits<std::size_t>::max();
  BOOST_TEST(!validate(p).failed());
  p.multiplier = std::numeric_limits<double>::infinity();
  BOOST_TEST(!validate(p).failed());
  p.timeout = 0ns; // one attempt, at once
  BOOST_TEST(!validate(p).failed());
}

BOOST_AUTO_TEST_CASE(error_category_names_itself)
{
  const boost::system::error_code ec = error::attempts_exhausted;
  BOOST_TEST(ec.category().name() == std::string("asio_backoff"));
  BOOST_TEST(ec.message() == "all attempts allowed by max_attempts failed");
  BOOST_TEST(ec == make_error_code(error::attempts_exhausted));
}

BOOST_AUTO_TEST_SUITE_END()
