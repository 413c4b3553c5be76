#include "target.hpp"

#include <climits>
#include <cstddef>

#include <arpa/inet.h>
#include <sys/un.h>

namespace backoff_wait {

namespace {

constexpr std::string_view expected_forms =
    "expected unix:PATH, tcp:HOST:PORT, file:PATH or http://HOST[:PORT][/PATH]";

bool starts_with(std::string_view text, std::string_view prefix)
{
  return text.substr(0, prefix.size()) == prefix;
}

std::optional<std::uint16_t> parse_port(std::string_view text)
{
  if (text.empty() || text.size() > 5)
    return std::nullopt;
  unsigned value = 0;
  for (char c : text)
  {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// A DNS name (RFC 1123, plus '_', which container networks use) or an IPv4
// address. Anything else would only fail later, at every attempt.
bool is_host_name(std::string_view host)
{
  if (host.empty() || host.size() > 253)
    return false;
  for (char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.' || c == '_'))
      return false;
  return true;
}

// "HOST:PORT" or "[IPv6]:PORT"; without a port, `default_port` if any.
bool parse_host_port(std::string_view text, std::optional<std::uint16_t> default_port,
                     target& t, std::string& error)
{
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (starts_with(text, "["))
  {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos)
    {
      error = "missing ']' after the IPv6 address";
      return false;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest[0] != ':')
    {
      error = "expected ':PORT' after ']'";
      return false;
    }
    has_port = !rest.empty();
    port = has_port ? rest.substr(1) : rest;
    in6_addr address;
    if (host.size() > 64 || ::inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1)
    {
      error = "not an IPv6 address between '[' and ']'";
      return false;
    }
  }
  else
  {
    const std::size_t colon = text.rfind(':');
    has_port = colon != std::string_view::npos;
    host = text.substr(0, colon);
    port = has_port ? text.substr(colon + 1) : std::string_view();
    if (host.find(':') != std::string_view::npos)
    {
      error = "an IPv6 address goes between brackets, as in tcp:[::1]:5432";
      return false;
    }
    if (host.empty())
    {
      error = "missing host";
      return false;
    }
    if (!is_host_name(host))
    {
      error = host.size() > 253 ? "host name too long (at most 253 characters)"
                                : "invalid host name (letters, digits, '-', '.' and '_' only)";
      return false;
    }
  }
  if (!has_port && !default_port)
  {
    error = "missing port";
    return false;
  }
  const std::optional<std::uint16_t> number = has_port ? parse_port(port) : default_port;
  if (!number)
  {
    error = "invalid port (1 to 65535)";
    return false;
  }
  t.host = std::string(host);
  t.port = *number;
  return true;
}

bool parse_path(std::string_view path, std::size_t max_bytes, const char* what,
                target& t, std::string& error)
{
  if (path.empty())
  {
    error = "missing path";
    return false;
  }
  if (path.size() > max_bytes)
  {
    error = std::string(what) + " too long (" + std::to_string(path.size()) +
            " bytes, at most " + std::to_string(max_bytes) + ")";
    return false;
  }
  t.path = std::string(path);
  return true;
}

bool parse_http(std::string_view rest, target& t, std::string& error)
{
  const std::size_t slash = rest.find_first_of("/?#");
  if (!parse_host_port(rest.substr(0, slash), 80, t, error))
    return false;
  std::string_view request_target =
      slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  request_target = request_target.substr(0, request_target.find('#')); // never sent
  if (request_target.empty() || request_target[0] != '/')
    t.path = "/" + std::string(request_target);
  else
    t.path = std::string(request_target);
  if (t.path.size() > 8000)
  {
    error = "URL path too long (at most 8000 bytes)";
    return false;
  }
  // It goes into the request line as it is: no space, control or non-ASCII
  // byte can be sent there.
  for (unsigned char c : t.path)
    if (c <= 0x20 || c >= 0x7f)
    {
      error = "invalid character in the URL path (percent-encode it)";
      return false;
    }
  return true;
}

} // namespace

const char* kind_name(target_kind kind) noexcept
{
  switch (kind)
  {
  case target_kind::unix_socket: return "unix";
  case target_kind::tcp: return "tcp";
  case target_kind::file: return "file";
  case target_kind::http: return "http";
  }
  return "unknown";
}

std::string target::host_for_url() const
{
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

std::optional<target> parse_target(std::string_view text, std::string& error)
{
  target t;
  t.text = std::string(text);
  bool ok = false;
  if (starts_with(text, "unix:"))
  {
    t.kind = target_kind::unix_socket;
    // The kernel takes the path in sockaddr_un::sun_path, terminated by a NUL.
    ok = parse_path(text.substr(5), sizeof(sockaddr_un::sun_path) - 1, "unix socket path", t,
                    error);
  }
  else if (starts_with(text, "file:"))
  {
    t.kind = target_kind::file;
    ok = parse_path(text.substr(5), PATH_MAX - 1, "path", t, error);
  }
  else if (starts_with(text, "tcp:"))
  {
    t.kind = target_kind::tcp;
    ok = parse_host_port(text.substr(4), std::nullopt, t, error);
  }
  else if (starts_with(text, "http://"))
  {
    t.kind = target_kind::http;
    ok = parse_http(text.substr(7), t, error);
  }
  else if (starts_with(text, "https://"))
    error = "https is not supported (tcp:HOST:443 waits for the port)";
  else
    error = std::string(expected_forms);
  if (!ok)
    return std::nullopt;
  return t;
}

} // namespace backoff_wait
