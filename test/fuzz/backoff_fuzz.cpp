// A libFuzzer target: any policy values and any order of events (attempt
// results, cancellations of each type, wakes, time advancing on the virtual
// clock) must keep the operation's promises:
// - the handler runs exactly once, never inside the initiating call nor
//   inside an emit();
// - no attempt starts after a cancellation was emitted, nor after completion;
// - never more attempts than max_attempts; at most one attempt at or after
//   the deadline (the final one: it may run late when the clock jumps);
// - an invalid policy completes with its validate() error and no attempt.
//
// Built with clang++ -fsanitize=fuzzer,address,undefined (the `fuzz` preset);
// with ASIO_BACKOFF_FUZZ_REPLAY it is a plain program that replays the files
// given on its command line (the seed corpus, and every input that ever
// failed), which is how the other configurations run it.

#include <asio_backoff.hpp>
#include <asio_backoff/testing/manual_clock.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace asio = boost::asio;
using asio_backoff::policy;
using asio_backoff::testing::manual_clock;
using asio_backoff::testing::manual_timer;
using boost::system::error_code;

namespace {

// Reads the input as a stream of values; zeros once it is used up.
class input
{
public:
  input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return size_ == 0; }

  template <class T>
  T take()
  {
    T value{};
    const std::size_t n = std::min(sizeof value, size_);
    std::memcpy(&value, data_, n);
    data_ += n;
    size_ -= n;
    return value;
  }

  // Mostly meaningful durations, sometimes extreme ones.
  std::chrono::nanoseconds duration()
  {
    const std::uint8_t kind = take<std::uint8_t>();
    if (kind < 200) // 1 ns .. about 1 h, spread over the orders of magnitude
      return std::chrono::nanoseconds(std::int64_t(1) << (take<std::uint8_t>() % 42));
    return std::chrono::nanoseconds(take<std::int64_t>()); // negative, zero, huge
  }

  double number()
  {
    const std::uint8_t kind = take<std::uint8_t>();
    if (kind < 200)
      return 1.0 + (take<std::uint8_t>() % 40) / 10.0;
    return take<double>(); // NaN, infinities, 1e308, negative
  }

private:
  const std::uint8_t* data_;
  std::size_t size_;
};

[[noreturn]] void broken(const char* promise)
{
  std::fprintf(stderr, "broken promise: %s\n", promise);
  std::abort();
}

void check(bool ok, const char* promise)
{
  if (!ok)
    broken(promise);
}

policy make_policy(input& in)
{
  policy p;
  const std::uint8_t present = in.take<std::uint8_t>();
  p.initial = in.duration();
  p.multiplier = in.number();
  if (present & 1)
    p.timeout = in.duration();
  if (present & 2)
    p.max_delay = in.duration();
  if (present & 4)
    p.max_attempts = in.take<std::uint8_t>() % 4 == 0 ? in.take<std::size_t>()
                                                      : in.take<std::uint8_t>();
  p.immediate_first_attempt = present & 8;
  if (present & 16)
    p.deadline_mode = asio_backoff::deadline_mode::stop_before_deadline;
  if (present & 32)
    p.delay_origin = asio_backoff::delay_origin::attempt_start;
  p.jitter = static_cast<asio_backoff::jitter>(in.take<std::uint8_t>() % 5);
  p.jitter_factor = in.take<std::uint8_t>() < 200 ? in.take<std::uint8_t>() / 255.0
                                                  : in.take<double>();
  p.jitter_seed = in.take<std::uint64_t>();
  if (present & 64)
    p.after_wake_delay = in.duration();
  return p;
}

struct observed
{
  std::size_t attempts = 0;
  std::size_t attempts_past_deadline = 0;
  int completions = 0;
  error_code ec;
  bool cancelled = false; // a cancellation was emitted
  bool in_initiation = false;
  bool in_emit = false;
  bool next_fails = true;
  bool next_permanent = false;
};

// The attempt: succeeds, fails or fails for good as the input says; checks
// that it never runs when it must not.
struct scripted_attempt
{
  observed* o;
  manual_clock::time_point start;
  std::optional<std::chrono::nanoseconds> timeout;

  asio_backoff::attempt_result operator()()
  {
    check(!o->in_initiation, "no attempt inside the initiating call");
    check(!o->cancelled, "no attempt after a cancellation was emitted");
    check(o->completions == 0, "no attempt after completion");
    if (timeout && manual_clock::now() - start >= *timeout)
      check(++o->attempts_past_deadline <= 1, "at most one attempt at or after the deadline");
    ++o->attempts;
    if (!o->next_fails)
      return {};
    const error_code refused = make_error_code(boost::system::errc::connection_refused);
    return o->next_permanent ? asio_backoff::permanent(refused) : refused;
  }
};

void run_one(const std::uint8_t* data, std::size_t size)
{
  input in(data, size);
  const policy p = make_policy(in);
  manual_clock::reset();
  asio::io_context ctx;
  manual_timer timer(ctx);
  asio::cancellation_signal cancel;
  asio_backoff::wake_signal wake;
  observed o;

  o.in_initiation = true;
  asio_backoff::async_backoff(
      timer, p, asio_backoff::wake_on(wake, scripted_attempt{&o, manual_clock::now(), p.timeout}),
      asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
        check(!o.in_initiation, "no completion inside the initiating call");
        check(!o.in_emit, "no completion inside emit()");
        ++o.completions;
        o.ec = ec;
      }));
  o.in_initiation = false;
  check(o.completions == 0, "no completion inside the initiating call");

  // The script. Each step is bounded: at most 64 steps, time moves only forward.
  for (int step = 0; step < 64 && !in.empty() && o.completions == 0; ++step)
  {
    switch (in.take<std::uint8_t>() % 6)
    {
    case 0:
      manual_clock::advance(std::chrono::nanoseconds(std::int64_t(1) << (in.take<std::uint8_t>() % 40)));
      asio_backoff::testing::run_due(ctx);
      break;
    case 1:
      asio_backoff::testing::run_due(ctx);
      break;
    case 2:
    {
      static constexpr asio::cancellation_type types[] = {
          asio::cancellation_type::terminal, asio::cancellation_type::partial,
          asio::cancellation_type::total};
      o.cancelled = true;
      o.in_emit = true;
      cancel.emit(types[in.take<std::uint8_t>() % 3]);
      o.in_emit = false;
      break;
    }
    case 3:
      o.in_emit = true;
      wake.emit();
      o.in_emit = false;
      break;
    case 4:
      o.next_fails = !o.next_fails;
      break;
    case 5:
      o.next_permanent = !o.next_permanent;
      break;
    }
  }

  // Whatever happened, a cancellation ends it: exactly one completion.
  if (o.completions == 0)
  {
    o.cancelled = true;
    cancel.emit(asio::cancellation_type::terminal);
    asio_backoff::testing::run_due(ctx);
  }
  check(o.completions == 1, "the handler runs exactly once");
  if (const error_code invalid = asio_backoff::validate(p))
  {
    check(o.ec == invalid, "an invalid policy completes with its error");
    check(o.attempts == 0, "an invalid policy runs no attempt");
  }
  if (p.max_attempts && !asio_backoff::validate(p))
    check(o.attempts <= *p.max_attempts, "never more than max_attempts attempts");
  wake.emit(); // after completion: nothing happens
  check(ctx.poll() == 0, "nothing left to run after completion");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  run_one(data, size);
  return 0;
}

#if defined(ASIO_BACKOFF_FUZZ_REPLAY)
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char* argv[])
{
  for (int i = 1; i < argc; ++i)
  {
    std::ifstream file(argv[i], std::ios::binary);
    if (!file)
    {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    run_one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("%d inputs replayed\n", argc - 1);
  return 0;
}
#endif
