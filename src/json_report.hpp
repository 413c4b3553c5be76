// The summary that --json prints on stdout, for scripts and CI.

#ifndef BACKOFF_WAIT_JSON_REPORT_HPP
#define BACKOFF_WAIT_JSON_REPORT_HPP

#include "status.hpp"
#include "target.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace backoff_wait {

/// `text` as a JSON string, quotes included. Bytes that are not valid UTF-8
/// (a path is any bytes) become U+FFFD, so that the document stays valid.
std::string json_string(std::string_view text);

/// One JSON object on one line, e.g.
/// {"ready":false,"outcome":"timed_out","exit_status":1,"elapsed_ms":300.4,
///  "targets":[{"target":"tcp:db:5432","kind":"tcp","ready":false,
///  "state":"timed_out","attempts":7,"elapsed_ms":300.2,
///  "last_error":"Connection refused"}]}
/// outcome: ready, timed_out, failed, interrupted; a target's state:
/// ready, failed, timed_out, cancelled.
std::string json_report(const std::vector<target>& targets,
                        const std::vector<target_status>& statuses,
                        const run_summary& summary);

} // namespace backoff_wait

#endif // BACKOFF_WAIT_JSON_REPORT_HPP
