// Tests of asio_backoff/child_watch.hpp, on real processes. Every child is
// killed (if need be) and reaped when its test ends, whichever way it ends;
// the only sleeps are inside children.

#include <asio_backoff.hpp>
#include <asio_backoff/child_watch.hpp>

#include "support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio_backoff::exit_status;
using boost::system::error_code;
using kind = asio_backoff::exit_status::kind;
using steady = std::chrono::steady_clock;

namespace {

// A child process of the test. It waits until `release()` (or until the test
// process is gone), sleeps `delay`, then does what it was made for.
class test_child
{
public:
  enum class action
  {
    exit_3,          // _exit(3)
    raise_sigkill,   // raise(SIGKILL)
    stay,            // stays until the test kills it
    fork_grandchild  // forks a grandchild that exits at once and stays a zombie
                     // (not ours) until release, then reaps it and exits 0
  };

  explicit test_child(action what, std::chrono::milliseconds delay = 0ms)
  {
    int release[2];
    int report[2];
    BOOST_REQUIRE(::pipe(release) == 0);
    if (::pipe(report) != 0)
    {
      close_pair(release);
      BOOST_FAIL("pipe failed");
    }
    pid_ = ::fork();
    if (pid_ == 0)
      run_child(release[0], report[1], what, delay);
    ::close(release[0]);
    ::close(report[1]);
    release_fd_ = release[1];
    report_fd_ = report[0];
    if (pid_ < 0)
    {
      ::close(release_fd_);
      ::close(report_fd_);
      BOOST_FAIL("fork failed");
    }
  }

  test_child(const test_child&) = delete;
  test_child& operator=(const test_child&) = delete;

  ~test_child()
  {
    if (release_fd_ >= 0)
      ::close(release_fd_);
    ::close(report_fd_);
    if (!reaped_)
    {
      ::kill(pid_, SIGKILL); // harmless on our own zombie
      int status;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR)
      {
      }
    }
  }

  int pid() const { return pid_; }

  // Lets the child go on.
  void release()
  {
    if (release_fd_ >= 0)
      ::close(release_fd_);
    release_fd_ = -1;
  }

  // The grandchild's pid (fork_grandchild).
  int grandchild()
  {
    int pid = -1;
    ssize_t n;
    while ((n = ::read(report_fd_, &pid, sizeof pid)) < 0 && errno == EINTR)
    {
    }
    BOOST_REQUIRE(n == static_cast<ssize_t>(sizeof pid));
    return pid;
  }

  // Blocks until the child has exited, and leaves it a zombie.
  void wait_exit()
  {
    siginfo_t info{};
    int rc;
    while ((rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT)) < 0 &&
           errno == EINTR)
    {
    }
    BOOST_REQUIRE(rc == 0);
  }

  // Reaps the exited child; returns its wait status.
  int reap()
  {
    int status = 0;
    pid_t rc;
    while ((rc = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR)
    {
    }
    BOOST_REQUIRE(rc == pid_);
    reaped_ = true;
    return status;
  }

private:
  static void close_pair(int fds[2])
  {
    ::close(fds[0]);
    ::close(fds[1]);
  }

  [[noreturn]] static void run_child(int release_fd, int report_fd, action what,
                                     std::chrono::milliseconds delay)
  {
    // Async-signal-safe calls only from here on. Drop the descriptors
    // inherited from the test (earlier children's pipes, pidfds, the
    // reactor's) so that nothing else keeps another child waiting.
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != release_fd && fd != report_fd)
        ::close(fd);
    pid_t grandchild = -1;
    if (what == action::fork_grandchild)
    {
      grandchild = ::fork();
      if (grandchild == 0)
        ::_exit(5);
      if (::write(report_fd, &grandchild, sizeof grandchild) != sizeof grandchild)
        ::_exit(120);
    }
    char byte;
    while (::read(release_fd, &byte, 1) < 0 && errno == EINTR)
    {
    }
    // End of file: released, or the test process is gone.
    switch (what)
    {
    case action::stay:
      ::_exit(0);
    case action::fork_grandchild:
      ::waitpid(grandchild, nullptr, 0);
      ::_exit(0);
    case action::exit_3:
    case action::raise_sigkill:
      break;
    }
    timespec left{static_cast<time_t>(delay.count() / 1000),
                  static_cast<long>(delay.count() % 1000) * 1'000'000L};
    while (::nanosleep(&left, &left) != 0 && errno == EINTR)
    {
    }
    if (what == action::raise_sigkill)
      ::raise(SIGKILL);
    ::_exit(3);
  }

  pid_t pid_ = -1;
  int release_fd_ = -1;
  int report_fd_ = -1;
  bool reaped_ = false;
};

// Runs ctx until it runs out of work, 10 s at most; true if it ran out.
bool run_bounded(asio::io_context& ctx)
{
  ctx.restart();
  ctx.run_for(10s);
  return ctx.stopped();
}

auto record(std::optional<error_code>& result)
{
  return [&result](error_code ec) { result = ec; };
}

// Event-driven waits exist only on Linux; elsewhere those tests pass vacuously.
bool require_event_driven(const asio_backoff::child_watch& child)
{
#if defined(__linux__)
  BOOST_TEST_REQUIRE(child.event_driven());
  return true;
#else
  return child.event_driven();
#endif
}

// Lowers the soft limit on open descriptors for its lifetime.
class descriptor_limit
{
public:
  explicit descriptor_limit(rlim_t limit)
  {
    BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = limit;
    BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  }
  descriptor_limit(const descriptor_limit&) = delete;
  descriptor_limit& operator=(const descriptor_limit&) = delete;
  ~descriptor_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

private:
  rlimit saved_{};
};

// Has what the process constructor asks for, like boost::process::v2::process.
struct fake_process
{
  asio::io_context::executor_type executor;
  int pid;
  asio::io_context::executor_type get_executor() const { return executor; }
  int id() const { return pid; }
};

// Every test leaves no child of its own behind, reaped or not.
struct no_children_left
{
  static bool have_children()
  {
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
  }

  // Another suite's leftover is not this suite's failure.
  bool had_children = have_children();

  ~no_children_left()
  {
    if (!had_children)
      BOOST_TEST(!have_children(), "the test left a child process behind");
  }
};

// An attempt with a check of its own.
struct self_checking_attempt
{
  error_code own;
  int* checks;
  error_code operator()() { return {}; }
  error_code before_attempt()
  {
    ++*checks;
    return own;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(child_watch, no_children_left)

BOOST_AUTO_TEST_CASE(exit_status_reads_like_a_shell_report)
{
  BOOST_TEST((exit_status{kind::exited, 3}.to_string() == "exited with status 3"));
  BOOST_TEST((exit_status{kind::exited, 0}.to_string() == "exited with status 0"));
#if defined(__GLIBC__)
  BOOST_TEST((exit_status{kind::killed, SIGKILL}.to_string() == "killed by signal 9 (Killed)"));
#endif
  BOOST_TEST((exit_status{kind::killed, SIGKILL}.to_string().rfind("killed by signal 9", 0) == 0));
  BOOST_TEST((exit_status{kind::killed, 200}.to_string().rfind("killed by signal 200", 0) == 0));
  BOOST_TEST(exit_status{}.to_string() == "exited");
}

BOOST_AUTO_TEST_CASE(async_wait_completes_when_the_child_exits_with_its_status)
{
  test_child c(test_child::action::exit_3);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  BOOST_TEST(child.pid() == c.pid());
  if (!require_event_driven(child))
    return;
  std::optional<error_code> result;
  exit_status seen;
  child.async_wait([&](error_code ec) {
    result = ec;
    seen = child.status(); // known before the handler runs
  });
  BOOST_TEST(!result.has_value()); // never from inside async_wait
  c.release();
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST(seen.to_string() == "exited with status 3");
  BOOST_TEST((seen.how == kind::exited));
  BOOST_TEST(seen.value == 3);
  // The watch did not reap it: the status is still ours to collect.
  const int status = c.reap();
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 3);
}

BOOST_AUTO_TEST_CASE(a_child_killed_by_a_signal_is_reported_killed)
{
  test_child c(test_child::action::raise_sigkill);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  if (!require_event_driven(child))
    return;
  std::optional<error_code> result;
  child.async_wait(record(result));
  c.release();
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST((child.status().how == kind::killed));
  BOOST_TEST(child.status().value == SIGKILL);
  BOOST_TEST(child.status().to_string().find("signal 9") != std::string::npos,
             child.status().to_string());
  const int status = c.reap();
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGKILL);
}

BOOST_AUTO_TEST_CASE(exited_looks_without_reaping_and_remembers)
{
  test_child c(test_child::action::exit_3);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  BOOST_TEST(!child.exited());
  BOOST_TEST((child.status().how == kind::unknown));
  c.release();
  c.wait_exit(); // a zombie now
  BOOST_TEST(child.exited());
  BOOST_TEST(child.status().to_string() == "exited with status 3");
  const int status = c.reap(); // still there to reap: the watch only looked
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 3);
  // Reaped now, yet the answer and the status stay.
  BOOST_TEST(child.exited());
  BOOST_TEST(child.status().to_string() == "exited with status 3");
}

BOOST_AUTO_TEST_CASE(a_child_killed_by_the_parent)
{
  test_child c(test_child::action::stay);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  BOOST_TEST(!child.exited());
  BOOST_REQUIRE(::kill(c.pid(), SIGTERM) == 0);
  c.wait_exit();
  BOOST_TEST(child.exited());
  BOOST_TEST((child.status().how == kind::killed));
  BOOST_TEST(child.status().value == SIGTERM);
  const int status = c.reap();
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGTERM);
}

BOOST_AUTO_TEST_CASE(processes_that_are_not_our_children)
{
  asio::io_context ctx;

  // Alive, and not ours: waitid cannot tell, the process is still there.
  asio_backoff::child_watch init(ctx, 1);
  BOOST_TEST(!init.exited());
  BOOST_TEST((init.status().how == kind::unknown));

  // A reaped child's pid names no process: exited, status unknown.
  test_child c(test_child::action::exit_3);
  c.release();
  c.reap();
  asio_backoff::child_watch gone(ctx, c.pid());
  BOOST_TEST(gone.exited());
  BOOST_TEST((gone.status().how == kind::unknown));
  BOOST_TEST(gone.status().to_string() == "exited");
  // Its exit is known: a wait completes without error, though not inline.
  std::optional<error_code> result;
  gone.async_wait(record(result));
  BOOST_TEST(!result.has_value());
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());

  // 0 and -1 name no process (and must not become "any child", "everyone").
  for (int pid : {0, -1})
  {
    asio_backoff::child_watch none(ctx, pid);
    BOOST_TEST(none.exited());
    BOOST_TEST((none.status().how == kind::unknown));
  }
}

#if defined(__linux__)
BOOST_AUTO_TEST_CASE(someone_elses_zombie_has_exited_by_its_pidfd)
{
  // The middle child keeps its own child, already exited, as a zombie: for
  // us waitid says ECHILD and kill(pid, 0) says alive; the pidfd knows.
  test_child middle(test_child::action::fork_grandchild);
  const int grandchild = middle.grandchild();
  BOOST_REQUIRE(grandchild > 0);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, grandchild);
  BOOST_TEST_REQUIRE(child.event_driven());
  std::optional<error_code> result;
  child.async_wait(record(result));
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST(child.exited());
  BOOST_TEST((child.status().how == kind::unknown)); // its status is its parent's
  middle.release();
  const int status = middle.reap();
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0); // it reaped the grandchild itself
}
#endif

BOOST_AUTO_TEST_CASE(without_a_pidfd_exited_still_answers)
{
  // No descriptor left for a pidfd: what every system without pidfds gets.
  test_child c(test_child::action::exit_3);
  asio::io_context ctx;
  std::optional<asio_backoff::child_watch> child;
  {
    // The reactor and its own descriptors exist before the limit drops.
    asio::posix::stream_descriptor warm_up(ctx);
    descriptor_limit no_more_descriptors(0);
    child.emplace(ctx, c.pid());
  }
  BOOST_TEST(!child->event_driven());
  BOOST_TEST(!child->exited());

  std::optional<error_code> result;
  child->async_wait(record(result));
  BOOST_TEST(!result.has_value()); // never from inside async_wait
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_not_supported);

  c.release();
  c.wait_exit();
  BOOST_TEST(child->exited());
  BOOST_TEST(child->status().to_string() == "exited with status 3");

  // Once the exit is known, a wait completes without error.
  result.reset();
  child->async_wait(record(result));
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());

  const int status = c.reap();
  BOOST_TEST(WEXITSTATUS(status) == 3);
}

BOOST_AUTO_TEST_CASE(cancel_ends_the_wait_and_run_returns)
{
  test_child c(test_child::action::stay);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  if (!require_event_driven(child))
    return;
  std::optional<error_code> result;
  child.async_wait(record(result));
  asio::post(ctx, [&] { child.cancel(); });
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(*result == asio::error::operation_aborted);
  BOOST_TEST(!child.exited());

  // The watch is still usable.
  result.reset();
  child.async_wait(record(result));
  BOOST_REQUIRE(::kill(c.pid(), SIGKILL) == 0);
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST((child.status().how == kind::killed));
}

BOOST_AUTO_TEST_CASE(per_operation_cancellation_of_every_type)
{
  test_child c(test_child::action::exit_3);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  if (!require_event_driven(child))
    return;
  for (asio::cancellation_type type : {asio::cancellation_type::terminal,
                                       asio::cancellation_type::partial,
                                       asio::cancellation_type::total})
  {
    BOOST_TEST_CONTEXT("cancellation type " << static_cast<unsigned>(type))
    {
      asio::cancellation_signal signal;
      std::optional<error_code> result;
      child.async_wait(asio::bind_cancellation_slot(signal.slot(), record(result)));
      asio::post(ctx, [&] { signal.emit(type); });
      BOOST_TEST(run_bounded(ctx));
      BOOST_REQUIRE(result.has_value());
      BOOST_TEST(*result == asio::error::operation_aborted);
    }
  }
  // A slot that is never emitted does not get in the way.
  asio::cancellation_signal signal;
  std::optional<error_code> result;
  child.async_wait(asio::bind_cancellation_slot(signal.slot(), record(result)));
  c.release();
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST(child.status().to_string() == "exited with status 3");
}

BOOST_AUTO_TEST_CASE(an_io_context_destroyed_with_a_pending_wait_leaks_nothing)
{
  test_child c(test_child::action::stay);
  test_support::handler_probe probe;
  {
    asio::io_context ctx;
    asio_backoff::child_watch child(ctx, c.pid());
    child.async_wait(test_support::probing_handler(probe));
    ctx.poll(); // the wait is with the reactor now
    // Leaving the scope destroys the watch (which aborts the wait), then the
    // context with the aborted completion still queued.
  }
  BOOST_TEST(probe.invoked == 0);
  BOOST_TEST(probe.destroyed_unrun == 1);
}

BOOST_AUTO_TEST_CASE(a_completion_queued_when_the_watch_is_destroyed_is_still_safe)
{
  test_child c(test_child::action::exit_3);
  c.release();
  c.wait_exit();
  asio::io_context ctx;
  asio::io_context handler_ctx;
  auto child = std::make_unique<asio_backoff::child_watch>(ctx, c.pid());
  if (!require_event_driven(*child))
    return;
  std::optional<error_code> result;
  bool on_handler_executor = false;
  child->async_wait(asio::bind_executor(handler_ctx, [&](error_code ec) {
    result = ec;
    on_handler_executor = handler_ctx.get_executor().running_in_this_thread();
  }));
  ctx.poll(); // the pidfd is readable: the completion moves to handler_ctx
  BOOST_TEST(!result.has_value());
  child.reset(); // before the wait's last step runs
  BOOST_TEST(run_bounded(handler_ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST(on_handler_executor);
  BOOST_TEST(run_bounded(ctx)); // and the work it kept on ctx is released
}

BOOST_AUTO_TEST_CASE(constructors_and_moves)
{
  static_assert(!std::is_copy_constructible<asio_backoff::child_watch>::value);
  static_assert(std::is_move_constructible<asio_backoff::child_watch>::value);
  static_assert(!std::is_constructible<asio_backoff::child_watch, asio::io_context&>::value);
  static_assert(std::is_constructible<asio_backoff::child_watch, fake_process&>::value);
  static_assert(!std::is_convertible<fake_process&, asio_backoff::child_watch>::value); // explicit

  test_child c(test_child::action::exit_3);
  asio::io_context ctx;

  fake_process process{ctx.get_executor(), c.pid()};
  asio_backoff::child_watch from_process(process);
  BOOST_TEST(from_process.pid() == c.pid());
  BOOST_TEST((from_process.get_executor() == asio::any_io_executor(ctx.get_executor())));

  asio_backoff::basic_child_watch<asio::io_context::executor_type> typed(ctx.get_executor(),
                                                                         c.pid());
  BOOST_TEST((typed.get_executor() == ctx.get_executor()));
  BOOST_TEST(!typed.exited());

  // A wait survives the move of its watch.
  asio_backoff::child_watch first(ctx, c.pid());
  std::optional<error_code> result;
  first.async_wait(record(result));
  asio_backoff::child_watch second(std::move(first));
  c.release();
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  if (second.event_driven())
  {
    BOOST_TEST(!result->failed(), result->message());
    BOOST_TEST(second.status().to_string() == "exited with status 3");
  }
  c.wait_exit();
  BOOST_TEST(second.exited());
  BOOST_TEST(second.status().to_string() == "exited with status 3");
}

BOOST_AUTO_TEST_CASE(completion_tokens)
{
  test_child c(test_child::action::exit_3);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  if (!require_event_driven(child))
    return;
  auto deferred_wait = child.async_wait(asio::deferred);
  std::future<void> future = child.async_wait(asio::use_future);
  std::optional<error_code> result;
  std::move(deferred_wait)(record(result));
  c.release();
  BOOST_TEST(run_bounded(ctx));
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->failed(), result->message());
  BOOST_TEST((future.wait_for(0s) == std::future_status::ready));
  BOOST_CHECK_NO_THROW(future.get());
}

BOOST_AUTO_TEST_CASE(stop_if_exited_checks_the_child_after_the_attempts_own_check)
{
  test_child c(test_child::action::stay);
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  int checks = 0;

  auto plain = asio_backoff::stop_if_exited(child, [] { return error_code(); });
  auto checked = asio_backoff::stop_if_exited(child, self_checking_attempt{{}, &checks});
  const error_code denied = make_error_code(boost::system::errc::permission_denied);
  auto refusing = asio_backoff::stop_if_exited(child, self_checking_attempt{denied, &checks});
  asio_backoff::wake_signal wake;
  auto woken = asio_backoff::stop_if_exited(child, asio_backoff::wake_on(wake, [] { return error_code(); }));
  static_assert(asio_backoff::detail::has_before_attempt<decltype(plain)>::value);
  static_assert(asio_backoff::detail::has_wake_slot<decltype(woken)>::value);

  BOOST_TEST(!plain.before_attempt().failed());
  BOOST_TEST(!checked.before_attempt().failed());
  BOOST_TEST(refusing.before_attempt() == denied);
  BOOST_TEST(!woken.before_attempt().failed());
  BOOST_TEST(!plain().failed()); // still an attempt
  BOOST_TEST(woken.get_wake_slot().is_connected());

  BOOST_REQUIRE(::kill(c.pid(), SIGKILL) == 0);
  c.wait_exit();
  BOOST_TEST(plain.before_attempt() == asio_backoff::error::child_exited);
  BOOST_TEST(checked.before_attempt() == asio_backoff::error::child_exited);
  BOOST_TEST(refusing.before_attempt() == denied); // the attempt's own check comes first
  BOOST_TEST(woken.before_attempt() == asio_backoff::error::child_exited);
  BOOST_TEST(checks == 4);
}

// With async_backoff. These need the core's wake and before_attempt support;
// a watchdog cancels the operation after 5 s so that a core without them
// fails the test quickly instead of running to the 10 s deadline.

namespace {

struct backoff_run
{
  std::optional<error_code> result;
  int attempts = 0;
  steady::duration took{};
};

backoff_run run_backoff_until_the_child_exits(test_child& c, const asio_backoff::policy& p,
                                              bool release = true)
{
  backoff_run run;
  asio::io_context ctx;
  asio_backoff::child_watch child(ctx, c.pid());
  asio_backoff::wake_signal wake;
  child.async_wait([&](error_code ec) {
    if (!ec)
      wake.emit();
  });
  asio::cancellation_signal stop;
  asio::steady_timer watchdog(ctx, 5s);
  watchdog.async_wait([&](error_code ec) {
    if (!ec)
      stop.emit(asio::cancellation_type::terminal);
  });
  const steady::time_point start = steady::now();
  asio_backoff::async_backoff(
      ctx, p,
      asio_backoff::stop_if_exited(child, asio_backoff::wake_on(wake,
                                                                [&] {
                                                                  ++run.attempts;
                                                                  return test_support::refused();
                                                                })),
      asio::bind_cancellation_slot(stop.slot(), [&](error_code ec) {
        run.result = ec;
        run.took = steady::now() - start;
        child.cancel();
        watchdog.cancel();
      }));
  if (release)
    c.release();
  BOOST_TEST(run_bounded(ctx));
  if (run.result == asio_backoff::error::child_exited)
    BOOST_TEST(child.status().to_string() == "exited with status 3");
  return run;
}

} // namespace

BOOST_AUTO_TEST_CASE(async_backoff_ends_with_child_exited_soon_after_the_exit)
{
  test_child c(test_child::action::exit_3, 50ms);
  asio_backoff::policy p;
  p.initial = 1ms;
  p.multiplier = 2.0;
  p.timeout = 10s;
  const backoff_run run = run_backoff_until_the_child_exits(c, p);
  BOOST_REQUIRE(run.result.has_value());
  BOOST_TEST(*run.result == asio_backoff::error::child_exited);
  BOOST_TEST((run.took < 2s), std::chrono::duration<double>(run.took).count() << " s");
  BOOST_TEST(run.attempts <= 12); // ~6 in 50 ms of doubling from 1 ms
  const int status = c.reap();
  BOOST_TEST(WEXITSTATUS(status) == 3);
}

BOOST_AUTO_TEST_CASE(the_exit_cuts_a_long_wait_short)
{
  // After the first attempt the wait is 30 s: only the wake can end it early.
  test_child c(test_child::action::exit_3, 50ms);
  asio_backoff::policy p;
  p.immediate_first_attempt = true;
  p.initial = 30s;
  p.timeout = 60s;
  const backoff_run run = run_backoff_until_the_child_exits(c, p);
  BOOST_REQUIRE(run.result.has_value());
  BOOST_TEST(*run.result == asio_backoff::error::child_exited);
  BOOST_TEST((run.took < 2s), std::chrono::duration<double>(run.took).count() << " s");
  BOOST_TEST(run.attempts <= 1); // 0 only if the first attempt ran 50 ms late
  c.reap();
}

BOOST_AUTO_TEST_CASE(a_child_dead_before_the_first_attempt_stops_the_operation_at_once)
{
  test_child c(test_child::action::exit_3);
  c.release();
  c.wait_exit();
  asio_backoff::policy p;
  p.initial = 1ms;
  p.timeout = 10s;
  const backoff_run run = run_backoff_until_the_child_exits(c, p, false);
  BOOST_REQUIRE(run.result.has_value());
  BOOST_TEST(*run.result == asio_backoff::error::child_exited);
  BOOST_TEST(run.attempts == 0);
  c.reap();
}

BOOST_AUTO_TEST_SUITE_END()
