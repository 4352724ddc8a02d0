// Keeps a table owner's code from running exempt from forced row level
// security. PostgreSQL runs a foreign key's action (ON DELETE CASCADE, SET
// NULL, ...) as the referencing table's owner with SECURITY_NOFORCE_RLS, so
// that the action reaches every row; the triggers and defaults that action
// fires are the owner's own code, and would read every tenant's rows of the
// owner's protected tables. This guard runs every function that is not
// PostgreSQL's own, when called under that flag, without it.
#pragma once

namespace tenancy::noforce_guard {

// Installs the function manager hooks.
void install();

} // namespace tenancy::noforce_guard
