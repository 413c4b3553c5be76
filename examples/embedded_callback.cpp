// An application with an io_context of its own: a heartbeat ticks every
// 100 ms while a client waits, with exponential backoff, for a server that
// starts listening 700 ms late. Nothing blocks: one thread does it all.

#include <asio_backoff.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

int main()
{
  asio::io_context ctx;
  const auto start = std::chrono::steady_clock::now();
  auto ms = [start] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };

  // The server's port is bound now but listened on only later: until then a
  // connect is refused, as with a child process that is still starting.
  tcp::acceptor acceptor(ctx);
  acceptor.open(tcp::v4());
  acceptor.bind({asio::ip::address_v4::loopback(), 0});
  const tcp::endpoint endpoint = acceptor.local_endpoint();
  tcp::socket accepted(ctx);
  asio::steady_timer server_start(ctx, 700ms);
  server_start.async_wait([&](error_code) {
    std::printf("%7.1f ms  server listens\n", ms());
    acceptor.listen();
    acceptor.async_accept(accepted, [](error_code) {});
  });

  // Other work of the application goes on meanwhile.
  asio::steady_timer heartbeat(ctx);
  int beats = 0;
  auto beat = [&](auto& self) -> void {
    heartbeat.expires_after(100ms);
    heartbeat.async_wait([&, self](error_code ec) {
      if (ec)
        return;
      ++beats;
      self(self);
    });
  };
  beat(beat);

  // The retry: connect, wait 10 ms, 20 ms, ... at most 160 ms, for 5 s.
  asio_backoff::policy policy;
  policy.initial = 10ms;
  policy.max_delay = 160ms;
  policy.timeout = 5s;
  policy.immediate_first_attempt = true;

  tcp::socket socket(ctx);
  asio_backoff::outcome report;
  error_code result;
  asio_backoff::async_backoff(
      ctx, policy,
      [&] {
        std::printf("%7.1f ms  connect attempt\n", ms());
        socket.close(); // a refused socket is not reused
        return socket.async_connect(endpoint, asio::deferred);
      },
      report,
      [&](error_code ec) {
        result = ec;
        std::printf("%7.1f ms  %s\n", ms(), report.message().c_str());
        heartbeat.cancel();
      });

  ctx.run();
  std::printf("heartbeats while waiting: %d\n", beats);
  return result ? 1 : 0;
}
