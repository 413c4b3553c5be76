//
// asio_backoff/detail/random.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_RANDOM_HPP
#define ASIO_BACKOFF_DETAIL_RANDOM_HPP

#include <chrono>
#include <cstdint>
#include <random>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace asio_backoff {
namespace detail {

// A small random engine owned by one operation (8 bytes): never shared
// between operations, so never shared between threads.
class random_engine
{
public:
  // The engine keeps 31 bits of the seed: 2^31 streams, plenty for jitter.
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

inline std::uint64_t seed_base() noexcept
{
  try
  {
    std::random_device device;
    return (std::uint64_t(device()) << 32) ^ device();
  }
  catch (...)
  {
    // No entropy source (some chroots): the clock and an address still
    // differ between threads and runs.
    static thread_local int anchor;
    return std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           std::uint64_t(reinterpret_cast<std::uintptr_t>(&anchor));
  }
}

// A seed for an operation that was given none: a per-thread counter over a
// per-thread random base, so no state is shared between threads and no two
// operations of a thread start alike. The process id is mixed in, so that
// workers forked from one parent do not jitter in lockstep.
inline std::uint64_t fresh_seed() noexcept
{
  thread_local const std::uint64_t base = seed_base();
  thread_local std::uint64_t counter = 0;
  std::uint64_t process = 0;
#if defined(__unix__) || defined(__APPLE__)
  process = static_cast<std::uint64_t>(::getpid());
#endif
  return random_engine::mix(base ^ (process << 40)) + ++counter;
}

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_RANDOM_HPP
