#include "text.hpp"

#include <cstdio>

namespace backoff_wait {

std::string printable(std::string_view text, std::size_t max_bytes)
{
  const bool cut = text.size() > max_bytes;
  std::string out;
  out.reserve(cut ? max_bytes + 40 : text.size());
  for (unsigned char c : text.substr(0, max_bytes))
    out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
  if (cut)
    out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string seconds(std::chrono::nanoseconds d)
{
  char text[32];
  std::snprintf(text, sizeof text, "%.3f s", std::chrono::duration<double>(d).count());
  return text;
}

std::string attempts(std::size_t n)
{
  return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
}

} // namespace backoff_wait
