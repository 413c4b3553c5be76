// Tests of detail/path_watch.hpp: wakes from inotify, on a real file system.
//
// Negative checks ("no wake") need no timeout: events arrive in order, so a
// sentinel entry created last ends the test once everything before it was
// read, and each test runs until the io_context is out of work.

#include <asio_backoff/detail/path_watch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
namespace errc = boost::system::errc;
namespace detail = asio_backoff::detail;

using test_support::temp_dir;

// Also makes events outside the mask: modify, attrib, close_write.
bool try_create_file(const std::string& path)
{
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  bool ok = ::write(fd, "x", 1) == 1 && ::fchmod(fd, 0640) == 0;
  return ::close(fd) == 0 && ok;
}

void create_file(const std::string& path)
{
  BOOST_REQUIRE(try_create_file(path));
}

// What a server does: the socket file appears at bind().
void bind_socket(const std::string& path)
{
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  BOOST_REQUIRE(path.size() < sizeof address.sun_path);
  path.copy(address.sun_path, path.size());
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  ::close(fd);
}

// A wake signal that counts its emits and runs `then` after each.
struct wake_counter
{
  asio_backoff::wake_signal signal;
  int count = 0;
  std::function<void()> then;

  struct handler
  {
    explicit handler(wake_counter* c) : counter(c) {}
    void operator()()
    {
      ++counter->count;
      if (counter->then)
        counter->then();
    }
    wake_counter* counter;
  };

  wake_counter() { signal.slot().emplace<handler>(this); }
};

detail::path_watch_service& service(asio::io_context& ctx)
{
  return asio::use_service<detail::path_watch_service>(ctx);
}

// Runs until the io_context is out of work, which every test expects well
// within the bound: returning on time is a failure.
void run(asio::io_context& ctx)
{
  ctx.restart();
  ctx.run_for(std::chrono::seconds(30));
  BOOST_TEST(ctx.stopped());
}

void check_error(const boost::system::error_code& ec, errc::errc_t expected)
{
  BOOST_CHECK_MESSAGE(ec == expected, "got " << ec.message());
}

} // namespace

BOOST_AUTO_TEST_SUITE(path_watch)

BOOST_AUTO_TEST_CASE(created_entry_wakes_once)
{
  asio::io_context ctx;
  temp_dir dir;
  wake_counter file, socket, fifo, sentinel;
  detail::path_watch file_watch, socket_watch, fifo_watch, sentinel_watch;
  BOOST_TEST(!file_watch.active());
  BOOST_TEST(!file_watch.watch(ctx.get_executor(), dir.path, "file", file.signal));
  BOOST_TEST(!socket_watch.watch(ctx.get_executor(), dir.path, "sock", socket.signal));
  BOOST_TEST(!fifo_watch.watch(ctx.get_executor(), dir.path, "fifo", fifo.signal));
  BOOST_TEST(!sentinel_watch.watch(ctx.get_executor(), dir.path, "sentinel", sentinel.signal));
  BOOST_TEST(file_watch.active());
  sentinel.then = [&] {
    file_watch.reset();
    socket_watch.reset();
    fifo_watch.reset();
    sentinel_watch.reset();
  };

  create_file(dir / "file");
  bind_socket(dir / "sock");
  BOOST_REQUIRE(::mknod((dir / "fifo").c_str(), S_IFIFO | 0600, 0) == 0);
  create_file(dir / "sentinel");
  run(ctx);

  BOOST_TEST(file.count == 1);
  BOOST_TEST(socket.count == 1);
  BOOST_TEST(fifo.count == 1);
  BOOST_TEST(sentinel.count == 1);
  BOOST_TEST(!file_watch.active());
}

BOOST_AUTO_TEST_CASE(other_names_do_not_wake)
{
  asio::io_context ctx;
  temp_dir dir;
  wake_counter target, sentinel;
  detail::path_watch target_watch, sentinel_watch;
  BOOST_TEST(!target_watch.watch(ctx.get_executor(), dir.path, "sock", target.signal));
  BOOST_TEST(!sentinel_watch.watch(ctx.get_executor(), dir.path, "sentinel", sentinel.signal));
  sentinel.then = [&] {
    target_watch.reset();
    sentinel_watch.reset();
  };

  create_file(dir / "sock2");
  create_file(dir / "soc");
  create_file(dir / "SOCK");
  BOOST_REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
  create_file(dir / "sub/sock"); // in a subdirectory: not watched
  create_file(dir / "sentinel");
  run(ctx);

  BOOST_TEST(target.count == 0);
  BOOST_TEST(sentinel.count == 1);
}

BOOST_AUTO_TEST_CASE(rename_into_place_wakes)
{
  asio::io_context ctx;
  temp_dir dir, elsewhere;
  wake_counter target, sentinel;
  detail::path_watch target_watch, sentinel_watch;
  BOOST_TEST(!target_watch.watch(ctx.get_executor(), dir.path, "config", target.signal));
  BOOST_TEST(!sentinel_watch.watch(ctx.get_executor(), dir.path, "sentinel", sentinel.signal));
  sentinel.then = [&] {
    target_watch.reset();
    sentinel_watch.reset();
  };

  // The usual atomic replacement: write a temporary, rename it into place
  // (once within the directory, once from another one).
  create_file(dir / ".config.tmp");
  BOOST_REQUIRE(::rename((dir / ".config.tmp").c_str(), (dir / "config").c_str()) == 0);
  // Not right after the first rename: the kernel merges an event identical
  // to the last one queued.
  create_file(dir / "unrelated");
  create_file(elsewhere / "config");
  BOOST_REQUIRE(::rename((elsewhere / "config").c_str(), (dir / "config").c_str()) == 0);
  create_file(dir / "sentinel");
  run(ctx);

  BOOST_TEST(target.count == 2);
}

BOOST_AUTO_TEST_CASE(errors_leave_it_inactive)
{
  asio::io_context ctx;
  temp_dir dir;
  wake_counter wake;
  detail::path_watch watch;

  check_error(watch.watch(ctx.get_executor(), dir / "missing", "sock", wake.signal),
              errc::no_such_file_or_directory);
  BOOST_TEST(!watch.active());

  create_file(dir / "file");
  check_error(watch.watch(ctx.get_executor(), dir / "file", "sock", wake.signal), errc::not_a_directory);
  BOOST_TEST(!watch.active());

  // A failed watch() on an active registration leaves it reset.
  BOOST_TEST(!watch.watch(ctx.get_executor(), dir.path, "sock", wake.signal));
  BOOST_TEST(watch.active());
  check_error(watch.watch(ctx.get_executor(), dir.path, "a/sock", wake.signal), errc::invalid_argument);
  BOOST_TEST(!watch.active());
  check_error(watch.watch(ctx.get_executor(), dir.path, "", wake.signal), errc::invalid_argument);
  BOOST_TEST(!watch.active());

  BOOST_TEST(service(ctx).kernel_watches() == 0u);
  BOOST_TEST(service(ctx).registrations() == 0u);
  run(ctx);
  BOOST_TEST(wake.count == 0);
}

BOOST_AUTO_TEST_CASE(watch_again_replaces_the_registration)
{
  asio::io_context ctx;
  temp_dir dir;
  wake_counter wake, sentinel;
  detail::path_watch watch, sentinel_watch;
  BOOST_TEST(!watch.watch(ctx.get_executor(), dir.path, "old", wake.signal));
  BOOST_TEST(!watch.watch(ctx.get_executor(), dir.path, "new", wake.signal));
  BOOST_TEST(service(ctx).registrations() == 1u);
  BOOST_TEST(!sentinel_watch.watch(ctx.get_executor(), dir.path, "sentinel", sentinel.signal));
  sentinel.then = [&] {
    watch.reset();
    sentinel_watch.reset();
  };

  create_file(dir / "old");
  create_file(dir / "new");
  create_file(dir / "sentinel");
  run(ctx);

  BOOST_TEST(wake.count == 1);
}

BOOST_AUTO_TEST_CASE(reset_drops_queued_events)
{
  asio::io_context ctx;
  temp_dir dir;
  wake_counter target, sentinel;
  detail::path_watch target_watch, sentinel_watch;
  BOOST_TEST(!target_watch.watch(ctx.get_executor(), dir.path, "sock", target.signal));
  BOOST_TEST(!sentinel_watch.watch(ctx.get_executor(), dir.path, "sentinel", sentinel.signal));
  sentinel.then = [&] { sentinel_watch.reset(); };

  create_file(dir / "sock"); // queued in the kernel, not read yet
  target_watch.reset();
  target_watch.reset(); // idempotent
  BOOST_TEST(!target_watch.active());
  create_file(dir / "sentinel");
  run(ctx);

  BOOST_TEST(target.count == 0);
  BOOST_TEST(sentinel.count == 1);
}

// Two registrations woken by the same event: the first emit resets both, so
// the second, already dispatched, must not emit. Through a strand the emits
// are queued; on the io_context's own executor they run inline, inside the
// loop that dispatches them.
template <class Executor>
void check_reset_drops_dispatched_emits(const Executor& ex, asio::io_context& ctx)
{
  temp_dir dir;
  wake_counter a, b;
  detail::path_watch a_watch, b_watch;
  auto reset_both = [&] {
    a_watch.reset();
    b_watch.reset();
  };
  a.then = reset_both;
  b.then = reset_both;
  BOOST_TEST(!a_watch.watch(ex, dir.path, "sock", a.signal));
  BOOST_TEST(!b_watch.watch(ex, dir.path, "sock", b.signal));

  create_file(dir / "sock");
  run(ctx);

  BOOST_TEST(a.count + b.count == 1);
}

BOOST_AUTO_TEST_CASE(reset_drops_dispatched_emits)
{
  asio::io_context ctx;
  check_reset_drops_dispatched_emits(asio::make_strand(ctx), ctx);
  check_reset_drops_dispatched_emits(ctx.get_executor(), ctx);
}

BOOST_AUTO_TEST_CASE(registrations_share_the_kernel_watch)
{
  asio::io_context ctx;
  temp_dir dir, other;
  wake_counter a, b, c;
  detail::path_watch a_watch, b_watch, c_watch;
  BOOST_TEST(!a_watch.watch(ctx.get_executor(), dir.path, "a", a.signal));
  // Another spelling of the same directory: the same kernel watch.
  BOOST_TEST(!b_watch.watch(ctx.get_executor(), dir.path + "/.", "b", b.signal));
  BOOST_TEST(service(ctx).kernel_watches() == 1u);
  BOOST_TEST(!c_watch.watch(ctx.get_executor(), other.path, "c", c.signal));
  BOOST_TEST(service(ctx).kernel_watches() == 2u);
  BOOST_TEST(service(ctx).registrations() == 3u);

  c_watch.reset();
  BOOST_TEST(service(ctx).kernel_watches() == 1u);
  a.then = [&] {
    a_watch.reset();
    BOOST_TEST(service(ctx).kernel_watches() == 1u); // b still watches
  };
  b.then = [&] {
    b_watch.reset();
    BOOST_TEST(service(ctx).kernel_watches() == 0u);
  };

  create_file(dir / "a");
  create_file(dir / "b");
  run(ctx);

  BOOST_TEST(a.count == 1);
  BOOST_TEST(b.count == 1);
  BOOST_TEST(c.count == 0);
  BOOST_TEST(service(ctx).registrations() == 0u);
}

BOOST_AUTO_TEST_CASE(removed_directory_ends_the_registration)
{
  asio::io_context ctx;
  temp_dir dir;
  const std::string sub = dir / "sub";
  const std::string moved = dir / "moved";
  BOOST_REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
  wake_counter wake;
  detail::path_watch watch;
  BOOST_TEST(!watch.watch(ctx.get_executor(), sub, "sock", wake.signal));

  BOOST_REQUIRE(::rmdir(sub.c_str()) == 0);
  run(ctx); // ends by itself: the last registration is gone
  BOOST_TEST(!watch.active());
  BOOST_TEST(wake.count == 0);
  BOOST_TEST(service(ctx).kernel_watches() == 0u);

  // The caller can watch again once the directory is back; moving it away
  // ends the registration too.
  BOOST_REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
  BOOST_TEST(!watch.watch(ctx.get_executor(), sub, "sock", wake.signal));
  BOOST_TEST(watch.active());
  BOOST_REQUIRE(::rename(sub.c_str(), moved.c_str()) == 0);
  run(ctx);
  BOOST_TEST(!watch.active());
  BOOST_TEST(service(ctx).kernel_watches() == 0u);
  BOOST_TEST(wake.count == 0);
}

BOOST_AUTO_TEST_CASE(run_returns_when_nobody_watches)
{
  asio::io_context ctx;
  temp_dir dir;
  wake_counter a, b;
  detail::path_watch a_watch, b_watch;
  BOOST_TEST(!a_watch.watch(ctx.get_executor(), dir.path, "a", a.signal));
  BOOST_TEST(!b_watch.watch(ctx.get_executor(), dir.path, "b", b.signal));
  ctx.poll();
  BOOST_TEST(!ctx.stopped()); // the wait is pending
  a_watch.reset();
  b_watch.reset();
  run(ctx);

  // Reset, then watch again before the cancelled wait completed: the next
  // wait still starts, and the wake arrives.
  BOOST_TEST(!a_watch.watch(ctx.get_executor(), dir.path, "a", a.signal));
  ctx.restart();
  ctx.poll();
  a_watch.reset();
  BOOST_TEST(!a_watch.watch(ctx.get_executor(), dir.path, "a", a.signal));
  a.then = [&] { a_watch.reset(); };
  create_file(dir / "a");
  run(ctx);
  BOOST_TEST(a.count == 1);
  BOOST_TEST(b.count == 0);
}

BOOST_AUTO_TEST_CASE(many_registrations_in_one_directory)
{
  constexpr int count = 1000;
  asio::io_context ctx;
  temp_dir dir;
  std::vector<std::unique_ptr<wake_counter>> wakes;
  std::vector<std::unique_ptr<detail::path_watch>> watches;
  for (int i = 0; i < count; ++i)
  {
    wakes.push_back(std::make_unique<wake_counter>());
    watches.push_back(std::make_unique<detail::path_watch>());
    wakes[i]->then = [&watches, i] { watches[i]->reset(); };
    BOOST_TEST_REQUIRE(!watches[i]->watch(ctx.get_executor(), dir.path, "s" + std::to_string(i),
                                          wakes[i]->signal));
  }
  BOOST_TEST(service(ctx).kernel_watches() == 1u);
  BOOST_TEST(service(ctx).registrations() == std::size_t(count));

  for (int i = 0; i < count; ++i)
    create_file(dir / ("s" + std::to_string(i)));
  run(ctx);

  int woken_once = 0;
  for (auto& w : wakes)
    woken_once += w->count == 1;
  BOOST_TEST(woken_once == count);
  BOOST_TEST(service(ctx).kernel_watches() == 0u);
}

BOOST_AUTO_TEST_CASE(queue_overflow_wakes_everyone)
{
  int max_queued = 0;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> max_queued;
  if (max_queued <= 0 || max_queued > 100000)
  {
    BOOST_TEST_MESSAGE("skipped: max_queued_events is " << max_queued);
    return;
  }
  asio::io_context ctx;
  temp_dir dir;
  wake_counter wake;
  detail::path_watch watch;
  BOOST_TEST(!watch.watch(ctx.get_executor(), dir.path, "never", wake.signal));
  wake.then = [&] { watch.reset(); };

  // More events than the kernel queues: some are lost, and the entry we
  // wait for may have been among them.
  for (int i = 0; i <= max_queued; ++i)
    BOOST_REQUIRE(::mknod((dir / std::to_string(i)).c_str(), S_IFIFO | 0600, 0) == 0);
  run(ctx);

  BOOST_TEST(wake.count == 1);
}

BOOST_AUTO_TEST_CASE(registrations_outlive_the_io_context)
{
  temp_dir dir;
  wake_counter wake;
  detail::path_watch watch;
  {
    asio::io_context ctx;
    BOOST_TEST(!watch.watch(ctx.get_executor(), dir.path, "sock", wake.signal));
    create_file(dir / "sock"); // an event never read

    // Another registration, destroyed during the shutdown with the handler
    // that owns it.
    auto owned = std::make_unique<detail::path_watch>();
    BOOST_TEST(!owned->watch(ctx.get_executor(), dir.path, "other", wake.signal));
    asio::post(ctx, [owned = std::move(owned)] {});
    BOOST_TEST(watch.active());
  }
  BOOST_TEST(!watch.active());
  watch.reset();
  BOOST_TEST(wake.count == 0);
}

// Registrations made, reset and made again from the strands of a two-thread
// io_context, while the wait is started and cancelled under them. Boost.Test
// is not thread-safe: the handlers count failures, checked after the run.
BOOST_AUTO_TEST_CASE(strands_on_two_threads)
{
  constexpr int count = 64;
  constexpr int churn = 10;
  asio::io_context ctx;
  temp_dir dir;

  struct registration
  {
    registration(asio::io_context& ctx, std::string n)
      : strand(asio::make_strand(ctx)), name(std::move(n))
    {
    }
    asio::strand<asio::io_context::executor_type> strand;
    wake_counter wake;
    detail::path_watch watch;
    std::string name;
  };
  std::vector<std::unique_ptr<registration>> registrations;
  for (int i = 0; i < count; ++i)
    registrations.push_back(std::make_unique<registration>(ctx, "s" + std::to_string(i)));
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};

  for (auto& each : registrations)
  {
    registration& r = *each;
    r.wake.then = [&r] { r.watch.reset(); };
    asio::post(r.strand, [&r, &dir, &ready, &failures, &registrations] {
      for (int round = 0; round < churn; ++round)
      {
        failures += bool(r.watch.watch(r.strand, dir.path, r.name, r.wake.signal));
        r.watch.reset();
      }
      failures += bool(r.watch.watch(r.strand, dir.path, r.name, r.wake.signal));
      // The last one to watch creates the entries.
      if (++ready == count)
        for (auto& other : registrations)
          failures += !try_create_file(dir / other->name);
    });
  }

  std::thread other([&] { ctx.run_for(std::chrono::seconds(30)); });
  ctx.run_for(std::chrono::seconds(30));
  other.join();

  BOOST_TEST(ctx.stopped());
  BOOST_TEST(failures.load() == 0);
  int woken_once = 0;
  for (auto& r : registrations)
    woken_once += r->wake.count == 1 && !r->watch.active();
  BOOST_TEST(woken_once == count);
  BOOST_TEST(service(ctx).registrations() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
