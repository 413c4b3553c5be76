// A program of a project that uses asio_backoff: a synchronous attempt fails
// twice, then succeeds. Prints what it was built with, for the test to check.
#include <asio_backoff.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>

int main()
{
  boost::asio::io_context ctx;
  int attempts = 0;
  boost::system::error_code result = boost::asio::error::would_block;
  asio_backoff::async_backoff(
      ctx, asio_backoff::policy{},
      [&]() -> boost::system::error_code {
        return ++attempts < 3 ? boost::asio::error::try_again : boost::system::error_code{};
      },
      [&](boost::system::error_code ec) { result = ec; });
  ctx.run();
  std::printf("asio_backoff %s, C++ %ld, %d attempts: %s\n", ASIO_BACKOFF_VERSION_STRING,
              static_cast<long>(__cplusplus), attempts, result.message().c_str());
  return result || attempts != 3 ? 1 : 0;
}
