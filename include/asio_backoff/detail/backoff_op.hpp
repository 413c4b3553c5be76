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
#include <asio_backoff/detail/handler_memory.hpp>
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

#include <algorithm>
#include <cassert>
#include <memory>
#include <new>
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

// The allocator of an intermediate handler: the user handler's own, if it
// has one; otherwise the operation's handler memory for its own waits and
// posts; none for an attempt's handler (the attempt's operation may
// allocate more than once, and free later than Asio's own do).
enum class allocator_choice
{
  handler,
  operation,
  none
};

template <class Derived, class Op, allocator_choice>
struct forwards_allocator
{
};

template <class Derived, class Op>
struct forwards_allocator<Derived, Op, allocator_choice::handler>
{
  using allocator_type = typename Op::handler_allocator_type;
  allocator_type get_allocator() const noexcept
  {
    return static_cast<const Derived&>(*this).ref()->handler_allocator();
  }
};

template <class Derived, class Op>
struct forwards_allocator<Derived, Op, allocator_choice::operation>
{
  using allocator_type = typename Op::memory_allocator_type;
  allocator_type get_allocator() const noexcept
  {
    return static_cast<const Derived&>(*this).ref()->memory_allocator();
  }
};

template <class Op, class Event>
constexpr allocator_choice allocator_for() noexcept
{
  if (has_own_allocator<typename Op::handler_type>::value)
    return allocator_choice::handler;
  return std::is_same<Event, attempted>::value ? allocator_choice::none
                                                      : allocator_choice::operation;
}

// The intermediate handler given to the timer, to post and to an attempt: a
// counted pointer to the operation, plus the user handler's associations.
template <class Op, class Event>
class op_handler : public forwards_executor<op_handler<Op, Event>, Op,
                                           has_own_executor<typename Op::handler_type>::value ||
                                               std::is_same<Event, attempted>::value>,
                   public forwards_allocator<op_handler<Op, Event>, Op, allocator_for<Op, Event>()>
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

// The caller asked for no outcome report.
struct no_report
{
};

// What an operation keeps for its outcome report, if it has one.
template <class Report>
struct report_state
{
  explicit report_state(no_report) noexcept {}
  void set_last_error(const boost::system::error_code&) noexcept {}
  outcome* get() const noexcept { return nullptr; }
};

template <>
struct report_state<outcome*>
{
  explicit report_state(outcome* r) noexcept : report(r) {}
  void set_last_error(const boost::system::error_code& ec) noexcept { last_error = ec; }
  outcome* get() const noexcept { return report; }

  outcome* report;
  boost::system::error_code last_error;
};

// What an operation with an asynchronous attempt keeps besides.
template <class Executor, class Value>
struct async_attempt_state
{
  async_attempt_state(const Executor&, const policy& p) noexcept
    : attempt_timeout(p.attempt_timeout)
  {
  }

  std::optional<schedule::duration> attempt_timeout;
  boost::system::error_code error;
  Value value{};
  boost::asio::cancellation_signal signal;
  unsigned pending = 0; // handlers pending while attempting: attempt, watchdog
  boost::asio::cancellation_type_t cancellation_type = boost::asio::cancellation_type::none;
  bool cancelling_watchdog = false; // the watchdog's abort is ours, not the owner's
  bool done = false;
  bool watchdog_fired = false;
  bool reentered = false;
};

// The timer's executor has work while a wait is pending; between waits it
// needs a guard when the operation's steps may run elsewhere: on the
// handler's own executor, or in an attempt on another io_context.
struct no_work_guard
{
  template <class Executor>
  explicit no_work_guard(const Executor&) noexcept
  {
  }
};

struct no_async_state
{
  template <class Executor>
  no_async_state(const Executor&, const policy&) noexcept
  {
  }
};

// Room for one Asio timer wait whose handler is an op_handler (a pointer),
// tracking work on the timer's executor and, if the handler declares
// another, on the handler's: Asio 1.81's wait operation takes exactly this
// (72 bytes on io_context::executor_type; test/async_backoff.cpp checks the
// common cases). A larger operation is allocated instead.
template <class TimerExecutor, class HandlerExecutor, bool DeclaresExecutor>
constexpr std::size_t handler_memory_size() noexcept
{
  std::size_t size = 8 * sizeof(void*) + sizeof(TimerExecutor);
  if (DeclaresExecutor)
    size += sizeof(HandlerExecutor);
  return size;
}

template <class TimerHolder, class Attempt, class Handler, class Report>
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


  // The room for the operation's own waits and posts (0: the handler's
  // allocator is used instead).
  static constexpr std::size_t memory_room =
      has_own_allocator<Handler>::value
          ? 0
          : handler_memory_size<typename timer_type::executor_type, handler_executor_type,
                                has_own_executor<Handler>::value>();

  // Allocates the operation (the only allocation it makes) and starts it.
  template <class TimerArg>
  static void start(Handler&& handler, TimerArg&& timer, const policy& p,
                    Attempt&& attempt, Report report)
  {
    static_assert(alignof(backoff_op) <= sizeof(block) && alignof(extras_type) <= sizeof(block),
                  "the blocks align the operation and its extras");
    static_assert(sizeof(backoff_op) % alignof(extras_type) == 0, "the extras follow aligned");
    static_assert(std::is_trivially_destructible<extras_type>::value, "never destroyed");
    const bool with_extras = needs_extras(p);
    storage_allocator alloc(storage_allocator_for(handler));
    block* memory = std::allocator_traits<storage_allocator>::allocate(alloc, blocks(with_extras));
    backoff_op* op;
    try
    {
      op = ::new (static_cast<void*>(memory)) backoff_op(std::move(handler),
          std::forward<TimerArg>(timer), p, std::move(attempt), report, with_extras);
    }
    catch (...)
    {
      std::allocator_traits<storage_allocator>::deallocate(alloc, memory, blocks(with_extras));
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

  using memory_allocator_type = handler_memory_allocator<void, memory_room ? memory_room : 1>;

  memory_allocator_type memory_allocator() noexcept
  {
    return memory_allocator_type(memory_, memory_in_use_);
  }


  boost::asio::cancellation_slot attempt_slot() noexcept
  {
    return async_.signal.slot();
  }

  void handle(started, op_ref<backoff_op>&& self)
  {
    if (early_)
      return complete(std::move(self), early_error(), early_reason());
    if (cancelled_)
      return complete_cancelled(std::move(self));
    run_attempt(std::move(self));
  }

  void handle(waited, op_ref<backoff_op>&& self, boost::system::error_code ec)
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
  void handle(attempted, op_ref<backoff_op>&& self, boost::system::error_code ec,
              Args&&... args)
  {
    // Asio leaves a finished operation's handler in the slot: remove it, so
    // that no later emit() reaches into an operation that is gone.
    async_.signal.slot().clear();
    if constexpr (sizeof...(Args) > 0)
      async_.value = value_type(std::forward<Args>(args)...);
    async_.error = ec;
    async_.done = true;
    --async_.pending;
    if (async_.reentered)
      return; // the frame that launched or cancelled the attempt goes on
    if (async_.pending > 0)
    {
      cancel_watchdog(); // its handler finishes the attempt
      return;
    }
    finish_async_attempt(std::move(self));
  }

  void handle(watchdog_expired, op_ref<backoff_op>&& self, boost::system::error_code ec)
  {
    --async_.pending;
    const bool cancelled_by_us = std::exchange(async_.cancelling_watchdog, false);
    if (!async_.done)
    {
      if (!ec)
      {
        async_.watchdog_fired = true;
        cancel_attempt(boost::asio::cancellation_type::terminal);
      }
      else if (!cancelled_by_us)
      {
        // The timer's owner cancelled it: that cancels the operation.
        cancelled_ = true;
        cancel_attempt(boost::asio::cancellation_type::terminal);
      }
    }
    if (async_.done && async_.pending == 0)
      finish_async_attempt(std::move(self));
  }

  void handle(resumed, op_ref<backoff_op>&& self)
  {
    finish_async_attempt(std::move(self));
  }

  // Emitted through the handler's cancellation slot, on its executor.
  void on_cancel(boost::asio::cancellation_type_t type)
  {
    if (phase_ == phase::done || cancelled_)
      return;
    cancelled_ = true;
    op_ref<backoff_op> keep(this);
    if constexpr (traits::is_async)
    {
      async_.cancellation_type = type;
      if (phase_ == phase::attempting && !async_.done)
      {
        const bool outer = async_.reentered;
        cancel_attempt(type);
        // An attempt that completed inside emit() is finished from a posted
        // handler: never call the user's handler from inside emit().
        if (!outer && async_.done && async_.pending == 0)
          return post(std::move(keep), resumed{});
        if (async_.pending > (async_.done ? 0u : 1u))
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

  // checking: running before_attempt(); the attempt granted has not run yet.
  enum class phase : unsigned char { starting, waiting, checking, attempting, done };

  // What only some policies and uses need lives after the operation, in the
  // same allocation, only when needed: the schedule's options and the start
  // time (for a deadline, attempt_start, jitter, max_attempts, an outcome
  // report, or an on_retry hook).
  struct extras_type
  {
    schedule_options schedule;
    time_point start;
  };

  static constexpr bool always_extras =
      !std::is_same<Report, no_report>::value || has_on_retry<Attempt>::value;

  static bool needs_extras(const policy& p) noexcept
  {
    return always_extras || schedule_options::needed_by(p);
  }

  // The operation and its extras are allocated as blocks of the largest
  // alignment among their parts.
  static constexpr std::size_t block_size =
      std::max({alignof(void*), alignof(Handler), alignof(Attempt), alignof(TimerHolder),
                alignof(time_point), alignof(value_type), alignof(schedule_options)});

  struct alignas(block_size) block
  {
    unsigned char bytes[block_size];
  };

  static std::size_t blocks(bool with_extras) noexcept
  {
    return (sizeof(backoff_op) + (with_extras ? sizeof(extras_type) : 0) + block_size - 1) /
           block_size;
  }

  void* extras_storage() noexcept { return reinterpret_cast<unsigned char*>(this) + sizeof(backoff_op); }

  extras_type* extras() noexcept
  {
    return std::launder(static_cast<extras_type*>(extras_storage()));
  }

  const extras_type* extras() const noexcept { return const_cast<backoff_op*>(this)->extras(); }

  schedule_options* options() noexcept { return has_extras_ ? &extras()->schedule : nullptr; }

  // Time since initiation; only counted when something needs it (extras).
  schedule::duration elapsed(time_point now) const noexcept
  {
    if (!has_extras_)
      return schedule::duration::zero();
    return elapsed_between(extras()->start, now);
  }

  using storage_allocator = typename std::allocator_traits<
      typename op_allocator<handler_allocator_type>::type>::template rebind_alloc<block>;

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
             Attempt&& attempt, Report report, bool with_extras)
    : timer_(std::forward<TimerArg>(timer)),
      schedule_(p),
      phase_(phase::starting),
      slot_connected_(false),
      cancelled_(false),
      has_extras_(with_extras),
      io_work_(timer_.get().get_executor()),
      report_(report),
      async_(timer_.get().get_executor(), p),
      wake_(p),
      handler_(std::move(handler)),
      attempt_(std::move(attempt))
  {
    if (with_extras)
    {
      extras_type* x = ::new (extras_storage()) extras_type{schedule_options(p), {}};
      if (p.deadline)
        x->schedule.limit_to(*p.deadline, std::chrono::steady_clock::now());
    }
    if (const boost::system::error_code ec = validate(p))
      early_ = static_cast<unsigned char>(ec.value()); // one of error's invalid_*
  }

  static storage_allocator storage_allocator_for(const Handler& handler) noexcept
  {
    return storage_allocator(
        op_allocator<handler_allocator_type>::get(boost::asio::get_associated_allocator(handler)));
  }

  static void destroy(backoff_op* op, storage_allocator& alloc) noexcept
  {
    assert(!op->memory_in_use_ && "Asio frees a handler's memory before destroying it");
    const std::size_t n = blocks(op->has_extras_);
    op->~backoff_op();
    std::allocator_traits<storage_allocator>::deallocate(
        alloc, static_cast<block*>(static_cast<void*>(op)), n);
  }

  // Why the operation ended before its first attempt: `early_` is one of
  // error's invalid_* values (a rejected policy), or early_timed_out.
  static constexpr unsigned char early_timed_out = 0xff;

  boost::system::error_code early_error() const noexcept
  {
    if (early_ == early_timed_out)
      return boost::asio::error::timed_out;
    return static_cast<error>(early_);
  }

  outcome::reason_type early_reason() const noexcept
  {
    return early_ == early_timed_out ? outcome::reason_type::timed_out
                                     : outcome::reason_type::invalid_policy;
  }

  // Forwards a cancellation to the attempt in flight. An attempt that
  // completes inside emit() only records its result (reentered).
  void cancel_attempt(boost::asio::cancellation_type_t type)
  {
    if constexpr (traits::is_async)
    {
      const bool outer = std::exchange(async_.reentered, true);
      async_.signal.emit(type);
      async_.reentered = outer;
    }
  }

  void cancel_watchdog()
  {
    async_.cancelling_watchdog = true;
    timer().cancel();
  }

  // Runs f; if it throws, disconnects the user's cancellation slot while
  // the operation is still alive (self keeps it), and lets the exception go.
  template <class F>
  BOOST_FORCEINLINE void disconnect_on_throw(const op_ref<backoff_op>& self, F&& f)
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

  void initiate(op_ref<backoff_op>&& self)
  {
    const time_point now = clock_type::now();
    if (has_extras_)
      extras()->start = now;
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
    if (!early_)
    {
      const schedule::step first =
          schedule_.decide(schedule::duration::zero(), std::nullopt, true, options());
      if (first.kind != schedule::step_kind::wait)
        early_ = early_timed_out; // stop_before_deadline: the first wait passes it
      else if (first.delay > schedule::duration::zero())
      {
        if constexpr (wakeable)
          wake_.normal_delay = first.delay;
        return wait(std::move(self), now, first.delay);
      }
    }
    // An early end and an immediate first attempt are both posted: neither
    // the attempt nor the completion handler ever runs inside the initiating
    // call.
    post(std::move(self), started{});
  }

  // Runs one of Asio's initiations, which takes a handler holding `self`,
  // with a count of the operation's own meanwhile: if the initiation throws,
  // Asio destroys the handler it took and then frees its memory through the
  // allocator of the moved-from handler, which points into this operation.
  // Then, like disconnect_on_throw, the user's slot is disconnected.
  template <class F>
  BOOST_FORCEINLINE void initiate_holding(F&& f)
  {
    ++refs_;
    try
    {
      f();
    }
    catch (...)
    {
      disconnect_slot();
      if (--refs_ == 0)
        abandon();
      throw;
    }
    --refs_; // the handler Asio now holds keeps the operation
  }

  template <class Event>
  void post(op_ref<backoff_op>&& self, Event)
  {
    auto ex = timer_executor();
    initiate_holding([&] {
      boost::asio::post(ex, op_handler<backoff_op, Event>(std::move(self)));
    });
  }

  void wait(op_ref<backoff_op>&& self, time_point now, schedule::duration delay)
  {
    phase_ = phase::waiting;
    timer().expires_at(saturating_add(now, delay));
    initiate_holding([&] {
      timer().async_wait(op_handler<backoff_op, waited>(std::move(self)));
    });
  }

  void run_attempt(op_ref<backoff_op>&& self)
  {
    if constexpr (has_before_attempt<Attempt>::value)
    {
      phase_ = phase::checking; // a wake from here on is for the next wait
      boost::system::error_code stop;
      disconnect_on_throw(self, [&] { stop = attempt_.before_attempt(); });
      if (stop)
      {
        report_.set_last_error(stop);
        return complete(std::move(self), stop, outcome::reason_type::permanent_error);
      }
      if (cancelled_) // emitted from inside the check
        return complete_cancelled(std::move(self));
    }
    phase_ = phase::attempting; // a wake from here on is for the next wait
    if (schedule_.counts_from_attempt_start())
      options()->attempt_started = elapsed(clock_type::now());
    if constexpr (traits::is_async)
    {
      async_.done = false;
      async_.watchdog_fired = false;
      async_.cancelling_watchdog = false;
      async_.pending = 1;
      async_.reentered = true;
      disconnect_on_throw(self, [&] {
        attempt_()(op_handler<backoff_op, attempted>(self.share()));
        // A cancellation emitted while the attempt was being made found no
        // handler in the slot yet: deliver it now.
        if (cancelled_ && !async_.done)
          cancel_attempt(async_.cancellation_type);
      });
      async_.reentered = false;
      if (async_.done) // completed inside the launch
        return finish_async_attempt(std::move(self));
      if (std::optional<time_point> limit = attempt_limit())
      {
        ++async_.pending;
        timer().expires_at(*limit);
        initiate_holding([&] {
          timer().async_wait(op_handler<backoff_op, watchdog_expired>(std::move(self)));
        });
      }
    }
    else if constexpr (std::is_same<decltype(std::declval<Attempt&>()()),
                                    boost::system::error_code>::value)
    {
      boost::system::error_code ec;
      disconnect_on_throw(self, [&] { ec = attempt_(); });
      finish_attempt(std::move(self), ec, ec && is_permanent(attempt_, ec), std::nullopt);
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
    if (async_.attempt_timeout)
      limit = saturating_add(now, *async_.attempt_timeout);
    if (has_extras_ && extras()->schedule.has_deadline())
    {
      const time_point deadline = saturating_add(extras()->start, extras()->schedule.timeout);
      if (deadline > now && (!limit || deadline < *limit))
        limit = deadline;
    }
    return limit;
  }

  void finish_async_attempt(op_ref<backoff_op>&& self)
  {
    boost::system::error_code ec = async_.error;
    if (ec && async_.watchdog_fired)
      ec = boost::asio::error::timed_out;
    finish_attempt(std::move(self), ec,
                   ec && !async_.watchdog_fired && is_permanent(attempt_, ec), std::nullopt);
  }

  void finish_attempt(op_ref<backoff_op>&& self, const boost::system::error_code& ec,
                      bool permanent, std::optional<std::chrono::nanoseconds> hint)
  {
    report_.set_last_error(ec);
    if (!ec)
      return complete(std::move(self), ec, outcome::reason_type::succeeded);
    if (cancelled_)
      return complete_cancelled(std::move(self));
    if (permanent)
      return complete(std::move(self), ec, outcome::reason_type::permanent_error);
    if constexpr (has_retry_after<Attempt>::value)
      if (!hint)
        disconnect_on_throw(self, [&] { hint = attempt_.retry_after(ec); });
    const std::size_t attempt = attempts_run();
    const time_point now = clock_type::now();
    const schedule::duration spent = elapsed(now);
    const schedule::step next = next_step(spent, hint);
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
        attempt_.on_retry(retry_info{attempt, ec, next.delay, spent});
      });
    wait(std::move(self), now, next.delay);
  }

  // The schedule's next step; after a wake, the fast lane's (a server's
  // hint still wins).
  schedule::step next_step(schedule::duration spent,
                           const std::optional<std::chrono::nanoseconds>& hint)
  {
    if (hint)
    {
      if constexpr (wakeable) // the server's word ends the fast lane
        wake_.pending = false, wake_.fast_next = schedule::duration::zero();
      return schedule_.decide(spent, std::max(*hint, schedule::duration::zero()), true,
                              options());
    }
    if constexpr (wakeable)
    {
      if (std::optional<schedule::duration> fast = wake_.fast_lane_delay())
        return schedule_.decide(spent, std::max(*fast, schedule::duration::zero()), false, options());
      const schedule::step next = schedule_.decide(spent, std::nullopt, true, options());
      wake_.normal_delay = next.delay;
      return next;
    }
    return schedule_.decide(spent, std::nullopt, true, options());
  }

  // The schedule counts the attempts it granted; the last one has not run
  // yet while the operation waits for it or checks before it.
  std::size_t attempts_run() const noexcept
  {
    const std::size_t granted = schedule_.attempts();
    return phase_ == phase::attempting || granted == 0 ? granted : granted - 1;
  }

  void complete_cancelled(op_ref<backoff_op>&& self)
  {
    complete(std::move(self), boost::asio::error::operation_aborted,
             outcome::reason_type::cancelled);
  }

  // Frees the operation before the upcall, so that the handler can start
  // another one in the same memory.
  void complete(op_ref<backoff_op>&& self, boost::system::error_code ec,
                outcome::reason_type reason)
  {
    assert(refs_ == 1 && "no other handler of the operation is pending");
    if constexpr (!std::is_same<Report, no_report>::value)
    {
      outcome& report = *report_.get();
      report.reason = reason;
      report.attempts = attempts_run();
      report.elapsed = elapsed(clock_type::now());
      report.last_error = report_.last_error;
    }
    phase_ = phase::done;
    disconnect_slot();
    storage_allocator alloc(storage_allocator_for(handler_));
    Handler handler(std::move(handler_));
    if constexpr (std::is_same<value_type, no_value>::value)
    {
      destroy(self.release(), alloc);
      std::move(handler)(ec);
    }
    else
    {
      value_type value(std::move(async_.value));
      destroy(self.release(), alloc);
      std::move(handler)(ec, std::move(value));
    }
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

  // Ordered so that the small members share the schedule's last word; the
  // parts a policy or a handler does not need take no room.
  TimerHolder timer_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS schedule_state schedule_; // its tail padding is reused
  unsigned char refs_ = 0;   // a few at most: see op_ref
  unsigned char early_ = 0;  // see early_error()
  // Not a bit-field: Asio frees handler memory outside the handler's strand,
  // so this flag must be a memory location of its own.
  bool memory_in_use_ = false;
  phase phase_ : 3;
  bool slot_connected_ : 1; // the user's cancellation slot has our handler
  bool cancelled_ : 1;
  bool has_extras_ : 1;     // extras_type follows the operation
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS std::conditional_t<
      traits::is_async || has_own_executor<Handler>::value,
      boost::asio::executor_work_guard<typename timer_type::executor_type>, no_work_guard>
      io_work_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS report_state<Report> report_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS std::conditional_t<
      traits::is_async, async_attempt_state<typename timer_type::executor_type, value_type>,
      no_async_state>
      async_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS std::conditional_t<wakeable, wake_state, no_wake_state> wake_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS std::conditional_t<memory_room == 0, no_handler_memory,
                                                       handler_memory<memory_room>>
      memory_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS Handler handler_;
  BOOST_ATTRIBUTE_NO_UNIQUE_ADDRESS Attempt attempt_;
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
