// The schemas of schema-mode tenants, open only to statements of their own
// tenant (see tenant_schemas.cpp).
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pg_list.h"
#include "nodes/parsenodes.h"
}

namespace tenancy::tenant_schemas {

// Throws 42501 unless every relation of a statement's range table that lies
// in a tenant schema is in the schema of the statement's validated tenant,
// whose role allows the access.
void check_range_table(List *range_table);

// Throws 42501 when a utility statement names a relation in a tenant schema
// that is closed to it (LOCK), or drops or renames a tenant schema without
// being a platform admin.
void check_utility(const Node *statement);

// While alive, every tenant schema is open to reading (SELECT), and to
// nothing else: tenancy._read_tenant_schemas() holds one for the one
// read-only query of a platform admin's union view.
class EverySchemaReadable {
public:
	EverySchemaReadable();
	~EverySchemaReadable();
	EverySchemaReadable(const EverySchemaReadable &) = delete;
	EverySchemaReadable &operator=(const EverySchemaReadable &) = delete;
};

// Installs the object access hook; called once from _PG_init.
void install();

} // namespace tenancy::tenant_schemas
