// The settings a tenant gives the sessions that select it: the
// statement_timeout and work_mem of its limits (plan and own), and the
// TimeZone of its "timezone" setting when tenancy.apply_timezone is on.
//
// They are applied at the start of every top-level statement, for that
// transaction only (as SET LOCAL would), whenever the session's value
// differs: a session cannot SET its way out of its tenant's timeout, and a
// tenant that is no longer selected gives the values back. The statement's
// timer is armed at once, since PostgreSQL arms it before our hooks run.
#pragma once

#include <string>

namespace tenancy::session_settings {

// Applies the settings of the current statement's tenant (or gives back
// those applied earlier in the transaction when it has none). Called, nested
// (see statement_hooks.cpp), at the start of each top-level statement and
// when a cursor runs in a later statement with its own tenant.
void apply();

// The same for a top-level statement about to be planned, whose inputs are
// not frozen yet: planning can run a member's code (constant folding).
void apply_before_planning();

// Says what is wrong with a value of a statement_timeout or work_mem limit,
// judged by PostgreSQL's own reading of the setting; "" when it is fine.
std::string limit_problem(const std::string &key, const std::string &value);

// Registers the transaction callback that forgets what was applied.
void register_callbacks();

} // namespace tenancy::session_settings
