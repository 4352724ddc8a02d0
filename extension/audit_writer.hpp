// Writing rows into tenancy.audit_log, directly into the partition that
// takes them.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/jsonb.h"
}

#include <string>

namespace tenancy::audit {

// One audit row, as the trigger or the truncate guard describes it.
struct AuditEvent {
	Datum tenant = (Datum) 0;        // uuid of the row's tenant
	bool tenant_null = true;
	const char *table_name = nullptr; // schema-qualified
	Oid relid = InvalidOid;
	const char *operation = nullptr;  // INSERT, UPDATE, DELETE, TRUNCATE
	Jsonb *old_row = nullptr;
	Jsonb *new_row = nullptr;
	bool support_access = false;
};

// Inserts an audit row for the current actor and database role.
void write_audit_row(const AuditEvent &event, const std::string &actor, const std::string &db_role);

// Closes the audit partition the writer keeps open for the transaction, so
// that a utility statement of the same transaction (ALTER TABLE ... ATTACH
// PARTITION, CREATE INDEX on a partition) does not find it in use; the next
// audit row opens it again. Plain PostgreSQL code: it may raise an error.
void release_writer() noexcept;

// Forgets what is cached about an audit partition (InvalidOid: all); safe
// inside an invalidation callback.
void forget_writer_columns(Oid relid) noexcept;

// Registers the transaction callbacks that close the writer before commit and
// after a rolled-back subtransaction; called once from _PG_init.
void register_writer();

} // namespace tenancy::audit
