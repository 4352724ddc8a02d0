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

namespace tenancy::session_settings {

// Applies the current tenant's settings to the statement about to start (or
// gives back those applied earlier in the transaction when it has none).
// Called at the start of each top-level statement, nested (see
// statement_hooks.cpp); a no-op where no tenant is selected.
void apply();

// Registers the transaction callback that forgets what was applied.
void register_callbacks();

} // namespace tenancy::session_settings
