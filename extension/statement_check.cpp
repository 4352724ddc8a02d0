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
//
// Parallel workers do not check again: they run a plan whose leader checked
// it, with the tenant the leader's policies computed (an initplan whose value
// is passed to them).
#include "statement_check.hpp"
#include "boundary.hpp"
#include "invalidation.hpp"
#include "protected_tables.hpp"
#include "rights.hpp"
#include "tenant_schemas.hpp"

extern "C" {
#include "access/parallel.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/rls.h"
}

namespace tenancy::statement_check {

namespace {

ExecutorCheckPerms_hook_type previous_hook = nullptr;

// The protected accesses of the range table checked last.
const List *last_range_table = nullptr;
std::vector<Access> last_accesses;

// Says whether row level security applies to this access of the table.
bool row_security_applies(const RangeTblEntry *rte)
{
	return pg_call(check_enable_rls, rte->relid, rte->checkAsUser, true) == RLS_ENABLED;
}

// Collects the protected accesses of a range table. Only tables to which row
// level security applies are looked up in the protected-table list, so that
// statements on other tables never read pg_tenancy's catalog.
void collect_protected_accesses(List *range_table, std::vector<Access> &accesses)
{
	accesses.clear();
	ListCell *cell;
	foreach (cell, range_table) {
		auto *rte = static_cast<RangeTblEntry *>(lfirst(cell));
		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0 || !row_security_applies(rte))
			continue;
		if (protected_tables::find(rte->relid) != nullptr)
			accesses.push_back({rte->relid, rte->requiredPerms});
	}
}

// Checks every protected table of a statement, and remembers them.
void check_range_table(List *range_table)
{
	invalidation::catch_up();
	last_range_table = nullptr;
	collect_protected_accesses(range_table, last_accesses);
	require(last_accesses);
	tenant_schemas::check_range_table(range_table);
	last_range_table = range_table;
}

// The ExecutorCheckPerms hook: PostgreSQL's own checks first, then ours.
// When asked not to report errors (a probe), it leaves the decision to the
// policies, which still apply.
bool check_permissions(List *range_table, bool report_errors) noexcept
{
	if (previous_hook != nullptr && !previous_hook(range_table, report_errors))
		return false;
	if (!report_errors || range_table == NIL || IsParallelWorker())
		return true;
	guarded([&] { check_range_table(range_table); });
	return true;
}

} // namespace

// Throws unless the context allows every access.
void require(const std::vector<Access> &accesses)
{
	if (accesses.empty())
		return;
	const context::Context &context = context::current();
	for (const Access &access : accesses) {
		const catalog::ProtectedTable *table = protected_tables::find(access.relid);
		if (table == nullptr)
			continue; // unprotected since: the policies are gone too
		if (access.perms & ACL_SELECT)
			rights::require(context, table->read_role, rights::Action::select, access.relid);
		if (access.perms & ACL_INSERT)
			rights::require(context, table->write_role, rights::Action::insert, access.relid);
		if (access.perms & ACL_UPDATE)
			rights::require(context, table->write_role, rights::Action::update, access.relid);
		if (access.perms & ACL_DELETE)
			rights::require(context, table->delete_role, rights::Action::remove, access.relid);
	}
}

// Returns the protected accesses found when range_table was last checked.
const std::vector<Access> &found_in(const List *range_table)
{
	static const std::vector<Access> none;
	return range_table != nullptr && range_table == last_range_table ? last_accesses : none;
}

// Forgets what the last check found.
void forget_found() noexcept
{
	last_range_table = nullptr;
}

// Installs the hook.
void install()
{
	previous_hook = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = check_permissions;
}

} // namespace tenancy::statement_check
