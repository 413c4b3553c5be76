// What is known about each target while the program waits: written by the
// waits, read by the display and the JSON report.

#ifndef BACKOFF_WAIT_STATUS_HPP
#define BACKOFF_WAIT_STATUS_HPP

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>

namespace backoff_wait {

enum class target_state
{
  waiting,   ///< not ready yet; attempts go on
  ready,     ///< an attempt succeeded
  failed,    ///< an attempt failed with an error that will not cure itself
  timed_out, ///< the deadline passed first
  cancelled  ///< stopped by a signal, or because another target failed
};

/// "waiting", "ready", "failed", "timed out", "cancelled".
const char* state_name(target_state state) noexcept;

struct target_status
{
  target_state state = target_state::waiting;
  std::size_t attempts = 0;
  boost::system::error_code last_error;
  /// When the next attempt runs, while waiting.
  std::chrono::steady_clock::time_point next_attempt{};
  /// The wait before it, as the schedule chose it.
  std::chrono::nanoseconds next_delay{0};
  /// From the start to the end of the wait, once it has ended.
  std::chrono::nanoseconds elapsed{0};
};

/// How the whole run ended; the exit status follows from it.
enum class run_end
{
  all_ready,   ///< 0
  timed_out,   ///< 1: the deadline passed with a target not ready
  failed,      ///< 3: a target failed for good
  interrupted  ///< 128 + the signal
};

struct run_summary
{
  run_end end = run_end::all_ready;
  int signal = 0; ///< with `interrupted`: SIGINT or SIGTERM
  std::chrono::nanoseconds elapsed{0};
};

/// The exit status of a run: 0, 1, 3, or 128 + the signal (130, 143).
int exit_status(const run_summary& summary) noexcept;

} // namespace backoff_wait

#endif // BACKOFF_WAIT_STATUS_HPP
