//
// asio_backoff/detail/handler_memory.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_HANDLER_MEMORY_HPP
#define ASIO_BACKOFF_DETAIL_HANDLER_MEMORY_HPP

#include <boost/asio/recycling_allocator.hpp>

#include <cstddef>

namespace asio_backoff {
namespace detail {

// Room inside an operation for the Asio operation of one of its own
// intermediate handlers (a timer wait, a post), so that waiting costs no
// allocation of its own. Asio frees that memory before it calls the handler
// (or destroys it unrun), while a copy of the handler, which keeps our
// operation alive, still exists: the room outlives every use of it. A second
// allocation at the same time, or a larger one, goes to Asio's per-thread
// recycling cache, where it would have gone anyway.
//
// The owner keeps the "in use" flag with its own small members (no padding
// for one bool after the room) and provides
//   void* try_allocate_handler_memory(std::size_t size, std::size_t align) noexcept;
//   bool release_handler_memory(void* p) noexcept; // false: not the room
template <std::size_t Size>
struct handler_memory
{
  // The room, if it is free and fits; `in_use` is the owner's flag.
  void* try_take(bool& in_use, std::size_t n, std::size_t align) noexcept
  {
    if (in_use || n > Size || align > alignof(handler_memory))
      return nullptr;
    in_use = true;
    return bytes;
  }

  // Whether p is the room (now free again).
  bool give_back(bool& in_use, void* p) noexcept
  {
    if (p != static_cast<void*>(bytes))
      return false;
    in_use = false;
    return true;
  }

  alignas(void*) unsigned char bytes[Size];
};

// For handlers whose operation needs no room: the user's allocator is used.
struct no_handler_memory
{
};

template <class T, class Owner>
class handler_memory_allocator
{
public:
  using value_type = T;

  explicit handler_memory_allocator(Owner& owner) noexcept : owner_(&owner) {}

  template <class U>
  handler_memory_allocator(const handler_memory_allocator<U, Owner>& other) noexcept
    : owner_(other.owner_)
  {
  }

  template <class U>
  struct rebind
  {
    using other = handler_memory_allocator<U, Owner>;
  };

  T* allocate(std::size_t n)
  {
    if (void* p = owner_->try_allocate_handler_memory(sizeof(T) * n, alignof(T)))
      return static_cast<T*>(p);
    return boost::asio::recycling_allocator<T>().allocate(n);
  }

  void deallocate(T* p, std::size_t n) noexcept
  {
    if (!owner_->release_handler_memory(p))
      boost::asio::recycling_allocator<T>().deallocate(p, n);
  }

  friend bool operator==(const handler_memory_allocator& a, const handler_memory_allocator& b) noexcept
  {
    return a.owner_ == b.owner_;
  }

  friend bool operator!=(const handler_memory_allocator& a, const handler_memory_allocator& b) noexcept
  {
    return a.owner_ != b.owner_;
  }

private:
  template <class, class>
  friend class handler_memory_allocator;

  Owner* owner_;
};

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_HANDLER_MEMORY_HPP
