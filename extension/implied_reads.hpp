// Dropping the read policy's checks where a write policy's check implies them.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
}

namespace tenancy::implied_reads {

// Removes from a query about to be planned (and from its subqueries) the
// read policy's clauses of protected tables that a write policy's clause of
// the same table already checks, in the same place. Called by the planner
// hook (PostgreSQL errors propagate).
void drop(Query *query);

} // namespace tenancy::implied_reads
