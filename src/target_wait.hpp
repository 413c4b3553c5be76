// Waiting for one target: one asio_backoff operation, with the attempt its
// kind needs.

#ifndef BACKOFF_WAIT_TARGET_WAIT_HPP
#define BACKOFF_WAIT_TARGET_WAIT_HPP

#include "status.hpp"
#include "target.hpp"

#include <asio_backoff/policy.hpp>

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <memory>

namespace backoff_wait {

/// Hears what happens to the waits, on the io_context's thread.
class wait_observer
{
public:
  /// An attempt failed and another will follow; `new_error`: its error is
  /// not the previous attempt's.
  virtual void retrying(std::size_t index, bool new_error) = 0;

  /// The wait is over; the status's state says how.
  virtual void finished(std::size_t index) = 0;

protected:
  ~wait_observer() = default;
};

/// One target's wait.
/**
 * - unix: `asio_backoff::async_connect`, woken by inotify when the socket
 *   file appears; errors other than "not there yet" (permission denied, ...)
 *   end it. The socket is open only during an attempt.
 * - tcp, http: `async_backoff` with `async_probe` as the asynchronous
 *   attempt, bounded by `policy.attempt_timeout`.
 * - file: `async_backoff` with stat() as the attempt, woken when an entry of
 *   that name appears in the parent directory. Only ENOENT means "not yet":
 *   EACCES, ENOTDIR, ELOOP, ... would not change by waiting.
 *
 * It reports to `status` and `observer`, which must outlive it, as must the
 * target; it must outlive its operation (the io_context's run()).
 */
class target_wait
{
public:
  target_wait(boost::asio::io_context& ctx, const target& t, std::size_t index,
              target_status& status, wait_observer& observer);
  ~target_wait();
  target_wait(const target_wait&) = delete;
  target_wait& operator=(const target_wait&) = delete;

  /// Starts the operation; the first attempt runs soon (never inside this call).
  void start(const asio_backoff::policy& p);

  /// Cancels it: it ends soon as `cancelled` (unless an attempt in flight
  /// succeeds anyway). Nothing once it is over.
  void cancel();

  struct state;

private:
  std::unique_ptr<state> state_;
};

} // namespace backoff_wait

#endif // BACKOFF_WAIT_TARGET_WAIT_HPP
