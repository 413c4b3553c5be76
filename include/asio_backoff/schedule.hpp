//
// asio_backoff/schedule.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_SCHEDULE_HPP
#define ASIO_BACKOFF_SCHEDULE_HPP

#include <asio_backoff/detail/random.hpp>
#include <asio_backoff/policy.hpp>

#include <boost/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

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
 *   `max_delay`, then randomised by `jitter`. The growth saturates: it never
 *   overflows, whatever the number of attempts or the size of the values.
 * - A wait that would pass the deadline is shortened to end at it, so that
 *   a final attempt runs at the deadline (with
 *   `deadline_mode::stop_before_deadline`: the schedule answers `timed_out`
 *   instead of waiting). Once an attempt has run at or after the deadline,
 *   the schedule answers `timed_out`. Unless stopped before the deadline, at
 *   least one attempt runs, even with a zero timeout.
 * - After `max_attempts` attempts it answers `attempts_exhausted`. When both
 *   apply, `timed_out` wins.
 * - With `delay_origin::attempt_start`, a wait is counted from the start of
 *   the attempt that failed (reported with `attempt_started`): the time the
 *   attempt took is deducted from it.
 */
class schedule
{
public:
  using duration = std::chrono::nanoseconds;

  /// What `next` decided.
  enum class step_kind
  {
    wait,              ///< Wait `delay`, then attempt.
    timed_out,         ///< The deadline has passed, or would: stop.
    attempts_exhausted ///< `max_attempts` attempts have run: stop.
  };

  struct step
  {
    step_kind kind;
    duration delay; ///< Meaningful when `kind == step_kind::wait`.
  };

  /// Precondition: `validate(p)` reports no error. The deadline is
  /// `p.timeout` after the start; see `with_deadline` for `p.deadline`.
  explicit schedule(const policy& p) noexcept
    : timeout_(p.timeout),
      cap_(p.max_delay ? *p.max_delay : duration::max()),
      initial_count_(static_cast<double>(p.initial.count())),
      cap_count_(static_cast<double>(cap_.count())),
      next_count_(initial_count_),
      previous_count_(initial_count_),
      multiplier_(p.multiplier),
      jitter_factor_(p.jitter_factor),
      max_attempts_(p.max_attempts ? *p.max_attempts
                                   : std::numeric_limits<std::size_t>::max()),
      random_(!draws_random(p) ? 0 : (p.jitter_seed ? *p.jitter_seed : detail::fresh_seed())),
      jitter_(draws_random(p) ? p.jitter : jitter::none),
      deadline_mode_(p.deadline_mode),
      origin_(p.delay_origin),
      immediate_(p.immediate_first_attempt)
  {
  }

  /// A schedule whose deadline is the earlier of `p.timeout` after `start`
  /// and `p.deadline`, both on the steady clock.
  static schedule with_deadline(const policy& p, std::chrono::steady_clock::time_point start) noexcept
  {
    schedule s(p);
    if (p.deadline)
    {
      const duration::rep until = p.deadline->time_since_epoch().count();
      const duration::rep from = start.time_since_epoch().count();
      const duration left = until <= from ? duration::zero()
          : from < 0 && until > duration::max().count() + from ? duration::max()
          : duration(until - from);
      if (!s.timeout_ || left < *s.timeout_)
        s.timeout_ = left;
    }
    return s;
  }

  /// Decides what follows, given the time elapsed since the start.
  /**
   * Call it once before the first attempt and once after each failed
   * attempt. Every `wait` answer grants one more attempt.
   */
  step next(duration elapsed) noexcept { return decide(elapsed, std::nullopt); }

  /// As `next(elapsed)`, but the wait is `hint` (a server's "retry after")
  /// instead of the computed one; still bounded by the deadline. The
  /// schedule then continues where it was: the following wait is the one
  /// that would have come next.
  step next(duration elapsed, duration hint) noexcept
  {
    return decide(elapsed, std::max(hint, duration::zero()));
  }

  /// As `next(elapsed, delay)`, but the growth does not advance: the
  /// following wait is the one that `next` would have answered now. For
  /// the quick retries after a wake, which are not part of the schedule.
  step next_soon(duration elapsed, duration delay) noexcept
  {
    return decide(elapsed, std::max(delay, duration::zero()), false);
  }

  /// Reports when the attempt that is about to fail started (only used with
  /// `delay_origin::attempt_start`).
  void attempt_started(duration elapsed) noexcept { attempt_started_ = elapsed; }

  /// Whether `attempt_started` matters (`delay_origin::attempt_start`).
  bool counts_from_attempt_start() const noexcept
  {
    return origin_ == delay_origin::attempt_start;
  }

  /// The number of attempts granted so far.
  std::size_t attempts() const noexcept { return attempts_; }

  /// The deadline, as time after the start, if there is one.
  std::optional<duration> timeout() const noexcept { return timeout_; }

private:
  static bool draws_random(const policy& p) noexcept
  {
    return p.jitter != jitter::none &&
           !(p.jitter == jitter::proportional && p.jitter_factor == 0.0);
  }

  BOOST_FORCEINLINE step decide(duration elapsed, std::optional<duration> hint,
                                bool grow = true) noexcept
  {
    if (attempts_ > 0)
    {
      if (timeout_ && elapsed >= *timeout_)
        return {step_kind::timed_out, duration::zero()};
      if (attempts_ >= max_attempts_)
        return {step_kind::attempts_exhausted, duration::zero()};
    }
    duration delay = duration::zero();
    if (grow && (attempts_ > 0 || !immediate_))
      delay = take_delay();
    if (hint)
      delay = *hint; // the server's word: not shortened by the attempt's duration
    else if (attempts_ > 0 && origin_ == delay_origin::attempt_start)
    {
      const duration spent = elapsed - std::min(attempt_started_, elapsed);
      delay = delay > spent ? delay - spent : duration::zero();
    }
    if (timeout_ && delay > remaining(elapsed))
    {
      if (deadline_mode_ == deadline_mode::stop_before_deadline)
        return {step_kind::timed_out, duration::zero()};
      delay = remaining(elapsed);
    }
    ++attempts_;
    return {step_kind::wait, delay};
  }

  // The growing delay is kept as a double: multiplying it cannot overflow,
  // and once it reaches the cap it stays there.
  duration take_delay() noexcept
  {
    const double nominal = std::min(next_count_, cap_count_);
    next_count_ = std::min(next_count_ * multiplier_, cap_count_);
    double count = nominal;
    switch (jitter_)
    {
    case jitter::none:
      break;
    case jitter::full:
      count = nominal * random_.unit();
      break;
    case jitter::equal:
      count = nominal / 2 + nominal / 2 * random_.unit();
      break;
    case jitter::decorrelated:
    {
      const double high = std::max(previous_count_ * 3, initial_count_);
      count = std::min(initial_count_ + (high - initial_count_) * random_.unit(), cap_count_);
      previous_count_ = count;
      break;
    }
    case jitter::proportional:
      count = std::min(nominal * (1 + jitter_factor_ * (2 * random_.unit() - 1)), cap_count_);
      break;
    }
    // Never zero: a randomised tiny wait would otherwise round down to no
    // wait at all, and the retries would spin.
    return std::max(to_duration(count), duration(1));
  }

  duration to_duration(double count) const noexcept
  {
    if (!(count > 0))
      return duration::zero();
    if (count >= cap_count_)
      return cap_;
    return std::min(cap_, duration(static_cast<duration::rep>(count)));
  }

  duration remaining(duration elapsed) const noexcept
  {
    return elapsed >= *timeout_ ? duration::zero() : *timeout_ - elapsed;
  }

  std::optional<duration> timeout_;
  duration cap_;
  duration attempt_started_ = duration::zero();
  double initial_count_;
  double cap_count_;
  double next_count_;
  double previous_count_;
  double multiplier_;
  double jitter_factor_;
  std::size_t max_attempts_;
  std::size_t attempts_ = 0;
  detail::random_engine random_;
  jitter jitter_;
  deadline_mode deadline_mode_;
  delay_origin origin_;
  bool immediate_;
};

/// A duration as a short human-readable string: "250ms", "1.5s", "2min".
inline std::string format_duration(std::chrono::nanoseconds d)
{
  struct unit
  {
    std::chrono::nanoseconds::rep size;
    const char* name;
  };
  static constexpr unit units[] = {{3600'000'000'000, "h"}, {60'000'000'000, "min"},
                                   {1'000'000'000, "s"},    {1'000'000, "ms"},
                                   {1'000, "us"},           {1, "ns"}};
  if (d == std::chrono::nanoseconds::max())
    return "forever";
  const auto count = d.count();
  for (const unit& u : units)
  {
    if (count >= u.size || u.size == 1)
    {
      char text[48];
      std::snprintf(text, sizeof text, "%.4g%s", static_cast<double>(count) / u.size, u.name);
      return text;
    }
  }
  return "0ns";
}

namespace detail {

// The options after the list of waits.
inline std::string finish_description(const policy& p, std::string text)
{
  if (p.max_attempts)
    text += ", " + std::to_string(*p.max_attempts) + (*p.max_attempts == 1 ? " attempt" : " attempts");
  if (p.timeout)
    text += ", deadline " + format_duration(*p.timeout);
  if (p.deadline)
    text += ", absolute deadline";
  switch (p.jitter)
  {
  case jitter::none: break;
  case jitter::full: text += ", full jitter"; break;
  case jitter::equal: text += ", equal jitter"; break;
  case jitter::decorrelated: text += ", decorrelated jitter"; break;
  case jitter::proportional:
  {
    char factor[32];
    std::snprintf(factor, sizeof factor, ", jitter +-%g%%", p.jitter_factor * 100);
    text += factor;
    break;
  }
  }
  return text;
}

} // namespace detail

/// The schedule of a policy in one line, for logs and dry runs, e.g.
/// "1ms 2ms 4ms 8ms 16ms 32ms 64ms 128ms ... 1s, deadline 30s" (the waits
/// without jitter, each followed by an attempt).
inline std::string describe(const policy& p, std::size_t waits_shown = 8)
{
  std::string text;
  auto add = [&text](const std::string& word) {
    text += (text.empty() ? "" : " ") + word;
  };
  const schedule::duration cap = p.max_delay ? *p.max_delay : schedule::duration::max();
  if (p.jitter == jitter::decorrelated)
  {
    // Its waits do not follow the multiplier: say how they are drawn.
    if (p.immediate_first_attempt)
      add("now");
    add(format_duration(p.initial) + " to 3x the previous wait, up to " + format_duration(cap));
    return detail::finish_description(p, text);
  }
  policy plain = p;
  plain.jitter = jitter::none;
  plain.timeout.reset();
  plain.deadline.reset();
  schedule s(plain);
  schedule::duration last{-1};
  bool shown_at_cap = false; // the capped wait was shown twice: elide the rest
  bool more = false;
  for (std::size_t shown = 0; shown < waits_shown; ++shown)
  {
    const schedule::step step = s.next(schedule::duration::zero());
    if (step.kind != schedule::step_kind::wait)
      return detail::finish_description(p, text);
    if (step.delay == cap && last == cap && shown_at_cap)
    {
      more = true; // capped: the same wait from here on
      break;
    }
    shown_at_cap = step.delay == cap && last == cap;
    add(step.delay == schedule::duration::zero() ? "now" : format_duration(step.delay));
    last = step.delay;
  }
  if (more || s.next(schedule::duration::zero()).kind == schedule::step_kind::wait)
  {
    add("...");
    if (last != cap && p.max_delay)
      add(format_duration(cap));
  }
  return detail::finish_description(p, text);
}

} // namespace asio_backoff

#endif // ASIO_BACKOFF_SCHEDULE_HPP
