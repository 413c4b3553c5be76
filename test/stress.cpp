// Stress: many operations with random policies, random outcomes and random
// cancellations emitted from other threads through each operation's strand,
// on an io_context run by two threads; and io_contexts destroyed with
// operations pending. Invariants are counted, not timed.

#include <asio_backoff.hpp>

#include "support.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int operations = 20000; // sanitizers run 5-15 times slower
#else
constexpr int operations = 100000;
#endif

struct invariants
{
  std::atomic<long> completed{0};
  std::atomic<long> completed_twice{0};
  std::atomic<long> attempt_after_cancel{0};
  std::atomic<long> attempts{0};
  std::atomic<long> cancelled{0};
};

// One operation's own state; touched only on its strand.
struct operation_state
{
  asio::cancellation_signal signal;
  bool cancel_emitted = false;
  int completions = 0;
  int succeed_at = 0;
  int calls = 0;
};

asio_backoff::policy random_policy(std::mt19937& rng)
{
  std::uniform_int_distribution<int> pick(0, 99);
  asio_backoff::policy p;
  p.initial = std::chrono::microseconds(1 + pick(rng) % 50);
  p.multiplier = 1.0 + pick(rng) / 50.0;
  if (pick(rng) < 50)
    p.max_delay = p.initial * (1 + pick(rng) % 20);
  if (pick(rng) < 50)
    p.max_attempts = 1 + pick(rng) % 10;
  else
    p.timeout = std::chrono::microseconds(pick(rng) * 20);
  p.immediate_first_attempt = pick(rng) < 50;
  if (pick(rng) < 30)
    p.attempt_timeout = std::chrono::microseconds(1 + pick(rng) * 5);
  p.jitter = static_cast<asio_backoff::jitter>(pick(rng) % 5);
  p.delay_origin = pick(rng) < 50 ? asio_backoff::delay_origin::attempt_end
                                  : asio_backoff::delay_origin::attempt_start;
  p.deadline_mode = pick(rng) < 50 ? asio_backoff::deadline_mode::final_attempt_at_deadline
                                   : asio_backoff::deadline_mode::stop_before_deadline;
  return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stress)

BOOST_AUTO_TEST_CASE(random_operations_with_cancellations_from_other_threads)
{
  invariants counts;
  test_support::allocation_counts allocations;
  std::deque<operation_state> states(operations);
  {
    asio::io_context ctx;
    asio::io_context canceller; // its own threads emit cancellations
    auto keep_canceller = asio::make_work_guard(canceller);
    std::mt19937 rng(20261126);
    std::uniform_int_distribution<int> pick(0, 99);
    std::vector<std::unique_ptr<asio::steady_timer>> cancel_timers;

    for (int i = 0; i < operations; ++i)
    {
      operation_state& state = states[i];
      auto strand = asio::make_strand(ctx);
      state.succeed_at = 1 + pick(rng) % 12;
      const bool asynchronous = pick(rng) < 50;
      auto on_done = asio::bind_executor(
          strand, asio::bind_cancellation_slot(
                      state.signal.slot(),
                      asio::bind_allocator(test_support::counting_allocator<void>(allocations),
                                           [&counts, &state](error_code ec) {
                                             if (++state.completions > 1)
                                               ++counts.completed_twice;
                                             ++counts.completed;
                                             if (ec == asio::error::operation_aborted)
                                               ++counts.cancelled;
                                           })));
      auto attempt_body = [&counts, &state] {
        ++counts.attempts;
        if (state.cancel_emitted)
          ++counts.attempt_after_cancel;
        return ++state.calls >= state.succeed_at ? error_code()
                                                 : test_support::refused();
      };
      if (asynchronous)
        asio_backoff::async_backoff(
            ctx, random_policy(rng),
            [attempt_body, strand]() mutable {
              const error_code ec = attempt_body();
              return asio::post(strand, asio::deferred([ec] { return asio::deferred.values(ec); }));
            },
            std::move(on_done));
      else
        asio_backoff::async_backoff(ctx, random_policy(rng), attempt_body, std::move(on_done));

      if (pick(rng) < 40)
      {
        // From a canceller thread, after a random delay, through the strand.
        cancel_timers.push_back(std::make_unique<asio::steady_timer>(
            canceller, std::chrono::microseconds(pick(rng) * 10)));
        const auto type = std::array{asio::cancellation_type::terminal,
                                     asio::cancellation_type::partial,
                                     asio::cancellation_type::total}[pick(rng) % 3];
        cancel_timers.back()->async_wait([&state, strand, type](error_code) {
          asio::post(strand, [&state, type] {
            state.cancel_emitted = true;
            state.signal.emit(type);
          });
        });
      }
    }

    std::thread cancel_thread([&] { canceller.run(); });
    std::thread second([&] { ctx.run(); });
    ctx.run();
    second.join();
    keep_canceller.reset();
    cancel_thread.join();
  }
  BOOST_TEST(counts.completed.load() == operations);
  BOOST_TEST(counts.completed_twice.load() == 0);
  BOOST_TEST(counts.attempt_after_cancel.load() == 0);
  BOOST_TEST(counts.cancelled.load() > 0); // the test exercised cancellation
  BOOST_TEST(counts.attempts.load() > operations);
  BOOST_TEST(allocations.allocations.load() == allocations.deallocations.load());
}

BOOST_AUTO_TEST_CASE(io_contexts_destroyed_with_operations_pending)
{
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, 99);
  for (int round = 0; round < 20; ++round)
  {
    test_support::allocation_counts allocations;
    std::vector<test_support::handler_probe> probes(500);
    {
      asio::io_context ctx;
      asio::steady_timer work(ctx);
      for (auto& probe : probes)
      {
        asio_backoff::policy p = random_policy(rng);
        p.initial = std::chrono::microseconds(1 + pick(rng) * 100);
        auto handler = asio::bind_allocator(test_support::counting_allocator<void>(allocations),
                                            test_support::probing_handler(probe));
        if (pick(rng) < 50)
          asio_backoff::async_backoff(ctx, p, [] { return test_support::refused(); },
                                      std::move(handler));
        else
          asio_backoff::async_backoff(
              ctx, p,
              [&] {
                work.expires_after(1h);
                return work.async_wait(asio::deferred);
              },
              std::move(handler));
      }
      ctx.run_for(std::chrono::microseconds(pick(rng) * 50));
    }
    for (const auto& probe : probes)
      BOOST_REQUIRE_EQUAL(probe.invoked + probe.destroyed_unrun, 1);
    BOOST_TEST(allocations.allocations.load() == allocations.deallocations.load());
  }
}

BOOST_AUTO_TEST_SUITE_END()
