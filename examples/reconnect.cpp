// Keeping a connection alive across server restarts, with a peer that flaps.
//
// The server (in this program, on a unix socket) serves one healthy
// connection, restarts, then accepts and drops three connections at once
// (flapping), restarts again and says goodbye. The client reconnects with
// asio_backoff::reconnect_backoff: after the healthy connection it starts
// again from `initial`; each short-lived connection makes the next
// reconnection wait longer instead of hammering the peer.

#include <asio_backoff.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace asio = boost::asio;
using asio::local::stream_protocol;
using boost::system::error_code;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point start = clock_type::now();

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double now_ms() { return ms(clock_type::now() - start); }

asio::awaitable<void> pause(clock_type::duration d)
{
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<void> server(std::string path)
{
  auto ex = co_await asio::this_coro::executor;
  {
    stream_protocol::acceptor acceptor(ex, stream_protocol::endpoint(path));
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    co_await pause(600ms); // a healthy connection
    std::printf("%7.1f ms  server: restarting\n", now_ms());
  }
  ::unlink(path.c_str());
  co_await pause(300ms);
  {
    stream_protocol::acceptor acceptor(ex, stream_protocol::endpoint(path));
    for (int i = 0; i < 3; ++i)
    {
      auto peer = co_await acceptor.async_accept(asio::use_awaitable);
      std::printf("%7.1f ms  server: accepts and drops a connection\n", now_ms());
    }
  }
  ::unlink(path.c_str());
  co_await pause(200ms);
  stream_protocol::acceptor acceptor(ex, stream_protocol::endpoint(path));
  auto peer = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(peer, asio::buffer("bye\n", 4), asio::use_awaitable);
  ::unlink(path.c_str());
}

asio::awaitable<int> client(std::string path)
{
  auto ex = co_await asio::this_coro::executor;
  stream_protocol::socket socket(ex);

  asio_backoff::policy policy;
  policy.initial = 10ms;
  policy.max_delay = 400ms;
  policy.timeout = 5s; // for each reconnection
  policy.immediate_first_attempt = true;
  asio_backoff::reconnect_backoff backoff(policy, 300ms);

  for (;;)
  {
    const asio_backoff::policy next = backoff.next_policy();
    std::printf("%7.1f ms  client: connecting: %s\n", now_ms(),
                asio_backoff::describe(next, 4).c_str());
    asio_backoff::outcome report;
    auto [ec] = co_await asio_backoff::async_backoff(
        ex, next,
        [&] {
          socket.close();
          return socket.async_connect(stream_protocol::endpoint(path), asio::deferred);
        },
        report, asio::as_tuple(asio::use_awaitable));
    std::printf("%7.1f ms  client: connect %s\n", now_ms(), report.message().c_str());
    if (ec)
      co_return 1;

    const clock_type::time_point connected = clock_type::now();
    std::string line;
    auto [read_ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(line), '\n',
                                                        asio::as_tuple(asio::use_awaitable));
    if (!read_ec && line == "bye\n")
    {
      std::printf("%7.1f ms  client: server said bye\n", now_ms());
      co_return 0;
    }
    const clock_type::duration lived = clock_type::now() - connected;
    backoff.connection_lost(lived);
    std::printf("%7.1f ms  client: connection lost after %.1f ms (%zu short-lived in a row)\n",
                now_ms(), ms(lived), backoff.short_lived_connections());
  }
}

} // namespace

int main()
{
  char dir[] = "/tmp/asio-backoff-reconnect-XXXXXX";
  if (!::mkdtemp(dir))
  {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string path = std::string(dir) + "/server.sock";

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, server(path), asio::detached);
  asio::co_spawn(ctx, client(path), [&](std::exception_ptr e, int s) { status = e ? 1 : s; });
  ctx.run();

  ::unlink(path.c_str());
  ::rmdir(dir);
  return status;
}
