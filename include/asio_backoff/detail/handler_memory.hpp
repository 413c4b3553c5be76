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
// operation alive, still exists; when an initiation throws, Asio frees it
// after destroying the handler, and the operation holds a reference of its
// own around every initiation: the room outlives every use of it. A second
// allocation at the same time, or a larger one, goes to Asio's per-thread
// recycling cache, where it would have gone anyway.
//
// The owner keeps the "in use" flag with its own small members (no padding
// for one bool after the room), as a memory location of its own: Asio frees
// handler memory outside the handler's strand.
template <std::size_t Size>
struct handler_memory
{
  alignas(void*) unsigned char bytes[Size];
};

// For handlers whose operation needs no room: the user's allocator is used.
struct no_handler_memory
{
};

// Knows only the room and its flag: it is also used to free memory that is
// not the room (a second allocation, or a strand's own function posted with
// this allocator), possibly after the owner is gone.
template <class T, std::size_t Size>
class handler_memory_allocator
{
public:
  using value_type = T;

  handler_memory_allocator(handler_memory<Size>& memory, bool& in_use) noexcept
    : room_(memory.bytes), in_use_(&in_use)
  {
  }

  template <class U>
  handler_memory_allocator(const handler_memory_allocator<U, Size>& other) noexcept
    : room_(other.room_), in_use_(other.in_use_)
  {
  }

  template <class U>
  struct rebind
  {
    using other = handler_memory_allocator<U, Size>;
  };

  T* allocate(std::size_t n)
  {
    if (!*in_use_ && sizeof(T) * n <= Size && alignof(T) <= alignof(handler_memory<Size>))
    {
      *in_use_ = true;
      return static_cast<T*>(static_cast<void*>(room_));
    }
    return boost::asio::recycling_allocator<T>().allocate(n);
  }

  void deallocate(T* p, std::size_t n) noexcept
  {
    if (static_cast<void*>(p) == static_cast<void*>(room_))
      *in_use_ = false;
    else
      boost::asio::recycling_allocator<T>().deallocate(p, n);
  }

  friend bool operator==(const handler_memory_allocator& a, const handler_memory_allocator& b) noexcept
  {
    return a.room_ == b.room_;
  }

  friend bool operator!=(const handler_memory_allocator& a, const handler_memory_allocator& b) noexcept
  {
    return a.room_ != b.room_;
  }

private:
  template <class, std::size_t>
  friend class handler_memory_allocator;

  unsigned char* room_;
  bool* in_use_;
};

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_HANDLER_MEMORY_HPP
