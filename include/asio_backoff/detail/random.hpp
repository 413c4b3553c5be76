//
// asio_backoff/detail/random.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_RANDOM_HPP
#define ASIO_BACKOFF_DETAIL_RANDOM_HPP

#include <cstdint>
#include <random>

namespace asio_backoff {
namespace detail {

// A small random engine owned by one operation (8 bytes): never shared
// between operations, so never shared between threads.
class random_engine
{
public:
  explicit random_engine(std::uint64_t seed) noexcept
    : engine_(static_cast<std::minstd_rand::result_type>(mix(seed) % (std::minstd_rand::modulus - 1) + 1))
  {
  }

  // Uniform in [0, 1), computed the same way on every platform (the standard
  // distributions are not).
  double unit() noexcept
  {
    return static_cast<double>(engine_() - std::minstd_rand::min()) /
           (static_cast<double>(std::minstd_rand::max() - std::minstd_rand::min()) + 1.0);
  }

  // SplitMix64's finaliser: nearby seeds give unrelated starting points.
  static std::uint64_t mix(std::uint64_t x) noexcept
  {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

private:
  std::minstd_rand engine_;
};

// A seed for an operation that was given none: a per-thread counter over a
// per-thread random base, so no state is shared between threads and no two
// operations of a thread start alike.
inline std::uint64_t fresh_seed()
{
  thread_local std::uint64_t base = (std::uint64_t(std::random_device()()) << 32) ^ std::random_device()();
  thread_local std::uint64_t counter = 0;
  return base + ++counter;
}

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_RANDOM_HPP
