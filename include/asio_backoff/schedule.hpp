//
// asio_backoff/schedule.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_SCHEDULE_HPP
#define ASIO_BACKOFF_SCHEDULE_HPP

#include <asio_backoff/policy.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>

namespace asio_backoff {

/// The delay arithmetic of a policy, with no I/O and no clock.
/**
 * A schedule answers one question: "the time elapsed since the start is
 * `t`; how long until the next attempt, or is it over?" The caller measures
 * time, waits and attempts; `async_backoff` is one such caller, a test or a
 * dry run can be another.
 *
 * Semantics (libvirt's `virTimeBackOffWait`, with its sharp edges fixed):
 * - The first wait is `initial` (zero with `immediate_first_attempt`); each
 *   later wait is the previous one times `multiplier`, capped by
 *   `max_delay`. The growth saturates: it never overflows, whatever the
 *   number of attempts or the size of the values.
 * - A wait that would pass the deadline is shortened to end at it, so that
 *   a final attempt runs at the deadline. Once an attempt has run at or after
 *   the deadline, the schedule answers `timed_out`. At least one attempt
 *   always runs, even with a zero timeout.
 * - After `max_attempts` attempts it answers `attempts_exhausted`. When both
 *   apply, `timed_out` wins.
 */
class schedule
{
public:
  using duration = std::chrono::nanoseconds;

  /// What `next` decided.
  enum class step_kind
  {
    wait,              ///< Wait `delay`, then attempt.
    timed_out,         ///< The deadline has passed: stop.
    attempts_exhausted ///< `max_attempts` attempts have run: stop.
  };

  struct step
  {
    step_kind kind;
    duration delay; ///< Meaningful when `kind == step_kind::wait`.
  };

  /// Precondition: `validate(p)` reports no error.
  explicit schedule(const policy& p) noexcept
    : timeout_(p.timeout),
      cap_(p.max_delay ? *p.max_delay : duration::max()),
      cap_count_(static_cast<double>(cap_.count())),
      next_count_(static_cast<double>(p.initial.count())),
      multiplier_(p.multiplier),
      max_attempts_(p.max_attempts ? *p.max_attempts
                                   : std::numeric_limits<std::size_t>::max()),
      immediate_(p.immediate_first_attempt)
  {
  }

  /// Decides what follows, given the time elapsed since the start.
  /**
   * Call it once before the first attempt and once after each failed
   * attempt. Every `wait` answer grants one more attempt.
   */
  step next(duration elapsed) noexcept
  {
    if (attempts_ > 0)
    {
      if (timeout_ && elapsed >= *timeout_)
        return {step_kind::timed_out, duration::zero()};
      if (attempts_ >= max_attempts_)
        return {step_kind::attempts_exhausted, duration::zero()};
    }
    duration delay = duration::zero();
    if (attempts_ > 0 || !immediate_)
      delay = take_delay();
    if (timeout_)
      delay = std::min(delay, remaining(elapsed));
    ++attempts_;
    return {step_kind::wait, delay};
  }

  /// The number of attempts granted so far.
  std::size_t attempts() const noexcept { return attempts_; }

private:
  // The growing delay is kept as a double: multiplying it cannot overflow,
  // and once it reaches the cap it stays there.
  duration take_delay() noexcept
  {
    duration delay = next_count_ >= cap_count_
        ? cap_
        : std::min(cap_, duration(static_cast<duration::rep>(next_count_)));
    next_count_ = std::min(next_count_ * multiplier_, cap_count_);
    return delay;
  }

  duration remaining(duration elapsed) const noexcept
  {
    return elapsed >= *timeout_ ? duration::zero() : *timeout_ - elapsed;
  }

  std::optional<duration> timeout_;
  duration cap_;
  double cap_count_;
  double next_count_;
  double multiplier_;
  std::size_t max_attempts_;
  std::size_t attempts_ = 0;
  bool immediate_;
};

} // namespace asio_backoff

#endif // ASIO_BACKOFF_SCHEDULE_HPP
