// Withholds the error messages of an owner's DDL that evaluates expressions
// on every tenant's rows.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
}

namespace tenancy::withheld_errors {

// Installs the log hook and the transaction callback.
void install();

// Called at ddl_command_start for a role that is no platform admin, with
// the table an ALTER TABLE or CREATE INDEX locked (lock_guard::locked_target):
// when the statement evaluates expressions on the rows of a protected table
// (CREATE INDEX, ALTER TABLE, ALTER DOMAIN), refuses it inside a
// subtransaction and withholds its messages until it ends. May raise a
// PostgreSQL error.
void begin_statement(Node *statement, Oid target);

// Called at ddl_command_end: the statement is over.
void end_statement() noexcept;

// Called before a utility statement runs, for a role that may not be a
// platform admin: VACUUM, ANALYZE, CLUSTER and REINDEX rebuild indexes and
// gather statistics, evaluating expressions on every tenant's rows. In a
// database with protected tables, refuses them inside a subtransaction and
// withholds their error messages. May raise a PostgreSQL error.
void begin_maintenance(const Node *statement);

// Called after a utility statement ran: stops withholding for maintenance.
void end_maintenance(const Node *statement) noexcept;

} // namespace tenancy::withheld_errors
