//
// asio_backoff/detail/path_watch.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_PATH_WATCH_HPP
#define ASIO_BACKOFF_DETAIL_PATH_WATCH_HPP

#include <asio_backoff/wake.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#if defined(__linux__)
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include <sys/inotify.h>
#include <unistd.h>
#endif

namespace asio_backoff {
namespace detail {

// One registration as the shared registry sees it. Pending emits hold it, so
// that a registration reset in the meantime is never dereferenced: they find
// `live_` false instead.
class path_watch_node
{
public:
  explicit path_watch_node(std::string name) : name_(std::move(name)) {}
  virtual ~path_watch_node() = default;

  // Emits the signal on the registration's executor, unless reset by then.
  virtual void wake(std::shared_ptr<path_watch_node> self) = 0;

  const std::string name_;
  int wd_ = -1;
  // Written by reset() and read by the emit, both on the registration's
  // executor: a plain flag.
  bool live_ = true;
  // Set by the reader when the directory's watch is gone (any thread).
  std::atomic<bool> ignored_{false};
};

template <class Executor>
class path_watch_node_for final : public path_watch_node
{
public:
  path_watch_node_for(const Executor& ex, std::string name, wake_signal& signal)
    : path_watch_node(std::move(name)), executor_(ex), signal_(&signal)
  {
  }

  void wake(std::shared_ptr<path_watch_node> self) override
  {
    boost::asio::dispatch(executor_, [this, self = std::move(self)] {
      if (live_)
        signal_->emit();
    });
  }

private:
  Executor executor_;
  wake_signal* signal_;
};

#if defined(__linux__)

// The registrations of one execution context and its inotify descriptor: one
// kernel watch per directory, any number of registrations per watch. Shared
// with the registrations, so that one outliving its io_context can still
// reset safely.
class path_watch_registry : public std::enable_shared_from_this<path_watch_registry>
{
public:
  boost::system::error_code add(const boost::asio::any_io_executor& io_ex,
                                const std::string& directory,
                                const std::shared_ptr<path_watch_node>& node)
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_)
      return boost::asio::error::operation_aborted;
    if (!descriptor_)
    {
      // Created on first use: an inotify instance is scarce (128 per user).
      int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (fd < 0)
        return last_error();
      boost::system::error_code ec;
      descriptor_.emplace(io_ex);
      descriptor_->assign(fd, ec);
      if (ec)
      {
        descriptor_.reset();
        ::close(fd);
        return ec;
      }
    }
    // IN_ONLYDIR: a path to a file is ENOTDIR, not a watch on the file.
    // IN_MOVE_SELF: once moved, the directory is no longer at the path.
    int wd = ::inotify_add_watch(descriptor_->native_handle(), directory.c_str(),
                                 IN_CREATE | IN_MOVED_TO | IN_MOVE_SELF | IN_ONLYDIR);
    if (wd < 0)
      return last_error();
    // The same directory gives the same wd: the kernel watch is shared.
    node->wd_ = wd;
    watches_[wd].emplace(node->name_, node);
    if (!wait_pending_)
      start_wait();
    return {};
  }

  void remove(path_watch_node& node) noexcept
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto dir = watches_.find(node.wd_);
    if (dir == watches_.end())
      return; // directory gone, or shut down
    auto [first, last] = dir->second.equal_range(node.name_);
    auto it = std::find_if(first, last, [&](const auto& r) { return r.second.get() == &node; });
    if (it == last)
      return;
    dir->second.erase(it);
    if (dir->second.empty())
    {
      // Removing a watch costs microseconds; the descriptor stays open
      // because closing it costs milliseconds.
      ::inotify_rm_watch(descriptor_->native_handle(), node.wd_);
      watches_.erase(dir);
    }
    // Nobody watches: leave no pending wait, so that run() can return.
    if (watches_.empty() && wait_pending_)
    {
      boost::system::error_code ignored;
      descriptor_->cancel(ignored);
    }
  }

  // The execution context is going away: forget every registration and
  // destroy the descriptor while the reactor still exists.
  void shutdown() noexcept
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shut_down_ = true;
    for (auto& dir : watches_)
      for (auto& r : dir.second)
        r.second->ignored_ = true;
    watches_.clear();
    descriptor_.reset();
  }

  std::size_t kernel_watches() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    return watches_.size();
  }

  std::size_t registrations() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (auto& dir : watches_)
      n += dir.second.size();
    return n;
  }

private:
  using node_ptr = std::shared_ptr<path_watch_node>;
  using directory_registrations = std::multimap<std::string, node_ptr, std::less<>>;

  static boost::system::error_code last_error()
  {
    return boost::system::error_code(errno, boost::system::system_category());
  }

  // Lock held.
  void start_wait()
  {
    wait_pending_ = true;
    descriptor_->async_wait(boost::asio::posix::descriptor_base::wait_read,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              self->on_readable(ec);
                            });
  }

  void on_readable(const boost::system::error_code& ec)
  {
    std::vector<node_ptr> woken;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      wait_pending_ = false;
      if (shut_down_ || watches_.empty())
        return;
      read_events(woken);
      // Cancelled waits come here too: a registration may have arrived since.
      // Any other error would come back at once: stop rather than spin.
      if (!watches_.empty() && (!ec || ec == boost::asio::error::operation_aborted))
        start_wait();
    }
    // Unlocked: dispatch may run the emit inline, and its handler may reset
    // or add registrations.
    for (auto& node : woken)
    {
      path_watch_node& n = *node;
      n.wake(std::move(node));
    }
  }

  // Lock held. Reads every queued event.
  void read_events(std::vector<node_ptr>& woken)
  {
    // Room for several events; one needs at most sizeof(inotify_event) + NAME_MAX + 1.
    alignas(inotify_event) char buffer[4096];
    for (;;)
    {
      ssize_t size = ::read(descriptor_->native_handle(), buffer, sizeof buffer);
      if (size < 0 && errno == EINTR)
        continue;
      if (size <= 0)
        return; // EAGAIN: drained
      for (const char* p = buffer; p < buffer + size;)
      {
        // A copy of the header: no question of aliasing or alignment.
        inotify_event event;
        std::memcpy(&event, p, sizeof event);
        const char* name = p + sizeof event;
        handle(event, std::string_view(name, ::strnlen(name, event.len)), woken);
        p += sizeof event + event.len;
      }
    }
  }

  // Lock held.
  void handle(const inotify_event& event, std::string_view name, std::vector<node_ptr>& woken)
  {
    if (event.mask & IN_Q_OVERFLOW)
    {
      // Events were lost: whatever was awaited may be there now.
      for (auto& dir : watches_)
        for (auto& r : dir.second)
          woken.push_back(r.second);
      return;
    }
    auto dir = watches_.find(event.wd);
    if (dir == watches_.end())
      return; // a watch removed earlier
    if (event.mask & IN_IGNORED)
    {
      // The directory was deleted or unmounted: the kernel dropped the watch.
      for (auto& r : dir->second)
        r.second->ignored_ = true;
      watches_.erase(dir);
      return;
    }
    if (event.mask & IN_MOVE_SELF)
    {
      // IN_IGNORED follows and ends the registrations.
      ::inotify_rm_watch(descriptor_->native_handle(), event.wd);
      return;
    }
    auto [first, last] = dir->second.equal_range(name);
    for (; first != last; ++first)
      woken.push_back(first->second);
  }

  mutable std::mutex mutex_;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
  std::map<int, directory_registrations> watches_; // by watch descriptor
  bool wait_pending_ = false;
  bool shut_down_ = false;
};

// The registry of an execution context.
class path_watch_service : public boost::asio::execution_context::service
{
public:
  static inline boost::asio::execution_context::id id;

  explicit path_watch_service(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context),
      registry_(std::make_shared<path_watch_registry>())
  {
  }

  const std::shared_ptr<path_watch_registry>& registry() const noexcept { return registry_; }

  // For tests.
  std::size_t kernel_watches() const { return registry_->kernel_watches(); }
  std::size_t registrations() const { return registry_->registrations(); }

private:
  void shutdown() override { registry_->shutdown(); }

  std::shared_ptr<path_watch_registry> registry_;
};

// The executor the descriptor waits on: the context's, without the caller's
// strand (the reads would queue behind its work; a strand hidden in an
// any_io_executor stays, which is only slower) and without outstanding work
// (run() must return when nobody watches).
template <class Executor>
boost::asio::any_io_executor path_watch_descriptor_executor(const Executor& ex)
{
  return boost::asio::prefer(ex, boost::asio::execution::outstanding_work.untracked);
}

template <class Inner>
boost::asio::any_io_executor path_watch_descriptor_executor(const boost::asio::strand<Inner>& ex)
{
  return path_watch_descriptor_executor(ex.get_inner_executor());
}

#endif // defined(__linux__)

// Wakes an operation when an entry of a given name appears in a directory
// (created, or moved in): the early-wake source for unix sockets and files.
/**
 * All the registrations of an execution context share one inotify descriptor
 * (inotify instances are scarce, and closing one that has watches blocks for
 * milliseconds) and one kernel watch per directory. The descriptor has a wait
 * pending only while a registration exists, so `run()` returns when nobody
 * watches.
 *
 * Every member function is called on the registration's executor (the one
 * given to `watch`, a strand where threads run the context).
 */
class path_watch
{
public:
  path_watch() noexcept = default;
  path_watch(const path_watch&) = delete;
  path_watch& operator=(const path_watch&) = delete;
  ~path_watch() { reset(); }

  /// Starts watching `directory` for an entry named `name`, after resetting.
  /**
   * `signal.emit()` is then called through `dispatch` on `ex` for each entry
   * of that name created or moved into the directory, and when the kernel's
   * event queue overflowed. If the directory is deleted or moved away, the
   * registration becomes inactive silently.
   *
   * @returns The reason when nothing is watched: the errno of
   * `inotify_init1` or `inotify_add_watch` (ENOENT, ENOTDIR, EACCES, ENOSPC,
   * EMFILE, ...), `invalid_argument` if `name` is not one path component,
   * `operation_not_supported` without inotify.
   */
  template <class Executor>
  boost::system::error_code watch(const Executor& ex, const std::string& directory,
                                  const std::string& name, asio_backoff::wake_signal& signal)
  {
    reset();
    // Events name entries of the directory itself.
    if (name.empty() || name.find('/') != std::string::npos)
      return boost::asio::error::invalid_argument;
#if defined(__linux__)
    boost::asio::execution_context& context =
        boost::asio::query(ex, boost::asio::execution::context);
    std::shared_ptr<path_watch_registry> registry =
        boost::asio::use_service<path_watch_service>(context).registry();
    auto node = std::make_shared<path_watch_node_for<Executor>>(ex, name, signal);
    if (boost::system::error_code ec =
            registry->add(path_watch_descriptor_executor(ex), directory, node))
      return ec;
    registry_ = std::move(registry);
    node_ = std::move(node);
    return {};
#else
    (void)ex;
    (void)directory;
    (void)signal;
    return boost::asio::error::operation_not_supported;
#endif
  }

  /// Whether a directory is watched: false after reset(), a failed watch(),
  /// once the directory was deleted or moved, or the context shut down.
  bool active() const noexcept { return node_ && !node_->ignored_.load(); }

  /// Stops watching: no emit follows, not even for events already read.
  void reset() noexcept
  {
    if (!node_)
      return;
    node_->live_ = false;
#if defined(__linux__)
    registry_->remove(*node_);
    registry_.reset();
#endif
    node_.reset();
  }

private:
#if defined(__linux__)
  std::shared_ptr<path_watch_registry> registry_;
#endif
  std::shared_ptr<path_watch_node> node_;
};

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_PATH_WATCH_HPP
