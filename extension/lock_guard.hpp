// Guards against locks on protected tables that would lock every tenant out.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
}

namespace tenancy::lock_guard {

// Refuses, before any lock is taken, LOCK TABLE in a mode stronger than ROW
// EXCLUSIVE on a protected table by a role that is neither its owner nor a
// platform admin, and TRUNCATE of a protected table by anyone but a platform
// admin (waiting for such a lock would queue every other tenant behind it).
void before(const Node *statement);

// Checks the outcome of a LOCK statement: refuses it when it left this
// session holding such a lock on a protected table (a view or a renamed table
// can lead the lock there).
void after(const Node *statement);

// Looks up and locks the table of an ALTER TABLE or CREATE INDEX the way the
// statement itself is about to (same lock, same permission check before the
// lock): once locked, no concurrent rename can put another table under the
// name. Returns InvalidOid for other statements or a missing table (IF
// EXISTS). May raise a PostgreSQL error.
Oid locked_target(Node *statement);

} // namespace tenancy::lock_guard
