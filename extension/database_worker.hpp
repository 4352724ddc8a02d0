// Work in other databases of the cluster, done by background workers: a
// tenant's own database is created, set up, kept in step with its control
// database and dropped from SQL functions that run inside a transaction
// (see database_worker.cpp).
#pragma once

extern "C" {
#include "postgres.h"
}

#include <string>

namespace tenancy::database_worker {

// Runs setup (any statements, may be empty) and then query (one statement,
// $1 the argument) in database, as the bootstrap superuser, in a background
// worker's own transaction, which commits before this returns; returns the
// first column of the query's first row ("" for none or null). Throws the
// worker's error, with its SQLSTATE.
std::string run_in(const std::string &database, const std::string &setup, const std::string &query,
				   const std::string &argument);

// Runs a statement that cannot run inside a transaction block (CREATE
// DATABASE, DROP DATABASE) in a background worker connected to this
// database, and waits for it.
void run_utility(const std::string &statement);

// Drops database name once this transaction commits (at_commit) or once it,
// or the subtransaction running now, rolls back (!at_commit), unless a
// tenant of this database holds that name by then (tenancy.tenant_databases);
// done by a background worker, not waited for.
void drop_later(const std::string &name, bool at_commit);

// Says whether this process is one of pg_tenancy's database workers.
bool in_worker() noexcept;

// Follows transactions for drop_later(); called once from _PG_init.
void register_callbacks();

} // namespace tenancy::database_worker
