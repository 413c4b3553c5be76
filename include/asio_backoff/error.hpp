//
// asio_backoff/error.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_ERROR_HPP
#define ASIO_BACKOFF_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace asio_backoff {

/// Errors of the `asio_backoff` category.
/**
 * `attempts_exhausted` completes an operation whose `policy::max_attempts`
 * attempts all failed with retryable errors. The `invalid_*` values reject a
 * policy before any attempt runs (see `validate`). `child_exited` ends an
 * operation watching a child process (`stop_if_exited`) that has exited.
 */
enum class error
{
  attempts_exhausted = 1,
  invalid_initial,
  invalid_multiplier,
  invalid_timeout,
  invalid_max_delay,
  invalid_max_attempts,
  invalid_attempt_timeout,
  invalid_jitter,
  invalid_after_wake_delay,
  child_exited
};

namespace detail {

class error_category final : public boost::system::error_category
{
public:
  const char* name() const noexcept override { return "asio_backoff"; }

  std::string message(int ev) const override
  {
    switch (static_cast<error>(ev))
    {
    case error::attempts_exhausted:
      return "all attempts allowed by max_attempts failed";
    case error::invalid_initial:
      return "invalid backoff policy: initial must be greater than zero";
    case error::invalid_multiplier:
      return "invalid backoff policy: multiplier must be a number >= 1";
    case error::invalid_timeout:
      return "invalid backoff policy: timeout must not be negative";
    case error::invalid_max_delay:
      return "invalid backoff policy: max_delay must not be less than initial";
    case error::invalid_max_attempts:
      return "invalid backoff policy: max_attempts must be at least 1";
    case error::invalid_attempt_timeout:
      return "invalid backoff policy: attempt_timeout must be greater than zero";
    case error::invalid_jitter:
      return "invalid backoff policy: jitter_factor must be between 0 and 1";
    case error::invalid_after_wake_delay:
      return "invalid backoff policy: after_wake_delay must be greater than zero";
    case error::child_exited:
      return "the child process exited";
    }
    return "unknown asio_backoff error";
  }
};

} // namespace detail

/// The category of `asio_backoff::error` values (its name is "asio_backoff").
inline const boost::system::error_category& backoff_category() noexcept
{
  static const detail::error_category instance;
  return instance;
}

inline boost::system::error_code make_error_code(error e) noexcept
{
  return {static_cast<int>(e), backoff_category()};
}

} // namespace asio_backoff

template <>
struct boost::system::is_error_code_enum<asio_backoff::error> : std::true_type
{
};

#endif // ASIO_BACKOFF_ERROR_HPP
