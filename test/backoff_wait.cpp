// Tests for the backoff-wait program. The real binary runs as a child
// process, its stdout and stderr captured through pipes (or a
// pseudo-terminal); this process plays the servers it waits for, started
// late in its own io_context: on timers, or once the program has said that
// it is waiting (its start may be slow). Every run is bounded: a child that
// overruns is killed and the test fails. Timing checks have wide margins
// (the machine is shared, and sanitizers slow everything down).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/src.hpp> // Boost.JSON, compiled into this one file
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using boost::system::error_code;
using stream = asio::local::stream_protocol;
using steady = std::chrono::steady_clock;

namespace {

using test_support::temp_dir;

const std::string tool_path = BACKOFF_WAIT_PATH;

double seconds_of(steady::duration d)
{
  return std::chrono::duration<double>(d).count();
}

bool contains(std::string_view text, std::string_view part)
{
  return text.find(part) != std::string_view::npos;
}

std::size_t count_of(std::string_view text, std::string_view part)
{
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string_view::npos;
       at = text.find(part, at + part.size()))
    ++n;
  return n;
}

// Runs `f` on ctx after `d`.
void after(asio::io_context& ctx, steady::duration d, std::function<void()> f)
{
  auto timer = std::make_shared<asio::steady_timer>(ctx, d);
  timer->async_wait([timer, f = std::move(f)](error_code ec) {
    if (!ec)
      f();
  });
}

// Runs `action` on ctx once `ready()` is true, checking every 10 ms.
void when(asio::io_context& ctx, std::function<bool()> ready, std::function<void()> action)
{
  after(ctx, 10ms, [&ctx, ready = std::move(ready), action = std::move(action)]() mutable {
    if (ready())
      action();
    else
      when(ctx, std::move(ready), std::move(action));
  });
}

// Ten thousand targets need as many descriptors here as in the tool.
void raise_open_files_limit()
{
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
  {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::size_t open_files_limit()
{
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<std::size_t>(limit.rlim_cur);
}

void create_file(const std::string& path, mode_t mode = 0644)
{
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, mode);
  BOOST_REQUIRE_MESSAGE(fd >= 0, "cannot create " << path);
  ::close(fd);
}

// ---------------------------------------------------------------------------
// Running the program

struct run_options
{
  steady::duration limit = 10s; // killed beyond this
  bool terminal = false;        // stdout and stderr on a pseudo-terminal
  bool unprivileged = false;    // as uid and gid 65534 when run as root
  std::function<void(pid_t, const std::string& err)> started; // err: stderr so far
};

run_options within(steady::duration limit)
{
  run_options options;
  options.limit = limit;
  return options;
}

struct tool_run
{
  int status = -1; // the exit status, or 128 + the signal that killed it
  std::string out;
  std::string err; // with a terminal: everything the terminal received
  double seconds = 0;
  double cpu_seconds = 0; // user + system, from wait4
  bool overran = false;
};

std::ostream& operator<<(std::ostream& os, const tool_run& r)
{
  return os << "status " << r.status << " in " << r.seconds << " s"
            << (r.overran ? " (killed: overran)" : "") << "\n--- stdout\n"
            << r.out.substr(0, 2000) << "\n--- stderr\n"
            << r.err.substr(0, 4000);
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(char** argv, int out, int err, bool unprivileged)
{
  if (out >= 0)
  {
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
  }
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0)
    ::dup2(null, STDIN_FILENO);
  // Asio's sockets in this process are not close-on-exec.
  if (::close_range(3, ~0U, 0) != 0)
    for (int fd = 3; fd < 65536; ++fd)
      ::close(fd);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD})
    ::signal(s, SIG_DFL);
  // Root passes every permission check: drop to nobody to see EACCES.
  if (unprivileged && ::getuid() == 0 &&
      (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
    ::_exit(125);
  ::execv(argv[0], argv);
  const char message[] = "test: cannot execute backoff-wait\n";
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(125);
}

// Everything the handlers of one run share; they may outlive run_tool's
// frame by a poll, never more.
struct run_state
{
  explicit run_state(asio::io_context& ctx) : poll(ctx), limit(ctx) {}

  struct reader
  {
    asio::posix::stream_descriptor descriptor;
    std::string* text;
    std::array<char, 65536> buffer;
  };

  void read(reader& r)
  {
    r.descriptor.async_read_some(asio::buffer(r.buffer), [this, &r](error_code ec, std::size_t n) {
      r.text->append(r.buffer.data(), n);
      if (ec) // end of file; EIO from a terminal whose other side closed
        ++closed;
      else
        read(r);
    });
  }

  void poll_exit()
  {
    poll.expires_after(2ms);
    poll.async_wait([this](error_code ec) {
      if (ec)
        return;
      int status = 0;
      rusage usage{};
      const pid_t waited = ::wait4(pid, &status, WNOHANG, &usage);
      if (waited == 0 || (waited < 0 && errno == EINTR))
        return poll_exit();
      exited = true; // or reaped by someone else (-1): nothing more to learn
      if (waited == pid)
      {
        result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                             (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      }
      if (!result.overran)
        limit.cancel();
    });
  }

  // Overran, killed, and still not done 5 s later (its output held open by
  // another process?): give up rather than hang the test executable.
  void enforce_limit()
  {
    limit.async_wait([this](error_code ec) {
      if (ec)
        return;
      if (result.overran)
      {
        abandoned = true;
        return;
      }
      result.overran = true;
      ::kill(pid, SIGKILL);
      limit.expires_after(5s);
      enforce_limit();
    });
  }

  bool done() const { return abandoned || (exited && closed == readers.size()); }

  pid_t pid = -1;
  std::vector<std::unique_ptr<reader>> readers;
  std::size_t closed = 0;
  bool exited = false;
  bool abandoned = false;
  asio::steady_timer poll;
  asio::steady_timer limit;
  tool_run result;
};

// Runs backoff-wait with `args`, running ctx (and so the test's servers)
// until it has exited and its output is read.
tool_run run_tool(asio::io_context& ctx, const std::vector<std::string>& args,
                  const run_options& options = {})
{
  std::vector<std::string> words{tool_path};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);

  auto state = std::make_shared<run_state>(ctx);
  const steady::time_point start = steady::now();
  std::vector<int> ours; // the descriptors to read, with where the text goes
  if (options.terminal)
  {
    winsize size{};
    size.ws_row = 24;
    size.ws_col = 100;
    int master = -1;
    state->pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (state->pid == 0)
      exec_child(argv.data(), -1, -1, options.unprivileged);
    ours = {master};
  }
  else
  {
    int out[2];
    int err[2];
    BOOST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0);
    state->pid = ::fork();
    if (state->pid == 0)
      exec_child(argv.data(), out[1], err[1], options.unprivileged);
    ::close(out[1]);
    ::close(err[1]);
    ours = {out[0], err[0]};
  }
  BOOST_REQUIRE_MESSAGE(state->pid > 0, "fork failed");
  for (std::size_t i = 0; i < ours.size(); ++i)
  {
    std::string* text = ours.size() == 1 || i == 1 ? &state->result.err : &state->result.out;
    state->readers.push_back(std::make_unique<run_state::reader>(
        run_state::reader{asio::posix::stream_descriptor(ctx, ours[i]), text, {}}));
    state->read(*state->readers.back());
  }
  state->poll_exit();
  state->limit.expires_after(options.limit);
  state->enforce_limit();
  if (options.started)
    options.started(state->pid, state->result.err);

  ctx.restart();
  while (!state->done())
    ctx.run_one();
  state->result.seconds = seconds_of(steady::now() - start);
  state->poll.cancel();
  state->limit.cancel();
  for (auto& r : state->readers)
    r->descriptor.close();
  ctx.poll(); // the cancelled handlers, which use the state
  return state->result;
}

tool_run run_tool(const std::vector<std::string>& args, const run_options& options = {})
{
  asio::io_context ctx;
  return run_tool(ctx, args, options);
}

// Options that run `action` on ctx once the program's stderr says `text`: a
// server that comes up after the program's first attempt, however slow its
// start (sanitizers, a loaded machine).
run_options once_it_says(asio::io_context& ctx, std::string text, std::function<void()> action)
{
  run_options options;
  options.started = [&ctx, text = std::move(text), action = std::move(action)](
                        pid_t, const std::string& err) {
    when(ctx, [said = &err, text] { return contains(*said, text); }, action);
  };
  return options;
}

// ---------------------------------------------------------------------------
// Servers that come up late

// A unix socket server that accepts each connection and closes it at once:
// connectable is all the program asks for.
struct unix_server
{
  explicit unix_server(asio::io_context& ctx) : acceptor(ctx) {}

  void listen(const std::string& path)
  {
    acceptor.open();
    acceptor.bind(stream::endpoint(path));
    acceptor.listen();
    accept();
  }

  void accept()
  {
    acceptor.async_accept([this](error_code ec, stream::socket) {
      if (ec)
        return;
      ++accepted;
      accept();
    });
  }

  stream::acceptor acceptor;
  int accepted = 0;
};

// A TCP server, bound at once (the port is ours, and connecting to it is
// refused), listening when told. Accepts and closes, or keeps each
// connection open in silence.
struct tcp_server
{
  explicit tcp_server(asio::io_context& ctx,
                      const asio::ip::address& address = asio::ip::make_address("127.0.0.1"))
    : acceptor(ctx)
  {
    const asio::ip::tcp::endpoint endpoint(address, 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
  }

  std::string port() const { return std::to_string(acceptor.local_endpoint().port()); }

  void listen(bool keep_silent = false)
  {
    silent = keep_silent;
    acceptor.listen();
    accept();
  }

  void accept()
  {
    acceptor.async_accept([this](error_code ec, asio::ip::tcp::socket socket) {
      if (ec)
        return;
      ++accepted;
      if (silent)
        kept.push_back(std::move(socket));
      accept();
    });
  }

  asio::ip::tcp::acceptor acceptor;
  std::vector<asio::ip::tcp::socket> kept;
  int accepted = 0;
  bool silent = false;
};

// An HTTP server that answers the statuses in `answers` in turn (the last
// one from then on) and keeps the requests it received.
struct http_server
{
  http_server(asio::io_context& ctx, std::vector<unsigned> statuses)
    : listener(ctx), answers(std::move(statuses))
  {
  }

  std::string port() const { return listener.port(); }

  void listen()
  {
    listener.acceptor.listen();
    accept();
  }

  struct connection
  {
    explicit connection(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    asio::ip::tcp::socket socket;
    asio::streambuf request;
    std::string response;
  };

  void accept()
  {
    listener.acceptor.async_accept([this](error_code ec, asio::ip::tcp::socket socket) {
      if (ec)
        return;
      answer(std::make_shared<connection>(std::move(socket)));
      accept();
    });
  }

  void answer(std::shared_ptr<connection> c)
  {
    const auto on_request = [this, c](error_code ec, std::size_t n) {
      if (ec)
        return;
      const auto begin = asio::buffers_begin(c->request.data());
      requests.emplace_back(begin, begin + static_cast<std::ptrdiff_t>(n));
      const unsigned status = answers[std::min(requests.size(), answers.size()) - 1];
      c->response = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                    "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      asio::async_write(c->socket, asio::buffer(c->response), [c](error_code, std::size_t) {});
    };
    asio::async_read_until(c->socket, c->request, "\r\n\r\n", on_request);
  }

  static std::string reason(unsigned status)
  {
    switch (status)
    {
    case 200: return "OK";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Whatever";
    }
  }

  tcp_server listener;
  std::vector<unsigned> answers;
  std::vector<std::string> requests;
};

json::value parse_json(const tool_run& r)
{
  error_code ec;
  json::value v = json::parse(r.out, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "stdout is not JSON: " << ec.message() << "\n" << r);
  return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(backoff_wait_tool)

// --- each kind of target coming up late ------------------------------------

BOOST_AUTO_TEST_CASE(a_unix_socket_and_a_file_that_come_up_late_wake_their_waits)
{
  asio::io_context ctx;
  temp_dir dir;
  unix_server server(ctx);
  const std::string socket = dir / "app.sock";
  const std::string file = dir / "ready";
  run_options options; // both come once both have been found missing
  options.started = [&](pid_t, const std::string& err) {
    when(
        ctx, [said = &err] { return count_of(*said, "not ready") == 2; },
        [&] {
          server.listen(socket);
          create_file(file);
        });
  };
  // Attempts 3 s apart: only inotify's early wake can make them ready soon.
  const tool_run r = run_tool(
      ctx, {"--timeout", "10s", "--initial", "3s", "unix:" + socket, "file:" + file}, options);
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(server.accepted == 1);
  BOOST_TEST(r.seconds < 2.0);
  for (const std::string& target : {"unix:" + socket, "file:" + file})
  {
    BOOST_TEST(contains(r.err, target + " not ready: No such file or directory (attempt 1, "
                                        "next in 3s)"));
    BOOST_TEST(contains(r.err, target + " ready after"));
  }
  BOOST_TEST(r.out.empty());
}

BOOST_AUTO_TEST_CASE(a_tcp_port_that_comes_up_late_by_address_and_by_name)
{
  asio::io_context ctx;
  tcp_server server(ctx);
  const tool_run r = run_tool(
      ctx, {"--timeout", "5s", "tcp:127.0.0.1:" + server.port(), "tcp:localhost:" + server.port()},
      once_it_says(ctx, "localhost:" + server.port() + " not ready", [&] { server.listen(); }));
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(server.accepted == 2);
  BOOST_TEST(r.seconds < 3.0);
  BOOST_TEST(contains(r.err, "Connection refused"));
  BOOST_TEST(contains(r.err, "all 2 targets ready"));
}

BOOST_AUTO_TEST_CASE(an_ipv6_port_between_brackets)
{
  asio::io_context ctx;
  std::unique_ptr<tcp_server> server;
  try
  {
    server = std::make_unique<tcp_server>(ctx, asio::ip::make_address("::1"));
  }
  catch (const boost::system::system_error& e)
  {
    BOOST_TEST_MESSAGE("no IPv6 loopback here (" << e.what() << "): skipped");
    return;
  }
  after(ctx, 100ms, [&] { server->listen(); });
  const tool_run r = run_tool(ctx, {"--timeout", "5s", "tcp:[::1]:" + server->port()});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(server->accepted == 1);
}

BOOST_AUTO_TEST_CASE(http_503_then_200_is_ready)
{
  asio::io_context ctx;
  http_server server(ctx, {503, 200});
  const tool_run r =
      run_tool(ctx, {"--timeout", "5s", "http://127.0.0.1:" + server.port() + "/health?full=1"},
               once_it_says(ctx, "not ready", [&] { server.listen(); }));
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_REQUIRE(server.requests.size() == 2u);
  const std::string& request = server.requests[0];
  BOOST_TEST(request.rfind("GET /health?full=1 HTTP/1.1\r\n", 0) == 0u);
  BOOST_TEST(contains(request, "Host: 127.0.0.1:" + server.port() + "\r\n"));
  BOOST_TEST(contains(request, "Connection: close\r\n"));
  BOOST_TEST(contains(r.err, "Connection refused"));
  BOOST_TEST(contains(r.err, "HTTP 503 Service Unavailable"));
  BOOST_TEST(contains(r.err, " ready after ")); // refused, ..., 503, 200
}

BOOST_AUTO_TEST_CASE(http_404_fails_for_good_and_429_is_retried)
{
  asio::io_context ctx;
  http_server missing(ctx, {404});
  missing.listen();
  const tool_run r = run_tool(ctx, {"--timeout", "5s", "http://localhost:" + missing.port() + "/"});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 3);
  BOOST_TEST(missing.requests.size() == 1u);
  BOOST_TEST(r.seconds < 3.0);
  BOOST_TEST(contains(r.err, "HTTP 404 Not Found"));

  http_server busy(ctx, {429, 429, 200});
  busy.listen();
  const tool_run again = run_tool(ctx, {"--timeout", "5s", "http://127.0.0.1:" + busy.port()});
  BOOST_TEST_INFO_SCOPE(again);
  BOOST_TEST(again.status == 0);
  BOOST_TEST(busy.requests.size() == 3u);
  BOOST_TEST(contains(busy.requests[0], "GET / HTTP/1.1\r\n"));
}

BOOST_AUTO_TEST_CASE(accept_and_close_at_once_counts_as_ready)
{
  asio::io_context ctx;
  temp_dir dir;
  unix_server local(ctx);
  local.listen(dir / "s");
  tcp_server remote(ctx);
  remote.listen(); // accepts and closes
  const tool_run r = run_tool(ctx, {"unix:" + (dir / "s"), "tcp:127.0.0.1:" + remote.port()});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(local.accepted == 1);
  BOOST_TEST(remote.accepted == 1);
}

// --- several at once -------------------------------------------------------

BOOST_AUTO_TEST_CASE(targets_are_awaited_concurrently_not_one_after_another)
{
  asio::io_context ctx;
  temp_dir dir;
  unix_server local(ctx);
  tcp_server remote(ctx);
  http_server web(ctx, {200});
  after(ctx, 300ms, [&] { local.listen(dir / "s"); });
  after(ctx, 600ms, [&] { remote.listen(); });
  after(ctx, 600ms, [&] { web.listen(); });
  after(ctx, 900ms, [&] { create_file(dir / "f"); });
  const tool_run r = run_tool(ctx, {"--timeout", "10s", "--max-delay", "100ms",
                                    "unix:" + (dir / "s"), "tcp:127.0.0.1:" + remote.port(),
                                    "http://127.0.0.1:" + web.port() + "/", "file:" + (dir / "f")});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.seconds > 0.85);
  BOOST_TEST(r.seconds < 1.8); // one after another: 300 + 600 + 600 + 900 ms
  BOOST_TEST(contains(r.err, "all 4 targets ready"));
  BOOST_TEST_MESSAGE("4 targets ready at 0.3-0.9 s: " << r.seconds << " s, CPU " << r.cpu_seconds
                                                     << " s");
}

// --- the deadline ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_target_that_never_comes_times_out_naming_it_and_its_error)
{
  asio::io_context ctx;
  tcp_server closed(ctx); // bound, never listening
  const std::string tcp = "tcp:127.0.0.1:" + closed.port();
  const tool_run r = run_tool(ctx, {"--timeout", "300ms", tcp, "file:/nonexistent/x"});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.seconds > 0.28);
  BOOST_TEST(r.seconds < 2.0);
  BOOST_TEST(contains(r.err, tcp + " not ready at the deadline: Connection refused"));
  BOOST_TEST(contains(r.err, "file:/nonexistent/x not ready at the deadline: No such file"));
  BOOST_TEST(contains(r.err, "timed out after 0.3"));
  BOOST_TEST(contains(r.err, "2 of 2 targets not ready"));
}

BOOST_AUTO_TEST_CASE(an_attempt_that_hangs_is_cut_by_the_attempt_timeout)
{
  asio::io_context ctx;
  tcp_server silent(ctx);
  silent.listen(true); // accepts, never answers
  const tool_run r = run_tool(ctx, {"--timeout", "500ms", "--attempt-timeout", "100ms",
                                    "http://127.0.0.1:" + silent.port() + "/"});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.seconds < 2.5);
  BOOST_TEST(silent.accepted >= 3);
  BOOST_TEST(contains(r.err, "Connection timed out"));
}

BOOST_AUTO_TEST_CASE(one_log_line_per_change_of_state_not_per_attempt)
{
  temp_dir dir;
  const tool_run r = run_tool({"--json", "--timeout", "300ms", "--initial", "1ms", "--max-delay",
                               "2ms", "file:" + (dir / "never")});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(parse_json(r).at("targets").at(0).at("attempts").as_int64() > 20);
  BOOST_TEST(count_of(r.err, "\n") == 3u); // the first error, at the deadline, the outcome
  BOOST_TEST(count_of(r.err, "not ready: No such file or directory (attempt 1, next in 1ms)") ==
             1u);
  BOOST_TEST(contains(r.err, "not ready at the deadline: No such file or directory"));
}

// --- arguments -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_kind_of_bad_argument_exits_2_naming_it)
{
  struct bad_case
  {
    std::vector<std::string> args;
    std::string message; // part of the error line
  };
  const std::string long_unix(200, 'u');
  const bad_case cases[] = {
      {{}, "no target given"},
      {{"--quiet"}, "no target given"},
      {{"--timeout", "5x", "file:/"},
       "invalid duration for --timeout: '5x' (use a number and a unit: 250ms, 2s, 1.5s, 1m)"},
      {{"--timeout=5", "file:/"}, "invalid duration for --timeout: '5' (use a number"},
      {{"--timeout", "-1s", "file:/"}, "'-1s' (must not be negative)"},
      {{"--timeout", "nans", "file:/"}, "--timeout: 'nans'"},
      {{"--timeout", "infs", "file:/"}, "--timeout: 'infs'"},
      {{"--timeout", "1e3s", "file:/"}, "--timeout: '1e3s'"},
      {{"--timeout", "1.s", "file:/"}, "--timeout: '1.s'"},
      {{"--timeout", " 1s", "file:/"}, "--timeout: ' 1s'"},
      {{"--timeout", "1 s", "file:/"}, "--timeout: '1 s'"},
      {{"--timeout", "1sec", "file:/"}, "--timeout: '1sec'"},
      {{"--timeout", "", "file:/"}, "--timeout: ''"},
      {{"--timeout", "99999999999h", "file:/"}, "'99999999999h' (too long"},
      {{"--initial", "0ms", "file:/"}, "--initial must be greater than zero"},
      {{"--initial", "1.5", "file:/"}, "invalid duration for --initial: '1.5'"},
      {{"--max-delay", "1ms", "--initial", "2ms", "file:/"},
       "--max-delay (1ms) must not be less than --initial (2ms)"},
      {{"--max-delay", "fast", "file:/"}, "invalid duration for --max-delay: 'fast'"},
      {{"--attempt-timeout", "0s", "file:/"}, "--attempt-timeout must be greater than zero"},
      {{"--attempt-timeout", "-5s", "file:/"}, "--attempt-timeout: '-5s'"},
      {{"--multiplier", "0.5", "file:/"},
       "invalid value for --multiplier: '0.5' (use a number >= 1"},
      {{"--multiplier", "nan", "file:/"}, "--multiplier: 'nan'"},
      {{"--multiplier", "inf", "file:/"}, "--multiplier: 'inf'"},
      {{"--multiplier", "1e999", "file:/"}, "--multiplier: '1e999'"},
      {{"--multiplier", "-2", "file:/"}, "--multiplier: '-2'"},
      {{"--multiplier", "two", "file:/"}, "--multiplier: 'two'"},
      {{"--jitter", "proportional", "file:/"},
       "invalid value for --jitter: 'proportional' (use none, full, equal or decorrelated)"},
      {{"--bogus", "file:/"}, "unknown option '--bogus'"},
      {{"-x", "file:/"}, "unknown option '-x'"},
      {{"--quiet=yes", "file:/"}, "option --quiet takes no value"},
      {{"file:/", "--timeout"}, "option --timeout needs a value"},
      {{"nothing"}, "invalid target 'nothing': expected unix:PATH, tcp:HOST:PORT"},
      {{"ftp://host/"}, "invalid target 'ftp://host/'"},
      {{"unix:"}, "invalid target 'unix:': missing path"},
      {{"file:"}, "invalid target 'file:': missing path"},
      {{"unix:/" + long_unix}, "unix socket path too long (201 bytes, at most 107)"},
      {{"tcp:localhost"}, "invalid target 'tcp:localhost': missing port"},
      {{"tcp::80"}, "missing host"},
      {{"tcp:db:0"}, "'tcp:db:0': invalid port (1 to 65535)"},
      {{"tcp:db:65536"}, "'tcp:db:65536': invalid port"},
      {{"tcp:db:-1"}, "'tcp:db:-1': invalid port"},
      {{"tcp:db:postgres"}, "'tcp:db:postgres': invalid port"},
      {{"tcp:::1:80"}, "an IPv6 address goes between brackets"},
      {{"tcp:[::1:80"}, "missing ']'"},
      {{"tcp:[db]:80"}, "not an IPv6 address"},
      {{"tcp:[::1]80"}, "expected ':PORT' after ']'"},
      {{"tcp:d b:80"}, "invalid host name"},
      {{"http://"}, "'http://': missing host"},
      {{"http://web:99999/"}, "invalid port"},
      {{"http://user@web/"}, "invalid host name"},
      {{"http://web/a b"}, "invalid character in the URL path"},
      {{"https://web/"}, "https is not supported"},
      {{"file:/", "--", }, ""}, // not an error: an empty command just waits
  };
  for (const bad_case& c : cases)
  {
    const tool_run r = run_tool(c.args, within(5s));
    BOOST_TEST_INFO_SCOPE("backoff-wait with " << c.args.size() << " arguments: " << r);
    if (c.message.empty())
    {
      BOOST_TEST(r.status == 0);
      continue;
    }
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.out.empty());
    // One line that names the problem, then the hint.
    BOOST_TEST(r.err.rfind("backoff-wait: ", 0) == 0u);
    BOOST_TEST(count_of(r.err, "\n") == 2u);
    BOOST_TEST(contains(r.err, "\nTry 'backoff-wait --help'.\n"));
    BOOST_TEST(contains(r.err, c.message));
  }
}

BOOST_AUTO_TEST_CASE(options_among_targets_in_both_spellings)
{
  temp_dir dir;
  const tool_run r = run_tool({"file:" + dir.path, "--timeout=2s", "file:/", "--json",
                               "--initial", "5ms", "--multiplier=1.5", "--jitter=full",
                               "--max-delay", "1m", "--attempt-timeout", "250ms"});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(parse_json(r).at("targets").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(help_version_and_quiet)
{
  const tool_run help = run_tool({"file:/", "--help", "--bogus"});
  BOOST_TEST(help.status == 0);
  BOOST_TEST(contains(help.out, "Usage: backoff-wait [OPTIONS] TARGET... [-- COMMAND [ARG...]]"));
  BOOST_TEST(help.err.empty());
  const tool_run version = run_tool({"--version"});
  BOOST_TEST(version.status == 0);
  BOOST_TEST(contains(version.out, "backoff-wait 0."));

  const tool_run ready = run_tool({"--quiet", "file:/"});
  BOOST_TEST(ready.status == 0);
  BOOST_TEST(ready.err.empty());
  const tool_run late = run_tool({"--quiet", "--timeout", "100ms", "file:/nonexistent"});
  BOOST_TEST(late.status == 1);
  BOOST_TEST(late.err.empty());
  BOOST_TEST(late.out.empty());
}

// --- the command -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_command_runs_in_its_place_with_its_status)
{
  temp_dir dir;
  const std::string ready = "file:" + dir.path;
  const tool_run seven = run_tool({ready, "--", "sh", "-c", "exit 7"});
  BOOST_TEST_INFO_SCOPE(seven);
  BOOST_TEST(seven.status == 7);

  const tool_run output = run_tool({"--json", ready, "--", "sh", "-c", "echo from-the-command"});
  BOOST_TEST(output.status == 0);
  // The summary is flushed before exec: it comes first.
  BOOST_TEST(output.out.find("{\"ready\":true") == 0u);
  BOOST_TEST(contains(output.out, "}\nfrom-the-command\n"));

  const tool_run missing = run_tool({ready, "--", "/nonexistent/command"});
  BOOST_TEST_INFO_SCOPE(missing);
  BOOST_TEST(missing.status == 127);
  BOOST_TEST(contains(missing.err, "cannot run '/nonexistent/command': No such file or directory"));

  create_file(dir / "not-executable", 0644);
  const tool_run refused = run_tool({ready, "--", dir / "not-executable"});
  BOOST_TEST_INFO_SCOPE(refused);
  BOOST_TEST(refused.status == 126);

  // Not ready: the command does not run.
  const tool_run late =
      run_tool({"--timeout", "50ms", "file:/nonexistent", "--", "sh", "-c", "exit 7"});
  BOOST_TEST(late.status == 1);
}

// --- failing for good ------------------------------------------------------

BOOST_AUTO_TEST_CASE(permission_denied_on_a_unix_socket_fails_for_good)
{
  asio::io_context ctx;
  temp_dir dir;
  ::chmod(dir.path.c_str(), 0755); // searchable by nobody
  unix_server server(ctx);
  const std::string path = dir / "private.sock";
  server.listen(path);
  ::chmod(path.c_str(), 0); // and the socket writable by nobody, root aside
  tcp_server other(ctx);    // never comes: stopped at once by the failure
  run_options as_nobody;
  as_nobody.unprivileged = true;
  const tool_run r = run_tool(
      ctx, {"--timeout", "5s", "unix:" + path, "tcp:127.0.0.1:" + other.port()}, as_nobody);
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 3);
  BOOST_TEST(r.seconds < 3.0);
  BOOST_TEST(contains(r.err, "unix:" + path + " failed: Permission denied"));
  BOOST_TEST(contains(r.err, "gave up after"));
}

// --- signals ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sigterm_and_sigint_stop_promptly_with_143_and_130)
{
  for (int signal : {SIGTERM, SIGINT})
  {
    asio::io_context ctx;
    tcp_server silent(ctx);
    silent.listen(true); // an http attempt in flight when the signal comes
    steady::time_point sent;
    run_options options;
    options.started = [&](pid_t pid, const std::string& err) {
      // Its first line comes once its signal handlers are in place.
      when(
          ctx, [said = &err] { return contains(*said, "not ready"); },
          [&, pid] {
            after(ctx, 100ms, [&, pid] {
              sent = steady::now();
              ::kill(pid, signal);
            });
          });
    };
    const tool_run r = run_tool(ctx, {"--timeout", "10s", "http://127.0.0.1:" + silent.port() + "/",
                                      "file:/nonexistent"},
                                options);
    BOOST_TEST_INFO_SCOPE(r);
    BOOST_TEST(r.status == 128 + signal);
    BOOST_TEST(seconds_of(steady::now() - sent) < 1.5);
    BOOST_TEST(contains(r.err, std::string("interrupted by ") +
                                   (signal == SIGTERM ? "SIGTERM" : "SIGINT")));
    BOOST_TEST(contains(r.err, "2 of 2 targets not ready"));
  }
}

// --- hostile input ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(targets_of_64_kib_are_usage_errors_with_a_short_message)
{
  const std::string huge(64 * 1024, 'a');
  for (const std::string& target : {"unix:/" + huge, "file:/" + huge, "tcp:" + huge + ":80",
                                    "http://" + huge + "/", "http://web/" + huge, huge})
  {
    const tool_run r = run_tool({target});
    BOOST_TEST_INFO_SCOPE(r);
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.err.size() < 1000u);
    BOOST_TEST(contains(r.err, "bytes)"));
  }
  const tool_run value = run_tool({"--timeout", std::string(64 * 1024, '9') + "s", "file:/"});
  BOOST_TEST(value.status == 2);
  BOOST_TEST(value.err.size() < 1000u);
  BOOST_TEST(contains(value.err, "too long"));
}

BOOST_AUTO_TEST_CASE(control_characters_and_invalid_utf8_stay_harmless)
{
  const std::string escape = "file:/nonexistent/\x1b[2J\x01red";
  const std::string invalid = "file:/nonexistent/\xff\xfe caf\xc3\xa9";
  const tool_run r = run_tool({"--json", "--timeout", "50ms", escape, invalid});
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(!contains(r.err, "\x1b"));
  BOOST_TEST(contains(r.err, "file:/nonexistent/?[2J?red"));
  const json::value v = parse_json(r);
  const json::array& targets = v.at("targets").as_array();
  BOOST_TEST(targets.at(0).at("target").as_string() == escape);
  BOOST_TEST(targets.at(1).at("target").as_string() ==
             "file:/nonexistent/\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9"); // U+FFFD twice
}

BOOST_AUTO_TEST_CASE(an_unreadable_path_fails_for_good)
{
  temp_dir dir;
  ::chmod(dir.path.c_str(), 0755);
  const std::string closed = dir / "closed";
  ::mkdir(closed.c_str(), 0);
  create_file(dir / "plain");
  run_options as_nobody;
  as_nobody.unprivileged = true;
  const tool_run denied = run_tool({"--timeout", "5s", "file:" + closed + "/x"}, as_nobody);
  BOOST_TEST_INFO_SCOPE(denied);
  BOOST_TEST(denied.status == 3);
  BOOST_TEST(contains(denied.err, "Permission denied"));
  const tool_run not_a_directory = run_tool({"--timeout", "5s", "file:" + (dir / "plain") + "/x"});
  BOOST_TEST(not_a_directory.status == 3);
  BOOST_TEST(contains(not_a_directory.err, "Not a directory"));
  // Existing is enough: the file itself need not be readable.
  ::chmod((dir / "plain").c_str(), 0);
  BOOST_TEST(run_tool({"file:" + (dir / "plain")}, as_nobody).status == 0);
}

// --- many targets on one thread --------------------------------------------

BOOST_AUTO_TEST_CASE(ten_thousand_file_targets)
{
  temp_dir dir;
  std::vector<std::string> args{"--json", "--timeout", "60s"};
  for (int i = 0; i < 10000; ++i)
  {
    const std::string path = dir / ("f" + std::to_string(i));
    create_file(path);
    args.push_back("file:" + path);
  }
  const tool_run r = run_tool(args, within(60s));
  BOOST_TEST_INFO_SCOPE(r.status << " " << r.err.substr(0, 2000));
  BOOST_TEST(r.status == 0);
  const json::value v = parse_json(r);
  BOOST_TEST(v.at("ready").as_bool());
  const json::array& targets = v.at("targets").as_array();
  BOOST_TEST(targets.size() == 10000u);
  BOOST_TEST(std::all_of(targets.begin(), targets.end(),
                         [](const json::value& t) { return t.at("ready").as_bool(); }));
  BOOST_TEST(r.seconds < 30.0);
  BOOST_TEST_MESSAGE("10,000 file targets: " << r.seconds << " s, CPU " << r.cpu_seconds << " s");
}

BOOST_AUTO_TEST_CASE(two_thousand_unix_sockets_coming_up)
{
  raise_open_files_limit();
  const std::size_t n = std::min<std::size_t>(2000, open_files_limit() - 100);
  asio::io_context ctx;
  temp_dir dir;
  std::vector<std::string> args{"--timeout", "30s"};
  for (std::size_t i = 0; i < n; ++i)
    args.push_back("unix:" + (dir / ("s" + std::to_string(i))));
  // Plain listening sockets, never accepting: a connection waits in the
  // backlog, which is all the program needs. Created together after 200 ms.
  std::vector<int> listeners;
  after(ctx, 200ms, [&] {
    for (std::size_t i = 0; i < n; ++i)
    {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      const std::string path = dir / ("s" + std::to_string(i));
      std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
          ::listen(fd, 4) != 0)
        BOOST_FAIL("cannot listen on " << path);
      listeners.push_back(fd);
    }
  });
  const tool_run r = run_tool(ctx, args, within(60s));
  for (int fd : listeners)
    ::close(fd);
  BOOST_TEST_INFO_SCOPE(r.status << " "
                                 << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0));
  BOOST_TEST(r.status == 0);
  BOOST_TEST(contains(r.err, "all " + std::to_string(n) + " targets ready"));
  BOOST_TEST(r.seconds < 30.0);
  BOOST_TEST_MESSAGE(n << " unix sockets listening after 200 ms: ready in " << r.seconds
                       << " s, CPU " << r.cpu_seconds << " s");
}

BOOST_AUTO_TEST_CASE(waiting_for_two_thousand_targets_follows_the_schedule)
{
  temp_dir dir;
  std::vector<std::string> args{"--timeout", "1s", "--quiet", "--json"};
  for (int i = 0; i < 1000; ++i)
  {
    args.push_back("file:" + (dir / ("f" + std::to_string(i))));
    args.push_back("unix:" + (dir / ("s" + std::to_string(i))));
  }
  const tool_run r = run_tool(args, within(30s));
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 1);
  // Attempts at 0, 10, 30, 70, 150, 310, 630 and 1000 ms: no busy loop,
  // whatever the machine's speed (the CPU time is only reported: sanitizers
  // multiply it).
  const json::value summary = parse_json(r);
  const json::array& targets = summary.at("targets").as_array();
  BOOST_TEST(targets.size() == 2000u);
  std::int64_t fewest = 1000;
  std::int64_t most = 0;
  for (const json::value& t : targets)
  {
    fewest = std::min(fewest, t.at("attempts").as_int64());
    most = std::max(most, t.at("attempts").as_int64());
  }
  BOOST_TEST(fewest >= 1); // a start slowed down past the deadline still attempts once
  BOOST_TEST(most <= 8);
  BOOST_TEST_MESSAGE("2,000 targets never ready, 1 s: " << fewest << " to " << most
                                                        << " attempts each, CPU " << r.cpu_seconds
                                                        << " s in " << r.seconds << " s");
}

// --- output ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_json_summary_parses_back)
{
  asio::io_context ctx;
  temp_dir dir;
  unix_server server(ctx);
  const tool_run ok =
      run_tool(ctx, {"--json", "--timeout", "5s", "file:" + dir.path, "unix:" + (dir / "s")},
               once_it_says(ctx, "not ready", [&] { server.listen(dir / "s"); }));
  BOOST_TEST_INFO_SCOPE(ok);
  BOOST_TEST(ok.status == 0);
  const json::value v = parse_json(ok);
  BOOST_TEST(v.at("ready").as_bool());
  BOOST_TEST(v.at("outcome").as_string() == "ready");
  BOOST_TEST(v.at("exit_status").as_int64() == 0);
  const double elapsed_ms = v.at("elapsed_ms").to_number<double>();
  BOOST_TEST(elapsed_ms > 0.0);
  const json::array& targets = v.at("targets").as_array();
  BOOST_REQUIRE(targets.size() == 2u);
  BOOST_TEST(targets[0].at("target").as_string() == "file:" + dir.path);
  BOOST_TEST(targets[0].at("kind").as_string() == "file");
  BOOST_TEST(targets[0].at("attempts").as_int64() == 1);
  BOOST_TEST(targets[0].at("last_error").as_string() == "");
  BOOST_TEST(targets[1].at("kind").as_string() == "unix");
  BOOST_TEST(targets[1].at("state").as_string() == "ready");
  BOOST_TEST(targets[1].at("attempts").as_int64() >= 2);
  BOOST_TEST(targets[1].at("elapsed_ms").to_number<double>() > 0.0);
  BOOST_TEST(targets[1].at("elapsed_ms").to_number<double>() <= elapsed_ms);

  const tool_run late = run_tool({"--json", "--timeout", "100ms", "file:/nonexistent"});
  const json::value t = parse_json(late);
  BOOST_TEST(late.status == 1);
  BOOST_TEST(!t.at("ready").as_bool());
  BOOST_TEST(t.at("outcome").as_string() == "timed_out");
  BOOST_TEST(t.at("exit_status").as_int64() == 1);
  const json::value& target = t.at("targets").as_array().at(0);
  BOOST_TEST(target.at("state").as_string() == "timed_out");
  BOOST_TEST(!target.at("ready").as_bool());
  BOOST_TEST(target.at("last_error").as_string() == "No such file or directory");
}

BOOST_AUTO_TEST_CASE(on_a_terminal_the_lines_are_redrawn_in_place)
{
  asio::io_context ctx;
  temp_dir dir;
  unix_server server(ctx);
  // A few frames with the socket missing, then it comes.
  run_options terminal = once_it_says(ctx, "waiting   unix:", [&] {
    after(ctx, 300ms, [&] { server.listen(dir / "s"); });
  });
  terminal.terminal = true;
  const tool_run r = run_tool(
      ctx, {"--timeout", "5s", "unix:" + (dir / "s"), "file:" + dir.path}, terminal);
  BOOST_TEST_INFO_SCOPE(r);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(contains(r.err, "\x1b[2A"));  // back up over the two lines
  BOOST_TEST(count_of(r.err, "\x1b[2K") >= 6u); // each line cleared, in several frames
  BOOST_TEST(contains(r.err, "waiting   unix:"));
  BOOST_TEST(contains(r.err, "No such file or directory"));
  // The last frame: both ready, then the outcome.
  const std::string last = r.err.substr(r.err.rfind("\x1b[2A"));
  BOOST_TEST(count_of(last, "ready     ") == 2u);
  BOOST_TEST(contains(last, "all 2 targets ready after"));
}

BOOST_AUTO_TEST_SUITE_END()
