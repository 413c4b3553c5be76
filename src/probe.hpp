// One attempt at a tcp or http target: resolve the name, connect, for http
// send a GET and read the status line, close.

#ifndef BACKOFF_WAIT_PROBE_HPP
#define BACKOFF_WAIT_PROBE_HPP

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>

namespace backoff_wait {

struct probe_request
{
  std::string host; ///< a name, or an address (resolved without a lookup)
  std::uint16_t port = 0;
  std::string http_target; ///< empty: a connection is all it takes
  std::string host_header; ///< for http
};

using probe_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

/// The body of `async_probe`, compiled once (Boost.Beast is heavy).
void start_probe(const boost::asio::any_io_executor& ex, const probe_request& request,
                 probe_handler handler);

/// Probes a tcp or http target once. Completion: `void(error_code)`, no
/// error when the port accepted a connection (tcp) or the GET was answered
/// with a 2xx status (http); an answer with another status completes with
/// an error of `http_status_category()` whose value is the status.
/**
 * Cancellation (terminal, partial or total, as the backoff operation sends
 * at the attempt timeout, the deadline or on a signal) completes it at once
 * with `operation_aborted`, even while the name is being looked up:
 * getaddrinfo cannot be interrupted, so its late answer is dropped. The
 * handler is never invoked from inside this call nor from inside a
 * cancellation. `request` must live until the operation has started.
 */
template <class CompletionToken>
auto async_probe(const boost::asio::any_io_executor& ex, const probe_request& request,
                 CompletionToken&& token)
{
  return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
      [](auto handler, const boost::asio::any_io_executor& executor, const probe_request* r) {
        start_probe(executor, *r, probe_handler(std::move(handler)));
      },
      token, ex, &request);
}

/// HTTP statuses as errors: the value is the status, the message "HTTP 503
/// Service Unavailable".
const boost::system::error_category& http_status_category() noexcept;

/// Whether a probe's error will not cure itself by waiting: permission
/// denied, and an HTTP 4xx other than 408 (timeout), 425 (too early) and
/// 429 (too many requests). Everything else, host not found included (the
/// name of a container may appear late), is "not yet".
bool is_permanent_probe_error(const boost::system::error_code& ec) noexcept;

/// Whether a name lookup is still running on Asio's resolver thread. Then
/// destroying the io_context would wait for getaddrinfo to return.
bool lookup_running() noexcept;

} // namespace backoff_wait

#endif // BACKOFF_WAIT_PROBE_HPP
