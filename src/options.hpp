// The command line: backoff-wait [OPTIONS] TARGET... [-- COMMAND [ARG...]]

#ifndef BACKOFF_WAIT_OPTIONS_HPP
#define BACKOFF_WAIT_OPTIONS_HPP

#include "target.hpp"

#include <asio_backoff/policy.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace backoff_wait {

struct options
{
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  std::chrono::nanoseconds initial = std::chrono::milliseconds(10);
  std::chrono::nanoseconds max_delay = std::chrono::seconds(1);
  double multiplier = 2.0;
  asio_backoff::jitter jitter = asio_backoff::jitter::none;
  std::chrono::nanoseconds attempt_timeout = std::chrono::seconds(5);
  bool quiet = false;
  bool json = false;
  std::vector<target> targets;
  std::vector<std::string> command; ///< after "--"; empty: just wait
};

/// What the command line asks for.
struct parse_result
{
  enum class action
  {
    wait,    ///< options are complete and valid
    help,    ///< --help
    version, ///< --version
    usage_error
  };
  action what = action::wait;
  backoff_wait::options options;
  std::string error; ///< with usage_error: one line, naming the bad argument
};

/// Reads the arguments after the program's name. Options may come before
/// and among the targets, until "--"; "--opt=value" and "--opt value" are
/// the same. The policy the options make is checked with
/// `asio_backoff::validate` last.
parse_result parse_command_line(const std::vector<std::string_view>& args);

/// Reads "250ms", "2s", "1.5s", "1m", "100us", "1h": a non-negative decimal
/// number and a unit. Nothing for anything else (a sign, a missing unit,
/// NaN, too large for nanoseconds in 64 bits); `reason` then says why.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text,
                                                       std::string& reason);

/// The backoff policy of the options, without a deadline (the caller sets
/// `deadline` when the wait starts, shared by every target).
asio_backoff::policy make_policy(const options& o);

/// The text of --help.
std::string usage();

} // namespace backoff_wait

#endif // BACKOFF_WAIT_OPTIONS_HPP
