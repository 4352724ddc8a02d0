// The executor and utility hooks that mark where top-level statements begin
// and that keep each cursor's context (see statement.hpp).
#pragma once

namespace tenancy::statement_hooks {

// Installs the hooks and the transaction callback; called once from _PG_init.
void install();

} // namespace tenancy::statement_hooks
