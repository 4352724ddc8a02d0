// tenancy.audit_visible(tenant): the read policy of tenancy.audit_log (and
// of alerts, usage and requests about persons). Platform admins read every
// entry; the owners and admins of the current tenant read that tenant's
// entries; everyone else reads none, and so does a table owner's code that
// pg_tenancy runs for one tenant (owner_scope.hpp): that tenant is open to
// it for the statement's rows, not for its history.
#include "boundary.hpp"
#include "context.hpp"
#include "owner_scope.hpp"
#include "sql_function.hpp"

extern "C" {
#include "utils/uuid.h"
}

using namespace tenancy;

// tenancy.audit_visible() says whether the caller may read an audit row of
// the given tenant.
TENANCY_SQL_FUNCTION(tenancy_audit_visible)
{
	bool tenant_null = PG_ARGISNULL(0);
	pg_uuid_t *tenant = tenant_null ? nullptr : PG_GETARG_UUID_P(0);
	return guarded([&] {
		if (owner_scope::active())
			return BoolGetDatum(false);
		if (identity::current().platform_admin)
			return BoolGetDatum(true);
		if (tenant_null)
			return BoolGetDatum(false);
		const context::Context &context = context::current();
		bool visible = memcmp(context.tenant_id.data, tenant->data, UUID_LEN) == 0 &&
					   context.role >= catalog::Role::admin;
		return BoolGetDatum(visible);
	});
}
