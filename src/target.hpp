// The kinds of target and how their text is read.

#ifndef BACKOFF_WAIT_TARGET_HPP
#define BACKOFF_WAIT_TARGET_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace backoff_wait {

enum class target_kind
{
  unix_socket, ///< unix:PATH      a unix stream socket accepts a connection
  tcp,         ///< tcp:HOST:PORT  a TCP port accepts a connection
  file,        ///< file:PATH      the path exists
  http         ///< http://HOST[:PORT][/PATH]  a GET answers 2xx
};

/// "unix", "tcp", "file", "http".
const char* kind_name(target_kind kind) noexcept;

struct target
{
  target_kind kind = target_kind::file;
  std::string text;     ///< as given on the command line
  std::string path;     ///< unix, file: the path; http: the request target ("/health")
  std::string host;     ///< tcp, http: a name or an address, IPv6 without brackets
  std::uint16_t port = 0;

  /// tcp, http: the host as written in a URL or a Host header ("[::1]").
  std::string host_for_url() const;
};

/// Reads a target; on a malformed one, returns nothing and says why in
/// `error` (without the target's text, which the caller quotes). Everything
/// that cannot work whatever happens later is rejected here, before any
/// wait: a unix path longer than `sun_path`, a port out of range, ...
std::optional<target> parse_target(std::string_view text, std::string& error);

} // namespace backoff_wait

#endif // BACKOFF_WAIT_TARGET_HPP
