// Who is acting: the session's outer role, or the application user a trusted
// service role asserts with tenancy.user.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <string>

namespace tenancy::identity {

// The actor of the current statement.
struct Identity {
	Oid role_oid = InvalidOid;  // the outer role (SET ROLE counts, SECURITY DEFINER does not)
	std::string db_role;        // its name
	std::string actor;          // the role name, or tenancy.user when asserted
	bool asserted = false;      // the actor came from tenancy.user
	bool platform_admin = false; // superuser or tenancy_admin, and not asserting another user
};

// Returns the current identity; refuses (and records) a tenancy.user set by a
// role that is not granted tenancy_service.
const Identity &current();

// Says whether the current role (the one SQL runs as right now, which inside
// a SECURITY DEFINER function is its owner) is a platform admin.
bool current_role_is_platform_admin();

} // namespace tenancy::identity
