//
// asio_backoff/reconnect.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_RECONNECT_HPP
#define ASIO_BACKOFF_RECONNECT_HPP

#include <asio_backoff/policy.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace asio_backoff {

/// Backoff across the connections of a long-lived client.
/**
 * A client that keeps a connection alive reconnects with `async_backoff`
 * each time the connection is lost. Starting every reconnection from
 * `initial` would let a flapping peer (one that accepts, then drops the
 * connection at once) be hammered at the fastest rate forever. This state
 * remembers how the previous connections ended: a connection that lived at
 * least `healthy_after` resets the backoff; a shorter one makes the next
 * reconnection start where a continued backoff would be (`initial` times
 * `multiplier` for each short-lived connection in a row, capped by
 * `max_delay`), and never immediately.
 *
 * @code
 * asio_backoff::reconnect_backoff backoff(policy, 5s);
 * for (;;) {
 *   co_await asio_backoff::async_backoff(ex, backoff.next_policy(), connect, use_awaitable);
 *   auto connected = std::chrono::steady_clock::now();
 *   co_await run_session(socket); // until the connection is lost
 *   backoff.connection_lost(std::chrono::steady_clock::now() - connected);
 * }
 * @endcode
 *
 * A plain value with no clock and no I/O: the caller measures how long each
 * connection lived.
 */
class reconnect_backoff
{
public:
  using duration = std::chrono::nanoseconds;

  /// `healthy_after`: how long a connection must live to count as healthy.
  /// Give the policy a `max_delay`: without one, a long run of flaps makes
  /// the waits grow without bound (they stay below `timeout`, if any).
  reconnect_backoff(const policy& p, duration healthy_after) noexcept
    : policy_(p),
      healthy_after_(healthy_after),
      ceiling_(static_cast<double>(ceiling(p).count())),
      initial_count_(static_cast<double>(p.initial.count()))
  {
  }

  /// The policy for the next (re)connection.
  policy next_policy() const noexcept
  {
    policy p = policy_;
    if (short_lived_ == 0)
      return p;
    p.initial = initial_count_ >= ceiling_ ? ceiling(policy_)
                                           : duration(static_cast<duration::rep>(initial_count_));
    p.immediate_first_attempt = false;
    return p;
  }

  /// Reports that a connection was lost after living `lived`.
  void connection_lost(duration lived) noexcept
  {
    if (lived >= healthy_after_)
    {
      short_lived_ = 0;
      initial_count_ = static_cast<double>(policy_.initial.count());
      return;
    }
    ++short_lived_;
    initial_count_ = std::min(initial_count_ * policy_.multiplier, ceiling_);
  }

  /// Short-lived connections in a row since the last healthy one.
  std::size_t short_lived_connections() const noexcept { return short_lived_; }

private:
  // The first wait of a reconnection never grows past the cap, nor past the
  // timeout: with stop_before_deadline that would end each reconnection
  // before its first attempt, and the state could never reset.
  static duration ceiling(const policy& p) noexcept
  {
    duration c = p.max_delay ? *p.max_delay : duration::max();
    if (p.timeout && *p.timeout > duration::zero())
      c = std::min(c, *p.timeout);
    return std::max(c, p.initial);
  }

  policy policy_;
  duration healthy_after_;
  double ceiling_;
  double initial_count_;
  std::size_t short_lived_ = 0;
};

} // namespace asio_backoff

#endif // ASIO_BACKOFF_RECONNECT_HPP
