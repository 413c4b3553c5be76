// Text for people: arguments and names made safe to print, and figures.

#ifndef BACKOFF_WAIT_TEXT_HPP
#define BACKOFF_WAIT_TEXT_HPP

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace backoff_wait {

/// `text` fit for a terminal or a log line: control characters become '?'
/// (an argument must not be able to move the cursor or clear the screen),
/// and beyond `max_bytes` it is cut, saying how long it was.
std::string printable(std::string_view text, std::size_t max_bytes = 200);

/// A duration in seconds with three decimals: "0.412 s".
std::string seconds(std::chrono::nanoseconds d);

/// "1 attempt", "3 attempts".
std::string attempts(std::size_t n);

} // namespace backoff_wait

#endif // BACKOFF_WAIT_TEXT_HPP
