// What each query started with, so that a query that runs again in a later
// statement (a cursor, a portal bound in one protocol message and executed in
// another) runs with its own context and is checked again first; and the
// same for cursors WITH HOLD, whose rows outlive their transaction.
#pragma once

extern "C" {
#include "postgres.h"
#include "executor/execdesc.h"
#include "nodes/parsenodes.h"
}

namespace tenancy::query_records {

// Remembers what a query started with, when it may run in a later statement
// (top_level, or a cursor's query) or reads protected tables. Adds the
// protected tables it reads to the queries running around it, whose rows may
// come from it (a cursor over a function that reads a protected table).
void started(QueryDesc *query, bool top_level);

// Before a query runs: when it started in an earlier statement, makes its
// context current and checks it against the catalog as it is now. Returns
// whether a context was pushed (pop it with finished()).
bool running(QueryDesc *query);

// Says whether query is a cursor WITH HOLD whose rows are being stored at the
// end of its transaction (done: once the query was run to completion).
bool persisting(const QueryDesc *query, bool done);

// After a query ran (or failed): pops what running() pushed.
void finished(QueryDesc *query, bool pushed) noexcept;

// Before a query's executor ends: a cursor WITH HOLD being stored keeps the
// record of its query, for its FETCHes.
void ending(QueryDesc *query);

// Checks a FETCH or MOVE from a cursor WITH HOLD against the catalog as it is
// now; throws when its context is no longer allowed.
void fetching(const FetchStmt *fetch);

// At the start of a top-level statement: closes the cursors WITH HOLD whose
// context is no longer allowed (a membership revoked since), so that no way of
// reading them (PL/pgSQL FETCH, a protocol Execute) returns their rows.
void check_held_cursors();

// Forgets the cursors WITH HOLD that were closed; at transaction end.
void forget_closed_cursors() noexcept;

} // namespace tenancy::query_records
