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

// Returns a protected table with a column of the domain (or of a domain or
// array based on it), or InvalidOid. May raise a PostgreSQL error.
Oid protected_table_using_domain_of(Oid domain);

// Refuses ALTER COLUMN ... TYPE on a protected table when it would rewrite
// every tenant's rows with a USING expression or convert them with an
// untrusted function.
void check_column_type_change(Oid relid, const AlterTableCmd *command);

} // namespace tenancy::owner_code_guard
