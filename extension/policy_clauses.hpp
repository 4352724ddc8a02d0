// Recognizing the clauses of pg_tenancy's policies in query trees.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/primnodes.h"
}

namespace tenancy::policy_clauses {

// What a clause of a protected table's policy checks.
enum class Kind {
	none,  // not one of pg_tenancy's policy clauses
	read,  // tenant_id = (SELECT tenancy.tenant_for(role, 'select', table))
	write, // tenant_id = tenancy.tenant_for(role, 'insert' | 'update' | 'delete', table)
};

// Says whether funcid is tenancy.tenant_for(), the function of the policies.
bool is_tenant_for(Oid funcid);

// Returns what a qual of the relation relid, whose Vars have varno, checks:
// a comparison of its tenant_id column with tenancy.tenant_for() of the
// same table, called directly or in a scalar subquery. Called by planner
// hooks (PostgreSQL errors propagate).
Kind kind_of(const Node *qual, Index varno, Oid relid);

} // namespace tenancy::policy_clauses
