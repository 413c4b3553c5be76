// C++20 coroutines: co_await a connect that is retried with exponential
// backoff until a unix-socket server, started late, answers; then talk to it.

#include <asio_backoff.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace asio = boost::asio;
using asio::local::stream_protocol;
using boost::system::error_code;
using namespace std::chrono_literals;

// A server that creates its socket only after 500 ms, then answers one line.
asio::awaitable<void> late_server(std::string path)
{
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer delay(ex, 500ms);
  co_await delay.async_wait(asio::use_awaitable);
  stream_protocol::acceptor acceptor(ex, stream_protocol::endpoint(path));
  stream_protocol::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
  std::string line;
  co_await asio::async_read_until(peer, asio::dynamic_buffer(line), '\n', asio::use_awaitable);
  co_await asio::async_write(peer, asio::buffer("pong\n", 5), asio::use_awaitable);
}

asio::awaitable<int> client(std::string path)
{
  auto ex = co_await asio::this_coro::executor;
  stream_protocol::socket socket(ex);

  asio_backoff::policy policy;
  policy.initial = 1ms; // libvirt's monitor socket wait: 1 ms, doubling, 3 s
  policy.timeout = 3s;

  asio_backoff::outcome report;
  auto [ec] = co_await asio_backoff::async_backoff(
      ex, policy,
      [&] {
        socket.close();
        return socket.async_connect(stream_protocol::endpoint(path), asio::deferred);
      },
      report, asio::as_tuple(asio::use_awaitable));
  std::printf("connect %s\n", report.message().c_str());
  if (ec)
    co_return 1;

  co_await asio::async_write(socket, asio::buffer("ping\n", 5), asio::use_awaitable);
  std::string reply;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(reply), '\n', asio::use_awaitable);
  std::printf("server said: %s", reply.c_str());
  co_return 0;
}

int main()
{
  char dir[] = "/tmp/asio-backoff-example-XXXXXX";
  if (!::mkdtemp(dir))
  {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string path = std::string(dir) + "/server.sock";

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, late_server(path), asio::detached);
  asio::co_spawn(ctx, client(path), [&](std::exception_ptr e, int s) {
    status = e ? 1 : s;
  });
  ctx.run();

  ::unlink(path.c_str());
  ::rmdir(dir);
  return status;
}
