// Replaces the malloc family and the global operator new/delete of this
// executable with counting versions that forward to glibc's own entry
// points (__libc_malloc, __libc_memalign, ...). Shared libraries (libstdc++,
// libc itself through the PLT) resolve to these definitions too, so every
// heap allocation of the process is seen. Not thread-safe beyond relaxed
// atomics: the benchmark measures one thread.
#include "counting_alloc.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::uint64_t> g_frees{0};
std::atomic<std::uint64_t> g_bytes{0};
std::atomic<bool> g_tally{false};
bench_alloc::size_count g_sizes[bench_alloc::max_sizes];
std::size_t g_nsizes = 0;
std::uint64_t g_overflow = 0;

inline void count(std::size_t size) noexcept
{
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(size, std::memory_order_relaxed);
  if (g_tally.load(std::memory_order_relaxed))
  {
    for (std::size_t i = 0; i < g_nsizes; ++i)
      if (g_sizes[i].size == size)
      {
        ++g_sizes[i].count;
        return;
      }
    if (g_nsizes < bench_alloc::max_sizes)
      g_sizes[g_nsizes++] = {size, 1};
    else
      ++g_overflow;
  }
}

inline void count_free(void* p) noexcept
{
  if (p)
    g_frees.fetch_add(1, std::memory_order_relaxed);
}

void* new_impl(std::size_t size)
{
  count(size);
  void* p = __libc_malloc(size ? size : 1);
  if (!p)
    throw std::bad_alloc();
  return p;
}

void* new_aligned_impl(std::size_t size, std::size_t align)
{
  count(size);
  void* p = __libc_memalign(align, size ? size : 1);
  if (!p)
    throw std::bad_alloc();
  return p;
}

} // namespace

namespace bench_alloc {

std::uint64_t allocations() noexcept { return g_allocs.load(std::memory_order_relaxed); }
std::uint64_t deallocations() noexcept { return g_frees.load(std::memory_order_relaxed); }
std::uint64_t bytes_requested() noexcept { return g_bytes.load(std::memory_order_relaxed); }

void start_sizes() noexcept
{
  g_nsizes = 0;
  g_overflow = 0;
  g_tally.store(true, std::memory_order_relaxed);
}

void stop_sizes() noexcept { g_tally.store(false, std::memory_order_relaxed); }

std::size_t sizes(size_count* out, std::size_t capacity) noexcept
{
  std::size_t n = g_nsizes < capacity ? g_nsizes : capacity;
  for (std::size_t i = 0; i < n; ++i)
    out[i] = g_sizes[i];
  return n;
}

std::uint64_t overflow() noexcept { return g_overflow; }

} // namespace bench_alloc

extern "C" {

void* malloc(std::size_t size)
{
  count(size);
  return __libc_malloc(size);
}

void* calloc(std::size_t n, std::size_t size)
{
  count(n * size);
  return __libc_calloc(n, size);
}

void* realloc(void* p, std::size_t size)
{
  count(size);
  return __libc_realloc(p, size);
}

void free(void* p)
{
  count_free(p);
  __libc_free(p);
}

void* memalign(std::size_t align, std::size_t size)
{
  count(size);
  return __libc_memalign(align, size);
}

void* aligned_alloc(std::size_t align, std::size_t size)
{
  count(size);
  return __libc_memalign(align, size);
}

int posix_memalign(void** out, std::size_t align, std::size_t size)
{
  if (align < sizeof(void*) || (align & (align - 1)) != 0)
    return EINVAL;
  count(size);
  void* p = __libc_memalign(align, size);
  if (!p)
    return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(std::size_t size)
{
  count(size);
  return __libc_valloc(size);
}

void* pvalloc(std::size_t size)
{
  count(size);
  return __libc_pvalloc(size);
}

} // extern "C"

void* operator new(std::size_t size) { return new_impl(size); }
void* operator new[](std::size_t size) { return new_impl(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
  count(size);
  return __libc_malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept
{
  count(size);
  return __libc_malloc(size ? size : 1);
}
void* operator new(std::size_t size, std::align_val_t a)
{
  return new_aligned_impl(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a)
{
  return new_aligned_impl(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { count_free(p); __libc_free(p); }
void operator delete[](void* p) noexcept { count_free(p); __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { count_free(p); __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { count_free(p); __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { count_free(p); __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { count_free(p); __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { count_free(p); __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { count_free(p); __libc_free(p); }
