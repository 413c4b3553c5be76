// backoff-wait: waits until every target is ready, then runs a command.
// This file wires the parts together and decides the exit status.

#include "display.hpp"
#include "json_report.hpp"
#include "options.hpp"
#include "probe.hpp"
#include "status.hpp"
#include "target_wait.hpp"
#include "text.hpp"

#include <asio_backoff/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace backoff_wait {

namespace {

using steady = std::chrono::steady_clock;

// What the program changes in its process for the wait, and gives back to
// the command it runs: the open-files limit (thousands of targets connect
// at once) and SIGPIPE (a closed stderr must not kill the wait).
class process_settings
{
public:
  process_settings()
  {
    if (::getrlimit(RLIMIT_NOFILE, &files_) == 0 && files_.rlim_cur < files_.rlim_max)
    {
      rlimit raised = files_;
      raised.rlim_cur = raised.rlim_max;
      raised_files_ = ::setrlimit(RLIMIT_NOFILE, &raised) == 0;
    }
    struct sigaction ignore{};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    saved_pipe_ = ::sigaction(SIGPIPE, &ignore, &pipe_) == 0;
  }

  // Before exec: a program that uses select() expects the usual limit.
  void restore()
  {
    if (raised_files_)
      ::setrlimit(RLIMIT_NOFILE, &files_);
    if (saved_pipe_)
      ::sigaction(SIGPIPE, &pipe_, nullptr);
  }

private:
  rlimit files_{};
  struct sigaction pipe_{};
  bool raised_files_ = false;
  bool saved_pipe_ = false;
};

// Whether a signal is ignored, as a shell leaves SIGINT for a background
// job: such a signal stays ignored, for us and for the command.
bool ignored(int signal)
{
  struct sigaction current{};
  return ::sigaction(signal, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

// Every target's wait at once, on one io_context and one thread.
class session final : public wait_observer
{
public:
  explicit session(const options& o)
    : options_(o), statuses_(o.targets.size()),
      display_(context_, display::choose(o.quiet), o.targets, statuses_)
  {
  }

  run_summary run()
  {
    const steady::time_point start = steady::now();
    asio_backoff::policy p = make_policy(options_);
    // One deadline for all: the targets started last do not get longer.
    p.deadline = options_.timeout < steady::time_point::max() - start
                     ? start + options_.timeout
                     : steady::time_point::max();
    p.timeout.reset();
    for (int signal : {SIGINT, SIGTERM})
      if (!ignored(signal))
        signals_->add(signal);
    wait_for_signal();
    waits_.reserve(options_.targets.size());
    for (std::size_t i = 0; i < options_.targets.size(); ++i)
    {
      waits_.push_back(
          std::make_unique<target_wait>(context_, options_.targets[i], i, statuses_[i], *this));
      waits_.back()->start(p);
    }
    display_.start();
    context_.run();

    run_summary summary;
    summary.elapsed = steady::now() - start;
    summary.signal = signal_;
    summary.end = signal_ != 0 ? run_end::interrupted
                : any(target_state::failed) ? run_end::failed
                : all_ready() ? run_end::all_ready
                : run_end::timed_out;
    return summary;
  }

  void report(const run_summary& summary)
  {
    display_.report(summary);
    if (options_.json)
    {
      const std::string json = json_report(options_.targets, statuses_, summary);
      std::fwrite(json.data(), 1, json.size(), stdout);
      std::fflush(stdout);
    }
  }

  // The command gets the default dispositions back.
  void release_signals() { signals_.reset(); }

private:
  void wait_for_signal()
  {
    signals_->async_wait([this](boost::system::error_code ec, int signal) {
      if (ec)
        return;
      if (signal_ != 0)
        std::_Exit(128 + signal); // a second signal: the user insists
      signal_ = signal;
      cancel_all();
      wait_for_signal();
    });
  }

  void cancel_all()
  {
    for (auto& wait : waits_)
      wait->cancel();
  }

  bool any(target_state state) const
  {
    for (const target_status& s : statuses_)
      if (s.state == state)
        return true;
    return false;
  }

  bool all_ready() const
  {
    for (const target_status& s : statuses_)
      if (s.state != target_state::ready)
        return false;
    return true;
  }

  void retrying(std::size_t index, bool new_error) override
  {
    display_.retrying(index, new_error);
  }

  void finished(std::size_t index) override
  {
    display_.finished(index);
    // The exit status is 3 whatever the others do: stop them.
    if (statuses_[index].state == target_state::failed && !stopping_)
    {
      stopping_ = true;
      cancel_all();
    }
    if (++finished_ < waits_.size())
      return;
    display_.stop();
    if (signals_)
      signals_->cancel();
    // A name lookup whose attempt was cut short may still hold work.
    context_.stop();
  }

  const options& options_;
  boost::asio::io_context context_{1}; // run by this thread alone
  std::vector<target_status> statuses_;
  std::vector<std::unique_ptr<target_wait>> waits_;
  display display_;
  std::optional<boost::asio::signal_set> signals_{std::in_place, context_};
  std::size_t finished_ = 0;
  int signal_ = 0;
  bool stopping_ = false;
};

// Runs the command in our place, as a shell would; returns only if it
// cannot: 127 when there is no such command, 126 when it cannot run.
int exec_command(const std::vector<std::string>& command)
{
  std::vector<char*> argv;
  for (const std::string& arg : command)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execvp(argv[0], argv.data());
  const int error = errno;
  std::fprintf(stderr, "backoff-wait: cannot run '%s': %s\n", printable(command[0]).c_str(),
               std::strerror(error));
  return error == ENOENT || error == ENOTDIR ? 127 : 126;
}

int run(int argc, char** argv)
{
  const std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  const parse_result parsed = parse_command_line(args);
  switch (parsed.what)
  {
  case parse_result::action::help:
    std::fputs(usage().c_str(), stdout);
    return 0;
  case parse_result::action::version:
    std::printf("backoff-wait %s\n", ASIO_BACKOFF_VERSION_STRING);
    return 0;
  case parse_result::action::usage_error:
    std::fprintf(stderr, "backoff-wait: %s\nTry 'backoff-wait --help'.\n", parsed.error.c_str());
    return 2;
  case parse_result::action::wait:
    break;
  }

  process_settings settings;
  auto waiting = std::make_unique<session>(parsed.options);
  const run_summary summary = waiting->run();
  waiting->report(summary);
  int status = exit_status(summary);
  if (status == 0 && !parsed.options.command.empty())
  {
    waiting->release_signals();
    settings.restore();
    status = exec_command(parsed.options.command);
  }
  if (lookup_running())
  {
    // getaddrinfo cannot be interrupted, and the io_context's destructor
    // would wait for it: leave without destroying anything.
    std::fflush(nullptr);
    std::_Exit(status);
  }
  return status;
}

} // namespace

} // namespace backoff_wait

int main(int argc, char** argv)
{
  try
  {
    return backoff_wait::run(argc, argv);
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "backoff-wait: %s\n", e.what());
    return 1;
  }
}
