#include "target_wait.hpp"

#include "probe.hpp"

#include <asio_backoff/async_backoff.hpp>
#include <asio_backoff/attempt.hpp>
#include <asio_backoff/connect.hpp>
#include <asio_backoff/detail/path_watch.hpp>
#include <asio_backoff/outcome.hpp>
#include <asio_backoff/wake.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cerrno>
#include <optional>
#include <string>

#include <sys/stat.h>

namespace backoff_wait {

namespace asio = boost::asio;
using boost::system::error_code;
using stream = asio::local::stream_protocol;

struct target_wait::state
{
  state(asio::io_context& ctx, const target& t, std::size_t i, target_status& s,
        wait_observer& o)
    : context(ctx), spec(t), index(i), status(s), observer(o)
  {
  }

  void retrying(const asio_backoff::retry_info& info)
  {
    const bool new_error = status.attempts == 0 || info.error != status.last_error;
    status.attempts = info.attempt;
    status.last_error = info.error;
    status.next_delay = info.delay;
    status.next_attempt = std::chrono::steady_clock::now() + info.delay;
    observer.retrying(index, new_error);
  }

  void finished(error_code ec)
  {
    using reason = asio_backoff::outcome::reason_type;
    status.attempts = report.attempts;
    status.elapsed = report.elapsed;
    switch (report.reason)
    {
    case reason::succeeded:
      status.state = target_state::ready;
      status.last_error = {};
      break;
    case reason::permanent_error:
      status.state = target_state::failed;
      status.last_error = ec;
      break;
    case reason::cancelled:
      status.state = target_state::cancelled;
      // The attempt we cut short says nothing about the target.
      if (report.last_error != asio::error::operation_aborted)
        status.last_error = report.last_error;
      break;
    case reason::timed_out:
      status.state = target_state::timed_out;
      status.last_error = report.last_error;
      break;
    default: // a rejected policy; options.cpp validated it: shown, not lost
      status.state = target_state::failed;
      status.last_error = ec;
      break;
    }
    observer.finished(index);
  }

  // The wait's completion handler, cancellable through `cancel`.
  auto completion()
  {
    return asio::bind_cancellation_slot(cancel.slot(), [this](error_code ec) {
      watch.reset();
      if (socket)
      {
        error_code ignored;
        socket->close(ignored); // connectable is all we wanted to know
      }
      finished(ec);
    });
  }

  auto reporter()
  {
    return [this](const asio_backoff::retry_info& info) { retrying(info); };
  }

  asio::io_context& context;
  const target& spec;
  std::size_t index;
  target_status& status;
  wait_observer& observer;
  asio::cancellation_signal cancel;
  asio_backoff::outcome report;
  std::optional<stream::socket> socket;  // unix
  asio_backoff::wake_signal wake;        // file
  asio_backoff::detail::path_watch watch; // file
  probe_request request;                 // tcp, http
};

namespace {

// "dir/name" -> ("dir", "name"); what inotify watches for a path.
std::pair<std::string, std::string> split_path(std::string path)
{
  while (path.size() > 1 && path.back() == '/')
    path.pop_back(); // "dir/sub/" names the directory "sub"
  const std::string::size_type slash = path.rfind('/');
  if (slash == std::string::npos)
    return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// A synchronous attempt: does the path exist? stat() needs no permission on
// the file itself, only to search the directories above it.
class file_exists
{
public:
  explicit file_exists(target_wait::state& s) : state_(&s) {}

  asio_backoff::attempt_result operator()()
  {
    struct ::stat info;
    if (::stat(state_->spec.path.c_str(), &info) == 0)
      return {};
    const int error = errno;
    const error_code ec(error, boost::system::system_category());
    // Only a missing entry may appear; EACCES, ENOTDIR, ELOOP stay as they are.
    if (error == ENOENT)
      return ec;
    return asio_backoff::permanent(ec);
  }

  // Watched again before each attempt while the directory itself is missing;
  // before the attempt, or an entry made in between would be missed.
  error_code before_attempt()
  {
    target_wait::state& s = *state_;
    if (!s.watch.active())
    {
      auto [directory, name] = split_path(s.spec.path);
      s.watch.watch(s.context.get_executor(), directory, name, s.wake); // fails: plain backoff
    }
    return {};
  }

private:
  target_wait::state* state_;
};

void start_unix(target_wait::state& s, const asio_backoff::policy& p)
{
  s.socket.emplace(s.context);
  asio_backoff::connect_options options;
  options.report = &s.report;
  // Closed between attempts: ten thousand waiting targets must not hold ten
  // thousand descriptors. The next attempt opens it again.
  options.on_retry = [&s](const asio_backoff::retry_info& info) {
    error_code ignored;
    s.socket->close(ignored);
    s.retrying(info);
  };
  asio_backoff::async_connect(*s.socket, stream::endpoint(s.spec.path), p, options,
                              s.completion());
}

void start_probe_target(target_wait::state& s, const asio_backoff::policy& p)
{
  s.request.host = s.spec.host;
  s.request.port = s.spec.port;
  if (s.spec.kind == target_kind::http)
  {
    s.request.http_target = s.spec.path;
    s.request.host_header = s.spec.host_for_url();
    if (s.spec.port != 80)
      s.request.host_header += ":" + std::to_string(s.spec.port);
  }
  auto probe = [&s] {
    return async_probe(s.context.get_executor(), s.request, asio::deferred);
  };
  asio_backoff::async_backoff(
      s.context, p,
      asio_backoff::observe(s.reporter(),
                            asio_backoff::permanent_if(&is_permanent_probe_error, probe)),
      s.report, s.completion());
}

void start_file(target_wait::state& s, const asio_backoff::policy& p)
{
  asio_backoff::async_backoff(
      s.context, p,
      asio_backoff::observe(s.reporter(), asio_backoff::wake_on(s.wake, file_exists(s))),
      s.report, s.completion());
}

} // namespace

target_wait::target_wait(asio::io_context& ctx, const target& t, std::size_t index,
                         target_status& status, wait_observer& observer)
  : state_(std::make_unique<state>(ctx, t, index, status, observer))
{
}

target_wait::~target_wait() = default;

void target_wait::start(const asio_backoff::policy& p)
{
  switch (state_->spec.kind)
  {
  case target_kind::unix_socket: return start_unix(*state_, p);
  case target_kind::tcp:
  case target_kind::http: return start_probe_target(*state_, p);
  case target_kind::file: return start_file(*state_, p);
  }
}

void target_wait::cancel()
{
  state_->cancel.emit(asio::cancellation_type::terminal);
}

} // namespace backoff_wait
