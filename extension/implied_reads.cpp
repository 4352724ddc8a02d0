// Dropping the read policy's checks where a write policy's check implies them.
//
// PostgreSQL applies a table's SELECT policies to an UPDATE or DELETE that
// reads the table's columns (a WHERE clause, SET x = x + 1, RETURNING), and
// checks the rows an INSERT ... RETURNING or an UPDATE writes against them
// too; SELECT ... FOR UPDATE gets the UPDATE policies besides. With
// pg_tenancy's policies that means two conditions on tenant_id where one
// would do:
//
//     tenant_id = (SELECT tenancy.tenant_for('viewer', 'select', t))   -- read
//     tenant_id = tenancy.tenant_for('member', 'update', t)            -- write
//
// Both compare with the tenant of the statement's context (tenant_for()
// returns it or raises), so the planner merges them into one equivalence
// class and adds a gating Result node that compares the two at run time:
// with the initplans, ~30k instructions for a one-row UPDATE, more than the
// rest of pg_tenancy's cost together. The read clause says nothing the write
// clause does not: the same tenant_id, and the role the read needs, which
// the statement check (statement_check.cpp) requires before the statement
// runs whenever PostgreSQL applies the read policy (the table's SELECT
// privilege is needed). So before planning, a read clause is dropped where
// a write clause of the same table stands in the same list: a relation's
// security quals, or the row checks (WITH CHECK OPTIONs) of one kind.
//
// Nothing is ever added, and only pg_tenancy's own clauses are dropped;
// plain SELECTs keep the read policy's initplan (parallel workers, index
// condition, estimates).
#include "implied_reads.hpp"
#include "policy_clauses.hpp"
#include "tree_walker.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
}

namespace tenancy::implied_reads {

namespace {

using policy_clauses::Kind;

// Says whether a list of quals of the relation relid at varno holds a
// write clause.
bool has_write_clause(List *quals, Index varno, Oid relid)
{
	ListCell *cell;
	foreach (cell, quals)
		if (policy_clauses::kind_of(static_cast<Node *>(lfirst(cell)), varno, relid) == Kind::write)
			return true;
	return false;
}

// Returns the security quals of a relation without the read clauses that a
// write clause among them implies.
List *security_quals_without_implied_reads(List *quals, Index varno, Oid relid)
{
	if (list_length(quals) < 2 || !has_write_clause(quals, varno, relid))
		return quals;
	List *kept = NIL;
	ListCell *cell;
	foreach (cell, quals) {
		auto *qual = static_cast<Node *>(lfirst(cell));
		if (policy_clauses::kind_of(qual, varno, relid) != Kind::read)
			kept = lappend(kept, qual);
	}
	return kept;
}

// Says whether a statement writes or locks the rows of a relation: only then
// does PostgreSQL apply its write policies besides the read policy (a plain
// read keeps its initplan, whatever other policies the table has).
bool writes_or_locks(const RangeTblEntry *rte)
{
	return (rte->requiredPerms & (ACL_INSERT | ACL_UPDATE | ACL_DELETE)) != 0;
}

// Says whether a row check comes from row level security.
bool is_policy_check(const WithCheckOption *check)
{
	return check->kind != WCO_VIEW_CHECK;
}

// Says whether the row checks hold a write clause of the kind of check.
bool has_write_check(List *checks, WCOKind kind, Index varno, Oid relid)
{
	ListCell *cell;
	foreach (cell, checks) {
		auto *other = static_cast<WithCheckOption *>(lfirst(cell));
		if (other->kind == kind && policy_clauses::kind_of(other->qual, varno, relid) == Kind::write)
			return true;
	}
	return false;
}

// Returns the row checks of a query's result relation without the read
// clauses that a write clause of the same kind implies.
List *checks_without_implied_reads(List *checks, Index varno, Oid relid)
{
	List *kept = NIL;
	ListCell *cell;
	foreach (cell, checks) {
		auto *check = static_cast<WithCheckOption *>(lfirst(cell));
		bool implied = is_policy_check(check) && policy_clauses::kind_of(check->qual, varno, relid) == Kind::read &&
			has_write_check(checks, check->kind, varno, relid);
		if (!implied)
			kept = lappend(kept, check);
	}
	return kept;
}

bool drop_in(Node *node, void *context);

// drop_in() as PostgreSQL's tree walkers take it.
const TreeWalker drop_walker = as_tree_walker(drop_in);

// Drops the implied read clauses of one query level, then of the queries
// nested in it.
bool drop_in(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	if (!IsA(node, Query))
		return expression_tree_walker(node, drop_walker, context);
	auto *query = reinterpret_cast<Query *>(node);
	Index varno = 0;
	ListCell *cell;
	foreach (cell, query->rtable) {
		varno++;
		auto *rte = static_cast<RangeTblEntry *>(lfirst(cell));
		if (rte->rtekind == RTE_RELATION && rte->securityQuals != NIL && writes_or_locks(rte))
			rte->securityQuals = security_quals_without_implied_reads(rte->securityQuals, varno, rte->relid);
	}
	if (query->resultRelation > 0 && query->withCheckOptions != NIL) {
		auto *result = rt_fetch(query->resultRelation, query->rtable);
		if (result->rtekind == RTE_RELATION)
			query->withCheckOptions =
				checks_without_implied_reads(query->withCheckOptions, query->resultRelation, result->relid);
	}
	return query_tree_walker(query, drop_walker, context, 0);
}

} // namespace

// Removes the implied read clauses from a query and its subqueries.
void drop(Query *query)
{
	drop_in(reinterpret_cast<Node *>(query), nullptr);
}

} // namespace tenancy::implied_reads
