#include "display.hpp"

#include "text.hpp"

#include <asio_backoff/schedule.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string_view>

#include <sys/ioctl.h>
#include <unistd.h>

namespace backoff_wait {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto redraw_period = 100ms;
constexpr std::size_t state_width = 9; // "timed out", "cancelled"
constexpr std::size_t max_name_width = 48;

// One write for a whole frame or line, so that nothing interleaves. A
// stderr that is closed or broken must not stop the wait.
void write_stderr(std::string_view text)
{
  while (!text.empty())
  {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void log_line(const std::string& line)
{
  write_stderr("backoff-wait: " + line + "\n");
}

struct terminal_size
{
  std::size_t rows = 24;
  std::size_t columns = 80;
};

terminal_size stderr_size()
{
  terminal_size size;
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
  {
    size.rows = ws.ws_row;
    size.columns = ws.ws_col;
  }
  return size;
}

std::string fit(std::string text, std::size_t width)
{
  if (text.size() > width)
    return width > 3 ? text.substr(0, width - 3) + "..." : text.substr(0, width);
  text.resize(width, ' ');
  return text;
}

std::string error_text(const target_status& s)
{
  return s.last_error.failed() ? s.last_error.message() : "no attempt finished";
}

const char* signal_name(int signal)
{
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

bool is_ready(const target_status& s)
{
  return s.state == target_state::ready;
}

} // namespace

display::mode display::choose(bool quiet)
{
  if (quiet)
    return mode::quiet;
  const char* term = std::getenv("TERM");
  if (::isatty(STDERR_FILENO) && !(term && std::string_view(term) == "dumb"))
    return mode::live;
  return mode::log;
}

display::display(boost::asio::io_context& ctx, mode m, const std::vector<target>& targets,
                 const std::vector<target_status>& statuses)
  : timer_(ctx), mode_(m), targets_(targets), statuses_(statuses)
{
}

void display::start()
{
  if (mode_ != mode::live)
    return;
  running_ = true;
  draw();
  tick();
}

void display::tick()
{
  timer_.expires_after(redraw_period);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_)
      return;
    draw();
    tick();
  });
}

void display::stop()
{
  running_ = false;
  timer_.cancel();
}

std::string display::name(std::size_t index) const
{
  return printable(targets_[index].text);
}

void display::retrying(std::size_t index, bool new_error)
{
  if (mode_ != mode::log || !new_error)
    return;
  const target_status& s = statuses_[index];
  log_line(name(index) + " not ready: " + error_text(s) + " (attempt " +
           std::to_string(s.attempts) + ", next in " +
           asio_backoff::format_duration(s.next_delay) + ")");
}

void display::finished(std::size_t index)
{
  if (mode_ != mode::log)
    return;
  const target_status& s = statuses_[index];
  if (s.state == target_state::ready)
    log_line(name(index) + " ready after " + attempts(s.attempts) + " (" + seconds(s.elapsed) +
             ")");
  else if (s.state == target_state::failed)
    log_line(name(index) + " failed: " + error_text(s) + " (" + attempts(s.attempts) +
             "; not retried)");
}

std::string display::live_line(std::size_t index, std::size_t name_width,
                               steady::time_point now) const
{
  const target_status& s = statuses_[index];
  std::string state = state_name(s.state);
  std::string detail;
  if (s.state != target_state::waiting)
    detail = attempts(s.attempts) + ", " + seconds(s.elapsed);
  else if (s.attempts == 0 || s.next_attempt <= now)
  {
    state = "trying";
    detail = "attempt " + std::to_string(s.attempts + 1);
  }
  else
    detail = attempts(s.attempts) + ", next in " +
             asio_backoff::format_duration(std::chrono::ceil<std::chrono::milliseconds>(
                 s.next_attempt - now));
  std::string line = fit(state, state_width) + " " + fit(name(index), name_width) + "  " + detail;
  if (s.state != target_state::ready && s.last_error.failed())
    line += "  " + s.last_error.message();
  return line;
}

void display::draw()
{
  const terminal_size size = stderr_size();
  const steady::time_point now = steady::now();
  // The block must fit on the screen, or moving the cursor up to redraw it
  // stops at the top: beyond that, the targets not ready come first and a
  // last line counts the rest.
  const std::size_t room = size.rows > 2 ? size.rows - 2 : 1;
  std::vector<std::size_t> shown;
  const bool summarise = statuses_.size() > room;
  const std::size_t listed = summarise ? room - std::min<std::size_t>(room, 1) : statuses_.size();
  for (std::size_t i = 0; i < statuses_.size() && shown.size() < listed; ++i)
    if (!summarise || !is_ready(statuses_[i]))
      shown.push_back(i);
  for (std::size_t i = 0; i < statuses_.size() && shown.size() < listed; ++i)
    if (summarise && is_ready(statuses_[i]))
      shown.push_back(i);

  std::size_t name_width = 0;
  for (std::size_t i : shown)
    name_width = std::max(name_width, name(i).size());
  name_width = std::min(name_width, max_name_width);

  const std::size_t width = size.columns > 1 ? size.columns - 1 : 1; // no wrapping
  std::string frame;
  if (lines_drawn_ > 0)
    frame += "\x1b[" + std::to_string(lines_drawn_) + "A"; // up to the block's first line
  for (std::size_t i : shown)
    frame += "\r\x1b[2K" + live_line(i, name_width, now).substr(0, width) + "\n";
  if (summarise)
  {
    const auto ready = static_cast<std::size_t>(
        std::count_if(statuses_.begin(), statuses_.end(), is_ready));
    const std::string line = "... " + std::to_string(statuses_.size() - shown.size()) +
                             " more; " + std::to_string(ready) + " of " +
                             std::to_string(statuses_.size()) + " targets ready";
    frame += "\r\x1b[2K" + line.substr(0, width) + "\n";
  }
  frame += "\x1b[J"; // whatever a taller earlier block left below
  lines_drawn_ = shown.size() + (summarise ? 1 : 0);
  write_stderr(frame);
}

void display::report(const run_summary& summary)
{
  if (mode_ == mode::quiet)
    return;
  if (mode_ == mode::live)
    draw();
  const std::size_t total = statuses_.size();
  std::size_t not_ready = 0;
  std::size_t first_failed = total;
  for (std::size_t i = 0; i < total; ++i)
  {
    const target_status& s = statuses_[i];
    if (s.state == target_state::failed && first_failed == total)
      first_failed = i;
    if (is_ready(s))
      continue;
    ++not_ready;
    if (mode_ != mode::log || s.state == target_state::failed) // failures were logged
      continue;
    log_line(name(i) + " not ready" +
             (s.state == target_state::timed_out ? " at the deadline: " : " (stopped): ") +
             error_text(s) + " (" + attempts(s.attempts) + ")");
  }
  const std::string after = " after " + seconds(summary.elapsed);
  const std::string count = total == 1 ? name(0) + " not ready"
                                       : std::to_string(not_ready) + " of " +
                                             std::to_string(total) + " targets not ready";
  switch (summary.end)
  {
  case run_end::all_ready:
    if (total > 1)
      log_line("all " + std::to_string(total) + " targets ready" + after);
    else if (mode_ == mode::live)
      log_line(name(0) + " ready" + after);
    break;
  case run_end::timed_out:
    log_line("timed out" + after + ": " + count);
    break;
  case run_end::failed:
    if (first_failed < total)
      log_line("gave up" + after + ": " + name(first_failed) +
               " failed: " + error_text(statuses_[first_failed]));
    break;
  case run_end::interrupted:
    log_line(std::string("interrupted by ") + signal_name(summary.signal) + after + ": " + count);
    break;
  }
}

} // namespace backoff_wait
