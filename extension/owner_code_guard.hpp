// Refuses DDL that would run a table owner's own code on every tenant's rows.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
}

namespace tenancy::owner_code_guard {

// Installs the object access hook that checks indexes, CHECK and domain
// constraints and generated columns as they are created.
void install();

// Returns a protected table that uses the domain anywhere (a column, an
// index, a constraint, a default; through arrays, composite types and
// domains based on it, as pg_depend records), or InvalidOid. May raise a
// PostgreSQL error.
Oid protected_table_using_domain(Oid domain);

// Refuses ALTER COLUMN ... TYPE on a protected table when it would rewrite
// every tenant's rows with a USING expression or convert them with an
// untrusted function.
void check_column_type_change(Oid relid, const AlterTableCmd *command);

} // namespace tenancy::owner_code_guard
