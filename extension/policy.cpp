// tenancy.tenant_for(role, action, table): the heart of the row level
// security policies that tenancy.protect() installs. It returns the current
// tenant when the actor's role allows the action on the table, and raises an
// error naming the role needed otherwise. Its planner support function makes
// each call an initplan (initplan.hpp), so it runs once per statement, not
// per row, and the comparison can use the tenant_id index.
#include "boundary.hpp"
#include "datum.hpp"
#include "initplan.hpp"
#include "rights.hpp"
#include "sql_function.hpp"

extern "C" {
#include "nodes/supportnodes.h"
}

namespace {

// Says whether every argument of a call is a constant.
bool constant_arguments(const FuncExpr *call)
{
	ListCell *cell;
	foreach (cell, call->args)
		if (!IsA(lfirst(cell), Const))
			return false;
	return true;
}

} // namespace

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
		rights::require(context, required, rights::action_named(VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action)),
						relid);
		return uuid_datum(context.tenant_id);
	});
}

// tenancy.context_support(internal): the planner support function of the
// context functions. Planning a query on a protected table thereby loads
// this library, so that the statement check (statement_check.cpp) is in
// place before the query's executor starts. And a call of tenant_for() with
// constant arguments (as in every policy), planned as part of a query,
// becomes an initplan's output.
TENANCY_SQL_FUNCTION(tenancy_context_support)
{
	Node *request = reinterpret_cast<Node *>(PG_GETARG_POINTER(0));
	if (!IsA(request, SupportRequestSimplify))
		PG_RETURN_POINTER(nullptr);
	auto *simplify = reinterpret_cast<SupportRequestSimplify *>(request);
	const FuncExpr *call = simplify->fcall;
	if (simplify->root == nullptr || list_length(call->args) != 3 || !constant_arguments(call))
		PG_RETURN_POINTER(nullptr);
	PG_RETURN_POINTER(initplan::evaluate_once(simplify->root, call));
}
