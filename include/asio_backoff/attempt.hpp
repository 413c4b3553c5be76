//
// asio_backoff/attempt.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_ATTEMPT_HPP
#define ASIO_BACKOFF_ATTEMPT_HPP

#include <boost/system/error_code.hpp>

#include <utility>

namespace asio_backoff {

/// What a synchronous attempt returns when it needs to say more than
/// "this error".
/**
 * Converts implicitly from an `error_code`: no error means success, an error
 * is retried. `permanent(ec)` marks an error that ends the operation at once.
 *
 * @code
 * [&]() -> asio_backoff::attempt_result {
 *   boost::system::error_code ec = try_something();
 *   if (ec == boost::system::errc::permission_denied)
 *     return asio_backoff::permanent(ec);
 *   return ec;
 * }
 * @endcode
 */
class attempt_result
{
public:
  attempt_result() noexcept = default;

  attempt_result(const boost::system::error_code& ec) noexcept // NOLINT: implicit on purpose
    : error_(ec)
  {
  }

  const boost::system::error_code& error() const noexcept { return error_; }
  bool is_permanent() const noexcept { return permanent_ && error_.failed(); }

private:
  friend attempt_result permanent(const boost::system::error_code& ec) noexcept;

  boost::system::error_code error_;
  bool permanent_ = false;
};

/// Marks an error as permanent: the operation completes with it at once.
inline attempt_result permanent(const boost::system::error_code& ec) noexcept
{
  attempt_result r(ec);
  r.permanent_ = true;
  return r;
}

/// An attempt whose errors are permanent when `pred(ec)` is true.
/**
 * Made by `permanent_if`. It is itself an attempt, synchronous or
 * asynchronous like the one it wraps.
 */
template <class Predicate, class Attempt>
class classified_attempt
{
public:
  classified_attempt(Predicate pred, Attempt attempt)
    : pred_(std::move(pred)), attempt_(std::move(attempt))
  {
  }

  decltype(auto) operator()() { return attempt_(); }

  bool is_permanent(const boost::system::error_code& ec) const
  {
    return static_cast<bool>(pred_(ec));
  }

private:
  Predicate pred_;
  Attempt attempt_;
};

/// Wraps an attempt so that the errors for which `pred` returns true end the
/// operation at once instead of being retried.
/**
 * This is how an asynchronous attempt, whose completion carries only an
 * `error_code`, marks errors as permanent:
 *
 * @code
 * auto attempt = asio_backoff::permanent_if(
 *     [](boost::system::error_code ec) {
 *       return ec == boost::asio::error::access_denied;
 *     },
 *     [&] { return socket.async_connect(endpoint, boost::asio::deferred); });
 * @endcode
 */
template <class Predicate, class Attempt>
classified_attempt<Predicate, Attempt> permanent_if(Predicate pred, Attempt attempt)
{
  return {std::move(pred), std::move(attempt)};
}

} // namespace asio_backoff

#endif // ASIO_BACKOFF_ATTEMPT_HPP
