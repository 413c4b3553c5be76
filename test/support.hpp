// Small helpers shared by the tests.

#ifndef ASIO_BACKOFF_TEST_SUPPORT_HPP
#define ASIO_BACKOFF_TEST_SUPPORT_HPP

#include <asio_backoff/testing/manual_clock.hpp>

#include <boost/system/error_code.hpp>

#include <asio_backoff/error.hpp>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <cerrno>
#include <stdlib.h>
#include <map>
#include <ostream>
#include <initializer_list>
#include <vector>
#include <cstddef>
#include <memory>
#include <new>

// How Boost.Test prints values of ours in failure messages.
namespace asio_backoff {
inline std::ostream& boost_test_print_type(std::ostream& os, error e)
{
  return os << make_error_code(e).message();
}
namespace testing {
inline std::ostream& boost_test_print_type(std::ostream& os, manual_clock::time_point t)
{
  return os << std::chrono::duration<double, std::milli>(t.time_since_epoch()).count() << " ms";
}
} // namespace testing
} // namespace asio_backoff

namespace test_support {

// A private directory under /tmp, removed with its contents.
struct temp_dir
{
  std::string path;

  temp_dir()
  {
    char pattern[] = "/tmp/asio-backoff-test-XXXXXX";
    if (::mkdtemp(pattern) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path = pattern;
  }
  ~temp_dir()
  {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

using asio_backoff::testing::manual_clock;

// Every test on virtual time starts at time zero.
struct virtual_time
{
  virtual_time() { manual_clock::reset(); }
};

inline manual_clock::time_point at(manual_clock::duration d)
{
  return manual_clock::time_point(d);
}

inline boost::system::error_code refused()
{
  return make_error_code(boost::system::errc::connection_refused);
}

using time_points = std::vector<manual_clock::time_point>;

// A synchronous attempt that fails `failures` times, noting when it ran.
struct noted_attempt
{
  time_points* times;
  int failures = 1 << 30;

  boost::system::error_code operator()()
  {
    times->push_back(manual_clock::now());
    return static_cast<int>(times->size()) <= failures ? refused() : boost::system::error_code();
  }
};

// Virtual times, in Unit after zero.
template <class Unit>
time_points points(std::initializer_list<long> values)
{
  time_points out;
  for (long v : values)
    out.push_back(at(Unit(v)));
  return out;
}

// Counts what goes through an allocator.
struct allocation_counts
{
  std::atomic<long> allocations{0};
  std::atomic<long> deallocations{0};

  void* allocate(std::size_t bytes)
  {
    ++allocations;
    return ::operator new(bytes);
  }

  void deallocate(void* block, std::size_t) noexcept
  {
    ++deallocations;
    ::operator delete(block);
  }
};

// A pool that recycles freed blocks by size and counts the blocks it had to
// get from the heap: what a handler's allocator typically does.
struct recycling_pool
{
  long allocations = 0;
  long fresh_blocks = 0;
  std::map<std::size_t, std::vector<void*>> free_blocks;

  recycling_pool() = default;
  recycling_pool(const recycling_pool&) = delete;
  ~recycling_pool()
  {
    for (auto& [size, blocks] : free_blocks)
      for (void* block : blocks)
        ::operator delete(block);
  }

  void* allocate(std::size_t bytes)
  {
    ++allocations;
    auto& blocks = free_blocks[bytes];
    if (!blocks.empty())
    {
      void* block = blocks.back();
      blocks.pop_back();
      return block;
    }
    ++fresh_blocks;
    return ::operator new(bytes);
  }

  void deallocate(void* block, std::size_t bytes) { free_blocks[bytes].push_back(block); }
};

// An allocator over one of the resources above.
template <class T, class Resource>
struct resource_allocator
{
  using value_type = T;

  Resource* resource;

  explicit resource_allocator(Resource& r) noexcept : resource(&r) {}
  template <class U>
  resource_allocator(const resource_allocator<U, Resource>& other) noexcept
    : resource(other.resource)
  {
  }

  T* allocate(std::size_t n) { return static_cast<T*>(resource->allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { resource->deallocate(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const resource_allocator<U, Resource>& other) const noexcept
  {
    return resource == other.resource;
  }
  template <class U>
  bool operator!=(const resource_allocator<U, Resource>& other) const noexcept
  {
    return resource != other.resource;
  }
};

template <class T>
using counting_allocator = resource_allocator<T, allocation_counts>;

template <class T>
using pool_allocator = resource_allocator<T, recycling_pool>;

// A completion handler that records whether it ran and whether it was
// destroyed, to tell "invoked once", "destroyed unrun" and "leaked" apart.
struct handler_probe
{
  int invoked = 0;
  int destroyed_unrun = 0;
  boost::system::error_code ec;
};

struct probing_handler
{
  handler_probe* probe;
  bool ran = false;

  explicit probing_handler(handler_probe& p) : probe(&p) {}
  probing_handler(probing_handler&& other) noexcept
    : probe(std::exchange(other.probe, nullptr)), ran(other.ran)
  {
  }
  probing_handler& operator=(probing_handler&&) = delete;
  ~probing_handler()
  {
    if (probe && !ran)
      ++probe->destroyed_unrun;
  }

  void operator()(boost::system::error_code ec)
  {
    ran = true;
    ++probe->invoked;
    probe->ec = ec;
  }
};

} // namespace test_support

#endif // ASIO_BACKOFF_TEST_SUPPORT_HPP
