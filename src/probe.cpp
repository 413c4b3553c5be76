#include "probe.hpp"

#include <asio_backoff/version.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/errc.hpp>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace backoff_wait {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

int lookups_running = 0; // one thread: no atomic needed

class http_status_category_impl final : public boost::system::error_category
{
public:
  const char* name() const noexcept override { return "http"; }

  std::string message(int status) const override
  {
    std::string text = "HTTP " + std::to_string(status);
    const http::status known = http::int_to_status(static_cast<unsigned>(status));
    if (known != http::status::unknown)
      text += " " + std::string(http::obsolete_reason(known));
    return text;
  }
};

// The steps, in order. Each handler first checks that the probe is not
// over: a cancellation may have finished it while the step was pending.
class probe_op : public std::enable_shared_from_this<probe_op>
{
public:
  probe_op(const asio::any_io_executor& ex, const probe_request& r, probe_handler handler)
    : socket_(ex), handler_(std::move(handler)), host_(r.host), port_(r.port)
  {
    if (!r.http_target.empty())
      http_.emplace(r);
  }

  void start()
  {
    asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected())
      slot.assign([weak = weak_from_this()](asio::cancellation_type_t) {
        if (std::shared_ptr<probe_op> self = weak.lock())
          self->finish(asio::error::operation_aborted);
      });
    error_code not_an_address;
    const asio::ip::address address = asio::ip::make_address(host_, not_an_address);
    if (!not_an_address)
      return connect({tcp::endpoint(address, port_)});
    phase_ = phase::resolving;
    ++lookups_running;
    resolver_.emplace(socket_.get_executor());
    resolver_->async_resolve(host_, std::to_string(port_), tcp::resolver::numeric_service,
                            [self = shared_from_this()](error_code ec,
                                                        tcp::resolver::results_type results) {
                              --lookups_running;
                              self->on_resolved(ec, results);
                            });
  }

private:
  enum class phase { resolving, connecting, sending, receiving, done };

  // What only an http probe needs.
  struct http_exchange
  {
    explicit http_exchange(const probe_request& r) : request(http::verb::get, r.http_target, 11)
    {
      request.set(http::field::host, r.host_header);
      request.set(http::field::user_agent, "backoff-wait/" ASIO_BACKOFF_VERSION_STRING);
      request.set(http::field::accept, "*/*");
      request.set(http::field::connection, "close");
    }

    http::request<http::empty_body> request;
    boost::beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
  };

  void on_resolved(error_code ec, const tcp::resolver::results_type& results)
  {
    if (phase_ == phase::done)
      return;
    if (ec)
      return finish(ec);
    connect(std::vector<tcp::endpoint>(results.begin(), results.end()));
  }

  // Each address in turn: "localhost" may be ::1 first while the server
  // listens on 127.0.0.1 only.
  void connect(std::vector<tcp::endpoint> endpoints)
  {
    phase_ = phase::connecting;
    endpoints_ = std::move(endpoints);
    asio::async_connect(socket_, endpoints_,
                        [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                          self->on_connected(ec);
                        });
  }

  void on_connected(error_code ec)
  {
    if (phase_ == phase::done)
      return;
    if (ec || !http_)
      return finish(ec); // tcp: connectable is ready, even if the peer closes at once
    phase_ = phase::sending;
    http::async_write(socket_, http_->request,
                      [self = shared_from_this()](error_code e, std::size_t) { self->on_sent(e); });
  }

  void on_sent(error_code ec)
  {
    if (phase_ == phase::done)
      return;
    if (ec)
      return finish(ec);
    phase_ = phase::receiving;
    // The status line and the headers are all it takes: the body is not read.
    http::async_read_header(socket_, http_->buffer, http_->parser,
                            [self = shared_from_this()](error_code e, std::size_t) {
                              self->on_received(e);
                            });
  }

  void on_received(error_code ec)
  {
    if (phase_ == phase::done)
      return;
    if (ec)
      return finish(ec);
    const unsigned status = http_->parser.get().result_int();
    if (status >= 200 && status < 300)
      return finish({});
    finish(error_code(static_cast<int>(status), http_status_category()));
  }

  // The handler is posted: finish() also runs inside a cancellation, and
  // the operation that emitted it must not be re-entered. (To our own
  // executor: Asio 1.81's any_completion_executor cannot be posted to.)
  void finish(error_code ec)
  {
    if (phase_ == phase::done)
      return;
    phase_ = phase::done;
    if (resolver_)
      resolver_->cancel();
    error_code ignored;
    socket_.close(ignored); // pending steps complete with operation_aborted
    asio::post(socket_.get_executor(),
               [handler = std::move(handler_), ec]() mutable { std::move(handler)(ec); });
  }

  tcp::socket socket_;
  probe_handler handler_;
  std::string host_;
  std::uint16_t port_;
  std::optional<tcp::resolver> resolver_; // for a name, not an address
  std::vector<tcp::endpoint> endpoints_;
  std::optional<http_exchange> http_;
  phase phase_ = phase::connecting;
};

} // namespace

void start_probe(const asio::any_io_executor& ex, const probe_request& request,
                 probe_handler handler)
{
  std::make_shared<probe_op>(ex, request, std::move(handler))->start();
}

const boost::system::error_category& http_status_category() noexcept
{
  static const http_status_category_impl instance;
  return instance;
}

bool is_permanent_probe_error(const error_code& ec) noexcept
{
  if (ec == boost::system::errc::permission_denied)
    return true;
  if (ec.category() != http_status_category())
    return false;
  const int status = ec.value();
  return status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
}

bool lookup_running() noexcept
{
  return lookups_running > 0;
}

} // namespace backoff_wait
