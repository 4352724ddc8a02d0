// The check at the start of every statement that touches a protected table.
//
// Row level security alone is evaluated row by row: a statement that matches
// no row never evaluates its policies, so "DELETE ... WHERE id = 42" by a
// viewer, or any query with no tenant selected, would quietly report 0 rows.
// This hook runs where PostgreSQL checks table privileges (ExecCheckRTPerms),
// before any row is read: for each protected table the statement reads or
// writes, and to which row level security applies, it validates the tenant
// context and the role the statement's kind of access needs. The policies
// stay in place and remain the guarantee; this makes refusals deterministic.
#include "statement_check.hpp"
#include "boundary.hpp"
#include "invalidation.hpp"
#include "protected_tables.hpp"
#include "rights.hpp"

extern "C" {
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/rls.h"
}

namespace tenancy::statement_check {

namespace {

ExecutorCheckPerms_hook_type previous_hook = nullptr;
// Says whether row level security applies to this access of the table.
bool row_security_applies(const RangeTblEntry *rte)
{
	return pg_call(check_enable_rls, rte->relid, rte->checkAsUser, true) == RLS_ENABLED;
}

// Checks one range table entry against the context.
void check_entry(const RangeTblEntry *rte)
{
	if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0)
		return;
	const catalog::ProtectedTable *table = protected_tables::find(rte->relid);
	if (table == nullptr || !row_security_applies(rte))
		return;
	const context::Context &context = context::current();
	if (rte->requiredPerms & ACL_SELECT)
		rights::require(context, table->read_role, rights::Action::select, rte->relid);
	if (rte->requiredPerms & ACL_INSERT)
		rights::require(context, table->write_role, rights::Action::insert, rte->relid);
	if (rte->requiredPerms & ACL_UPDATE)
		rights::require(context, table->write_role, rights::Action::update, rte->relid);
	if (rte->requiredPerms & ACL_DELETE)
		rights::require(context, table->delete_role, rights::Action::remove, rte->relid);
}

// Checks every protected table of a statement.
Datum check_range_table(List *range_table)
{
	invalidation::catch_up();
	ListCell *cell;
	foreach (cell, range_table)
		check_entry(static_cast<RangeTblEntry *>(lfirst(cell)));
	return (Datum) 0;
}

// The ExecutorCheckPerms hook: PostgreSQL's own checks first, then ours.
// When asked not to report errors (a probe), it leaves the decision to the
// policies, which still apply.
bool check_permissions(List *range_table, bool report_errors)
{
	if (previous_hook != nullptr && !previous_hook(range_table, report_errors))
		return false;
	if (!report_errors || range_table == NIL)
		return true;
	guarded([&] { return check_range_table(range_table); });
	return true;
}

} // namespace

// Installs the hook.
void install()
{
	previous_hook = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = check_permissions;
}

} // namespace tenancy::statement_check
