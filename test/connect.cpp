// Tests for asio_backoff::async_connect with real sockets and processes in
// a private temporary directory. Each is bounded by its deadline; timing
// checks have wide margins (the machine is shared): an early-woken connect
// must come long before the next scheduled attempt would have.

#include <asio_backoff.hpp>
#include <asio_backoff/connect.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <chrono>
#include <cstdlib>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>
#include <optional>
#include <string>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio_backoff::connect_options;
using asio_backoff::outcome;
using asio_backoff::policy;
using boost::system::error_code;
using stream = asio::local::stream_protocol;
using steady = std::chrono::steady_clock;

namespace {

using test_support::temp_dir;

policy seed_policy()
{
  policy p;
  p.initial = 1ms;
  p.timeout = 3000ms;
  return p;
}

double ms(steady::duration d)
{
  return std::chrono::duration<double, std::milli>(d).count();
}

// Runs `f` on ctx after `d`.
void after(asio::io_context& ctx, steady::duration d, std::function<void()> f)
{
  auto timer = std::make_shared<asio::steady_timer>(ctx, d);
  timer->async_wait([timer, f = std::move(f)](error_code) { f(); });
}

struct result
{
  std::optional<error_code> ec;
  steady::time_point at;
};

auto recorder(result& r)
{
  return [&r](error_code ec) {
    r.ec = ec;
    r.at = steady::now();
  };
}

} // namespace

BOOST_AUTO_TEST_SUITE(async_connect)

BOOST_AUTO_TEST_CASE(the_classifier_retries_only_what_may_cure_itself)
{
  namespace errc = boost::system::errc;
  using asio_backoff::is_transient_connect_error;
  for (errc::errc_t e : {errc::no_such_file_or_directory, errc::connection_refused,
                         errc::resource_unavailable_try_again, errc::timed_out,
                         errc::host_unreachable, errc::network_unreachable})
    BOOST_TEST(is_transient_connect_error(make_error_code(e)), make_error_code(e).message());
  BOOST_TEST(is_transient_connect_error(asio::error::timed_out));
  BOOST_TEST(is_transient_connect_error(asio::error::connection_refused));
  for (errc::errc_t e : {errc::permission_denied, errc::not_a_socket, errc::filename_too_long,
                         errc::address_not_available, errc::not_a_directory,
                         errc::address_family_not_supported})
    BOOST_TEST(!is_transient_connect_error(make_error_code(e)), make_error_code(e).message());
  BOOST_TEST(!is_transient_connect_error(error_code()));
}

BOOST_AUTO_TEST_CASE(a_unix_socket_that_appears_late_is_connected_at_once_with_the_wake)
{
  temp_dir dir;
  const std::string path = dir.path + "/server.sock";
  for (bool early_wake : {true, false})
  {
    ::unlink(path.c_str());
    asio::io_context ctx;
    stream::acceptor acceptor(ctx);
    stream::socket socket(ctx);
    steady::time_point bound_at;
    // Bound at 300 ms; the seed's schedule tries at 255 and 511 ms.
    after(ctx, 300ms, [&] {
      acceptor = stream::acceptor(ctx, stream::endpoint(path));
      bound_at = steady::now();
    });
    result r;
    connect_options options;
    options.early_wake = early_wake;
    outcome report;
    options.report = &report;
    const steady::time_point start = steady::now();
    asio_backoff::async_connect(socket, stream::endpoint(path), seed_policy(), options,
                                recorder(r));
    ctx.run_for(10s);
    BOOST_REQUIRE(r.ec.has_value());
    BOOST_TEST(!r.ec->failed(), r.ec->message());
    BOOST_TEST(socket.is_open());
    BOOST_TEST(report.last_error == error_code());
    BOOST_TEST_MESSAGE("early wake " << early_wake << ": connected " << ms(r.at - bound_at)
                                     << " ms after the socket appeared");
    if (early_wake)
      BOOST_TEST(ms(r.at - bound_at) < 150.0); // not at 511 ms: typically 0.1 ms
    else
      BOOST_TEST(ms(r.at - start) >= 511.0); // the scheduled attempt
  }
}

BOOST_AUTO_TEST_CASE(a_socket_that_never_appears_times_out_at_the_deadline)
{
  temp_dir dir;
  asio::io_context ctx;
  stream::socket socket(ctx);
  policy p = seed_policy();
  p.timeout = 200ms;
  outcome report;
  connect_options options;
  options.report = &report;
  result r;
  const steady::time_point start = steady::now();
  asio_backoff::async_connect(socket, stream::endpoint(dir.path + "/never.sock"), p, options,
                              recorder(r));
  ctx.run_for(10s); // returns early: nothing is left pending
  BOOST_REQUIRE(r.ec.has_value());
  BOOST_TEST(*r.ec == asio::error::timed_out);
  BOOST_TEST(report.last_error == boost::system::errc::no_such_file_or_directory);
  BOOST_TEST(ms(r.at - start) >= 200.0);
  BOOST_TEST(ms(r.at - start) < 2000.0);
  BOOST_TEST(ctx.stopped()); // the directory watch left no work behind
}

BOOST_AUTO_TEST_CASE(permission_denied_fails_fast)
{
  temp_dir dir;
  const std::string path = dir.path + "/private.sock";
  asio::io_context server_ctx;
  stream::acceptor acceptor(server_ctx, stream::endpoint(path));
  BOOST_REQUIRE(::chmod(path.c_str(), 0) == 0);
  BOOST_REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
  // Connecting needs write permission on the socket file, which root always
  // has: the connect runs in a child process without privileges.
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0)
  {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(10);
    asio::io_context ctx;
    stream::socket socket(ctx);
    outcome report;
    connect_options options;
    options.report = &report;
    std::optional<error_code> ec;
    const steady::time_point start = steady::now();
    asio_backoff::async_connect(socket, stream::endpoint(path), seed_policy(), options,
                                [&](error_code e) { ec = e; });
    ctx.run_for(10s);
    if (!ec || *ec != boost::system::errc::permission_denied)
      ::_exit(11);
    // The third denial in a row is final (a server may chmod after bind).
    if (report.attempts != 3 || ms(steady::now() - start) > 1000.0)
      ::_exit(12);
    ::_exit(0);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0); // 10: no setuid, 11: wrong error, 12: retried too long
}

BOOST_AUTO_TEST_CASE(the_child_exits_and_the_operation_ends_at_once_with_its_status)
{
  temp_dir dir;
  for (bool already_dead : {false, true})
  {
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0)
    {
      ::usleep(already_dead ? 0 : 100'000);
      ::_exit(7);
    }
    if (already_dead)
    {
      siginfo_t info{};
      ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT); // a zombie now
    }
    asio::io_context ctx;
    stream::socket socket(ctx);
    asio_backoff::child_watch child(ctx.get_executor(), pid);
    connect_options options;
    options.child = &child;
    outcome report;
    options.report = &report;
    result r;
    const steady::time_point start = steady::now();
    asio_backoff::async_connect(socket, stream::endpoint(dir.path + "/child.sock"), seed_policy(),
                                options, recorder(r));
    ctx.run_for(10s);
    BOOST_REQUIRE(r.ec.has_value());
    BOOST_TEST(*r.ec == asio_backoff::error::child_exited);
    BOOST_TEST((child.status().how == asio_backoff::exit_status::kind::exited));
    BOOST_TEST(child.status().value == 7);
    BOOST_TEST(ms(r.at - start) < 1000.0); // not the 3 s deadline
    BOOST_TEST(ctx.stopped()); // the wait on the child was cancelled
    int status = 0;
    BOOST_TEST(::waitpid(pid, &status, 0) == pid); // not reaped by the watch
    BOOST_TEST(WEXITSTATUS(status) == 7);
  }
}

BOOST_AUTO_TEST_CASE(the_childs_exit_stops_a_tcp_connect_in_flight_and_only_our_wait)
{
  asio::io_context ctx;
  // A listener whose accept queue is full: the kernel drops further SYNs, so
  // a connect stays in flight, as with a black-holed peer.
  asio::ip::tcp::acceptor acceptor(ctx);
  acceptor.open(asio::ip::tcp::v4());
  acceptor.bind({asio::ip::address_v4::loopback(), 0});
  acceptor.listen(0);
  const asio::ip::tcp::endpoint endpoint = acceptor.local_endpoint();
  // Raw non-blocking connects: Asio's synchronous connect would wait for
  // the handshake whatever the socket's mode, here for minutes.
  std::vector<asio::ip::tcp::socket> fillers;
  for (int i = 0; i < 3; ++i)
  {
    fillers.emplace_back(ctx);
    fillers.back().open(asio::ip::tcp::v4());
    fillers.back().native_non_blocking(true);
    ::connect(fillers.back().native_handle(), endpoint.data(),
              static_cast<socklen_t>(endpoint.size()));
  }
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0)
  {
    ::usleep(100'000);
    ::_exit(7);
  }
  asio_backoff::child_watch child(ctx.get_executor(), pid);
  std::optional<error_code> own_wait; // someone else waiting on the same child
  child.async_wait([&](error_code ec) { own_wait = ec; });
  connect_options options;
  options.child = &child;
  asio::ip::tcp::socket socket(ctx);
  result r;
  const steady::time_point start = steady::now();
  asio_backoff::async_connect(socket, endpoint, seed_policy(), options, recorder(r));
  ctx.run_for(10s);
  BOOST_REQUIRE(r.ec.has_value());
  BOOST_TEST(*r.ec == asio_backoff::error::child_exited);
  BOOST_TEST(ms(r.at - start) < 1000.0); // not the 3 s deadline, nor the SYN retries
  BOOST_REQUIRE(own_wait.has_value());
  BOOST_TEST(!own_wait->failed()); // completed by the exit, not cancelled by the connect
  int status = 0;
  BOOST_TEST(::waitpid(pid, &status, 0) == pid);
}

BOOST_AUTO_TEST_CASE(wakes_and_attempts_never_race_on_a_thread_pool)
{
  // Two threads run the io_context and the handlers have no strand: the
  // operation makes its own, since directory events arrive on any thread.
  temp_dir dir;
  asio::io_context ctx;
  constexpr int count = 40;
  std::vector<stream::socket> sockets;
  std::vector<stream::acceptor> acceptors;
  for (int i = 0; i < count; ++i)
  {
    sockets.emplace_back(ctx);
    acceptors.emplace_back(ctx);
  }
  std::atomic<int> connected{0};
  policy p = seed_policy();
  p.initial = 100us;
  for (int i = 0; i < count; ++i)
    asio_backoff::async_connect(sockets[i], stream::endpoint(dir / (std::to_string(i) + ".sock")),
                                p, [&](error_code ec) {
                                  if (!ec)
                                    ++connected;
                                });
  std::thread listeners([&] {
    for (int i = 0; i < count; ++i)
    {
      acceptors[i].open(stream());
      acceptors[i].bind(stream::endpoint(dir / (std::to_string(i) + ".sock")));
      acceptors[i].listen();
      std::this_thread::sleep_for(1ms);
    }
  });
  std::thread second([&] { ctx.run_for(20s); });
  ctx.run_for(20s);
  second.join();
  listeners.join();
  BOOST_TEST(connected.load() == count);
}

BOOST_AUTO_TEST_CASE(a_directory_created_late_is_watched_from_then_on)
{
  temp_dir dir;
  const std::string sub = dir.path + "/run";
  const std::string path = sub + "/late.sock";
  asio::io_context ctx;
  stream::acceptor acceptor(ctx);
  stream::socket socket(ctx);
  steady::time_point bound_at;
  after(ctx, 100ms, [&] { BOOST_REQUIRE(::mkdir(sub.c_str(), 0755) == 0); });
  after(ctx, 300ms, [&] {
    acceptor = stream::acceptor(ctx, stream::endpoint(path));
    bound_at = steady::now();
  });
  result r;
  asio_backoff::async_connect(socket, stream::endpoint(path), seed_policy(), recorder(r));
  ctx.run_for(10s);
  BOOST_REQUIRE(r.ec.has_value());
  BOOST_TEST(!r.ec->failed(), r.ec->message());
  BOOST_TEST(ms(r.at - bound_at) < 150.0); // woken: the next attempt was at 511 ms
}

BOOST_AUTO_TEST_CASE(a_server_that_binds_before_it_listens)
{
  temp_dir dir;
  const std::string path = dir.path + "/slow.sock";
  for (steady::duration gap : {steady::duration(5ms), steady::duration(400ms)})
  {
    ::unlink(path.c_str());
    asio::io_context ctx;
    stream::acceptor acceptor(ctx);
    stream::socket socket(ctx);
    steady::time_point listening_at;
    after(ctx, 300ms, [&, gap] {
      acceptor.open(stream());
      acceptor.bind(stream::endpoint(path)); // the file appears: a wake, refused
      after(ctx, gap, [&] {
        acceptor.listen();
        listening_at = steady::now();
      });
    });
    result r;
    outcome report;
    connect_options options;
    options.report = &report;
    asio_backoff::async_connect(socket, stream::endpoint(path), seed_policy(), options,
                                recorder(r));
    ctx.run_for(10s);
    BOOST_REQUIRE(r.ec.has_value());
    BOOST_TEST(!r.ec->failed(), r.ec->message());
    BOOST_TEST_MESSAGE("listen " << ms(gap) << " ms after bind: connected "
                                 << ms(r.at - listening_at) << " ms after listen, attempt "
                                 << report.attempts);
    if (gap == steady::duration(5ms))
      BOOST_TEST(ms(r.at - listening_at) < 100.0); // the fast lane, not the 511 ms attempt
  }
}

BOOST_AUTO_TEST_CASE(tcp_to_a_port_that_starts_listening_late)
{
  asio::io_context ctx;
  asio::ip::tcp::endpoint endpoint;
  {
    asio::ip::tcp::acceptor probe(ctx, {asio::ip::address_v4::loopback(), 0});
    endpoint = probe.local_endpoint(); // a free port, closed again
  }
  asio::ip::tcp::acceptor acceptor(ctx);
  after(ctx, 200ms, [&] {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
  });
  asio::ip::tcp::socket socket(ctx);
  policy p = seed_policy();
  p.attempt_timeout = 1s;
  outcome report;
  connect_options options;
  options.report = &report;
  result r;
  asio_backoff::async_connect(socket, endpoint, p, options, recorder(r));
  ctx.run_for(10s);
  BOOST_REQUIRE(r.ec.has_value());
  BOOST_TEST(!r.ec->failed(), r.ec->message());
  BOOST_TEST(report.attempts >= 2u);
  BOOST_TEST(socket.remote_endpoint() == endpoint);
}

BOOST_AUTO_TEST_CASE(cancellation_and_a_destroyed_io_context_leave_nothing_behind)
{
  temp_dir dir;
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0)
  {
    ::pause();
    ::_exit(0);
  }
  {
    asio::io_context ctx;
    stream::socket socket(ctx);
    asio_backoff::child_watch child(ctx.get_executor(), pid);
    connect_options options;
    options.child = &child;
    asio::cancellation_signal cancel;
    result r;
    asio_backoff::async_connect(socket, stream::endpoint(dir.path + "/x.sock"), seed_policy(),
                                options, asio::bind_cancellation_slot(cancel.slot(), recorder(r)));
    after(ctx, 50ms, [&] { cancel.emit(asio::cancellation_type::terminal); });
    ctx.run_for(10s);
    BOOST_REQUIRE(r.ec.has_value());
    BOOST_TEST(*r.ec == asio::error::operation_aborted);
    BOOST_TEST(ctx.stopped()); // no watch, no wait on the child left
  }
  {
    asio::io_context ctx;
    stream::socket socket(ctx);
    asio_backoff::child_watch child(ctx.get_executor(), pid);
    connect_options options;
    options.child = &child;
    result r;
    asio_backoff::async_connect(socket, stream::endpoint(dir.path + "/x.sock"), seed_policy(),
                                options, recorder(r));
    ctx.run_for(20ms);
    BOOST_TEST(!r.ec.has_value());
  } // destroyed pending: the handler is destroyed unrun, nothing leaks (ASan)
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

BOOST_AUTO_TEST_CASE(an_abstract_socket_is_plain_backoff)
{
  asio::io_context ctx;
  const std::string name = std::string(1, '\0') + "asio-backoff-test-" + std::to_string(::getpid());
  stream::acceptor acceptor(ctx);
  after(ctx, 50ms, [&] { acceptor = stream::acceptor(ctx, stream::endpoint(name)); });
  stream::socket socket(ctx);
  result r;
  asio_backoff::async_connect(socket, stream::endpoint(name), seed_policy(), recorder(r));
  ctx.run_for(10s);
  BOOST_REQUIRE(r.ec.has_value());
  BOOST_TEST(!r.ec->failed(), r.ec->message());
}

BOOST_AUTO_TEST_SUITE_END()
