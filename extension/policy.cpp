// tenancy.require_role(role, action, table): the rights check inside the row
// level security policies that tenancy.protect() installs. The policies wrap
// it in a scalar subquery, so it runs once per statement, not once per row.
#include "boundary.hpp"
#include "rights.hpp"
#include "sql_function.hpp"

extern "C" {
#include "nodes/supportnodes.h"
}

using namespace tenancy;

// tenancy.require_role() returns true when the validated context allows the
// action on the table, and raises an error naming the role needed otherwise.
TENANCY_SQL_FUNCTION(tenancy_require_role)
{
	Datum role_value = PG_GETARG_DATUM(0);
	text *action = PG_GETARG_TEXT_PP(1);
	Oid relid = PG_GETARG_OID(2);
	return guarded([&] {
		const context::Context &context = context::current();
		catalog::Role required = catalog::role_from_datum(role_value);
		rights::require(context, required, rights::action_named(VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action)),
						relid);
		return BoolGetDatum(true);
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
