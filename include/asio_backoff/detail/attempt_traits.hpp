//
// asio_backoff/detail/attempt_traits.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_ATTEMPT_TRAITS_HPP
#define ASIO_BACKOFF_DETAIL_ATTEMPT_TRAITS_HPP

#include <asio_backoff/attempt.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace asio_backoff {
namespace detail {

template <class Signature>
struct attempt_signature
{
  static_assert(sizeof(Signature) == 0,
                "an asynchronous attempt must complete with void(error_code) "
                "or void(error_code, T)");
};

template <class Ec>
struct attempt_signature<void(Ec)>
{
  static_assert(std::is_same<std::decay_t<Ec>, boost::system::error_code>::value,
                "an asynchronous attempt must complete with an error_code first");
  using type = void(boost::system::error_code);
};

template <class Ec, class T>
struct attempt_signature<void(Ec, T)>
{
  static_assert(std::is_same<std::decay_t<Ec>, boost::system::error_code>::value,
                "an asynchronous attempt must complete with an error_code first");
  using value_type = std::decay_t<T>;
  static_assert(std::is_default_constructible<value_type>::value,
                "the value of an asynchronous attempt must be default-"
                "constructible: it is what the operation delivers when no "
                "attempt produced one");
  using type = void(boost::system::error_code, value_type);
};

// A synchronous attempt returns an error_code or an attempt_result; anything
// else it returns must be a deferred asynchronous operation.
template <class Attempt, class Result = std::invoke_result_t<Attempt&>,
          bool Sync = std::is_convertible<Result, attempt_result>::value>
struct attempt_traits
{
  static constexpr bool is_async = false;
  using signature = void(boost::system::error_code);
};

template <class Attempt, class Result>
struct attempt_traits<Attempt, Result, false>
{
  static constexpr bool is_async = true;
  using signature = typename attempt_signature<
      boost::asio::completion_signature_of_t<Result>>::type;
};

template <class Attempt>
bool is_permanent(Attempt& attempt, const boost::system::error_code& ec)
{
  if constexpr (has_is_permanent<Attempt>::value)
    return attempt.is_permanent(ec);
  else
    return false;
}

} // namespace detail
} // namespace asio_backoff

#endif // ASIO_BACKOFF_DETAIL_ATTEMPT_TRAITS_HPP
