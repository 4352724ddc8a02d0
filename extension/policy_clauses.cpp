// Recognizing the clauses of pg_tenancy's policies in query trees (see
// policy_clauses.hpp). A clause is recognized by its shape alone: the
// comparison of the table's tenant_id column with tenancy.tenant_for() of
// the same table, which is what tenancy.protect() installs and what the
// guards keep anyone from replacing.
#include "policy_clauses.hpp"
#include "invalidation.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
}

#include <cstring>

namespace tenancy::policy_clauses {

namespace {

// The oid last found to be tenancy.tenant_for(), and the generation it was found in.
Oid tenant_for_oid = InvalidOid;
uint64 tenant_for_generation = 0;

// Returns the tenancy.tenant_for() call of expression: itself, or the only
// output of a scalar subquery that reads no table; nullptr otherwise.
const FuncExpr *tenant_for_call(const Node *expression)
{
	if (IsA(expression, SubLink)) {
		auto *sublink = reinterpret_cast<const SubLink *>(expression);
		if (sublink->subLinkType != EXPR_SUBLINK || !IsA(sublink->subselect, Query))
			return nullptr;
		auto *query = reinterpret_cast<const Query *>(sublink->subselect);
		if (query->commandType != CMD_SELECT || query->rtable != NIL || list_length(query->targetList) != 1 ||
			(query->jointree != nullptr && (query->jointree->fromlist != NIL || query->jointree->quals != nullptr)) ||
			query->havingQual != nullptr || query->limitCount != nullptr || query->limitOffset != nullptr ||
			query->setOperations != nullptr || query->hasTargetSRFs)
			return nullptr;
		expression = reinterpret_cast<const Node *>(static_cast<TargetEntry *>(linitial(query->targetList))->expr);
	}
	if (!IsA(expression, FuncExpr))
		return nullptr;
	auto *call = reinterpret_cast<const FuncExpr *>(expression);
	return list_length(call->args) == 3 && is_tenant_for(call->funcid) ? call : nullptr;
}

// Returns the constant argument n of a call, or nullptr.
const Const *constant_argument(const FuncExpr *call, int n)
{
	auto *argument = static_cast<const Node *>(list_nth(call->args, n));
	if (!IsA(argument, Const) || reinterpret_cast<const Const *>(argument)->constisnull)
		return nullptr;
	return reinterpret_cast<const Const *>(argument);
}

// Returns what a tenancy.tenant_for() call of the table relid decides.
Kind kind_of_call(const FuncExpr *call, Oid relid)
{
	const Const *action = constant_argument(call, 1);
	const Const *table = constant_argument(call, 2);
	if (action == nullptr || table == nullptr || action->consttype != TEXTOID ||
		DatumGetObjectId(table->constvalue) != relid)
		return Kind::none;
	text *name = DatumGetTextPP(action->constvalue);
	bool read = VARSIZE_ANY_EXHDR(name) == strlen("select") &&
		memcmp(VARDATA_ANY(name), "select", strlen("select")) == 0;
	return read ? Kind::read : Kind::write;
}

// Says whether node is the tenant_id column of the table relid at varno.
bool is_tenant_column(const Node *node, Index varno, Oid relid)
{
	if (!IsA(node, Var))
		return false;
	auto *var = reinterpret_cast<const Var *>(node);
	return var->varno == static_cast<int>(varno) && var->varlevelsup == 0 &&
		var->varattno == get_attnum(relid, "tenant_id");
}

} // namespace

// Says whether funcid is tenancy.tenant_for(), by name; the answer is kept
// until the next invalidation (DROP EXTENSION invalidates pg_tenancy's
// catalog, so a remembered oid never outlives the function).
bool is_tenant_for(Oid funcid)
{
	if (funcid == tenant_for_oid && tenant_for_generation == invalidation::generation())
		return true;
	uint64 stamp = invalidation::generation();
	const char *name = get_func_name(funcid);
	if (name == nullptr || strcmp(name, "tenant_for") != 0)
		return false;
	const char *schema = get_namespace_name(get_func_namespace(funcid));
	if (schema == nullptr || strcmp(schema, "tenancy") != 0)
		return false;
	tenant_for_oid = funcid;
	tenant_for_generation = stamp;
	return true;
}

// Returns what a qual of the relation relid checks.
Kind kind_of(const Node *qual, Index varno, Oid relid)
{
	if (qual == nullptr || !IsA(qual, OpExpr))
		return Kind::none;
	auto *comparison = reinterpret_cast<const OpExpr *>(qual);
	if (list_length(comparison->args) != 2 || get_opcode(comparison->opno) != F_UUID_EQ)
		return Kind::none;
	auto *left = static_cast<const Node *>(linitial(comparison->args));
	auto *right = static_cast<const Node *>(lsecond(comparison->args));
	if (!is_tenant_column(left, varno, relid))
		return Kind::none;
	const FuncExpr *call = tenant_for_call(right);
	return call == nullptr ? Kind::none : kind_of_call(call, relid);
}

} // namespace tenancy::policy_clauses
