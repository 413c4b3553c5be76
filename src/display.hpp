// What the user sees on stderr while waiting and at the end: a live block
// redrawn in place on a terminal, one log line per change of state
// otherwise, nothing with --quiet.

#ifndef BACKOFF_WAIT_DISPLAY_HPP
#define BACKOFF_WAIT_DISPLAY_HPP

#include "status.hpp"
#include "target.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace backoff_wait {

class display
{
public:
  enum class mode
  {
    live,  ///< a line per target, redrawn in place at most 10 times a second
    log,   ///< a line when a target's state or error changes
    quiet  ///< nothing
  };

  /// live when stderr is a terminal that understands cursor movements, log
  /// otherwise; quiet when asked.
  static mode choose(bool quiet);

  /// The vectors, indexed alike, must outlive the display.
  display(boost::asio::io_context& ctx, mode m, const std::vector<target>& targets,
          const std::vector<target_status>& statuses);

  /// live: draws the block and starts redrawing it.
  void start();

  /// An attempt failed; log: a line for the first error and each new one.
  void retrying(std::size_t index, bool new_error);

  /// A wait is over; log: a line for ready and for failed (the targets still
  /// not ready are named at the end).
  void finished(std::size_t index);

  /// Stops redrawing (the io_context may then run out of work).
  void stop();

  /// The final state: live: the block once more; log: a line per target
  /// not ready and its last error; then the outcome in one line.
  void report(const run_summary& summary);

private:
  void tick();
  void draw();
  std::string live_line(std::size_t index, std::size_t name_width,
                        std::chrono::steady_clock::time_point now) const;
  std::string name(std::size_t index) const;

  boost::asio::steady_timer timer_;
  mode mode_;
  const std::vector<target>& targets_;
  const std::vector<target_status>& statuses_;
  std::size_t lines_drawn_ = 0;
  bool running_ = false;
};

} // namespace backoff_wait

#endif // BACKOFF_WAIT_DISPLAY_HPP
