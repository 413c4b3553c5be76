#include "json_report.hpp"

#include <chrono>
#include <cstddef>
#include <cstdio>

namespace backoff_wait {

namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8_sequence(std::string_view s)
{
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned min_second = 0x80;
  unsigned max_second = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf)
    length = 2;
  else if (lead >= 0xe0 && lead <= 0xef)
  {
    length = 3;
    if (lead == 0xe0)
      min_second = 0xa0; // overlong
    if (lead == 0xed)
      max_second = 0x9f; // surrogates
  }
  else if (lead >= 0xf0 && lead <= 0xf4)
  {
    length = 4;
    if (lead == 0xf0)
      min_second = 0x90; // overlong
    if (lead == 0xf4)
      max_second = 0x8f; // beyond U+10FFFF
  }
  if (length == 0 || s.size() < length || byte(1) < min_second || byte(1) > max_second)
    return 0;
  for (std::size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf)
      return 0;
  return length;
}

std::string milliseconds(std::chrono::nanoseconds d)
{
  char text[32];
  std::snprintf(text, sizeof text, "%.3f",
                std::chrono::duration<double, std::milli>(d).count());
  return text;
}

const char* state_key(target_state state)
{
  switch (state)
  {
  case target_state::waiting: return "waiting";
  case target_state::ready: return "ready";
  case target_state::failed: return "failed";
  case target_state::timed_out: return "timed_out";
  case target_state::cancelled: return "cancelled";
  }
  return "unknown";
}

const char* outcome_key(run_end end)
{
  switch (end)
  {
  case run_end::all_ready: return "ready";
  case run_end::timed_out: return "timed_out";
  case run_end::failed: return "failed";
  case run_end::interrupted: return "interrupted";
  }
  return "unknown";
}

} // namespace

std::string json_string(std::string_view text)
{
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  while (!text.empty())
  {
    const unsigned char c = static_cast<unsigned char>(text[0]);
    std::size_t used = 1;
    if (c == '"' || c == '\\')
      (out += '\\') += static_cast<char>(c);
    else if (c < 0x20 || c == 0x7f)
    {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    }
    else if (c < 0x80)
      out += static_cast<char>(c);
    else if ((used = utf8_sequence(text)) > 0)
      out.append(text.substr(0, used));
    else
    {
      out += "\\ufffd";
      used = 1;
    }
    text.remove_prefix(used);
  }
  out += '"';
  return out;
}

std::string json_report(const std::vector<target>& targets,
                        const std::vector<target_status>& statuses,
                        const run_summary& summary)
{
  std::string out = "{\"ready\":";
  out += summary.end == run_end::all_ready ? "true" : "false";
  out += ",\"outcome\":\"" + std::string(outcome_key(summary.end)) + "\"";
  out += ",\"exit_status\":" + std::to_string(exit_status(summary));
  out += ",\"elapsed_ms\":" + milliseconds(summary.elapsed);
  out += ",\"targets\":[";
  for (std::size_t i = 0; i < targets.size(); ++i)
  {
    const target_status& s = statuses[i];
    out += i == 0 ? "{" : ",{";
    out += "\"target\":" + json_string(targets[i].text);
    out += ",\"kind\":\"" + std::string(kind_name(targets[i].kind)) + "\"";
    out += ",\"ready\":";
    out += s.state == target_state::ready ? "true" : "false";
    out += ",\"state\":\"" + std::string(state_key(s.state)) + "\"";
    out += ",\"attempts\":" + std::to_string(s.attempts);
    out += ",\"elapsed_ms\":" + milliseconds(s.elapsed);
    out += ",\"last_error\":" + json_string(s.last_error.failed() ? s.last_error.message() : "");
    out += "}";
  }
  out += "]}\n";
  return out;
}

} // namespace backoff_wait
