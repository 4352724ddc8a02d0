// What the audit trigger knows about an audited table, built once per table
// and kept until the table changes: column names, how each column's type
// becomes JSON, where the tenant is, and the table's qualified name. With it,
// a row becomes jsonb without a catalog lookup per row.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/htup.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
}

namespace tenancy::audit {

struct AuditTable;

// Returns the cached description of a table, building it if needed. The
// tenant is read from tenant_column. Plain PostgreSQL code: call it through
// pg_call().
const AuditTable *audit_table(Relation rel, const char *tenant_column);

// Returns the schema-qualified, quoted name of the table.
const char *qualified_name(const AuditTable *table);

// Returns the tenant of a row (a uuid Datum), setting *isnull.
Datum row_tenant(const AuditTable *table, HeapTuple row, TupleDesc desc, bool *isnull);

// Returns a row as a jsonb object of all its columns.
Jsonb *row_to_jsonb(const AuditTable *table, HeapTuple row, TupleDesc desc);

// Returns a jsonb object of the columns whose values differ between two
// versions of a row, with their new values.
Jsonb *changed_columns_to_jsonb(const AuditTable *table, HeapTuple old_row, HeapTuple new_row,
								TupleDesc desc);

// Forgets what is cached about a table (InvalidOid: about every table).
// Safe inside an invalidation callback: it only marks entries stale.
void forget_columns(Oid relid) noexcept;

} // namespace tenancy::audit
