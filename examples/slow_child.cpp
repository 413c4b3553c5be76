// The case libvirt's backoff loop exists for: start a child process, wait
// for it to create its unix socket, talk to it; give up at once if it dies.
//
//   example_slow_child              two scenarios: a slow child, a crashing child
//   example_slow_child --measure N  N runs with and without the early wake:
//                                   "socket file appears -> connected", and
//                                   "child exits -> operation completes"
//
// The child (example_slow_child_server, next to this program) binds its
// socket after a random 0.2-2 s. The parent connects with the seed's policy
// (first wait 1 ms, doubling, 3 s deadline) and prints its attempts. The
// socket's directory is watched (inotify): when the file appears, the
// connect follows at once instead of up to one backoff interval later.

#include <asio_backoff.hpp>
#include <asio_backoff/connect.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace asio = boost::asio;
using namespace std::chrono_literals;
using stream = asio::local::stream_protocol;
using steady = std::chrono::steady_clock;

namespace {

double ms_between(steady::time_point from, steady::time_point to)
{
  return std::chrono::duration<double, std::milli>(to - from).count();
}

steady::time_point from_ns(long long ns)
{
  return steady::time_point(std::chrono::nanoseconds(ns));
}

std::string server_program()
{
  std::vector<char> self(4096);
  const ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
  std::string dir = n > 0 ? std::string(self.data(), static_cast<std::size_t>(n)) : ".";
  return dir.substr(0, dir.rfind('/')) + "/example_slow_child_server";
}

pid_t spawn(const std::vector<std::string>& args)
{
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (const int e = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ))
  {
    std::fprintf(stderr, "cannot start %s: %s\n", argv[0], std::strerror(e));
    std::exit(1);
  }
  return pid;
}

struct run_result
{
  boost::system::error_code ec;
  steady::time_point started, completed;
  long long bound_at = 0, crashed_at = 0; // the child's steady clock, ns
  asio_backoff::outcome report;
  asio_backoff::exit_status status;
  std::vector<asio_backoff::retry_info> timeline;
  std::string reply;
};

run_result run_once(const std::string& dir, int delay_ms, bool crash, bool early_wake)
{
  const std::string path = dir + "/control.sock";
  ::unlink(path.c_str());
  run_result r;
  asio::io_context ctx;
  stream::socket socket(ctx);

  std::vector<std::string> args{server_program(), path, std::to_string(delay_ms)};
  if (crash)
    args.push_back("crash");
  r.started = steady::now();
  const pid_t pid = spawn(args);
  asio_backoff::child_watch child(ctx.get_executor(), pid);

  asio_backoff::policy p; // virTimeBackOffStart(&t, 1, 3000)
  p.initial = 1ms;
  p.timeout = 3000ms;
  asio_backoff::connect_options options;
  options.early_wake = early_wake;
  options.child = &child;
  options.report = &r.report;
  options.on_retry = [&](const asio_backoff::retry_info& info) { r.timeline.push_back(info); };
  asio_backoff::async_connect(socket, stream::endpoint(path), p, options,
                              [&](boost::system::error_code ec) {
                                r.completed = steady::now();
                                r.ec = ec;
                              });
  ctx.run();
  r.status = child.status();

  if (!r.ec)
  {
    asio::write(socket, asio::buffer(std::string("hello\n")));
    std::string reply;
    asio::read_until(socket, asio::dynamic_buffer(reply), '\n');
    r.reply = reply.substr(0, reply.size() - 1);
    std::sscanf(r.reply.c_str(), "bound_at=%lld", &r.bound_at);
  }
  if (crash)
    std::ifstream(path + ".crashed") >> r.crashed_at;
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  return r;
}

void print_timeline(const run_result& r)
{
  for (const asio_backoff::retry_info& info : r.timeline)
    std::printf("  attempt %2zu failed at %8.3f ms: %s; next in %s\n", info.attempt,
                std::chrono::duration<double, std::milli>(info.elapsed).count(),
                info.error.message().c_str(), asio_backoff::format_duration(info.delay).c_str());
}

double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int measure(const std::string& dir, int runs)
{
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay(200, 2000);
  for (bool early_wake : {true, false})
  {
    std::vector<double> appear_to_connect, exit_to_complete;
    for (int i = 0; i < runs; ++i)
    {
      const run_result ok = run_once(dir, delay(random), false, early_wake);
      if (ok.ec)
      {
        std::printf("run %d failed: %s\n", i, ok.report.message().c_str());
        return 1;
      }
      appear_to_connect.push_back(ms_between(from_ns(ok.bound_at), ok.completed));
      const run_result crashed = run_once(dir, 100 + delay(random) / 4, true, early_wake);
      exit_to_complete.push_back(ms_between(from_ns(crashed.crashed_at), crashed.completed));
    }
    std::printf("early wake %-3s  socket appears -> connected: median %8.3f ms, worst %8.3f ms"
                "  |  child exits -> completed: median %7.3f ms, worst %7.3f ms  (%d runs)\n",
                early_wake ? "on" : "off", median(appear_to_connect),
                *std::max_element(appear_to_connect.begin(), appear_to_connect.end()),
                median(exit_to_complete),
                *std::max_element(exit_to_complete.begin(), exit_to_complete.end()), runs);
  }
  return 0;
}

} // namespace

int main(int argc, char* argv[])
{
  char dir_template[] = "/tmp/asio-backoff-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (!dir)
  {
    std::perror("mkdtemp");
    return 1;
  }
  int status = 0;
  if (argc == 3 && std::string(argv[1]) == "--measure")
  {
    status = measure(dir, std::max(1, std::atoi(argv[2])));
  }
  else
  {
    std::mt19937 random(std::random_device{}());
    const int delay_ms = std::uniform_int_distribution<int>(200, 2000)(random);

    std::printf("1. The child binds %s/control.sock after %d ms.\n", dir, delay_ms);
    const run_result ok = run_once(dir, delay_ms, false, true);
    print_timeline(ok);
    if (ok.ec)
    {
      std::printf("  failed: %s\n", ok.report.message().c_str());
      status = 1;
    }
    else
    {
      std::printf("  attempt %2zu connected at %8.3f ms, %.3f ms after the socket file "
                  "appeared\n  the child answered: %s\n",
                  ok.report.attempts, ms_between(ok.started, ok.completed),
                  ms_between(from_ns(ok.bound_at), ok.completed), ok.reply.c_str());
    }

    std::printf("\n2. The child crashes after 300 ms, before it binds.\n");
    const run_result crashed = run_once(dir, 300, true, true);
    print_timeline(crashed);
    std::printf("  %s at %.3f ms (%s), %.3f ms after the crash\n",
                crashed.ec.message().c_str(), ms_between(crashed.started, crashed.completed),
                crashed.status.to_string().c_str(),
                ms_between(from_ns(crashed.crashed_at), crashed.completed));
    if (crashed.ec != asio_backoff::error::child_exited)
      status = 1;
  }
  const std::string d = dir;
  ::unlink((d + "/control.sock").c_str());
  ::unlink((d + "/control.sock.crashed").c_str());
  ::rmdir(dir);
  return status;
}
