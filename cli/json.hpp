// JSON written by tenantctl itself: only its error reports. Results are
// always built by the server (json_agg).
#pragma once

#include <string>

namespace tenantctl {

// Returns text as a JSON string literal, quotes included.
std::string json_string(const std::string &text);

} // namespace tenantctl
