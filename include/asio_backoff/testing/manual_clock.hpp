//
// asio_backoff/testing/manual_clock.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_TESTING_MANUAL_CLOCK_HPP
#define ASIO_BACKOFF_TESTING_MANUAL_CLOCK_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>

namespace asio_backoff {
namespace testing {

/// A steady clock that moves only when told: virtual time for tests.
/**
 * One clock per program (its state is static, as a clock's must be). Start
 * each test with `reset()`. Timers on this clock (`manual_timer`) fire when
 * the clock has reached their expiry and the `io_context` is polled; the
 * `run_until` and `run_for` drivers below jump from one expiry to the next,
 * so handlers observe the exact instants they asked for.
 */
class manual_clock
{
public:
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<manual_clock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept { return time_point(duration(now_.load())); }

  /// Moves the clock forward by `d` (a negative `d` is ignored), stopping
  /// at `time_point::max()`.
  static void advance(duration d) noexcept
  {
    if (d <= duration::zero())
      return;
    rep current = now_.load();
    rep next;
    do
      next = d.count() > none - current ? none : current + d.count();
    while (!now_.compare_exchange_weak(current, next));
  }

  /// Moves the clock to `t` if that is later than now.
  static void advance_to(time_point t) noexcept
  {
    rep current = now_.load();
    while (t.time_since_epoch().count() > current &&
           !now_.compare_exchange_weak(current, t.time_since_epoch().count()))
    {
    }
  }

  /// Back to time zero, forgetting the expiries seen.
  static void reset() noexcept
  {
    now_.store(0);
    next_expiry_.store(none);
  }

  /// The earliest expiry of a pending timer that the io_context reported
  /// since the last call, if any; clears it.
  static std::optional<time_point> take_next_expiry() noexcept
  {
    const rep next = next_expiry_.exchange(none);
    if (next == none)
      return std::nullopt;
    return time_point(duration(next));
  }

private:
  friend struct manual_wait_traits;

  static constexpr rep none = duration::max().count();

  static void note_expiry(duration until_expiry) noexcept
  {
    const rep now = now_.load();
    const rep expiry = until_expiry.count() > none - now ? none : now + until_expiry.count();
    rep seen = next_expiry_.load();
    while (expiry < seen && !next_expiry_.compare_exchange_weak(seen, expiry))
    {
    }
  }

  static inline std::atomic<rep> now_{0};
  static inline std::atomic<rep> next_expiry_{none};
};

/// Wait traits for `manual_clock`: the io_context never sleeps waiting for
/// virtual time, and the earliest expiry it sees is noted for the drivers.
struct manual_wait_traits
{
  static manual_clock::duration to_wait_duration(const manual_clock::duration& d) noexcept
  {
    if (d > manual_clock::duration::zero())
      manual_clock::note_expiry(d);
    return manual_clock::duration::zero();
  }

  static manual_clock::duration to_wait_duration(const manual_clock::time_point& t) noexcept
  {
    return to_wait_duration(t - manual_clock::now());
  }
};

namespace detail {

// A clock that moves by exactly one microsecond each time it is read. Given
// to io_context::run_one_until, it makes exactly one turn of the reactor
// with a one-microsecond timeout, whatever the real time does: long enough
// for the reactor to ask the timers for the next expiry, never a spin.
struct reactor_turn_clock
{
  using duration = std::chrono::microseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<reactor_turn_clock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept
  {
    static thread_local rep ticks = 0;
    return time_point(duration(++ticks));
  }
};

} // namespace detail

/// A timer on virtual time: pass it to `async_backoff` in tests.
template <class Executor = boost::asio::any_io_executor>
using basic_manual_timer = boost::asio::basic_waitable_timer<manual_clock, manual_wait_traits, Executor>;

using manual_timer = basic_manual_timer<>;

/// Runs every handler that is ready at the current virtual time, including
/// the ones those handlers make ready. Returns how many ran.
inline std::size_t run_due(boost::asio::io_context& ctx)
{
  std::size_t total = 0;
  for (;;)
  {
    ctx.restart();
    std::size_t ran = ctx.poll();
    if (ran == 0)
    {
      // poll() never asks the reactor for a timeout, so it never learns the
      // next expiry; one turn with a timeout does, and with the wait traits
      // saying "zero" it does not sleep.
      ctx.restart();
      ran = ctx.run_one_until(detail::reactor_turn_clock::now() + std::chrono::microseconds(2));
      if (ran == 0)
        return total;
    }
    total += ran;
  }
}

/// Advances virtual time to `t`, stopping at each timer expiry on the way to
/// run what is due there. Returns how many handlers ran.
/**
 * Determinism: with Asio's select-based reactor (define
 * `BOOST_ASIO_DISABLE_EPOLL` for the test program) expired timers are found
 * by every poll, by construction. With epoll, they are signalled through a
 * timerfd armed to fire at once, which has been reliable here but is not
 * guaranteed by construction.
 */
inline std::size_t run_until(boost::asio::io_context& ctx, manual_clock::time_point t)
{
  manual_clock::take_next_expiry(); // forget expiries seen before this run
  std::size_t total = run_due(ctx);
  for (;;)
  {
    const std::optional<manual_clock::time_point> next = manual_clock::take_next_expiry();
    if (!next || *next > t)
      break;
    manual_clock::advance_to(*next);
    total += run_due(ctx);
  }
  manual_clock::advance_to(t);
  return total + run_due(ctx);
}

/// `run_until(ctx, manual_clock::now() + d)`.
inline std::size_t run_for(boost::asio::io_context& ctx, manual_clock::duration d)
{
  const manual_clock::time_point now = manual_clock::now();
  const manual_clock::time_point until =
      d > manual_clock::time_point::max() - now ? manual_clock::time_point::max() : now + d;
  return run_until(ctx, until);
}

} // namespace testing
} // namespace asio_backoff

#endif // ASIO_BACKOFF_TESTING_MANUAL_CLOCK_HPP
