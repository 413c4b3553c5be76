//
// asio_backoff/connect.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_CONNECT_HPP
#define ASIO_BACKOFF_CONNECT_HPP

#include <asio_backoff/async_backoff.hpp>
#include <asio_backoff/child_watch.hpp>
#include <asio_backoff/detail/path_watch.hpp>
#include <asio_backoff/error.hpp>
#include <asio_backoff/outcome.hpp>
#include <asio_backoff/policy.hpp>
#include <asio_backoff/wake.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/system/errc.hpp>

#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#if defined(BOOST_ASIO_HAS_LOCAL_SOCKETS)
#include <sys/socket.h>
#endif

namespace asio_backoff {

/// Whether a failed connect means "not there yet", so that retrying may
/// succeed, rather than an error that will not cure itself.
/**
 * Transient: the socket file does not exist yet (ENOENT), nobody listens
 * (ECONNREFUSED), the listener's backlog is full (EAGAIN), the connect
 * timed out (ETIMEDOUT, also an attempt cut by `attempt_timeout`), the host
 * or network is unreachable (EHOSTUNREACH, ENETUNREACH). Everything else is
 * permanent: EACCES, ENOTSOCK, ENAMETOOLONG, EADDRNOTAVAIL, EAFNOSUPPORT,
 * ENOTDIR, ...
 *
 * Reusable with any attempt: `permanent_if(std::not_fn(is_transient_connect_error), attempt)`.
 */
inline bool is_transient_connect_error(const boost::system::error_code& ec) noexcept
{
  namespace errc = boost::system::errc;
  return ec == errc::no_such_file_or_directory || ec == errc::connection_refused ||
         ec == errc::resource_unavailable_try_again || ec == errc::operation_would_block ||
         ec == errc::timed_out || ec == errc::host_unreachable ||
         ec == errc::network_unreachable;
}

/// Options of `async_connect`.
struct connect_options
{
  /// For a unix socket (Linux): watch the socket's directory with inotify
  /// and try at once when the socket file appears.
  bool early_wake = true;

  /// A child process expected to create the endpoint: if it exits first,
  /// the operation completes at once with `error::child_exited` (its status
  /// is in `child->status()`). It must outlive the operation, and serve no
  /// other operation meanwhile.
  child_watch* child = nullptr;

  /// Filled in just before the handler runs (see `outcome`).
  outcome* report = nullptr;

  /// Called before each wait, on the handler's executor: for logs.
  std::function<void(const retry_info&)> on_retry;
};

namespace detail {

template <class Socket>
struct is_local_socket : std::false_type
{
};

#if defined(BOOST_ASIO_HAS_LOCAL_SOCKETS)
template <class Executor>
struct is_local_socket<
    boost::asio::basic_stream_socket<boost::asio::local::stream_protocol, Executor>>
  : std::true_type
{
};
#endif

// What an async_connect keeps while it runs, shared by its attempt, its
// completion and a pending wait for the child's exit.
template <class Socket>
struct connect_state
{
  using endpoint_type = typename Socket::endpoint_type;

  connect_state(Socket& s, const endpoint_type& ep, const connect_options& options,
                boost::asio::any_io_executor ex)
    : socket(s), endpoint(ep), child(options.child), on_retry(options.on_retry),
      executor(std::move(ex))
  {
  }

  // Watches the socket's directory, unless already watching; a directory
  // that is missing now is tried again before the next attempt.
  void watch_directory()
  {
    if (!name.empty() && !watch.active())
      watch.watch(executor, directory, name, wake);
  }

  // The child has exited: attempt now (the check before it ends the
  // operation), and stop a connect in flight, which could take minutes.
  void child_exited()
  {
    if (finished)
      return;
    child_gone = true;
    wake.emit();
    if constexpr (!is_local_socket<Socket>::value)
    {
      boost::system::error_code ignored;
      socket.cancel(ignored);
    }
  }

  // The operation is over: no more wakes, no pending wait on the child (only
  // ours: others may wait on the same child_watch).
  void finish()
  {
    finished = true;
    watch.reset();
    if (child_waiting)
      child_wait_cancel.emit(boost::asio::cancellation_type::terminal);
  }

  Socket& socket;
  endpoint_type endpoint;
  child_watch* child;
  std::function<void(const retry_info&)> on_retry;
  boost::asio::any_io_executor executor; // the handler's: where wakes are emitted
  wake_signal wake;
  path_watch watch;
  std::string directory; // the socket file's directory and name; empty name:
  std::string name;      // nothing to watch
  boost::asio::cancellation_signal child_wait_cancel;
  unsigned permission_denials = 0;
  bool attempted = false;
  bool child_waiting = false;
  bool child_gone = false;
  bool finished = false;
};

// The hooks common to both kinds of connect attempt.
template <class Socket>
class connect_attempt_base
{
public:
  explicit connect_attempt_base(std::shared_ptr<connect_state<Socket>> state)
    : state_(std::move(state))
  {
  }

  bool is_permanent(const boost::system::error_code& ec) noexcept
  {
    connect_state<Socket>& s = *state_;
    if (s.child_gone) // the attempt was stopped: the check before the next one reports it
      return false;
    // A server may bind and then chmod its socket: after a wake the connect
    // can come in between. Permission denied three times in a row is final.
    if (ec == boost::system::errc::permission_denied && ++s.permission_denials < 3)
      return false;
    return !is_transient_connect_error(ec);
  }

  wake_slot get_wake_slot() noexcept { return state_->wake.slot(); }

  void on_retry(const retry_info& info)
  {
    if (state_->on_retry)
      state_->on_retry(info);
  }

  boost::system::error_code before_attempt()
  {
    if (state_->child && state_->child->exited())
      return error::child_exited;
    state_->watch_directory(); // before the attempt, or an entry made in between is missed
    return {};
  }

protected:
  std::shared_ptr<connect_state<Socket>> state_;
};

// A unix socket connects or fails at once: a synchronous attempt.
template <class Socket>
class local_connect_attempt : public connect_attempt_base<Socket>
{
public:
  using connect_attempt_base<Socket>::connect_attempt_base;

  boost::system::error_code operator()()
  {
    connect_state<Socket>& s = *this->state_;
    boost::system::error_code ec;
    if (!s.socket.is_open())
      s.socket.open(s.endpoint.protocol(), ec);
    if (!ec)
      s.socket.native_non_blocking(true, ec);
    if (ec)
      return ec;
#if defined(BOOST_ASIO_HAS_LOCAL_SOCKETS)
    // Not Asio's connect: on a full backlog a non-blocking connect fails
    // with EAGAIN, which Asio 1.81 takes for "in progress" and then reports
    // as success although the socket is not connected.
    if (::connect(s.socket.native_handle(), s.endpoint.data(),
                  static_cast<socklen_t>(s.endpoint.size())) == 0)
      return {};
    return {errno, boost::asio::error::get_system_category()};
#else
    return boost::asio::error::operation_not_supported;
#endif
  }
};

// Other stream sockets (TCP) connect asynchronously. A failed connect
// leaves a socket in an unspecified state: close it before trying again
// (Asio's async_connect opens it).
template <class Socket>
class stream_connect_attempt : public connect_attempt_base<Socket>
{
public:
  using connect_attempt_base<Socket>::connect_attempt_base;

  auto operator()()
  {
    connect_state<Socket>& s = *this->state_;
    if (std::exchange(s.attempted, true))
    {
      boost::system::error_code ignored;
      s.socket.close(ignored);
    }
    return s.socket.async_connect(s.endpoint, boost::asio::deferred);
  }
};

// The user's handler, run after the connect's own clean-up.
template <class Handler, class Socket>
class connect_completion
{
public:
  connect_completion(Handler handler, std::shared_ptr<connect_state<Socket>> state)
    : handler_(std::move(handler)), state_(std::move(state))
  {
  }

  void operator()(boost::system::error_code ec)
  {
    state_->finish();
    state_.reset();
    std::move(handler_)(ec);
  }

  Handler handler_;

private:
  std::shared_ptr<connect_state<Socket>> state_;
};

template <class Socket>
void split_socket_path(connect_state<Socket>& s)
{
  if constexpr (is_local_socket<Socket>::value)
  {
    const std::string path = s.endpoint.path();
    if (path.empty() || path[0] == '\0') // abstract: no file to watch
      return;
    const std::string::size_type slash = path.rfind('/');
    s.directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    s.name = slash == std::string::npos ? path : path.substr(slash + 1);
  }
}

template <class Socket>
class initiate_connect
{
public:
  explicit initiate_connect(Socket& socket) noexcept : socket_(&socket) {}

  using executor_type = typename Socket::executor_type;
  executor_type get_executor() const noexcept { return socket_->get_executor(); }

  template <class Handler>
  void operator()(Handler&& handler, const typename Socket::endpoint_type& endpoint,
                  const policy& p, const connect_options& options) const
  {
    if constexpr (has_own_executor<std::decay_t<Handler>>::value)
    {
      start(std::forward<Handler>(handler), endpoint, p, options);
    }
    else
    {
      // Wakes come from other handlers (the directory watch, the child's
      // exit): on a multi-threaded io_context they must not run alongside
      // the operation's own, so the operation runs on a strand.
      start(boost::asio::bind_executor(boost::asio::make_strand(socket_->get_executor()),
                                       std::forward<Handler>(handler)),
            endpoint, p, options);
    }
  }

private:
  template <class Handler>
  void start(Handler&& handler, const typename Socket::endpoint_type& endpoint,
             const policy& p, const connect_options& options) const
  {
    using handler_type = std::decay_t<Handler>;
    boost::asio::any_io_executor ex =
        boost::asio::get_associated_executor(handler, socket_->get_executor());
    auto state = std::make_shared<connect_state<Socket>>(*socket_, endpoint, options, ex);
    if (options.early_wake)
    {
      split_socket_path(*state);
      state->watch_directory(); // before any attempt
    }
    if (options.child && options.child->event_driven())
    {
      state->child_waiting = true;
      options.child->async_wait(boost::asio::bind_cancellation_slot(
          state->child_wait_cancel.slot(),
          boost::asio::bind_executor(ex, [state](boost::system::error_code ec) {
            if (!ec)
              state->child_exited();
          })));
    }
    using attempt_type = std::conditional_t<is_local_socket<Socket>::value,
                                            local_connect_attempt<Socket>,
                                            stream_connect_attempt<Socket>>;
    attempt_type attempt(state);
    connect_completion<handler_type, Socket> completion(std::forward<Handler>(handler),
                                                        std::move(state));
    if (options.report)
      async_backoff(socket_->get_executor(), p, std::move(attempt), *options.report,
                    std::move(completion));
    else
      async_backoff(socket_->get_executor(), p, std::move(attempt), std::move(completion));
  }

  Socket* socket_;
};

} // namespace detail

/// Connects a stream socket, retrying with exponential backoff while the
/// peer is not there yet.
/**
 * For `local::stream_protocol` (unix) and `ip::tcp` sockets. Each attempt
 * connects `socket` to `endpoint`; errors for which
 * `is_transient_connect_error` is false end the operation at once (for
 * instance permission denied). A TCP socket is closed and opened again
 * between attempts; a unix socket is kept.
 *
 * On Linux, a unix socket's directory is watched with inotify (one
 * descriptor per io_context, shared): when the socket file appears, the
 * current wait ends and the connect runs at once; a connect refused because
 * the server has bound but not yet listened is retried on the fast lane
 * (`policy::after_wake_delay`, doubling). Without inotify, or while the
 * directory does not exist, it is plain backoff. Permission denied counts as
 * permanent the third time in a row (a server may chmod its socket just
 * after `bind()`).
 *
 * With `options.child`, the operation completes with `error::child_exited`
 * as soon as that process exits (through a pidfd, and checked before each
 * attempt); a TCP connect in flight is stopped.
 *
 * Completion: `void(boost::system::error_code)`, as `async_backoff`: no
 * error when connected; the permanent error; `timed_out`;
 * `error::attempts_exhausted`; `error::child_exited`; `operation_aborted`;
 * `error::invalid_*`. Cancellation, executors, allocators: as
 * `async_backoff`. The socket must outlive the operation.
 *
 * @par Threads
 * Wakes are events of their own, concurrent with the operation's timer: a
 * handler without an associated executor is run on a new strand of the
 * socket's executor; a handler with one must be bound to a strand when
 * several threads run the io_context.
 *
 * @par Cost
 * A few allocations per operation (the backoff operation, the shared state,
 * the strand, the directory registration), none per retry once the
 * directory is watched.
 */
template <class Protocol, class Executor,
          class CompletionToken BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(Executor)>
auto async_connect(boost::asio::basic_stream_socket<Protocol, Executor>& socket,
                   const typename Protocol::endpoint& endpoint, const policy& p,
                   const connect_options& options,
                   CompletionToken&& token BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(Executor))
{
  using socket_type = boost::asio::basic_stream_socket<Protocol, Executor>;
  return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
      detail::initiate_connect<socket_type>(socket), token, endpoint, p, options);
}

/// As above, with the default options.
template <class Protocol, class Executor,
          class CompletionToken BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(Executor),
          std::enable_if_t<!std::is_convertible<CompletionToken, const connect_options&>::value,
                           int> = 0>
auto async_connect(boost::asio::basic_stream_socket<Protocol, Executor>& socket,
                   const typename Protocol::endpoint& endpoint, const policy& p,
                   CompletionToken&& token BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(Executor))
{
  return asio_backoff::async_connect(socket, endpoint, p, connect_options(),
                                     std::forward<CompletionToken>(token));
}

} // namespace asio_backoff

// The completion wrapper has the associations of the user's handler.
template <template <class, class> class Associator, class Handler, class Socket,
          class DefaultCandidate>
struct boost::asio::associator<Associator,
                               asio_backoff::detail::connect_completion<Handler, Socket>,
                               DefaultCandidate>
  : Associator<Handler, DefaultCandidate>
{
  static typename Associator<Handler, DefaultCandidate>::type
  get(const asio_backoff::detail::connect_completion<Handler, Socket>& h) noexcept
  {
    return Associator<Handler, DefaultCandidate>::get(h.handler_);
  }

  static auto get(const asio_backoff::detail::connect_completion<Handler, Socket>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler_, c))
  {
    return Associator<Handler, DefaultCandidate>::get(h.handler_, c);
  }
};

#endif // ASIO_BACKOFF_CONNECT_HPP
