// Who is acting: the session's outer role, or the application user a trusted
// service role asserts with tenancy.actor.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <string>

namespace tenancy::identity {

// The actor of the current statement.
struct Identity {
	Oid role_oid = InvalidOid;   // the outer role (SET ROLE counts, SECURITY DEFINER does not)
	std::string db_role;         // its name
	std::string actor;           // the role name, or tenancy.actor when asserted
	bool asserted = false;       // the actor came from tenancy.actor
	bool service = false;        // a service role of this database, no superuser: its
	                             // tenant and actor count only when set for the transaction
	bool platform_admin = false; // superuser or platform admin of this database, not asserting
};

// Returns the identity of the current statement; refuses (and records) a
// tenancy.actor set by a role that is no service role of this database, and a
// service role's tenancy.actor that was set for the session rather than for
// the current transaction.
const Identity &current();

// Returns the identity of a role acting as itself (no asserted actor): inside
// an owner scope (owner_scope.hpp) current() is the table owner's, so that
// the owner's code never acts as whoever started the pg_tenancy operation.
const Identity &of_role(Oid role);

// Says whether the current role (the one SQL runs as right now, which inside
// a SECURITY DEFINER function is its owner) is a platform admin; for
// tenancy_table_owner, whether a statement of tenancy.as_table_owner() runs
// and the session's outer role is one.
bool current_role_is_platform_admin();

// Says whether a role is a superuser or a platform admin of this database
// (granted to it, or to a role whose privileges it has).
bool is_platform_admin(Oid role);

} // namespace tenancy::identity
