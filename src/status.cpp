#include "status.hpp"

namespace backoff_wait {

const char* state_name(target_state state) noexcept
{
  switch (state)
  {
  case target_state::waiting: return "waiting";
  case target_state::ready: return "ready";
  case target_state::failed: return "failed";
  case target_state::timed_out: return "timed out";
  case target_state::cancelled: return "cancelled";
  }
  return "unknown";
}

int exit_status(const run_summary& summary) noexcept
{
  switch (summary.end)
  {
  case run_end::all_ready: return 0;
  case run_end::timed_out: return 1;
  case run_end::failed: return 3;
  case run_end::interrupted: return 128 + summary.signal;
  }
  return 1;
}

} // namespace backoff_wait
