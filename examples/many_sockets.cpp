// One thread waits for many unix sockets at once.
//
//   example_many_sockets [COUNT [SPREAD_MS]]     default: 10000 sockets, 2000 ms
//
// A second thread brings COUNT listeners up at random times within SPREAD_MS
// (bind, then listen, as servers do). The main thread connects to all of
// them with asio_backoff::async_connect on one io_context: every operation
// waits on its own timer, and all of them share one inotify descriptor,
// which wakes an operation as soon as its socket file appears. It prints
// the CPU time the waiting thread used and the delay between a listener's
// socket appearing and its connect completing.

#include <asio_backoff.hpp>
#include <asio_backoff/connect.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using stream = asio::local::stream_protocol;
using steady = std::chrono::steady_clock;

namespace {

double thread_cpu_seconds()
{
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Each listener and each client is a descriptor.
void raise_descriptor_limit(std::size_t needed)
{
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed)
  {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, needed);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Binds and listens on `path` the way a server does; returns the time its
// socket file appeared (at bind), or nothing if that failed.
int listen_on(const std::string& path, steady::time_point& appeared)
{
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof address.sun_path - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
  {
    std::perror("bind");
    std::exit(1);
  }
  appeared = steady::now();
  ::listen(fd, 4);
  return fd;
}

double percentile(std::vector<double> values, double p)
{
  std::sort(values.begin(), values.end());
  const std::size_t i = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

} // namespace

int main(int argc, char* argv[])
{
  const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  const long spread_ms = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 2000;
  if (count == 0 || spread_ms <= 0)
  {
    std::fprintf(stderr, "usage: example_many_sockets [COUNT [SPREAD_MS]]\n");
    return 2;
  }
  raise_descriptor_limit(count + 1024);
  // On tmpfs where there is one: creating a socket file there takes ~15 us,
  // on this machine's ext4 /tmp ~0.7 ms, which would pace the listeners.
  std::string dir;
  for (std::string base : {"/dev/shm", "/tmp"})
  {
    std::string name = base + "/asio-backoff-many-XXXXXX";
    if (::mkdtemp(name.data()))
    {
      dir = name;
      break;
    }
  }
  if (dir.empty())
  {
    std::perror("mkdtemp");
    return 1;
  }
  auto path_of = [&](std::size_t i) { return dir + "/" + std::to_string(i) + ".sock"; };

  // When each listener comes up: random, within the spread.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<long> at_us(0, spread_ms * 1000);
  std::vector<std::pair<long, std::size_t>> plan;
  for (std::size_t i = 0; i < count; ++i)
    plan.emplace_back(at_us(random), i);
  std::sort(plan.begin(), plan.end());

  asio::io_context ctx;
  std::vector<stream::socket> clients;
  clients.reserve(count);
  std::vector<steady::time_point> connected(count);
  std::vector<steady::time_point> appeared(count);
  std::vector<int> listeners(count, -1);
  std::vector<asio_backoff::outcome> reports(count);
  std::size_t failures = 0;

  asio_backoff::policy p; // the seed's schedule, with room for the slowest
  p.initial = 1ms;
  p.timeout = std::chrono::milliseconds(spread_ms) + 5s;

  const steady::time_point start = steady::now();
  const double cpu_before = thread_cpu_seconds();
  for (std::size_t i = 0; i < count; ++i)
  {
    clients.emplace_back(ctx);
    asio_backoff::connect_options options;
    options.report = &reports[i];
    asio_backoff::async_connect(clients[i], stream::endpoint(path_of(i)), p, options,
                                [&, i](boost::system::error_code ec) {
                                  connected[i] = steady::now();
                                  // Done with it: the descriptor is free for
                                  // the next listener (the limit is often 20k).
                                  clients[i].close();
                                  if (ec && ++failures <= 5) // a few examples suffice
                                    std::fprintf(stderr, "socket %zu: %s\n", i,
                                                 reports[i].message().c_str());
                                });
  }

  std::thread servers([&] {
    for (const auto& [us, i] : plan)
    {
      std::this_thread::sleep_until(start + std::chrono::microseconds(us));
      listeners[i] = listen_on(path_of(i), appeared[i]);
    }
  });
  ctx.run();
  const double cpu = thread_cpu_seconds() - cpu_before;
  servers.join();

  std::vector<double> delays_ms;
  for (std::size_t i = 0; i < count; ++i)
    delays_ms.push_back(std::chrono::duration<double, std::milli>(connected[i] - appeared[i]).count());
  std::printf("%zu sockets up at random times within %ld ms, one thread waiting: "
              "%zu connected, %zu failed\n",
              count, spread_ms, count - failures, failures);
  const steady::time_point last_up = *std::max_element(appeared.begin(), appeared.end());
  std::printf("the last listener came up %.0f ms after the start\n",
              std::chrono::duration<double, std::milli>(last_up - start).count());
  std::printf("CPU time of the waiting thread: %.3f s (%.1f us per socket)\n", cpu,
              cpu * 1e6 / static_cast<double>(count));
  std::printf("socket appeared -> connected: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              percentile(delays_ms, 0.50), percentile(delays_ms, 0.99),
              percentile(delays_ms, 1.0));

  for (std::size_t i = 0; i < count; ++i)
  {
    ::close(listeners[i]);
    ::unlink(path_of(i).c_str());
  }
  ::rmdir(dir.c_str());
  return failures == 0 ? 0 : 1;
}
