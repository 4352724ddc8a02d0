// The check at the start of every statement that touches a protected table.
#pragma once

namespace tenancy::statement_check {

// Installs the executor permission hook; called once from _PG_init.
void install();

} // namespace tenancy::statement_check
