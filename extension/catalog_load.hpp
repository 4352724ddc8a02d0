// Restores of pg_tenancy's own catalog. pg_restore loads tenancy.tenants and
// tenancy.memberships with COPY FROM; their audit rows are in the dump too
// (tenancy.audit_log's partitions), so the audit trigger must not write a
// second, invented history for the loaded rows.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
}

namespace tenancy::catalog_load {

// Before a utility statement: when it is a COPY FROM into tenancy.tenants or
// tenancy.memberships, remembers that table as being loaded. Returns the
// table loaded before (to hand back to end()). Throws tenancy errors.
Oid begin(const Node *statement);

// After the statement (also when it failed): the table loaded before it.
void end(Oid previous) noexcept;

// Says whether rows of this table are being loaded by COPY FROM.
bool is_loading(Oid relid) noexcept;

} // namespace tenancy::catalog_load
