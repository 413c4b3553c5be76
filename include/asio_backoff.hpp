//
// asio_backoff.hpp: everything a user of the library needs.
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_HPP
#define ASIO_BACKOFF_HPP

#include <asio_backoff/async_backoff.hpp>
#include <asio_backoff/attempt.hpp>
#include <asio_backoff/error.hpp>
#include <asio_backoff/outcome.hpp>
#include <asio_backoff/policy.hpp>
#include <asio_backoff/reconnect.hpp>
#include <asio_backoff/schedule.hpp>
#include <asio_backoff/version.hpp>
#include <asio_backoff/wake.hpp>

#include <boost/asio/detail/config.hpp>
#if defined(BOOST_ASIO_HAS_POSIX_STREAM_DESCRIPTOR)
#include <asio_backoff/child_watch.hpp>
#include <asio_backoff/connect.hpp>
#endif

#endif // ASIO_BACKOFF_HPP
