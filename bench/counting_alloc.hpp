// Counters of the malloc-family calls made by the benchmark process, kept by
// the definitions in counting_alloc.cpp (which replace glibc's malloc, free,
// ... and the global operator new/delete in this executable only).
#ifndef ASIO_BACKOFF_BENCH_COUNTING_ALLOC_HPP
#define ASIO_BACKOFF_BENCH_COUNTING_ALLOC_HPP

#include <cstddef>
#include <cstdint>

namespace bench_alloc {

struct size_count
{
  std::size_t size;   // requested size
  std::uint64_t count;
};

// Every malloc, calloc, realloc, aligned_alloc, posix_memalign, memalign,
// valloc, pvalloc and operator new (each call counted once).
std::uint64_t allocations() noexcept;
std::uint64_t deallocations() noexcept;
std::uint64_t bytes_requested() noexcept;

// Between start_sizes() and stop_sizes(), the requested sizes are tallied
// (up to max_sizes distinct sizes; the rest is counted in overflow()).
constexpr std::size_t max_sizes = 48;
void start_sizes() noexcept;
void stop_sizes() noexcept;
std::size_t sizes(size_count* out, std::size_t capacity) noexcept;
std::uint64_t overflow() noexcept;

} // namespace bench_alloc

#endif
