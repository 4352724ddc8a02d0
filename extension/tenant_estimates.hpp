// Row estimates of protected tables for the tenant the statement works in.
#pragma once

namespace tenancy::tenant_estimates {

// Installs the planner hook; called once from _PG_init.
void install();

} // namespace tenancy::tenant_estimates
