//
// asio_backoff/detail/clock_arithmetic.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_CLOCK_ARITHMETIC_HPP
#define ASIO_BACKOFF_DETAIL_CLOCK_ARITHMETIC_HPP

#include <chrono>
#include <type_traits>

namespace asio_backoff {
namespace detail {

// `tp + d` on any clock, rounded up (never wake early) and saturating at
// time_point::max() (a policy may say "no cap" with duration::max()).
template <class TimePoint>
TimePoint saturating_add(TimePoint tp, std::chrono::nanoseconds d) noexcept
{
  using duration = typename TimePoint::duration;
  duration step;
  if constexpr (std::is_same<duration, std::chrono::nanoseconds>::value)
  {
    step = d;
  }
  else
  {
    using seconds = std::chrono::duration<long double>;
    if (std::chrono::duration_cast<seconds>(d) >=
        std::chrono::duration_cast<seconds>(duration::max()))
      return TimePoint::max();
    step = std::chrono::ceil<duration>(d);
  }
  if (tp.time_since_epoch() > duration::max() - step)
    return TimePoint::max();
  return tp + step;
}

// Time from `from` to `to` in nanoseconds, saturating.
template <class TimePoint>
std::chrono::nanoseconds elapsed_between(TimePoint from, TimePoint to) noexcept
{
  using seconds = std::chrono::duration<long double>;
  auto d = to - from;
  if constexpr (!std::is_same<decltype(d), std::chrono::nanoseconds>::value)
  {
    if (std::chrono::duration_cast<seconds>(d) >=
        std::chrono::duration_cast<seconds>(std::chrono::nanoseconds::max()))
      return std::chrono::nanoseconds::max();
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d);
}

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_CLOCK_ARITHMETIC_HPP
