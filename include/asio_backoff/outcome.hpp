//
// asio_backoff/outcome.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_OUTCOME_HPP
#define ASIO_BACKOFF_OUTCOME_HPP

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace asio_backoff {

/// Why and how an operation ended, for logs and decisions.
/**
 * Pass one to `async_backoff` and it is filled in just before the completion
 * handler runs. The completion's `error_code` says what happened
 * (`timed_out`, `attempts_exhausted`, ...); the outcome keeps what that code
 * cannot carry, above all the last attempt's own error.
 */
struct outcome
{
  enum class reason_type
  {
    pending,            ///< The operation has not completed yet.
    succeeded,          ///< An attempt succeeded.
    permanent_error,    ///< An attempt failed with a permanent error.
    timed_out,          ///< The deadline passed.
    attempts_exhausted, ///< `max_attempts` attempts failed.
    cancelled,          ///< Cancelled through the cancellation slot or the timer.
    invalid_policy      ///< The policy was rejected; no attempt ran.
  };

  reason_type reason = reason_type::pending;

  /// Attempts that ran (started), including the last one.
  std::size_t attempts = 0;

  /// Time from initiation to completion, on the timer's clock.
  std::chrono::nanoseconds elapsed{0};

  /// The error of the last attempt that ran; empty if none failed.
  boost::system::error_code last_error;

  /// One line for a log, e.g. "timed out after 12 attempts in 3.000 s; last
  /// error: Connection refused".
  std::string message() const
  {
    std::string text = what();
    char figures[64];
    std::snprintf(figures, sizeof figures, " after %zu attempt%s in %.3f s",
                  attempts, attempts == 1 ? "" : "s",
                  std::chrono::duration<double>(elapsed).count());
    text += figures;
    if (last_error.failed())
      text += "; last error: " + last_error.message();
    return text;
  }

private:
  const char* what() const noexcept
  {
    switch (reason)
    {
    case reason_type::pending: return "pending";
    case reason_type::succeeded: return "succeeded";
    case reason_type::permanent_error: return "failed permanently";
    case reason_type::timed_out: return "timed out";
    case reason_type::attempts_exhausted: return "gave up";
    case reason_type::cancelled: return "cancelled";
    case reason_type::invalid_policy: return "rejected its policy";
    }
    return "ended";
  }
};

} // namespace asio_backoff

#endif // ASIO_BACKOFF_OUTCOME_HPP
