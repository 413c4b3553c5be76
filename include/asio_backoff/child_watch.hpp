//
// asio_backoff/child_watch.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_CHILD_WATCH_HPP
#define ASIO_BACKOFF_CHILD_WATCH_HPP

// Watching a child process while waiting for it: `basic_child_watch` knows
// whether a process has exited and how, and `stop_if_exited` ends a backoff
// operation with `error::child_exited` once its child is gone. See
// `basic_child_watch` for the five lines that make the exit wake the operation.

#include <asio_backoff/attempt.hpp>
#include <asio_backoff/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#if !defined(BOOST_ASIO_HAS_POSIX_STREAM_DESCRIPTOR)
#error "asio_backoff/child_watch.hpp needs a POSIX system"
#endif

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

namespace asio_backoff {

/// How a process ended.
struct exit_status
{
  enum class kind
  {
    exited,  ///< It called `exit` or returned from `main`: `value` is its exit code.
    killed,  ///< A signal ended it: `value` is the signal number.
    unknown  ///< It is gone but its status cannot be had (it is not our child,
             ///< or it was reaped already), or it has not exited.
  };

  kind how = kind::unknown;
  int value = 0;

  /// "exited with status 3", "killed by signal 9 (Killed)", or "exited"
  /// when the status is unknown.
  std::string to_string() const;
};

namespace detail {

// The description of a signal, or null. sigdescr_np is thread-safe and not
// translated; strsignal need be neither.
inline const char* signal_description(int signal_number) noexcept
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  return ::sigdescr_np(signal_number);
#else
  return ::strsignal(signal_number);
#endif
}

// What a watch knows about its process. A pending wait shares it, so that a
// wait whose completion is already queued when the watch is destroyed (or
// moved) still has somewhere to record the status.
struct child_state
{
  explicit child_state(int p) noexcept : pid(p) {}

  int pid;
  bool exited = false;
  exit_status status;
};

enum class peek_result
{
  running,
  exited,
  not_child
};

// Looks at a child's exit without reaping it (WNOWAIT): its owner, such as
// Boost.Process, still reaps it and gets the status.
// Through the pidfd when there is one (Linux >= 5.4): a pid may have been
// reaped by its owner and reused by another process, a pidfd cannot.
inline peek_result peek_child(int pid, int pidfd, exit_status& status) noexcept
{
  siginfo_t info;
  for (;;)
  {
    // With WNOHANG and no exited child, POSIX leaves si_pid unspecified
    // unless it was zero beforehand.
    std::memset(&info, 0, sizeof info);
    const int options = WEXITED | WNOHANG | WNOWAIT;
#if defined(__linux__)
    constexpr idtype_t by_pidfd = static_cast<idtype_t>(3); // P_PIDFD
    if (pidfd >= 0 && ::waitid(by_pidfd, static_cast<id_t>(pidfd), &info, options) == 0)
      break;
    if (pidfd >= 0 && errno != EINVAL) // EINVAL: a kernel before 5.4
    {
      if (errno == EINTR)
        continue;
      return peek_result::not_child;
    }
#else
    (void)pidfd;
#endif
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, options) == 0)
      break;
    if (errno != EINTR)
      return peek_result::not_child; // ECHILD: not ours, or reaped already
  }
  if (info.si_pid == 0)
    return peek_result::running;
  switch (info.si_code)
  {
  case CLD_EXITED:
    status = exit_status{exit_status::kind::exited, info.si_status};
    break;
  case CLD_KILLED:
  case CLD_DUMPED:
    status = exit_status{exit_status::kind::killed, info.si_status};
    break;
  default:
    status = exit_status{};
    break;
  }
  return peek_result::exited;
}

// A pidfd is readable once its process has exited, whoever its parent is.
inline bool pidfd_readable(int pidfd) noexcept
{
  ::pollfd p{};
  p.fd = pidfd;
  p.events = POLLIN;
  int n;
  do
    n = ::poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

// Records that the process has exited, with its status if it can be had.
inline void record_exit(child_state& state, int pidfd = -1) noexcept
{
  if (state.exited)
    return;
  exit_status status;
  if (peek_child(state.pid, pidfd, status) == peek_result::exited)
    state.status = status;
  state.exited = true;
}

// Updates `state` if the process has exited. `pidfd` is -1 when there is none.
inline void check_exit(child_state& state, int pidfd) noexcept
{
  if (state.exited)
    return;
  if (pidfd >= 0)
  {
    // The pidfd answers for other people's children too, and unlike the pid
    // it cannot name a newer process that reused the number.
    if (pidfd_readable(pidfd))
      record_exit(state, pidfd);
    return;
  }
  exit_status status;
  switch (peek_child(state.pid, -1, status))
  {
  case peek_result::running:
    return;
  case peek_result::exited:
    state.status = status;
    state.exited = true;
    return;
  case peek_result::not_child:
    // ESRCH only once the process has been reaped: someone else's zombie
    // still looks alive.
    if (::kill(static_cast<pid_t>(state.pid), 0) != 0 && errno == ESRCH)
      state.exited = true;
    return;
  }
}

// A pidfd for `pid`, or -1: not Linux, a kernel before 5.3, no descriptor
// left, or no such process (then `gone` is set).
inline int open_pidfd(int pid, bool& gone) noexcept
{
  gone = false;
#if defined(__linux__) && defined(SYS_pidfd_open)
  // pidfd_open sets close-on-exec itself.
  long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0u);
  if (fd >= 0)
    return static_cast<int>(fd);
  gone = errno == ESRCH;
#else
  (void)pid;
#endif
  return -1;
}

template <class Process, class Executor, class = void>
struct is_process_like : std::false_type {};

template <class Process, class Executor>
struct is_process_like<Process, Executor,
    std::void_t<decltype(std::declval<Process&>().get_executor()),
                decltype(std::declval<Process&>().id())>>
  : std::integral_constant<bool,
        std::is_convertible<decltype(std::declval<Process&>().get_executor()), Executor>::value &&
        std::is_convertible<decltype(std::declval<Process&>().id()), int>::value>
{
};

template <class Executor>
struct child_wait_op;

} // namespace detail

inline std::string exit_status::to_string() const
{
  switch (how)
  {
  case kind::exited:
    return "exited with status " + std::to_string(value);
  case kind::killed:
  {
    std::string text = "killed by signal " + std::to_string(value);
    if (const char* description = detail::signal_description(value))
    {
      text += " (";
      text += description;
      text += ')';
    }
    return text;
  }
  case kind::unknown:
    break;
  }
  return "exited";
}

/// Watches a process, usually a child, for its exit.
/**
 * On Linux 5.3 and later the watch holds a pidfd, and `async_wait` reports
 * the exit as an event. Elsewhere, or without a pidfd, `exited()` still
 * answers when asked, which is all `stop_if_exited` needs.
 *
 * The watch never reaps the process: the status stays with its owner (the
 * code that forked it, Boost.Process, ...), which must still wait for it.
 * The status is known while the process is a zombie, that is from its exit
 * until its owner reaps it; a process that is not our child, or that was
 * reaped first, is reported as exited with `exit_status::kind::unknown`.
 *
 * Make the watch right after starting the process, before the owner can
 * reap it: a pid names a process only until then. A pid of 0 or less names
 * no process: the watch reports it as exited at once.
 *
 * @par Waiting for a child's socket
 * A parent that waits for its freshly started child to create a socket must
 * not keep retrying once the child has died. `stop_if_exited` checks before
 * each attempt, so alone it notices the exit when the current wait ends; to
 * notice it at once, let the exit wake the operation:
 * @code
 * asio_backoff::child_watch child(ctx, pid); // right after starting the child
 * asio_backoff::wake_signal wake;            // outlives the wait's handler
 * child.async_wait([&](boost::system::error_code ec) { if (!ec) wake.emit(); });
 * asio_backoff::async_backoff(ctx, p, asio_backoff::stop_if_exited(child, asio_backoff::wake_on(wake, attempt)),
 *     [&](boost::system::error_code ec) { child.cancel(); ... }); // child_exited: child.status().to_string()
 * @endcode
 * Cancelling the wait in the completion handler lets `run()` return when the
 * operation ends some other way. The wait's handler and the operation's must
 * run on the same executor (a strand on a multi-threaded context).
 *
 * @par Thread safety
 * Distinct objects: safe. Shared objects: unsafe (as Asio's I/O objects).
 */
template <class Executor = boost::asio::any_io_executor>
class basic_child_watch
{
public:
  using executor_type = Executor;

  /// Watches process `pid`; waits run on `ex`.
  basic_child_watch(const executor_type& ex, int pid)
    : descriptor_(ex), state_(std::make_shared<detail::child_state>(pid))
  {
    open();
  }

  /// Watches process `pid`; waits run on `ctx`'s executor.
  template <class ExecutionContext,
            std::enable_if_t<std::is_convertible<ExecutionContext&,
                                                 boost::asio::execution_context&>::value,
                             int> = 0>
  basic_child_watch(ExecutionContext& ctx, int pid)
    : descriptor_(ctx), state_(std::make_shared<detail::child_state>(pid))
  {
    open();
  }

  /// Watches a process object: anything with `get_executor()` and `id()`,
  /// such as `boost::process::v2::process`. The watch does not keep a
  /// reference to it.
  template <class Process,
            std::enable_if_t<!std::is_same<std::decay_t<Process>, basic_child_watch>::value &&
                                 detail::is_process_like<Process, Executor>::value,
                             int> = 0>
  explicit basic_child_watch(Process& process)
    : basic_child_watch(executor_type(process.get_executor()), static_cast<int>(process.id()))
  {
  }

  /// Moves the watch. A pending wait stays valid and completes as before;
  /// a moved-from watch may only be destroyed or assigned to. Do not move a
  /// watch that an operation started by `stop_if_exited` refers to.
  basic_child_watch(basic_child_watch&&) = default;
  basic_child_watch& operator=(basic_child_watch&&) = default;

  basic_child_watch(const basic_child_watch&) = delete;
  basic_child_watch& operator=(const basic_child_watch&) = delete;

  /// Closes the pidfd: a pending wait completes with `operation_aborted`.
  ~basic_child_watch() = default;

  executor_type get_executor() const noexcept
  {
    // basic_descriptor::get_executor() is not const in Asio 1.81, though it
    // only reads.
    return const_cast<descriptor_type&>(descriptor_).get_executor();
  }

  /// The process watched.
  int pid() const noexcept { return state_->pid; }

  /// Whether `async_wait` reports the exit as it happens (a pidfd is open).
  /// When false, `async_wait` completes at once with `operation_not_supported`
  /// unless the exit is known already.
  bool event_driven() const noexcept { return descriptor_.is_open(); }

  /// Whether the process has exited, checked now, without reaping it.
  /**
   * With a pidfd, the pidfd says whether the process has exited and
   * `waitid(WNOWAIT)` gets the status. Without one, `waitid(P_PID, pid,
   * WEXITED | WNOHANG | WNOWAIT)` answers for our children; for other
   * processes, `kill(pid, 0)` failing with `ESRCH` means exited (so a zombie
   * that is not ours still looks alive). Once true, stays true: the answer
   * and the status are cached.
   */
  bool exited() noexcept
  {
    detail::check_exit(*state_, descriptor_.is_open() ? descriptor_.native_handle() : -1);
    return state_->exited;
  }

  /// How the process ended, once `exited()` returned true or a wait
  /// completed without error; `kind::unknown` before.
  const exit_status& status() const noexcept { return state_->status; }

  /// Waits for the process to exit.
  /**
   * Completion signature `void(boost::system::error_code ec)`. `ec` is
   * - no error: the process has exited; `status()` already holds its status;
   * - `boost::asio::error::operation_aborted`: `cancel()` was called, the
   *   watch was destroyed, or the wait was cancelled through its slot;
   * - `boost::asio::error::operation_not_supported`: the watch has no pidfd
   *   (`event_driven()` is false) and the process had not exited at
   *   initiation. Poll `exited()` instead, for instance with `stop_if_exited`.
   *
   * The handler is never invoked from within this function. Any number of
   * waits may be pending at once. A pending wait is outstanding work on the
   * watch's executor: its `io_context::run()` does not return before the
   * wait completes.
   *
   * @par Per-operation cancellation
   * Terminal, partial and total cancellation all end a pending wait with
   * `operation_aborted`; waiting has no effect to undo, so the watch stays
   * usable. A wait whose process had already exited may still complete with
   * no error.
   */
  template <class WaitToken BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(executor_type)>
  auto async_wait(WaitToken&& token BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(executor_type))
  {
    return boost::asio::async_compose<WaitToken, void(boost::system::error_code)>(
        detail::child_wait_op<Executor>{&descriptor_, state_}, token, descriptor_);
  }

  /// Ends the pending waits with `operation_aborted`. Without a pidfd there
  /// is nothing to end: those waits have completed already.
  void cancel() noexcept
  {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
  }

private:
  void open()
  {
    if (state_->pid <= 0)
    {
      // waitid and kill would read 0 and -1 as "any child", "everyone".
      state_->exited = true;
      return;
    }
    bool gone = false;
    int fd = detail::open_pidfd(state_->pid, gone);
    if (gone)
      state_->exited = true;
    if (fd < 0)
      return;
    boost::system::error_code ec;
    descriptor_.assign(fd, ec);
    if (ec)
      ::close(fd); // the reactor refused it: fall back to checks only
  }

  using descriptor_type = boost::asio::posix::basic_stream_descriptor<Executor>;

  descriptor_type descriptor_;
  std::shared_ptr<detail::child_state> state_;
};

/// A watch on the default executor type.
using child_watch = basic_child_watch<>;

namespace detail {

template <class Executor>
struct child_wait_op
{
  boost::asio::posix::basic_stream_descriptor<Executor>* descriptor; // for initiation only
  std::shared_ptr<child_state> state;
  enum { starting, waiting } step = starting;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {})
  {
    switch (step)
    {
    case starting:
      step = waiting;
      if (descriptor->is_open())
      {
        self.reset_cancellation_state(boost::asio::enable_total_cancellation());
        descriptor->async_wait(boost::asio::posix::descriptor_base::wait_read, std::move(self));
        return;
      }
      {
        // No event to wait for: answer now, but never from inside the
        // initiating function.
        check_exit(*state, -1);
        if (!state->exited)
          ec = boost::asio::error::operation_not_supported;
        auto ex = self.get_io_executor();
        boost::asio::post(ex, boost::asio::append(std::move(self), ec));
      }
      return;
    case waiting:
      // Readable means exited, whatever waitid can still tell.
      if (!ec)
        record_exit(*state);
      self.complete(ec);
      return;
    }
  }
};

} // namespace detail

/// An attempt that ends the operation with `error::child_exited` once a
/// process has exited. Made by `stop_if_exited`.
template <class Executor, class Attempt>
class exit_checked_attempt : public detail::wrapped_attempt<Attempt>
{
public:
  exit_checked_attempt(basic_child_watch<Executor>& child, Attempt attempt)
    : detail::wrapped_attempt<Attempt>(std::move(attempt)), child_(&child)
  {
  }

  /// The wrapped attempt's own check first, then the child's exit.
  boost::system::error_code before_attempt()
  {
    if constexpr (detail::has_before_attempt<Attempt>::value)
    {
      boost::system::error_code ec = this->attempt_.before_attempt();
      if (ec)
        return ec;
    }
    if (child_->exited())
      return error::child_exited;
    return {};
  }

private:
  basic_child_watch<Executor>* child_;
};

/// Wraps an attempt so that the operation ends with `error::child_exited`,
/// instead of running the next attempt, once `child` has exited.
/**
 * `child.exited()` is checked before each attempt, so the exit is noticed
 * when the current wait ends; see `basic_child_watch` to be woken at once.
 * The watch must outlive the operation and must not be moved while it runs.
 * After `child_exited`, `child.status()` says how the child ended.
 *
 * @code
 * auto attempt = asio_backoff::stop_if_exited(child,
 *     [&] { return socket.async_connect(endpoint, boost::asio::deferred); });
 * @endcode
 */
template <class Executor, class Attempt>
exit_checked_attempt<Executor, Attempt> stop_if_exited(basic_child_watch<Executor>& child,
                                                       Attempt attempt)
{
  return {child, std::move(attempt)};
}

} // namespace asio_backoff

#endif // ASIO_BACKOFF_CHILD_WATCH_HPP
