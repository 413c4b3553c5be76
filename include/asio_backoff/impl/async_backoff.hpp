//
// asio_backoff/impl/async_backoff.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_IMPL_ASYNC_BACKOFF_HPP
#define ASIO_BACKOFF_IMPL_ASYNC_BACKOFF_HPP

#include <asio_backoff/detail/backoff_op.hpp>

#include <boost/asio/wait_traits.hpp>

#include <type_traits>
#include <utility>

namespace asio_backoff {
namespace detail {

template <class Timer>
class initiate_backoff_on_timer
{
public:
  explicit initiate_backoff_on_timer(Timer& timer) noexcept : timer_(&timer) {}

  using executor_type = typename Timer::executor_type;
  executor_type get_executor() const noexcept { return timer_->get_executor(); }

  template <class Handler, class Attempt, class Report>
  void operator()(Handler&& handler, const policy& p, Attempt&& attempt,
                  Report report) const
  {
    std::decay_t<Handler> h(std::forward<Handler>(handler));
    backoff_op<borrowed_timer<Timer>, std::decay_t<Attempt>, std::decay_t<Handler>, Report>::start(
        std::move(h), *timer_, p, std::decay_t<Attempt>(std::forward<Attempt>(attempt)), report);
  }

private:
  Timer* timer_;
};

template <class Executor>
class initiate_backoff_on_executor
{
public:
  explicit initiate_backoff_on_executor(const Executor& ex) : ex_(ex) {}

  using executor_type = Executor;
  executor_type get_executor() const noexcept { return ex_; }

  template <class Handler, class Attempt, class Report>
  void operator()(Handler&& handler, const policy& p, Attempt&& attempt,
                  Report report) const
  {
    using timer = boost::asio::basic_waitable_timer<
        std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
    std::decay_t<Handler> h(std::forward<Handler>(handler));
    backoff_op<owned_timer<timer>, std::decay_t<Attempt>, std::decay_t<Handler>, Report>::start(
        std::move(h), ex_, p, std::decay_t<Attempt>(std::forward<Attempt>(attempt)), report);
  }

private:
  Executor ex_;
};

template <class ExecutorOrContext>
executor_of_t<ExecutorOrContext> get_executor_of(ExecutorOrContext&& x)
{
  if constexpr (std::is_same<executor_of_t<ExecutorOrContext>,
                             std::decay_t<ExecutorOrContext>>::value)
    return x;
  else
    return x.get_executor();
}

} // namespace detail

template <class Clock, class WaitTraits, class Executor, class Attempt, class CompletionToken,
          std::enable_if_t<detail::is_token<CompletionToken>::value, int>>
auto async_backoff(boost::asio::basic_waitable_timer<Clock, WaitTraits, Executor>& timer,
                   const policy& p, Attempt attempt, CompletionToken&& token)
{
  using timer_type = boost::asio::basic_waitable_timer<Clock, WaitTraits, Executor>;
  return boost::asio::async_initiate<CompletionToken, backoff_signature_t<Attempt>>(
      detail::initiate_backoff_on_timer<timer_type>(timer), token, p, std::move(attempt),
      detail::no_report());
}

template <class Clock, class WaitTraits, class Executor, class Attempt, class CompletionToken>
auto async_backoff(boost::asio::basic_waitable_timer<Clock, WaitTraits, Executor>& timer,
                   const policy& p, Attempt attempt, outcome& report, CompletionToken&& token)
{
  using timer_type = boost::asio::basic_waitable_timer<Clock, WaitTraits, Executor>;
  return boost::asio::async_initiate<CompletionToken, backoff_signature_t<Attempt>>(
      detail::initiate_backoff_on_timer<timer_type>(timer), token, p, std::move(attempt),
      &report);
}

template <class ExecutorOrContext, class Attempt, class CompletionToken,
          std::enable_if_t<detail::is_executor_or_context<ExecutorOrContext>::value &&
                               detail::is_token<CompletionToken>::value,
                           int>>
auto async_backoff(ExecutorOrContext&& ex, const policy& p, Attempt attempt,
                   CompletionToken&& token)
{
  using executor = detail::executor_of_t<ExecutorOrContext>;
  return boost::asio::async_initiate<CompletionToken, backoff_signature_t<Attempt>>(
      detail::initiate_backoff_on_executor<executor>(detail::get_executor_of(ex)), token, p,
      std::move(attempt), detail::no_report());
}

template <class ExecutorOrContext, class Attempt, class CompletionToken,
          std::enable_if_t<detail::is_executor_or_context<ExecutorOrContext>::value, int>>
auto async_backoff(ExecutorOrContext&& ex, const policy& p, Attempt attempt, outcome& report,
                   CompletionToken&& token)
{
  using executor = detail::executor_of_t<ExecutorOrContext>;
  return boost::asio::async_initiate<CompletionToken, backoff_signature_t<Attempt>>(
      detail::initiate_backoff_on_executor<executor>(detail::get_executor_of(ex)), token, p,
      std::move(attempt), &report);
}

} // namespace asio_backoff

#endif // ASIO_BACKOFF_IMPL_ASYNC_BACKOFF_HPP
