// Turning a function call into an initplan (see initplan.hpp).
//
// The policies of protected tables compare tenant_id with
// tenancy.tenant_for(...). Left as a call, a stable function runs once per
// row of a sequential scan; written as a scalar subquery, it runs once, but
// the subquery makes PostgreSQL plan a second query and, for every execution
// of a prepared statement, walk the whole query tree looking for the tables
// of subqueries. The planner support function of tenant_for() gets the best
// of both: at planning, the call becomes the output Param of an initplan
// built here directly (the way PostgreSQL's own MIN/MAX optimization builds
// one), so that it runs once, may be an index condition, and is computed by
// the leader of a parallel query for its workers.
#include "initplan.hpp"

extern "C" {
#include "nodes/makefuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/cost.h"
#include "optimizer/subselect.h"
#include "utils/lsyscache.h"
}

namespace tenancy::initplan {

namespace {

// Returns a one-row plan that computes call: Result with no input.
Plan *result_plan(PlannerInfo *root, FuncExpr *call)
{
	Result *result = makeNode(Result);
	result->plan.targetlist = list_make1(makeTargetEntry(reinterpret_cast<Expr *>(call), 1, nullptr, false));
	QualCost cost;
	cost_qual_eval_node(&cost, reinterpret_cast<Node *>(call), root);
	result->plan.startup_cost = cost.startup + cost.per_tuple;
	result->plan.total_cost = result->plan.startup_cost;
	result->plan.plan_rows = 1;
	result->plan.plan_width = get_typavgwidth(call->funcresulttype, -1);
	result->plan.parallel_safe = false; // the leader computes it
	return &result->plan;
}

// Returns the planner state of the one-node subquery that computes the
// initplan: a query level below root with no tables.
PlannerInfo *subquery_root(PlannerInfo *root)
{
	PlannerInfo *subroot = makeNode(PlannerInfo);
	subroot->parse = makeNode(Query);
	subroot->parse->commandType = CMD_SELECT;
	subroot->parse->jointree = makeFromExpr(NIL, nullptr);
	subroot->glob = root->glob;
	subroot->query_level = root->query_level + 1;
	subroot->parent_root = root;
	subroot->planner_cxt = CurrentMemoryContext;
	subroot->wt_param_id = -1;
	return subroot;
}

} // namespace

// Returns the output Param of a new initplan of root that computes call.
Param *evaluate_once(PlannerInfo *root, const FuncExpr *call)
{
	auto *copy = static_cast<FuncExpr *>(copyObjectImpl(call));
	copy->funcformat = COERCE_EXPLICIT_CALL;
	Param *param = SS_make_initplan_output_param(root, copy->funcresulttype, -1, copy->funccollid);
	SS_make_initplan_from_plan(root, subquery_root(root), result_plan(root, copy), param);
	return param;
}

} // namespace tenancy::initplan
