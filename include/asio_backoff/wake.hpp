//
// asio_backoff/wake.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_WAKE_HPP
#define ASIO_BACKOFF_WAKE_HPP

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <utility>

namespace asio_backoff {

class wake_signal;

/// Where an operation listens for wakes. Obtained from `wake_signal::slot`.
class wake_slot
{
public:
  /// A slot connected to no signal: wakes never come.
  wake_slot() noexcept = default;

  /// Whether the slot belongs to a signal.
  bool is_connected() const noexcept { return slot_.is_connected(); }

  /// Installs the handler called by `wake_signal::emit`, replacing any
  /// earlier one. `Handler` is called with no arguments.
  template <class Handler, class... Args>
  void emplace(Args&&... args)
  {
    slot_.template emplace<adapter<Handler>>(std::forward<Args>(args)...);
  }

  /// Removes the handler: later emissions do nothing.
  void clear() noexcept { slot_.clear(); }

private:
  friend class wake_signal;

  // The signal is a cancellation signal underneath: Asio already gets the
  // handler storage (one allocation per signal, reused) and its lifetime right.
  template <class Handler>
  struct adapter
  {
    template <class... Args>
    explicit adapter(Args&&... args) : handler(std::forward<Args>(args)...)
    {
    }
    void operator()(boost::asio::cancellation_type_t) { handler(); }
    Handler handler;
  };

  explicit wake_slot(boost::asio::cancellation_slot slot) noexcept : slot_(slot) {}

  boost::asio::cancellation_slot slot_;
};

/// Ends the current wait of a backoff operation, so that its next attempt
/// runs now.
/**
 * For the events that announce that an attempt may now succeed: a file
 * appeared, a process exited, a peer announced itself. Connect it to an
 * operation with `wake_on(signal, attempt)`; then `emit()`:
 * - while the operation waits: the wait ends at once and the next attempt
 *   runs (it still counts against `max_attempts`, and nothing runs past the
 *   deadline);
 * - while an attempt is in flight: the wake is remembered, and if the
 *   attempt fails the next one runs after `policy::after_wake_delay`
 *   instead of the scheduled wait;
 * - after a woken attempt fails, the operation retries on a fast lane:
 *   `after_wake_delay`, doubling, while shorter than the wait the wake cut
 *   short; then the schedule resumes where it was;
 * - once the operation has completed: nothing.
 *
 * Like `boost::asio::cancellation_signal`, a signal serves one operation at
 * a time, must outlive it, and `emit()` must be called on the operation's
 * executor (the completion handler's; use its strand from other threads).
 * Any number of event sources may call `emit()`.
 */
class wake_signal
{
public:
  wake_signal() = default;
  wake_signal(const wake_signal&) = delete;
  wake_signal& operator=(const wake_signal&) = delete;

  /// Wakes the connected operation, if any.
  void emit() { signal_.emit(boost::asio::cancellation_type::all); }

  /// The slot an operation connects to.
  wake_slot slot() noexcept { return wake_slot(signal_.slot()); }

private:
  boost::asio::cancellation_signal signal_;
};

} // namespace asio_backoff

#endif // ASIO_BACKOFF_WAKE_HPP
