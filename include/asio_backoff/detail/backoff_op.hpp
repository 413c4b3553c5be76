//
// asio_backoff/detail/backoff_op.hpp
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIO_BACKOFF_DETAIL_BACKOFF_OP_HPP
#define ASIO_BACKOFF_DETAIL_BACKOFF_OP_HPP

#include <asio_backoff/attempt.hpp>
#include <asio_backoff/detail/attempt_traits.hpp>
#include <asio_backoff/detail/clock_arithmetic.hpp>
#include <asio_backoff/detail/op_ref.hpp>
#include <asio_backoff/error.hpp>
#include <asio_backoff/outcome.hpp>
#include <asio_backoff/policy.hpp>
#include <asio_backoff/schedule.hpp>
#include <asio_backoff/wake.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <cassert>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace asio_backoff {
namespace detail {

// The events of the state machine; each names the handler that delivers it.
struct started {};           // the posted first step ran
struct waited {};            // the backoff wait ended
struct attempted {};         // an asynchronous attempt completed
struct watchdog_expired {};  // the attempt timeout or the deadline ended a wait
struct resumed {};           // an attempt finished during a cancellation

// Whether a handler has an executor or an allocator of its own. When it has
// none, the handlers given to the timer and to post() declare none either:
// those default to the timer's executor, and Asio takes its cheaper paths.
// The handler given to an attempt always names the executor: the attempt's
// operation may belong to another context, or to none (post(token)).
struct no_association {};

template <class Handler>
using has_own_executor = std::integral_constant<bool,
    !std::is_same<boost::asio::associated_executor_t<Handler, no_association>, no_association>::value>;

template <class Handler>
using has_own_allocator = std::integral_constant<bool,
    !std::is_same<boost::asio::associated_allocator_t<Handler, no_association>, no_association>::value>;

template <class Derived, class Op, bool Declare>
struct forwards_executor
{
};

template <class Derived, class Op>
struct forwards_executor<Derived, Op, true>
{
  using executor_type = typename Op::handler_executor_type;
  executor_type get_executor() const noexcept
  {
    return static_cast<const Derived&>(*this).ref()->handler_executor();
  }
};

template <class Derived, class Op, bool = has_own_allocator<typename Op::handler_type>::value>
struct forwards_allocator
{
};

template <class Derived, class Op>
struct forwards_allocator<Derived, Op, true>
{
  using allocator_type = typename Op::handler_allocator_type;
  allocator_type get_allocator() const noexcept
  {
    return static_cast<const Derived&>(*this).ref()->handler_allocator();
  }
};

// The intermediate handler given to the timer, to post and to an attempt: a
// counted pointer to the operation, plus the user handler's associations.
template <class Op, class Event>
class op_handler : public forwards_executor<op_handler<Op, Event>, Op,
                                           has_own_executor<typename Op::handler_type>::value ||
                                               std::is_same<Event, attempted>::value>,
                   public forwards_allocator<op_handler<Op, Event>, Op>
{
public:
  explicit op_handler(op_ref<Op> ref) noexcept : ref_(std::move(ref)) {}

  template <class... Args>
  void operator()(Args&&... args)
  {
    Op* op = ref_.get();
    op->handle(Event{}, std::move(ref_), std::forward<Args>(args)...);
  }

  const op_ref<Op>& ref() const noexcept { return ref_; }

private:
  op_ref<Op> ref_;
};

// The value an operation completes with after its error_code, if any.
struct no_value {};

template <class Signature>
struct completion_value
{
  using type = no_value;
};

template <class T>
struct completion_value<void(boost::system::error_code, T)>
{
  using type = T;
};

// Where the timer lives: inside the operation, or the caller's.
template <class Timer>
class owned_timer
{
public:
  using timer_type = Timer;
  template <class Executor>
  explicit owned_timer(const Executor& ex) : timer_(ex) {}
  Timer& get() noexcept { return timer_; }

private:
  Timer timer_;
};

template <class Timer>
class borrowed_timer
{
public:
  using timer_type = Timer;
  explicit borrowed_timer(Timer& timer) noexcept : timer_(&timer) {}
  Timer& get() noexcept { return *timer_; }

private:
  Timer* timer_;
};

// What an operation connected to a wake_signal keeps: the slot, and the
// fast lane of quick retries after a wake.
struct wake_state
{
  using duration = schedule::duration;

  explicit wake_state(const policy& p) noexcept : after_wake(p.after_wake_delay) {}

  // A wake has just happened: the next failures retry on the fast lane.
  void begin_fast_lane() noexcept
  {
    fast_next = after_wake;
    fast_fresh = true;
  }

  // The wait after a failed attempt on the fast lane, if it is still on it:
  // `after_wake` once, then doubling while shorter than the scheduled wait
  // that the wake cut short.
  std::optional<duration> fast_lane_delay() noexcept
  {
    if (std::exchange(pending, false))
      begin_fast_lane();
    if (fast_next == duration::zero())
      return std::nullopt;
    const duration delay = fast_next;
    if (!std::exchange(fast_fresh, false) && delay >= normal_delay)
    {
      fast_next = duration::zero();
      return std::nullopt;
    }
    fast_next = delay > duration::max() / 2 ? duration::max() : 2 * delay;
    return delay;
  }

  wake_slot slot;
  duration after_wake;
  duration normal_delay = duration::zero(); // the last wait the schedule chose
  duration fast_next = duration::zero();    // zero: not on the fast lane
  bool fast_fresh = false; // the first fast retry is granted whatever its length
  bool connected = false;
  bool woken = false;   // the timer was cancelled by a wake
  bool pending = false; // a wake came while no wait was pending
};

struct no_wake_state
{
  explicit no_wake_state(const policy&) noexcept {}
};

// Allocations without an allocator of the handler's own come from Asio's
// per-thread recycling cache, as Asio's own operations do.
template <class Allocator>
struct op_allocator
{
  using type = Allocator;
  static type get(const Allocator& a) noexcept { return a; }
};

template <class T>
struct op_allocator<std::allocator<T>>
{
  using type = boost::asio::recycling_allocator<void>;
  static type get(const std::allocator<T>&) noexcept { return type(); }
};

template <class TimerHolder, class Attempt, class Handler>
class backoff_op
{
public:
  using timer_type = typename TimerHolder::timer_type;
  using time_point = typename timer_type::time_point;
  using clock_type = typename timer_type::clock_type;
  using traits = attempt_traits<Attempt>;
  using signature = typename traits::signature;
  using value_type = typename completion_value<signature>::type;
  using handler_executor_type = boost::asio::associated_executor_t<
      Handler, typename timer_type::executor_type>;
  using handler_allocator_type = boost::asio::associated_allocator_t<Handler>;
  using handler_type = Handler;

  // Allocates the operation (the only allocation it makes) and starts it.
  template <class TimerArg>
  static void start(Handler&& handler, TimerArg&& timer, const policy& p,
                    Attempt&& attempt, outcome* report)
  {
    storage_allocator alloc(storage_allocator_for(handler));
    backoff_op* op = std::allocator_traits<storage_allocator>::allocate(alloc, 1);
    try
    {
      ::new (static_cast<void*>(op)) backoff_op(std::move(handler),
          std::forward<TimerArg>(timer), p, std::move(attempt), report);
    }
    catch (...)
    {
      std::allocator_traits<storage_allocator>::deallocate(alloc, op, 1);
      throw;
    }
    op->initiate(op_ref<backoff_op>(op));
  }

  handler_executor_type handler_executor() const noexcept
  {
    return boost::asio::get_associated_executor(handler_, timer_executor());
  }

  handler_allocator_type handler_allocator() const noexcept
  {
    return boost::asio::get_associated_allocator(handler_);
  }

  boost::asio::cancellation_slot attempt_slot() noexcept
  {
    return attempt_signal_.slot();
  }

  void handle(started, op_ref<backoff_op> self)
  {
    if (early_error_)
      return complete(std::move(self), early_error_, early_reason_);
    if (cancelled_)
      return complete_cancelled(std::move(self));
    run_attempt(std::move(self));
  }

  void handle(waited, op_ref<backoff_op> self, boost::system::error_code ec)
  {
    // The flag, not the timer's error, decides: a cancellation emitted after
    // the timer fired, while this handler was queued, still stops here.
    // A timer cancelled by its owner is a cancellation too, unless a wake
    // cancelled it.
    bool woken = false;
    if constexpr (wakeable)
      woken = std::exchange(wake_.woken, false);
    if (cancelled_ || (ec == boost::asio::error::operation_aborted && !woken))
      return complete_cancelled(std::move(self));
    if constexpr (wakeable)
      if (woken)
        wake_.begin_fast_lane();
    run_attempt(std::move(self));
  }

  template <class... Args>
  void handle(attempted, op_ref<backoff_op> self, boost::system::error_code ec,
              Args&&... args)
  {
    // Asio leaves a finished operation's handler in the slot: remove it, so
    // that no later emit() reaches into an operation that is gone.
    attempt_signal_.slot().clear();
    if constexpr (sizeof...(Args) > 0)
      value_ = value_type(std::forward<Args>(args)...);
    attempt_error_ = ec;
    attempt_done_ = true;
    --pending_;
    if (reentered_)
      return; // the frame that launched or cancelled the attempt goes on
    if (pending_ > 0)
    {
      cancel_watchdog(); // its handler finishes the attempt
      return;
    }
    finish_async_attempt(std::move(self));
  }

  void handle(watchdog_expired, op_ref<backoff_op> self, boost::system::error_code ec)
  {
    --pending_;
    const bool cancelled_by_us = std::exchange(cancelling_watchdog_, false);
    if (!attempt_done_)
    {
      if (!ec)
      {
        watchdog_fired_ = true;
        cancel_attempt(boost::asio::cancellation_type::terminal);
      }
      else if (!cancelled_by_us)
      {
        // The timer's owner cancelled it: that cancels the operation.
        cancelled_ = true;
        cancel_attempt(boost::asio::cancellation_type::terminal);
      }
    }
    if (attempt_done_ && pending_ == 0)
      finish_async_attempt(std::move(self));
  }

  void handle(resumed, op_ref<backoff_op> self)
  {
    finish_async_attempt(std::move(self));
  }

  // Emitted through the handler's cancellation slot, on its executor.
  void on_cancel(boost::asio::cancellation_type_t type)
  {
    if (phase_ == phase::done || cancelled_)
      return;
    cancelled_ = true;
    cancellation_type_ = type;
    op_ref<backoff_op> keep(this);
    if constexpr (traits::is_async)
    {
      if (phase_ == phase::attempting && !attempt_done_)
      {
        const bool outer = reentered_;
        cancel_attempt(type);
        // An attempt that completed inside emit() is finished from a posted
        // handler: never call the user's handler from inside emit().
        if (!outer && attempt_done_ && pending_ == 0)
          return post(std::move(keep), resumed{});
        if (pending_ > (attempt_done_ ? 0u : 1u))
          cancel_watchdog();
        return;
      }
    }
    timer().cancel();
  }

  // The io_context is being destroyed with the operation pending (or a
  // throwing attempt left it behind): destroy it and its handler, unrun. The
  // user's cancellation slot is left alone, as Asio's own operations do: its
  // signal may be gone already.
  BOOST_NOINLINE void abandon() noexcept
  {
    // The wake signal, unlike the cancellation slot's, outlives the operation
    // by contract: an emit after this must not reach freed memory.
    if constexpr (wakeable)
      if (wake_.connected)
        wake_.slot.clear();
    storage_allocator alloc(storage_allocator_for(handler_));
    destroy(this, alloc);
  }

private:
  friend class op_ref<backoff_op>;

  enum class phase { starting, waiting, attempting, done };

  using storage_allocator = typename std::allocator_traits<
      typename op_allocator<handler_allocator_type>::type>::template rebind_alloc<backoff_op>;

  struct cancellation_handler
  {
    backoff_op* op;
    void operator()(boost::asio::cancellation_type_t type) { op->on_cancel(type); }
  };

  static constexpr bool wakeable = has_wake_slot<Attempt>::value;

  struct wake_handler
  {
    backoff_op* op;
    void operator()() { op->on_wake(); }
  };

  // Emitted through the attempt's wake slot, on the handler's executor.
  void on_wake()
  {
    if constexpr (wakeable)
    {
      if (phase_ == phase::done || cancelled_)
        return;
      if (wake_.woken)
        return;
      // Only a wait this wake cancels counts as woken: an abort from the
      // timer's owner stays a cancellation, and a wait that has already
      // ended (its handler queued) is followed by an attempt anyway.
      if (phase_ == phase::waiting && timer().cancel() > 0)
        wake_.woken = true;
      else
        wake_.pending = true; // the attempt in flight may have missed the event
    }
  }

  template <class TimerArg>
  backoff_op(Handler&& handler, TimerArg&& timer, const policy& p,
             Attempt&& attempt, outcome* report)
    : handler_(std::move(handler)),
      timer_(std::forward<TimerArg>(timer)),
      io_work_(timer_.get().get_executor()),
      attempt_(std::move(attempt)),
      schedule_(p.deadline ? schedule::with_deadline(p, std::chrono::steady_clock::now())
                           : schedule(p)),
      attempt_timeout_(p.attempt_timeout),
      report_(report),
      early_error_(validate(p)),
      wake_(p)
  {
  }

  static storage_allocator storage_allocator_for(const Handler& handler) noexcept
  {
    return storage_allocator(
        op_allocator<handler_allocator_type>::get(boost::asio::get_associated_allocator(handler)));
  }

  static void destroy(backoff_op* op, storage_allocator& alloc) noexcept
  {
    op->~backoff_op();
    std::allocator_traits<storage_allocator>::deallocate(alloc, op, 1);
  }

  // Forwards a cancellation to the attempt in flight. An attempt that
  // completes inside emit() only records its result (reentered_).
  void cancel_attempt(boost::asio::cancellation_type_t type)
  {
    if constexpr (traits::is_async)
    {
      const bool outer = std::exchange(reentered_, true);
      attempt_signal_.emit(type);
      reentered_ = outer;
    }
  }

  void cancel_watchdog()
  {
    cancelling_watchdog_ = true;
    timer().cancel();
  }

  // Runs f; if it throws, disconnects the user's cancellation slot while
  // the operation is still alive (self keeps it), and lets the exception go.
  template <class F>
  void disconnect_on_throw(const op_ref<backoff_op>& self, F&& f)
  {
    if (!slot_connected_ && !wake_connected())
      return f(); // nothing to disconnect: no extra reference on the hot path
    op_ref<backoff_op> keep = self.share();
    try
    {
      f();
    }
    catch (...)
    {
      disconnect_slot();
      throw;
    }
  }

  timer_type& timer() noexcept { return timer_.get(); }

  typename timer_type::executor_type timer_executor() const noexcept
  {
    return const_cast<TimerHolder&>(timer_).get().get_executor();
  }

  void initiate(op_ref<backoff_op> self)
  {
    start_time_ = clock_type::now();
    auto slot = boost::asio::get_associated_cancellation_slot(handler_);
    slot_connected_ = slot.is_connected();
    if (slot_connected_)
      slot.template emplace<cancellation_handler>(cancellation_handler{this});
    if constexpr (wakeable)
    {
      wake_.slot = attempt_.get_wake_slot();
      wake_.connected = wake_.slot.is_connected();
      if (wake_.connected)
        wake_.slot.template emplace<wake_handler>(wake_handler{this});
    }
    if (!early_error_)
    {
      const schedule::step first = schedule_.next(schedule::duration::zero());
      if (first.kind != schedule::step_kind::wait)
      {
        // stop_before_deadline, and the first wait already passes it
        early_error_ = boost::asio::error::timed_out;
        early_reason_ = outcome::reason_type::timed_out;
      }
      else if (first.delay > schedule::duration::zero())
      {
        if constexpr (wakeable)
          wake_.normal_delay = first.delay;
        return wait(std::move(self), start_time_, first.delay);
      }
    }
    // An early end and an immediate first attempt are both posted: neither
    // the attempt nor the completion handler ever runs inside the initiating
    // call.
    post(std::move(self), started{});
  }

  template <class Event>
  void post(op_ref<backoff_op> self, Event)
  {
    auto ex = timer_executor();
    disconnect_on_throw(self, [&] {
      boost::asio::post(ex, op_handler<backoff_op, Event>(std::move(self)));
    });
  }

  void wait(op_ref<backoff_op> self, time_point now, schedule::duration delay)
  {
    phase_ = phase::waiting;
    timer().expires_at(saturating_add(now, delay));
    disconnect_on_throw(self, [&] {
      timer().async_wait(op_handler<backoff_op, waited>(std::move(self)));
    });
  }

  void run_attempt(op_ref<backoff_op> self)
  {
    phase_ = phase::attempting; // a wake from here on is for the next wait
    if constexpr (has_before_attempt<Attempt>::value)
    {
      if constexpr (traits::is_async)
        attempt_done_ = false; // a cancellation emitted in the check finds no attempt
      boost::system::error_code stop;
      disconnect_on_throw(self, [&] { stop = attempt_.before_attempt(); });
      if (stop)
      {
        last_error_ = stop;
        return complete(std::move(self), stop, outcome::reason_type::permanent_error);
      }
      if (cancelled_) // emitted from inside the check
        return complete_cancelled(std::move(self));
    }
    ++attempts_run_;
    if (schedule_.counts_from_attempt_start())
      schedule_.attempt_started(elapsed_between(start_time_, clock_type::now()));
    if constexpr (traits::is_async)
    {
      attempt_done_ = false;
      watchdog_fired_ = false;
      cancelling_watchdog_ = false;
      pending_ = 1;
      reentered_ = true;
      disconnect_on_throw(self, [&] {
        attempt_()(op_handler<backoff_op, attempted>(self.share()));
        // A cancellation emitted while the attempt was being made found no
        // handler in the slot yet: deliver it now.
        if (cancelled_ && !attempt_done_)
          cancel_attempt(cancellation_type_);
      });
      reentered_ = false;
      if (attempt_done_) // completed inside the launch
        return finish_async_attempt(std::move(self));
      if (std::optional<time_point> limit = attempt_limit())
      {
        ++pending_;
        timer().expires_at(*limit);
        disconnect_on_throw(self, [&] {
          timer().async_wait(op_handler<backoff_op, watchdog_expired>(std::move(self)));
        });
      }
    }
    else
    {
      attempt_result result;
      disconnect_on_throw(self, [&] { result = attempt_(); });
      finish_attempt(std::move(self), result.error(),
                     result.is_permanent() ||
                         (result.error() && is_permanent(attempt_, result.error())),
                     result.retry_after());
    }
  }

  // When an attempt in flight is cancelled: after attempt_timeout, or at the
  // deadline. An attempt started at or after the deadline (the final one) is
  // not cut short by it: the deadline is overrun by at most one attempt.
  std::optional<time_point> attempt_limit() const
  {
    std::optional<time_point> limit;
    const time_point now = clock_type::now();
    if (attempt_timeout_)
      limit = saturating_add(now, *attempt_timeout_);
    if (const std::optional<schedule::duration> timeout = schedule_.timeout())
    {
      const time_point deadline = saturating_add(start_time_, *timeout);
      if (deadline > now && (!limit || deadline < *limit))
        limit = deadline;
    }
    return limit;
  }

  void finish_async_attempt(op_ref<backoff_op> self)
  {
    boost::system::error_code ec = attempt_error_;
    if (ec && watchdog_fired_)
      ec = boost::asio::error::timed_out;
    finish_attempt(std::move(self), ec, ec && !watchdog_fired_ && is_permanent(attempt_, ec),
                   std::nullopt);
  }

  void finish_attempt(op_ref<backoff_op> self, boost::system::error_code ec, bool permanent,
                      std::optional<std::chrono::nanoseconds> hint)
  {
    last_error_ = ec;
    if (!ec)
      return complete(std::move(self), ec, outcome::reason_type::succeeded);
    if (cancelled_)
      return complete_cancelled(std::move(self));
    if (permanent)
      return complete(std::move(self), ec, outcome::reason_type::permanent_error);
    if constexpr (has_retry_after<Attempt>::value)
      if (!hint)
        disconnect_on_throw(self, [&] { hint = attempt_.retry_after(ec); });
    const time_point now = clock_type::now();
    const schedule::duration elapsed = elapsed_between(start_time_, now);
    const schedule::step next = next_step(elapsed, hint);
    switch (next.kind)
    {
    case schedule::step_kind::timed_out:
      return complete(std::move(self), boost::asio::error::timed_out,
                      outcome::reason_type::timed_out);
    case schedule::step_kind::attempts_exhausted:
      return complete(std::move(self), error::attempts_exhausted,
                      outcome::reason_type::attempts_exhausted);
    case schedule::step_kind::wait:
      break;
    }
    if constexpr (has_on_retry<Attempt>::value)
      disconnect_on_throw(self, [&] {
        attempt_.on_retry(retry_info{attempts_run_, ec, next.delay, elapsed});
      });
    wait(std::move(self), now, next.delay);
  }

  // The schedule's next step; after a wake, the fast lane's (a server's
  // hint still wins).
  schedule::step next_step(schedule::duration elapsed,
                           const std::optional<std::chrono::nanoseconds>& hint)
  {
    if (hint)
    {
      if constexpr (wakeable) // the server's word ends the fast lane
        wake_.pending = false, wake_.fast_next = schedule::duration::zero();
      return schedule_.next(elapsed, *hint);
    }
    if constexpr (wakeable)
    {
      if (std::optional<schedule::duration> fast = wake_.fast_lane_delay())
        return schedule_.next_soon(elapsed, *fast);
      const schedule::step next = schedule_.next(elapsed);
      wake_.normal_delay = next.delay;
      return next;
    }
    return schedule_.next(elapsed);
  }

  void complete_cancelled(op_ref<backoff_op> self)
  {
    complete(std::move(self), boost::asio::error::operation_aborted,
             outcome::reason_type::cancelled);
  }

  // Frees the operation before the upcall, so that the handler can start
  // another one in the same memory.
  void complete(op_ref<backoff_op> self, boost::system::error_code ec,
                outcome::reason_type reason)
  {
    assert(refs_ == 1 && "no other handler of the operation is pending");
    phase_ = phase::done;
    if (report_)
    {
      report_->reason = reason;
      report_->attempts = attempts_run_;
      report_->elapsed = elapsed_between(start_time_, clock_type::now());
      report_->last_error = last_error_;
    }
    disconnect_slot();
    storage_allocator alloc(storage_allocator_for(handler_));
    Handler handler(std::move(handler_));
    value_type value(std::move(value_));
    destroy(self.release(), alloc);
    if constexpr (std::is_same<value_type, no_value>::value)
      std::move(handler)(ec);
    else
      std::move(handler)(ec, std::move(value));
  }

  void disconnect_slot() noexcept
  {
    if (slot_connected_)
      boost::asio::get_associated_cancellation_slot(handler_).clear();
    if constexpr (wakeable)
      if (wake_.connected)
        wake_.slot.clear();
  }

  bool wake_connected() const noexcept
  {
    if constexpr (wakeable)
      return wake_.connected;
    return false;
  }

  Handler handler_;
  TimerHolder timer_;
  // The handler's executor is kept busy by whichever Asio operation is
  // pending; the timer's may not be (an attempt on another io_context).
  boost::asio::executor_work_guard<typename timer_type::executor_type> io_work_;
  Attempt attempt_;
  schedule schedule_;
  std::optional<schedule::duration> attempt_timeout_;
  time_point start_time_{};
  outcome* report_;
  // Set before the first attempt: the policy was rejected, or the deadline
  // leaves no room for an attempt.
  boost::system::error_code early_error_;
  outcome::reason_type early_reason_ = outcome::reason_type::invalid_policy;
  boost::system::error_code last_error_;
  boost::system::error_code attempt_error_;
  value_type value_{};
  std::conditional_t<traits::is_async, boost::asio::cancellation_signal, no_value>
      attempt_signal_;
  std::conditional_t<wakeable, wake_state, no_wake_state> wake_;
  std::size_t attempts_run_ = 0;
  unsigned refs_ = 0;
  unsigned pending_ = 0; // handlers pending while attempting: attempt, watchdog
  phase phase_ = phase::starting;
  boost::asio::cancellation_type_t cancellation_type_ = boost::asio::cancellation_type::none;
  bool slot_connected_ = false; // the user's cancellation slot has our handler
  bool cancelled_ = false;
  bool cancelling_watchdog_ = false; // the watchdog's abort is ours, not the owner's
  bool attempt_done_ = false;
  bool watchdog_fired_ = false;
  bool reentered_ = false;
};

} // namespace detail
} // namespace asio_backoff

// An asynchronous attempt is cancelled through the operation's own signal,
// which forwards the user's cancellation and fires on timeouts.
template <class Op, class DefaultCandidate>
struct boost::asio::associated_cancellation_slot<
    asio_backoff::detail::op_handler<Op, asio_backoff::detail::attempted>, DefaultCandidate>
{
  using type = boost::asio::cancellation_slot;

  static type get(const asio_backoff::detail::op_handler<Op, asio_backoff::detail::attempted>& h,
                  const DefaultCandidate& = DefaultCandidate()) noexcept
  {
    return h.ref()->attempt_slot();
  }
};

#endif // ASIO_BACKOFF_DETAIL_BACKOFF_OP_HPP
