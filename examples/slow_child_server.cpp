// The child of examples/slow_child: a server that is slow to start.
//
//   example_slow_child_server SOCKET_PATH DELAY_MS [crash]
//
// Sleeps DELAY_MS, then binds and listens on the unix socket SOCKET_PATH,
// answers one request with the times (steady clock, shared by all
// processes) at which it bound and listened, and exits. With "crash", it
// aborts instead of binding, after writing the time to SOCKET_PATH.crashed.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <unistd.h>

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

static long long steady_ns()
{
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int main(int argc, char* argv[])
{
  if (argc < 3)
  {
    std::cerr << "usage: example_slow_child_server SOCKET_PATH DELAY_MS [crash]\n";
    return 2;
  }
  const std::string path = argv[1];
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(argv[2])));
  if (argc > 3 && std::string(argv[3]) == "crash")
  {
    std::ofstream(path + ".crashed") << steady_ns() << '\n';
    std::abort();
  }

  asio::io_context ctx;
  stream::acceptor acceptor(ctx);
  acceptor.open(stream());
  acceptor.bind(stream::endpoint(path)); // the socket file appears here
  const long long bound_at = steady_ns();
  acceptor.listen();
  const long long listening_at = steady_ns();

  stream::socket peer = acceptor.accept();
  asio::streambuf request;
  asio::read_until(peer, request, '\n');
  const std::string reply = "bound_at=" + std::to_string(bound_at) +
                            " listening_at=" + std::to_string(listening_at) + "\n";
  asio::write(peer, asio::buffer(reply));
  ::unlink(path.c_str());
}
