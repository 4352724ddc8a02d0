// Row estimates of protected tables for the tenant the statement works in.
//
// A policy compares tenant_id with an initplan's result ($0) or, in a write,
// with a call of tenancy.tenant_for(), whose value the planner does not
// know: it estimates "tenant_id = $0" as an average tenant (1 / number of
// distinct tenants). With one big tenant among many small
// ones, that is wrong by orders of magnitude, and the plan with it: an index
// scan over two million rows instead of a parallel sequential scan. The
// hand-written "WHERE tenant_id = '...'" has no such problem, since the
// planner sees the value.
//
// This planner hook gives the policy's clause the selectivity of the tenant
// of the statement's validated context, the way PostgreSQL estimates a
// comparison with a stable function (current_setting(), say): the plan stays
// correct for every tenant, since $0 is still evaluated when it runs, and is
// the best one for the tenant it was planned for. When the estimate changes
// the table's row count by more than a tenth, the table's access paths are
// built again with it (the same paths PostgreSQL builds for a plain table).
#include "tenant_estimates.hpp"
#include "boundary.hpp"
#include "context.hpp"
#include "policy_clauses.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
}

#include <cmath>
#include <cstring>

namespace tenancy::tenant_estimates {

namespace {

set_rel_pathlist_hook_type previous_hook = nullptr;

// The tenant a statement works in, if its context is valid.
struct Tenant {
	bool found;
	pg_uuid_t id;
};

// Says whether param is set by an initplan of root that computes
// tenancy.tenant_for(): the tenant of the read policy.
bool is_initplan_tenant(PlannerInfo *root, const Param *param)
{
	if (param->paramkind != PARAM_EXEC)
		return false;
	ListCell *cell;
	foreach (cell, root->init_plans) {
		auto *subplan = static_cast<SubPlan *>(lfirst(cell));
		if (!list_member_int(subplan->setParam, param->paramid))
			continue;
		Plan *plan = planner_subplan_get_plan(root, subplan);
		if (!IsA(plan, Result) || list_length(plan->targetlist) != 1)
			return false;
		auto *entry = static_cast<TargetEntry *>(linitial(plan->targetlist));
		return IsA(entry->expr, FuncExpr) &&
			policy_clauses::is_tenant_for(reinterpret_cast<FuncExpr *>(entry->expr)->funcid);
	}
	return false;
}

// Says whether expression is the tenant of a policy: the read policy's
// initplan result, or the write policies' direct call (which is what a write
// keeps, see implied_reads.cpp).
bool is_policy_tenant(PlannerInfo *root, const Node *expression)
{
	if (IsA(expression, Param))
		return is_initplan_tenant(root, reinterpret_cast<const Param *>(expression));
	return IsA(expression, FuncExpr) &&
		policy_clauses::is_tenant_for(reinterpret_cast<const FuncExpr *>(expression)->funcid);
}

// Returns the restriction of rel that compares tenant_id with a policy's
// tenant, or nullptr; sets *column to its tenant_id Var.
RestrictInfo *policy_clause(PlannerInfo *root, RelOptInfo *rel, Var **column)
{
	ListCell *cell;
	foreach (cell, rel->baserestrictinfo) {
		auto *restriction = static_cast<RestrictInfo *>(lfirst(cell));
		if (!IsA(restriction->clause, OpExpr))
			continue;
		auto *comparison = reinterpret_cast<OpExpr *>(restriction->clause);
		if (list_length(comparison->args) != 2 || get_opcode(comparison->opno) != F_UUID_EQ)
			continue;
		Node *left = static_cast<Node *>(linitial(comparison->args));
		Node *right = static_cast<Node *>(lsecond(comparison->args));
		if (IsA(right, Var))
			std::swap(left, right);
		if (!IsA(left, Var))
			continue;
		auto *var = reinterpret_cast<Var *>(left);
		if (var->varno != static_cast<int>(rel->relid) || var->varlevelsup != 0 || !is_policy_tenant(root, right))
			continue;
		*column = var;
		return restriction;
	}
	return nullptr;
}

// Says whether rel's other conditions select so few rows (a primary key
// lookup, say) that no tenant's share can change its plan: at most one or
// two rows even if the tenant had all of them. Uses the selectivities
// PostgreSQL already cached on each condition (unknown ones count as 1).
bool few_rows_whatever_the_tenant(RelOptInfo *rel, const RestrictInfo *tenant_clause)
{
	double rows = rel->tuples;
	ListCell *cell;
	foreach (cell, rel->baserestrictinfo) {
		auto *restriction = static_cast<RestrictInfo *>(lfirst(cell));
		if (restriction != tenant_clause && restriction->norm_selec >= 0)
			rows *= restriction->norm_selec;
	}
	return rows < 2;
}

// Returns the tenant of the statement's context, if it is valid.
Tenant statement_tenant()
{
	return guarded([] {
		const context::Context *context = context::current_quietly();
		Tenant tenant{context != nullptr, {}};
		if (context != nullptr)
			tenant.id = context->tenant_id;
		return tenant;
	});
}

// Builds the access paths of a plain table again, after its size changed:
// what PostgreSQL's set_plain_rel_pathlist() builds. The hooks installed
// before ours run after this (see on_set_rel_pathlist), so the paths they
// add are kept.
void rebuild_paths(PlannerInfo *root, RelOptInfo *rel)
{
	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	rel->cheapest_parameterized_paths = NIL;
	rel->cheapest_startup_path = nullptr;
	rel->cheapest_total_path = nullptr;
	rel->cheapest_unique_path = nullptr;

	Relids required_outer = rel->lateral_relids;
	add_path(rel, create_seqscan_path(root, rel, required_outer, 0));
	if (rel->consider_parallel && required_outer == nullptr) {
		int workers = compute_parallel_worker(rel, rel->pages, -1, max_parallel_workers_per_gather);
		if (workers > 0)
			add_partial_path(rel, create_seqscan_path(root, rel, nullptr, workers));
	}
	create_index_paths(root, rel);
	create_tidscan_paths(root, rel);
}

// Estimates the policy's clause of rel for the statement's tenant, and
// rebuilds rel's paths when that changes its size by more than a tenth.
void estimate_for_tenant(PlannerInfo *root, RelOptInfo *rel)
{
	Var *column = nullptr;
	RestrictInfo *clause = policy_clause(root, rel, &column);
	if (clause == nullptr || few_rows_whatever_the_tenant(rel, clause))
		return;
	Tenant tenant = statement_tenant();
	if (!tenant.found)
		return;

	auto *value = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	*value = tenant.id;
	Const *tenant_value = makeConst(UUIDOID, -1, InvalidOid, UUID_LEN, PointerGetDatum(value), false, false);
	auto *comparison = reinterpret_cast<OpExpr *>(clause->clause);
	Selectivity estimated = clause_selectivity(root, reinterpret_cast<Node *>(clause), 0, JOIN_INNER, nullptr);
	Selectivity for_tenant =
		restriction_selectivity(root, comparison->opno, list_make2(column, tenant_value), comparison->inputcollid,
								static_cast<int>(rel->relid));
	if (std::fabs(for_tenant - estimated) <= 0.1 * estimated)
		return;

	clause->norm_selec = for_tenant;
	clause->outer_selec = for_tenant;
	set_baserel_size_estimates(root, rel);
	rebuild_paths(root, rel);
}

// The set_rel_pathlist hook: plain tables only (not inheritance parents,
// samples or members of an append relation, whose sizes are already summed).
void on_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte) noexcept
{
	if (rel->reloptkind == RELOPT_BASEREL && rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_RELATION &&
		!rte->inh && rte->tablesample == nullptr && !IS_DUMMY_REL(rel) && rel->baserestrictinfo != NIL &&
		(root->init_plans != NIL || root->parse->commandType != CMD_SELECT || root->parse->rowMarks != NIL))
		estimate_for_tenant(root, rel);
	if (previous_hook != nullptr)
		previous_hook(root, rel, rti, rte);
}

} // namespace

// Installs the hook.
void install()
{
	previous_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = on_set_rel_pathlist;
}

} // namespace tenancy::tenant_estimates
