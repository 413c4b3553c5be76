//
// asio_backoff/detail/op_ref.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_OP_REF_HPP
#define ASIO_BACKOFF_DETAIL_OP_REF_HPP

#include <boost/config.hpp>

#include <cassert>
#include <cstdint>
#include <utility>

namespace asio_backoff {
namespace detail {

// A counted, move-only reference to a heap-allocated operation, held by each
// of its pending intermediate handlers. When the last one is destroyed
// without running (the io_context is destroyed, an attempt throws), the
// operation is abandoned: its state and its handler are destroyed, never
// leaked. The count is not atomic: an operation's handlers never run
// concurrently (they share the handler's executor, a strand where needed).
//
// A moved-from reference still names its operation, without keeping it
// alive: Asio may ask a moved-from handler for its allocator (to free the
// wait it could not start when async_wait throws), and the allocator of the
// operation's own handlers points into the operation.
template <class Op>
class op_ref
{
public:
  // An operation has a handful of references at most (its pending
  // handlers, and one or two on the stack), so the count is one byte.
  explicit op_ref(Op* op) noexcept : bits_(reinterpret_cast<std::uintptr_t>(op) | owning)
  {
    static_assert(alignof(Op) > owning, "the low bit of the address is free");
    assert(op->refs_ < 255);
    ++op->refs_;
  }

  op_ref(op_ref&& other) noexcept : bits_(other.bits_) { other.bits_ &= ~owning; }
  op_ref& operator=(op_ref&&) = delete;

  // Inline and cheap on the common paths (a moved-from reference, or one of
  // several); abandoning is rare and kept out of line.
  BOOST_FORCEINLINE ~op_ref()
  {
    if ((bits_ & owning) && BOOST_UNLIKELY(--get()->refs_ == 0))
      get()->abandon();
  }

  Op* get() const noexcept { return reinterpret_cast<Op*>(bits_ & ~owning); }
  Op* operator->() const noexcept { return get(); }

  // Another reference to the same operation, for a second pending handler.
  op_ref share() const noexcept { return op_ref(get()); }

  // Gives up the reference without abandoning: the caller completes the
  // operation, and holds the last reference.
  Op* release() noexcept
  {
    assert(bits_ & owning);
    --get()->refs_;
    bits_ &= ~owning;
    return get();
  }

private:
  static constexpr std::uintptr_t owning = 1;
  std::uintptr_t bits_;
};

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_OP_REF_HPP
