//
// asio_backoff/version.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_VERSION_HPP
#define ASIO_BACKOFF_VERSION_HPP

// The one version number: CMake's project version is read from here.
#define ASIO_BACKOFF_VERSION_MAJOR 0
#define ASIO_BACKOFF_VERSION_MINOR 1
#define ASIO_BACKOFF_VERSION_PATCH 0
#define ASIO_BACKOFF_VERSION_STRING "0.1.0"

#endif // ASIO_BACKOFF_VERSION_HPP
