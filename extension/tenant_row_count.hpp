// Counting one tenant's rows of a protected table without running any code
// of the table's owner: a direct scan of a plain btree index led by
// tenant_id, or of the heap, with the builtin uuid equality.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/snapshot.h"
#include "utils/uuid.h"
}

namespace tenancy::tenant_row_count {

// Returns how many rows of the tenant in relid the snapshot sees (plain C:
// run it inside pg_call).
int64 count_tenant_rows(Oid relid, const pg_uuid_t *tenant, Snapshot snapshot);

// Returns how many rows of relid (its leaf partitions for a partitioned
// table; not inheritance children) the snapshot sees (plain C: run it inside
// pg_call).
int64 count_all_rows(Oid relid, Snapshot snapshot);

} // namespace tenancy::tenant_row_count
