//
// asio_backoff/attempt.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_ATTEMPT_HPP
#define ASIO_BACKOFF_ATTEMPT_HPP

#include <asio_backoff/wake.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <type_traits>
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

  /// The wait the attempt asked for before the next one, if any.
  std::optional<std::chrono::nanoseconds> retry_after() const noexcept { return retry_after_; }

private:
  friend attempt_result permanent(const boost::system::error_code& ec) noexcept;
  friend attempt_result retry_after(const boost::system::error_code& ec,
                                    std::chrono::nanoseconds delay) noexcept;

  boost::system::error_code error_;
  std::optional<std::chrono::nanoseconds> retry_after_;
  bool permanent_ = false;
};

/// Marks an error as permanent: the operation completes with it at once.
inline attempt_result permanent(const boost::system::error_code& ec) noexcept
{
  attempt_result r(ec);
  r.permanent_ = true;
  return r;
}

/// Retries `ec` after `delay` instead of the scheduled wait (a server's
/// "retry after" hint). The deadline still bounds the wait (with
/// `deadline_mode::stop_before_deadline`, a hint past it ends the
/// operation); `max_delay` does not, the hint is the server's word. The
/// schedule then continues where it was: it does not restart from `initial`.
inline attempt_result retry_after(const boost::system::error_code& ec,
                                  std::chrono::nanoseconds delay) noexcept
{
  attempt_result r(ec);
  r.retry_after_ = delay;
  return r;
}

/// What an observer learns before each wait.
struct retry_info
{
  std::size_t attempt;              ///< The attempt that failed, counted from 1.
  boost::system::error_code error;  ///< Its error.
  std::chrono::nanoseconds delay;   ///< The wait before the next attempt.
  std::chrono::nanoseconds elapsed; ///< Time since the operation started.
};

// Attempts are callables; an attempt object may also have these members,
// which the operation calls when present (the wrappers below forward them):
//   bool is_permanent(const error_code&);         errors that end the operation
//   void on_retry(const retry_info&);             called before each wait
//   std::optional<std::chrono::nanoseconds> retry_after(const error_code&);
//                                                 a hint for the next wait
//   wake_slot get_wake_slot();                    where wakes come from (read
//                                                 once, at initiation)
//   error_code before_attempt();                  an error ends the operation
//                                                 instead of the next attempt

namespace detail {

template <class A, class = void>
struct has_is_permanent : std::false_type {};
template <class A>
struct has_is_permanent<A, std::void_t<decltype(std::declval<A&>().is_permanent(
                               std::declval<const boost::system::error_code&>()))>>
  : std::true_type {};

template <class A, class = void>
struct has_on_retry : std::false_type {};
template <class A>
struct has_on_retry<A, std::void_t<decltype(std::declval<A&>().on_retry(
                           std::declval<const retry_info&>()))>> : std::true_type {};

template <class A, class = void>
struct has_retry_after : std::false_type {};
template <class A>
struct has_retry_after<A, std::void_t<decltype(std::declval<A&>().retry_after(
                              std::declval<const boost::system::error_code&>()))>>
  : std::true_type {};

template <class A, class = void>
struct has_wake_slot : std::false_type {};
template <class A>
struct has_wake_slot<A, std::void_t<decltype(std::declval<A&>().get_wake_slot())>>
  : std::true_type {};

template <class A, class = void>
struct has_before_attempt : std::false_type {};
template <class A>
struct has_before_attempt<A, std::void_t<decltype(std::declval<A&>().before_attempt())>>
  : std::true_type {};

// The common part of the attempt wrappers: calls the wrapped attempt and
// forwards each optional member it has; a wrapper redefines what it adds.
template <class Attempt>
class wrapped_attempt
{
public:
  explicit wrapped_attempt(Attempt attempt) : attempt_(std::move(attempt)) {}

  decltype(auto) operator()() { return attempt_(); }

  template <class A = Attempt, std::enable_if_t<has_is_permanent<A>::value, int> = 0>
  bool is_permanent(const boost::system::error_code& ec)
  {
    return attempt_.is_permanent(ec);
  }

  template <class A = Attempt, std::enable_if_t<has_on_retry<A>::value, int> = 0>
  void on_retry(const retry_info& info)
  {
    attempt_.on_retry(info);
  }

  template <class A = Attempt, std::enable_if_t<has_retry_after<A>::value, int> = 0>
  std::optional<std::chrono::nanoseconds> retry_after(const boost::system::error_code& ec)
  {
    return attempt_.retry_after(ec);
  }

  template <class A = Attempt, std::enable_if_t<has_wake_slot<A>::value, int> = 0>
  wake_slot get_wake_slot()
  {
    return attempt_.get_wake_slot();
  }

  template <class A = Attempt, std::enable_if_t<has_before_attempt<A>::value, int> = 0>
  boost::system::error_code before_attempt()
  {
    return attempt_.before_attempt();
  }

protected:
  Attempt attempt_;
};

} // namespace detail

/// An attempt whose errors are permanent when `pred(ec)` is true.
/**
 * Made by `permanent_if`. It is itself an attempt, synchronous or
 * asynchronous like the one it wraps.
 */
template <class Predicate, class Attempt>
class classified_attempt : public detail::wrapped_attempt<Attempt>
{
public:
  classified_attempt(Predicate pred, Attempt attempt)
    : detail::wrapped_attempt<Attempt>(std::move(attempt)), pred_(std::move(pred))
  {
  }

  bool is_permanent(const boost::system::error_code& ec)
  {
    if constexpr (detail::has_is_permanent<Attempt>::value)
      if (this->attempt_.is_permanent(ec))
        return true;
    return static_cast<bool>(pred_(ec));
  }

private:
  Predicate pred_;
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

/// An attempt whose observer is called before each wait. Made by `observe`.
template <class Observer, class Attempt>
class observed_attempt : public detail::wrapped_attempt<Attempt>
{
public:
  observed_attempt(Observer observer, Attempt attempt)
    : detail::wrapped_attempt<Attempt>(std::move(attempt)), observer_(std::move(observer))
  {
  }

  void on_retry(const retry_info& info)
  {
    if constexpr (detail::has_on_retry<Attempt>::value)
      this->attempt_.on_retry(info);
    observer_(info);
  }

private:
  Observer observer_;
};

/// Wraps an attempt so that `observer(const retry_info&)` is called before
/// each wait: for logs and metrics. It is stored in the operation (no
/// `std::function`, no allocation); it runs on the handler's executor.
///
/// @code
/// auto attempt = asio_backoff::observe(
///     [](const asio_backoff::retry_info& r) {
///       std::clog << "attempt " << r.attempt << ": " << r.error.message()
///                 << ", next in " << asio_backoff::format_duration(r.delay) << '\n';
///     },
///     [&] { return socket.async_connect(endpoint, boost::asio::deferred); });
/// @endcode
template <class Observer, class Attempt>
observed_attempt<Observer, Attempt> observe(Observer observer, Attempt attempt)
{
  return {std::move(observer), std::move(attempt)};
}

/// An attempt woken by a `wake_signal`. Made by `wake_on`.
template <class Attempt>
class wakeable_attempt : public detail::wrapped_attempt<Attempt>
{
public:
  wakeable_attempt(wake_slot slot, Attempt attempt)
    : detail::wrapped_attempt<Attempt>(std::move(attempt)), slot_(slot)
  {
  }

  wake_slot get_wake_slot() const noexcept { return slot_; }

private:
  wake_slot slot_;
};

/// Wraps an attempt so that `signal.emit()` ends the operation's current
/// wait and runs the next attempt at once (see `wake_signal`).
///
/// @code
/// asio_backoff::wake_signal wake; // outlives the operation
/// asio_backoff::async_backoff(ctx, p, asio_backoff::wake_on(wake, attempt), handler);
/// // later, from any event on the handler's executor:
/// wake.emit();
/// @endcode
template <class Attempt>
wakeable_attempt<Attempt> wake_on(wake_signal& signal, Attempt attempt)
{
  return {signal.slot(), std::move(attempt)};
}

} // namespace asio_backoff

#endif // ASIO_BACKOFF_ATTEMPT_HPP
