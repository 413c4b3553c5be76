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

namespace detail {

enum class schedule_step_kind
{
  wait,              ///< Wait `delay`, then attempt.
  timed_out,         ///< The deadline has passed, or would: stop.
  attempts_exhausted ///< `max_attempts` attempts have run: stop.
};

struct schedule_step
{
  schedule_step_kind kind;
  std::chrono::nanoseconds delay; ///< Meaningful when `kind == schedule_step_kind::wait`.
};

// The parts of a schedule that only some policies use: a deadline, a limit
// on the attempts, jitter, waits counted from the attempt's start. An
// operation keeps them only when its policy has one of these.
struct schedule_options
{
  using duration = std::chrono::nanoseconds;

  explicit schedule_options(const policy& p) noexcept
    : timeout(p.timeout ? *p.timeout : no_deadline),
      max_attempts(p.max_attempts ? *p.max_attempts : std::numeric_limits<std::size_t>::max()),
      jitter_factor(p.jitter_factor),
      random(!draws_random(p) ? 0 : (p.jitter_seed ? *p.jitter_seed : fresh_seed()))
  {
  }

  static bool draws_random(const policy& p) noexcept
  {
    return p.jitter != jitter::none &&
           !(p.jitter == jitter::proportional && p.jitter_factor == 0.0);
  }

  // Whether a policy needs them (a deadline may also come from p.deadline).
  static bool needed_by(const policy& p) noexcept
  {
    return p.timeout || p.deadline || p.max_attempts || draws_random(p) ||
           p.delay_origin == delay_origin::attempt_start;
  }

  // Makes the deadline the earlier of the timeout and `deadline`, both on
  // the steady clock, from `start`.
  void limit_to(std::chrono::steady_clock::time_point deadline,
                std::chrono::steady_clock::time_point start) noexcept
  {
    const duration::rep until = deadline.time_since_epoch().count();
    const duration::rep from = start.time_since_epoch().count();
    const duration left = until <= from ? duration::zero()
        : from < 0 && until > duration::max().count() + from ? duration::max()
        : duration(until - from);
    if (!has_deadline() || left < timeout)
      timeout = left;
  }

  // A validated timeout is never negative: a negative one means none.
  static constexpr duration no_deadline = duration::min();
  bool has_deadline() const noexcept { return timeout >= duration::zero(); }

  duration timeout;
  std::size_t max_attempts;  // max(): unlimited
  duration attempt_started = duration::zero();
  double jitter_factor;      // jitter::proportional
  random_engine random;
};

// The rest of a schedule: the growth of the waits and the count of
// attempts. Each call that may need the options receives them, null when
// the policy needs none (schedule_options::needed_by).
class schedule_state
{
public:
  using duration = std::chrono::nanoseconds;
  using step = schedule_step;
  using step_kind = schedule_step_kind;

  explicit schedule_state(const policy& p) noexcept
    : cap_(p.max_delay ? *p.max_delay : duration::max()),
      next_count_(static_cast<double>(p.initial.count())),
      multiplier_(p.multiplier),
      jitter_(static_cast<unsigned char>(schedule_options::draws_random(p) ? p.jitter
                                                                            : jitter::none)),
      stop_before_deadline_(p.deadline_mode == deadline_mode::stop_before_deadline),
      from_attempt_start_(p.delay_origin == delay_origin::attempt_start),
      immediate_(p.immediate_first_attempt)
  {
    if (p.jitter == jitter::decorrelated)
    {
      const double initial = next_count_;
      previous_count_ = initial;
      initial_count_ = initial;
    }
  }

  bool counts_from_attempt_start() const noexcept { return from_attempt_start_; }

  std::size_t attempts() const noexcept { return attempts_; }

  BOOST_FORCEINLINE step decide(duration elapsed, std::optional<duration> hint, bool grow,
                                schedule_options* o) noexcept
  {
    const bool deadline = o && o->has_deadline();
    if (attempts_ > 0 && o)
    {
      if (deadline && elapsed >= o->timeout)
        return {step_kind::timed_out, duration::zero()};
      if (attempts_ >= o->max_attempts)
        return {step_kind::attempts_exhausted, duration::zero()};
    }
    duration delay = duration::zero();
    if (grow && (attempts_ > 0 || !immediate_))
      delay = take_delay(o);
    if (hint)
      delay = *hint; // the server's word: not shortened by the attempt's duration
    else if (attempts_ > 0 && from_attempt_start_)
    {
      const duration spent = elapsed - std::min(o->attempt_started, elapsed);
      delay = delay > spent ? delay - spent : duration::zero();
    }
    if (deadline && delay > remaining(*o, elapsed))
    {
      if (stop_before_deadline_)
        return {step_kind::timed_out, duration::zero()};
      delay = remaining(*o, elapsed);
    }
    ++attempts_;
    return {step_kind::wait, delay};
  }

private:
  // The growing delay is kept as a double: multiplying it cannot overflow,
  // and once it reaches the cap it stays there. Jitter implies options.
  duration take_delay(schedule_options* o) noexcept
  {
    const double cap = cap_count();
    if (jitter_ == static_cast<unsigned char>(jitter::decorrelated))
    {
      const double high = std::max(previous_count_ * 3, initial_count_);
      previous_count_ = std::min(initial_count_ + (high - initial_count_) * o->random.unit(), cap);
      return std::max(to_duration(previous_count_), duration(1));
    }
    const double nominal = std::min(next_count_, cap);
    next_count_ = std::min(next_count_ * multiplier_, cap);
    double count = nominal;
    switch (static_cast<jitter>(jitter_))
    {
    case jitter::none:
      return to_duration(nominal);
    case jitter::full:
      count = nominal * o->random.unit();
      break;
    case jitter::equal:
      count = nominal / 2 + nominal / 2 * o->random.unit();
      break;
    case jitter::proportional:
      count = std::min(nominal * (1 + o->jitter_factor * (2 * o->random.unit() - 1)), cap);
      break;
    case jitter::decorrelated:
      break;
    }
    // Never zero: a randomised tiny wait would otherwise round down to no
    // wait at all, and the retries would spin.
    return std::max(to_duration(count), duration(1));
  }

  double cap_count() const noexcept { return static_cast<double>(cap_.count()); }

  duration to_duration(double count) const noexcept
  {
    if (!(count > 0))
      return duration::zero();
    if (count >= cap_count())
      return cap_;
    return std::min(cap_, duration(static_cast<duration::rep>(count)));
  }

  static duration remaining(const schedule_options& o, duration elapsed) noexcept
  {
    if (elapsed >= o.timeout)
      return duration::zero();
    if (elapsed < duration::zero() && o.timeout > duration::max() + elapsed)
      return duration::max(); // a clock that went back: saturate
    return o.timeout - elapsed;
  }

  // Kept small: an operation holds one, and many operations may be pending.
  duration cap_; // duration::max(): no cap
  // Decorrelated jitter does not grow by the multiplier: it keeps its own
  // two numbers in the place of the growth's.
  union
  {
    double next_count_;     // the next wait before jitter, in ns
    double previous_count_; // jitter::decorrelated: the previous wait
  };
  union
  {
    double multiplier_;
    double initial_count_; // jitter::decorrelated
  };
  std::size_t attempts_ = 0;
  unsigned char jitter_;
  bool stop_before_deadline_;
  bool from_attempt_start_;
  bool immediate_;
};

} // namespace detail

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

  /// What `next` decided: `wait` (wait `delay`, then attempt), `timed_out`
  /// (the deadline has passed, or would: stop), `attempts_exhausted`
  /// (`max_attempts` attempts have run: stop).
  using step_kind = detail::schedule_step_kind;

  /// A decision: its kind, and the wait when the kind is `wait`.
  using step = detail::schedule_step;

  /// Precondition: `validate(p)` reports no error. The deadline is
  /// `p.timeout` after the start; see `with_deadline` for `p.deadline`.
  explicit schedule(const policy& p) noexcept : state_(p), options_(p) {}

  /// A schedule whose deadline is the earlier of `p.timeout` after `start`
  /// and `p.deadline`, both on the steady clock.
  static schedule with_deadline(const policy& p, std::chrono::steady_clock::time_point start) noexcept
  {
    schedule s(p);
    if (p.deadline)
      s.options_.limit_to(*p.deadline, start);
    return s;
  }

  /// Decides what follows, given the time elapsed since the start.
  /**
   * Call it once before the first attempt and once after each failed
   * attempt. Every `wait` answer grants one more attempt.
   */
  step next(duration elapsed) noexcept
  {
    return state_.decide(elapsed, std::nullopt, true, &options_);
  }

  /// As `next(elapsed)`, but the wait is `hint` (a server's "retry after")
  /// instead of the computed one; still bounded by the deadline. The
  /// schedule then continues where it was: the following wait is the one
  /// that would have come next.
  step next(duration elapsed, duration hint) noexcept
  {
    return state_.decide(elapsed, std::max(hint, duration::zero()), true, &options_);
  }

  /// As `next(elapsed, delay)`, but the growth does not advance: the
  /// following wait is the one that `next` would have answered now. For
  /// the quick retries after a wake, which are not part of the schedule.
  step next_soon(duration elapsed, duration delay) noexcept
  {
    return state_.decide(elapsed, std::max(delay, duration::zero()), false, &options_);
  }

  /// Reports when the attempt that is about to fail started (only used with
  /// `delay_origin::attempt_start`).
  void attempt_started(duration elapsed) noexcept { options_.attempt_started = elapsed; }

  /// Whether `attempt_started` matters (`delay_origin::attempt_start`).
  bool counts_from_attempt_start() const noexcept { return state_.counts_from_attempt_start(); }

  /// The number of attempts granted so far.
  std::size_t attempts() const noexcept { return state_.attempts(); }

  /// The deadline, as time after the start, if there is one.
  std::optional<duration> timeout() const noexcept
  {
    if (!options_.has_deadline())
      return std::nullopt;
    return options_.timeout;
  }

private:
  detail::schedule_state state_;
  detail::schedule_options options_;
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
