// tenancy.tenant_for(role, action, table): the heart of the row level
// security policies that tenancy.protect() installs. It returns the current
// tenant when the actor's role allows the action on the table, and raises an
// error naming the role needed otherwise. The read policy compares tenant_id
// with it inside a scalar subquery, so it runs once per statement, not per
// row, and the comparison can use the tenant_id index; the write policies
// call it per row written, from the context cached for the statement (an
// initplan would cost more to set up). For a write (a delete too) it also
// holds the tenant until the transaction ends (tenant_lock.hpp), so that the
// rows it writes cannot outlive their tenant, and a move of the tenant to
// another mode waits for it (and it for the move).
#include "boundary.hpp"
#include "datum.hpp"
#include "rights.hpp"
#include "sql_function.hpp"
#include "tenant_lock.hpp"

extern "C" {
#include "nodes/supportnodes.h"
}

using namespace tenancy;

// tenancy.tenant_for() returns the current tenant's id when the validated
// context allows the action on the table, and raises an error otherwise.
TENANCY_SQL_FUNCTION(tenancy_tenant_for)
{
	Datum role_value = PG_GETARG_DATUM(0);
	text *action = PG_GETARG_TEXT_PP(1);
	Oid relid = PG_GETARG_OID(2);
	return guarded([&] {
		const context::Context &context = context::current();
		catalog::Role required = catalog::role_from_datum(role_value);
		rights::Action wanted = rights::action_named(VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action));
		rights::require(context, required, wanted, relid);
		if (wanted == rights::Action::insert || wanted == rights::Action::update)
			tenant_lock::hold_for_write(context.tenant_id);
		else if (wanted == rights::Action::remove)
			tenant_lock::hold_for_delete(context.tenant_id);
		return uuid_datum(context.tenant_id);
	});
}

// tenancy.context_support(internal): the planner support function of the
// context functions. It simplifies nothing; its purpose is that planning a
// query on a protected table loads this library, so that the statement check
// (statement_check.cpp) is in place before the query's executor starts.
TENANCY_SQL_FUNCTION(tenancy_context_support)
{
	return PointerGetDatum(nullptr);
}
