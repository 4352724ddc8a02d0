// Library entry point of pg_tenancy: settings and cache callbacks.
#include "audit_writer.hpp"
#include "guc.hpp"
#include "invalidation.hpp"
#include "owner_code_guard.hpp"
#include "owner_scope.hpp"
#include "pii_labels.hpp"
#include "session_settings.hpp"
#include "noforce_guard.hpp"
#include "sql_function.hpp"
#include "statement_check.hpp"
#include "statement_hooks.hpp"
#include "tenant_schemas.hpp"
#include "tenant_estimates.hpp"
#include "tenant_lock.hpp"
#include "usage_meter.hpp"
#include "withheld_errors.hpp"

extern "C" {
_Pragma("GCC visibility push(default)")
PG_MODULE_MAGIC;
_Pragma("GCC visibility pop")
}

TENANCY_EXPORTED void _PG_init(void);

// Defines pg_tenancy's settings, registers the invalidation callbacks and
// installs the statement check, hooks, estimates and the guard against
// owners' code, and follows transactions for the tenant locks and the
// tenants' session settings, and registers the PII registry's label
// provider; runs once per backend.
void _PG_init(void)
{
	tenancy::guc::define();
	tenancy::invalidation::register_callbacks();
	tenancy::statement_check::install();
	tenancy::statement_hooks::install();
	tenancy::tenant_schemas::install();
	tenancy::tenant_estimates::install();
	tenancy::owner_code_guard::install();
	tenancy::withheld_errors::install();
	tenancy::audit::register_writer();
	tenancy::tenant_lock::register_callbacks();
	tenancy::owner_scope::register_callbacks();
	tenancy::noforce_guard::install();
	tenancy::session_settings::register_callbacks();
	tenancy::usage_meter::register_callbacks();
	tenancy::pii_labels::register_provider();
}
