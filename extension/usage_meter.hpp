// Usage metering: the rows each tenant writes into protected tables per day
// (inserted, updated, deleted) and the actors who use each tenant per day.
//
// Counting is near-free: a statement that writes into a protected table
// reads PostgreSQL's own per-transaction counters of the table (pgstat's,
// which count each row a CTE, a trigger, MERGE or ON CONFLICT writes as what
// it is, and leave out subtransactions that roll back) when it starts and
// when it ends, and adds the difference to a per-transaction list in backend
// memory; a commit merges the list into the backend's pending counts; the pending counts go to the access log's queue file (one record
// per tenant, table and day) at most once a second, and when the session
// ends. The collector folds them into tenancy.usage_daily and
// tenancy.usage_actors; tenancy.usage() flushes its own session's counts
// and waits for the collector first.
#pragma once

extern "C" {
#include "postgres.h"
#include "executor/execdesc.h"
#include "utils/uuid.h"
}

#include <string>

namespace tenancy::usage_meter {

// Starts measuring the protected tables a statement writes (its result
// relations, CTEs' included) that no statement around it measures already.
void start_statement(const QueryDesc *query);

// Counts what a statement wrote into the tables it measured, for the
// statement's tenant (none selected: not counted).
void end_statement(const QueryDesc *query);

// Counts the rows a COPY FROM wrote into a table.
void count_copy(Oid relid, uint64 rows);

// Notes that an actor used a tenant today (once per session and day).
void note_actor(const pg_uuid_t &tenant, const std::string &actor);

// Appends every committed count not yet queued to the queue now, once per
// transaction; returns false when this transaction did so already.
bool flush();

// Registers the transaction callbacks and the flush at the session's end.
void register_callbacks();

} // namespace tenancy::usage_meter
