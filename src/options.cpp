#include "options.hpp"

#include "text.hpp"

#include <asio_backoff/schedule.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <system_error>

namespace backoff_wait {

namespace {

constexpr std::string_view duration_hint = "use a number and a unit: 250ms, 2s, 1.5s, 1m";

enum class option_id
{
  timeout,
  initial,
  max_delay,
  multiplier,
  jitter,
  attempt_timeout,
  quiet,
  json,
  help,
  version
};

struct option_spec
{
  std::string_view name;
  option_id id;
  bool takes_value;
};

constexpr option_spec option_specs[] = {
    {"--timeout", option_id::timeout, true},
    {"--initial", option_id::initial, true},
    {"--max-delay", option_id::max_delay, true},
    {"--multiplier", option_id::multiplier, true},
    {"--jitter", option_id::jitter, true},
    {"--attempt-timeout", option_id::attempt_timeout, true},
    {"--quiet", option_id::quiet, false},
    {"--json", option_id::json, false},
    {"--help", option_id::help, false},
    {"--version", option_id::version, false},
};

const option_spec* find_option(std::string_view name)
{
  for (const option_spec& spec : option_specs)
    if (spec.name == name)
      return &spec;
  return nullptr;
}

std::string quoted(std::string_view text)
{
  return "'" + printable(text) + "'";
}

std::optional<asio_backoff::jitter> parse_jitter(std::string_view text)
{
  using asio_backoff::jitter;
  if (text == "none") return jitter::none;
  if (text == "full") return jitter::full;
  if (text == "equal") return jitter::equal;
  if (text == "decorrelated") return jitter::decorrelated;
  return std::nullopt;
}

// A finite number >= 1, written in decimal (an exponent is accepted).
std::optional<double> parse_multiplier(std::string_view text)
{
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || stop != end || !std::isfinite(value) || !(value >= 1.0))
    return std::nullopt;
  return value;
}

// Applies one option with its value (empty for a flag). Returns false and
// fills `error` on a bad value.
bool apply(option_id id, std::string_view name, std::string_view value, options& o,
           bool& max_delay_given, std::string& error)
{
  const auto duration = [&](std::chrono::nanoseconds& field) {
    std::string reason;
    if (std::optional<std::chrono::nanoseconds> d = parse_duration(value, reason))
    {
      field = *d;
      return true;
    }
    error = "invalid duration for " + std::string(name) + ": " + quoted(value) + " (" +
            reason + ")";
    return false;
  };
  switch (id)
  {
  case option_id::timeout:
    return duration(o.timeout);
  case option_id::initial:
    return duration(o.initial);
  case option_id::max_delay:
    max_delay_given = true;
    return duration(o.max_delay);
  case option_id::attempt_timeout:
    return duration(o.attempt_timeout);
  case option_id::multiplier:
    if (std::optional<double> m = parse_multiplier(value))
    {
      o.multiplier = *m;
      return true;
    }
    error = "invalid value for --multiplier: " + quoted(value) + " (use a number >= 1: 1.5, 2)";
    return false;
  case option_id::jitter:
    if (std::optional<asio_backoff::jitter> j = parse_jitter(value))
    {
      o.jitter = *j;
      return true;
    }
    error = "invalid value for --jitter: " + quoted(value) +
            " (use none, full, equal or decorrelated)";
    return false;
  case option_id::quiet:
    o.quiet = true;
    return true;
  case option_id::json:
    o.json = true;
    return true;
  case option_id::help:
  case option_id::version:
    return true;
  }
  return true;
}

// The checks that involve several options, then the library's own.
bool check(options& o, bool max_delay_given, std::string& error)
{
  if (o.targets.empty())
  {
    error = "no target given";
    return false;
  }
  if (o.initial <= std::chrono::nanoseconds::zero())
  {
    error = "--initial must be greater than zero";
    return false;
  }
  if (o.attempt_timeout <= std::chrono::nanoseconds::zero())
  {
    error = "--attempt-timeout must be greater than zero";
    return false;
  }
  if (!max_delay_given && o.max_delay < o.initial)
    o.max_delay = o.initial; // the default cap gives way to a longer --initial
  if (o.max_delay < o.initial)
  {
    error = "--max-delay (" + asio_backoff::format_duration(o.max_delay) +
            ") must not be less than --initial (" + asio_backoff::format_duration(o.initial) +
            ")";
    return false;
  }
  if (boost::system::error_code ec = asio_backoff::validate(make_policy(o)))
  {
    error = ec.message();
    return false;
  }
  return true;
}

} // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text,
                                                       std::string& reason)
{
  struct unit
  {
    std::string_view name;
    long double nanoseconds;
  };
  static constexpr unit units[] = {{"us", 1e3L}, {"ms", 1e6L}, {"s", 1e9L},
                                   {"m", 60e9L}, {"min", 60e9L}, {"h", 3600e9L}};
  reason = std::string(duration_hint);
  if (!text.empty() && text[0] == '-')
  {
    reason = "must not be negative";
    return std::nullopt;
  }
  std::size_t i = 0;
  long double value = 0;
  const auto digit = [&] { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  if (!digit())
    return std::nullopt;
  for (; digit(); ++i)
    value = value * 10 + (text[i] - '0');
  if (i < text.size() && text[i] == '.')
  {
    ++i;
    if (!digit())
      return std::nullopt;
    for (long double scale = 0.1L; digit(); ++i, scale /= 10)
      value += (text[i] - '0') * scale;
  }
  const std::string_view name = text.substr(i);
  for (const unit& u : units)
  {
    if (u.name != name)
      continue;
    const long double ns = value * u.nanoseconds;
    // Beyond 64-bit nanoseconds (292 years) a duration cannot be represented.
    if (!(ns < static_cast<long double>(std::numeric_limits<std::int64_t>::max())))
    {
      reason = "too long: at most 292 years";
      return std::nullopt;
    }
    return std::chrono::nanoseconds(std::llround(ns));
  }
  return std::nullopt;
}

asio_backoff::policy make_policy(const options& o)
{
  asio_backoff::policy p;
  p.immediate_first_attempt = true;
  p.initial = o.initial;
  p.max_delay = o.max_delay;
  p.multiplier = o.multiplier;
  p.jitter = o.jitter;
  p.timeout = o.timeout;
  p.attempt_timeout = o.attempt_timeout;
  return p;
}

parse_result parse_command_line(const std::vector<std::string_view>& args)
{
  parse_result result;
  options& o = result.options;
  bool max_delay_given = false;
  const auto fail = [&](std::string message) {
    result.what = parse_result::action::usage_error;
    result.error = std::move(message);
    return result;
  };
  for (std::size_t i = 0; i < args.size(); ++i)
  {
    const std::string_view arg = args[i];
    if (arg == "--")
    {
      o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg.size() > 1 && arg[0] == '-')
    {
      const std::size_t equals = arg.find('=');
      const std::string_view name = arg.substr(0, equals);
      const option_spec* spec = find_option(name);
      if (!spec)
        return fail("unknown option " + quoted(name));
      std::string_view value;
      if (equals != std::string_view::npos)
      {
        if (!spec->takes_value)
          return fail("option " + std::string(name) + " takes no value");
        value = arg.substr(equals + 1);
      }
      else if (spec->takes_value)
      {
        if (i + 1 == args.size())
          return fail("option " + std::string(name) + " needs a value");
        value = args[++i];
      }
      if (spec->id == option_id::help)
      {
        result.what = parse_result::action::help;
        return result;
      }
      if (spec->id == option_id::version)
      {
        result.what = parse_result::action::version;
        return result;
      }
      std::string error;
      if (!apply(spec->id, name, value, o, max_delay_given, error))
        return fail(std::move(error));
      continue;
    }
    std::string error;
    std::optional<target> t = parse_target(arg, error);
    if (!t)
      return fail("invalid target " + quoted(arg) + ": " + error);
    o.targets.push_back(std::move(*t));
  }
  std::string error;
  if (!check(o, max_delay_given, error))
    return fail(std::move(error));
  return result;
}

std::string usage()
{
  return "Usage: backoff-wait [OPTIONS] TARGET... [-- COMMAND [ARG...]]\n"
         "\n"
         "Waits until every target is ready, all at once, retrying each with exponential\n"
         "backoff; then runs COMMAND in its place, if given.\n"
         "\n"
         "Targets:\n"
         "  unix:PATH                  a unix stream socket accepts a connection\n"
         "  tcp:HOST:PORT              a TCP port accepts a connection (IPv6: tcp:[::1]:80)\n"
         "  file:PATH                  the path exists\n"
         "  http://HOST[:PORT][/PATH]  a GET answers 2xx (4xx but 408, 425, 429: failure)\n"
         "\n"
         "Options:\n"
         "  --timeout D          give up after D (default 30s)\n"
         "  --initial D          first wait after a failed attempt (default 10ms)\n"
         "  --max-delay D        longest wait between attempts (default 1s)\n"
         "  --multiplier X       each wait is the previous one times X (default 2)\n"
         "  --jitter J           none, full, equal or decorrelated (default none)\n"
         "  --attempt-timeout D  longest tcp or http attempt, the last one at the\n"
         "                       deadline too (default 5s)\n"
         "  --quiet              print nothing but usage errors\n"
         "  --json               print a summary in JSON on stdout\n"
         "  --help               print this help\n"
         "  --version            print the version\n"
         "Durations: 250ms, 2s, 1.5s, 1m (units us, ms, s, m, h).\n"
         "\n"
         "Exit status: 0 every target ready (with COMMAND: its status), 1 the deadline\n"
         "passed, 2 usage error, 3 a target failed for good, 126/127 COMMAND could not\n"
         "run, 130/143 interrupted by SIGINT/SIGTERM.\n";
}

} // namespace backoff_wait
