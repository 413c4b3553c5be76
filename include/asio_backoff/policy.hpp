//
// asio_backoff/policy.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_POLICY_HPP
#define ASIO_BACKOFF_POLICY_HPP

#include <asio_backoff/error.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace asio_backoff {

/// How a wait is randomised, so that many clients do not retry in lockstep.
/**
 * With `t` the wait without jitter (`initial * multiplier^n`, capped):
 * - `none`: `t`;
 * - `full`: uniform in `[0, t]`;
 * - `equal`: `t/2` plus uniform in `[0, t/2]`;
 * - `decorrelated`: uniform in `[initial, 3 * previous wait]`, capped by
 *   `max_delay` (`multiplier` is not used);
 * - `proportional`: `t` times uniform in `[1 - f, 1 + f]`, f =
 *   `jitter_factor` (gRPC uses 0.2, Go's backoff 0.5), capped by `max_delay`.
 *
 * (The first three are the AWS Architecture Blog's definitions.) A jittered
 * wait is never zero (at least 1 ns), never above `max_delay`, and never past the
 * deadline.
 */
enum class jitter
{
  none,
  full,
  equal,
  decorrelated,
  proportional
};

/// What happens when the next wait would pass the deadline.
enum class deadline_mode
{
  /// Shorten the wait so that a final attempt runs at the deadline
  /// (libvirt's behaviour).
  final_attempt_at_deadline,
  /// Do not wait: complete with `timed_out` at once.
  stop_before_deadline
};

/// Where a wait is counted from.
enum class delay_origin
{
  /// From the end of the failed attempt: a slow attempt delays the next.
  attempt_end,
  /// From the start of the failed attempt (gRPC): a slow attempt eats into
  /// the wait, so attempts keep their cadence.
  attempt_start
};

/// How long to wait between attempts and when to give up.
/**
 * A plain aggregate: assign the fields by name. Without changes it waits
 * 1 ms, then doubles the wait after every failed attempt, forever.
 *
 * @code
 * using namespace std::chrono_literals;
 * asio_backoff::policy p;
 * p.initial = 1ms;      // libvirt's virTimeBackOffStart(&t, 1, 3000)
 * p.timeout = 3000ms;
 * @endcode
 *
 * All durations are measured on the timer's clock, by default
 * `std::chrono::steady_clock`, so changes of the wall clock never matter.
 * `validate` tells whether a policy makes sense; an operation started with
 * an invalid policy completes with that error before any attempt runs.
 */
struct policy
{
  using duration = std::chrono::nanoseconds;

  /// The first wait (libvirt's `first`). Must be greater than zero.
  duration initial = std::chrono::milliseconds(1);

  /// Budget for the whole operation, counted from its initiation. The last
  /// wait is shortened so that a final attempt runs at the deadline. Empty:
  /// no deadline. Must not be negative.
  std::optional<duration> timeout;

  /// Each wait is the previous one times this. Must be >= 1 (1: constant).
  double multiplier = 2.0;

  /// Cap on one wait. Empty: no cap. Must not be less than `initial`.
  std::optional<duration> max_delay;

  /// Maximum number of attempts. Empty: unlimited. Must be at least 1.
  std::optional<std::size_t> max_attempts;

  /// Run the first attempt at once instead of waiting `initial` before it.
  bool immediate_first_attempt = false;

  /// Cancel an asynchronous attempt that takes longer than this; it then
  /// counts as a retryable failure (`boost::asio::error::timed_out`). Empty:
  /// attempts are limited only by the deadline. Must be greater than zero.
  std::optional<duration> attempt_timeout;

  /// An absolute deadline on the steady clock, so that several operations or
  /// phases can share one. With `timeout` too, the earlier one applies. (With
  /// a timer on another clock, the time left at initiation is used.)
  std::optional<std::chrono::steady_clock::time_point> deadline;

  /// What to do when a wait would pass the deadline.
  asio_backoff::deadline_mode deadline_mode = deadline_mode::final_attempt_at_deadline;

  /// Where waits are counted from.
  asio_backoff::delay_origin delay_origin = delay_origin::attempt_end;

  /// Randomisation of the waits. Default: none.
  asio_backoff::jitter jitter = jitter::none;

  /// The factor of `jitter::proportional`, in [0, 1].
  double jitter_factor = 0.2;

  /// Seed of the operation's own random engine, for reproducible runs.
  /// Empty: each operation draws a fresh seed.
  std::optional<std::uint64_t> jitter_seed;

  /// After a wake (see `wake_signal`), a failed attempt is retried after
  /// this delay, then twice as long, and so on while that is shorter than
  /// the wait the wake cut short; then the schedule resumes. The event that
  /// woke the operation often precedes readiness by a little (a socket file
  /// appears at `bind()`, before `listen()`). Must be greater than zero.
  duration after_wake_delay = std::chrono::microseconds(100);
};

/// Checks a policy. Returns the first problem found, or no error.
/**
 * @returns One of `error::invalid_initial` (`initial <= 0`),
 * `error::invalid_multiplier` (less than 1, or NaN),
 * `error::invalid_timeout` (negative), `error::invalid_max_delay`
 * (less than `initial`), `error::invalid_max_attempts` (zero),
 * `error::invalid_attempt_timeout` (`<= 0`), `error::invalid_jitter`
 * (`jitter_factor` outside [0, 1], or NaN), `error::invalid_after_wake_delay`
 * (`<= 0`), or a default-constructed
 * `error_code` when the policy is valid.
 */
inline boost::system::error_code validate(const policy& p) noexcept
{
  if (p.initial <= policy::duration::zero())
    return error::invalid_initial;
  if (!(p.multiplier >= 1.0)) // also rejects NaN
    return error::invalid_multiplier;
  if (p.timeout && *p.timeout < policy::duration::zero())
    return error::invalid_timeout;
  if (p.max_delay && *p.max_delay < p.initial)
    return error::invalid_max_delay;
  if (p.max_attempts && *p.max_attempts == 0)
    return error::invalid_max_attempts;
  if (p.attempt_timeout && *p.attempt_timeout <= policy::duration::zero())
    return error::invalid_attempt_timeout;
  if (!(p.jitter_factor >= 0.0 && p.jitter_factor <= 1.0))
    return error::invalid_jitter;
  if (p.after_wake_delay <= policy::duration::zero())
    return error::invalid_after_wake_delay;
  return {};
}

} // namespace asio_backoff

#endif // ASIO_BACKOFF_POLICY_HPP
