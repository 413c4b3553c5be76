//
// asio_backoff/async_backoff.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_ASYNC_BACKOFF_HPP
#define ASIO_BACKOFF_ASYNC_BACKOFF_HPP

#include <asio_backoff/attempt.hpp>
#include <asio_backoff/detail/attempt_traits.hpp>
#include <asio_backoff/error.hpp>
#include <asio_backoff/outcome.hpp>
#include <asio_backoff/policy.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <type_traits>

namespace asio_backoff {

namespace detail {

template <class T>
struct is_executor_or_context
  : std::integral_constant<bool,
        boost::asio::is_executor<std::decay_t<T>>::value ||
        boost::asio::execution::is_executor<std::decay_t<T>>::value ||
        std::is_convertible<std::decay_t<T>&, boost::asio::execution_context&>::value>
{
};

template <class T, bool IsExecutor = boost::asio::is_executor<std::decay_t<T>>::value ||
                                     boost::asio::execution::is_executor<std::decay_t<T>>::value>
struct executor_of
{
  using type = std::decay_t<T>;
};

template <class T>
struct executor_of<T, false>
{
  using type = typename std::decay_t<T>::executor_type;
};

template <class T>
using executor_of_t = typename executor_of<T>::type;

template <class Token>
struct is_token : std::integral_constant<bool,
    !std::is_same<std::decay_t<Token>, outcome>::value>
{
};

} // namespace detail

/// The completion signature of `async_backoff` for an attempt type:
/// `void(error_code)`, or `void(error_code, T)` when an asynchronous attempt
/// completes with a value.
template <class Attempt>
using backoff_signature_t = typename detail::attempt_traits<Attempt>::signature;

/// Retries an attempt with exponential backoff, without blocking.
/**
 * Waits `p.initial` on the timer (not with `immediate_first_attempt`), runs
 * the attempt, and while the attempt fails waits `p.multiplier` times longer
 * each time (capped by `p.max_delay`), then tries again. A wait that would
 * pass the deadline (`p.timeout` after initiation) is shortened so that a
 * final attempt runs at the deadline. See `schedule` for the exact rules.
 *
 * @param timer The timer used for all waits. It must outlive the operation
 * and must not be used for anything else while the operation is pending.
 * Cancelling it (`timer.cancel()`) while the operation waits on it (a
 * backoff wait, or the timeout of an asynchronous attempt) cancels the
 * operation; the cancellation slot cancels it at any moment. Any
 * `basic_waitable_timer`: a timer on `testing::manual_clock` runs the
 * operation in virtual time.
 *
 * @param p The policy, copied. An invalid policy (see `validate`) completes
 * the operation with that error before any attempt runs.
 *
 * @param attempt A callable, moved into the operation and called once per
 * attempt on the handler's executor. Either
 * - synchronous: `attempt()` returns a `boost::system::error_code` (no error
 *   is success) or an `attempt_result` (`permanent(ec)` ends the operation);
 * - or asynchronous: `attempt()` returns a deferred asynchronous operation,
 *   such as `socket.async_connect(ep, boost::asio::deferred)`, that
 *   completes with `void(error_code)` or `void(error_code, T)`. The operation
 *   launches it with a handler of its own, which carries the handler's
 *   executor and allocator and a cancellation slot.
 *
 * Wrap the attempt with `permanent_if(pred, attempt)` to end the operation
 * at once on the errors `pred` selects.
 *
 * @param report Optional. Filled in just before the handler runs: why the
 * operation ended, how many attempts ran, the elapsed time and the last
 * attempt's error (which the completion's error_code cannot always carry).
 * It must outlive the operation.
 *
 * @param token The completion token. Completion signature
 * `void(boost::system::error_code ec)`, or `void(error_code ec, T value)`
 * for an asynchronous attempt completing with `T` (the last attempt's value,
 * or `T{}` if none ran). `ec` is
 * - no error: an attempt succeeded;
 * - the attempt's own error: it was permanent;
 * - `boost::asio::error::timed_out`: an attempt failed at or after the
 *   deadline (the last attempt's error is in `report->last_error`);
 * - `asio_backoff::error::attempts_exhausted`: `max_attempts` attempts failed;
 * - `boost::asio::error::operation_aborted`: cancelled;
 * - `asio_backoff::error::invalid_*`: the policy was rejected.
 *
 * The handler is never invoked from within this function, nor is the
 * attempt called from within it (an immediate first attempt is posted). An
 * attempt that throws ends the operation: the exception propagates out of
 * the `run()` call that ran the attempt, the operation's state and the
 * handler are destroyed, and the handler is not invoked.
 *
 * @par Per-operation cancellation
 * Terminal, partial and total cancellation all have the same effect, which
 * satisfies each of them: no attempt starts after the cancellation is
 * emitted (even if the timer had already fired), a pending wait ends at once,
 * and an asynchronous attempt in flight receives the same cancellation type.
 * The operation then completes with `operation_aborted`, unless the attempt
 * in flight succeeded anyway, in which case it completes with that success
 * (and its value). A synchronous attempt is never interrupted.
 *
 * @par Deadline and attempt timeout
 * An asynchronous attempt still in flight at the deadline, or after
 * `p.attempt_timeout`, is cancelled (terminal) and counts as a failure with
 * `boost::asio::error::timed_out`. The final attempt, started at the
 * deadline, is limited only by `p.attempt_timeout`.
 *
 * @par Work
 * While the operation is pending it keeps outstanding work on the timer's
 * executor (its io_context's `run()` does not return), and the pending Asio
 * operations keep work on the handler's executor.
 *
 * @par Threads
 * The attempt, the timer waits and the completion run on the handler's
 * associated executor (default: the timer's). With an asynchronous attempt
 * and a deadline or an attempt timeout, two handlers can be pending at once:
 * on a multi-threaded `io_context`, use a strand.
 *
 * @par Cost
 * One allocation per operation, through the handler's associated allocator
 * (Asio's recycling allocator by default), none per retry. Without an
 * allocator of the handler's own, the timer waits live inside that
 * allocation; with one, each wait goes through it.
 */
template <class Clock, class WaitTraits, class Executor, class Attempt,
          class CompletionToken BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(Executor),
          std::enable_if_t<detail::is_token<CompletionToken>::value, int> = 0>
auto async_backoff(boost::asio::basic_waitable_timer<Clock, WaitTraits, Executor>& timer,
                   const policy& p, Attempt attempt,
                   CompletionToken&& token BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(Executor));

/// As above, and fills `report` when the operation completes.
template <class Clock, class WaitTraits, class Executor, class Attempt,
          class CompletionToken BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(Executor)>
auto async_backoff(boost::asio::basic_waitable_timer<Clock, WaitTraits, Executor>& timer,
                   const policy& p, Attempt attempt, outcome& report,
                   CompletionToken&& token BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(Executor));

/// Retries an attempt with exponential backoff on a `steady_timer` of its own.
/**
 * As the timer overload, with a timer on `std::chrono::steady_clock` created
 * for the operation on `ex` (an executor, or an execution context such as an
 * `io_context`).
 */
template <class ExecutorOrContext, class Attempt,
          class CompletionToken
              BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(detail::executor_of_t<ExecutorOrContext>),
          std::enable_if_t<detail::is_executor_or_context<ExecutorOrContext>::value &&
                               detail::is_token<CompletionToken>::value,
                           int> = 0>
auto async_backoff(ExecutorOrContext&& ex, const policy& p, Attempt attempt,
                   CompletionToken&& token
                   BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(detail::executor_of_t<ExecutorOrContext>));

/// As above, and fills `report` when the operation completes.
template <class ExecutorOrContext, class Attempt,
          class CompletionToken
              BOOST_ASIO_DEFAULT_COMPLETION_TOKEN_TYPE(detail::executor_of_t<ExecutorOrContext>),
          std::enable_if_t<detail::is_executor_or_context<ExecutorOrContext>::value, int> = 0>
auto async_backoff(ExecutorOrContext&& ex, const policy& p, Attempt attempt,
                   outcome& report,
                   CompletionToken&& token BOOST_ASIO_DEFAULT_COMPLETION_TOKEN(detail::executor_of_t<ExecutorOrContext>));

} // namespace asio_backoff

#include <asio_backoff/impl/async_backoff.hpp>

#endif // ASIO_BACKOFF_ASYNC_BACKOFF_HPP
