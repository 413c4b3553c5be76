//
// asio_backoff/detail/op_ref.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_OP_REF_HPP
#define ASIO_BACKOFF_DETAIL_OP_REF_HPP

#include <boost/config.hpp>

#include <cassert>
#include <utility>

namespace asio_backoff {
namespace detail {

// A counted, move-only reference to a heap-allocated operation, held by each
// of its pending intermediate handlers. When the last one is destroyed
// without running (the io_context is destroyed, an attempt throws), the
// operation is abandoned: its state and its handler are destroyed, never
// leaked. The count is not atomic: an operation's handlers never run
// concurrently (they share the handler's executor, a strand where needed).
template <class Op>
class op_ref
{
public:
  // An operation has a handful of references at most (its pending
  // handlers, and one or two on the stack), so the count is one byte.
  explicit op_ref(Op* op) noexcept : op_(op)
  {
    assert(op_->refs_ < 255);
    ++op_->refs_;
  }

  op_ref(op_ref&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
  op_ref& operator=(op_ref&&) = delete;

  // Inline and cheap on the common paths (a moved-from reference, or one of
  // several); abandoning is rare and kept out of line.
  BOOST_FORCEINLINE ~op_ref()
  {
    if (op_ && BOOST_UNLIKELY(--op_->refs_ == 0))
      op_->abandon();
  }

  Op* get() const noexcept { return op_; }
  Op* operator->() const noexcept { return op_; }

  // Another reference to the same operation, for a second pending handler.
  op_ref share() const noexcept { return op_ref(op_); }

  // Gives up the reference without abandoning: the caller completes the
  // operation, and holds the last reference.
  Op* release() noexcept
  {
    --op_->refs_;
    return std::exchange(op_, nullptr);
  }

private:
  Op* op_;
};

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_OP_REF_HPP
