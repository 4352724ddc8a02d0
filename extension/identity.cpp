// Who is acting. Identity is judged on the session's outer role (GetOuterUserId):
// SET ROLE changes it, a SECURITY DEFINER function does not, so no function
// owner can lend its identity to a caller.
#include "identity.hpp"
#include "access_log.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "guc.hpp"
#include "invalidation.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/acl.h"
}

namespace tenancy::identity {

namespace {

Identity cached;
uint64 cached_guc_generation = 0;
uint64 cached_generation = 0;

// Says whether role has the privileges of the group role (InvalidOid: no).
bool has_privileges_of(Oid role, Oid group)
{
	return OidIsValid(group) && pg_call(has_privs_of_role, role, group);
}

// Says whether role is a superuser or a member of tenancy_admin.
bool is_platform_admin(Oid role)
{
	return pg_call(superuser_arg, role) || has_privileges_of(role, catalog::platform_admin_role());
}

// Returns the name of a role.
std::string role_name(Oid role)
{
	return pg_call([role] { return static_cast<const char *>(GetUserNameFromId(role, false)); });
}

// Builds the identity of the outer role, refusing a spoofed tenancy.user.
Identity resolve(Oid role)
{
	Identity identity;
	identity.role_oid = role;
	identity.db_role = role_name(role);
	const char *asserted = guc::user();
	if (asserted[0] == '\0') {
		identity.actor = identity.db_role;
		identity.platform_admin = is_platform_admin(role);
		return identity;
	}
	if (!has_privileges_of(role, catalog::service_role())) {
		std::string detail = "Only roles granted tenancy_service may set tenancy.user; role \"" +
							 identity.db_role + "\" is not one.";
		access_log::record_denial({identity.db_role, identity.db_role, guc::tenant(), nullptr,
								   "spoofed_user", "tried to act as \"" + std::string(asserted) + "\""});
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					"permission denied to act as user \"" + std::string(asserted) + "\"")
			.detail(std::move(detail))
			.hint("Run RESET tenancy.\"user\", or connect as the application's service role.");
	}
	identity.actor = asserted;
	identity.asserted = true;
	return identity;
}

} // namespace

// Returns the current identity, from the cache when nothing changed.
const Identity &current()
{
	invalidation::catch_up();
	Oid role = GetOuterUserId();
	if (cached.role_oid == role && cached_guc_generation == guc::user_generation() &&
		cached_generation == invalidation::generation())
		return cached;
	cached = Identity{};
	Identity fresh = resolve(role);
	cached = std::move(fresh);
	cached_guc_generation = guc::user_generation();
	cached_generation = invalidation::generation();
	return cached;
}

// Says whether the current role is a platform admin.
bool current_role_is_platform_admin()
{
	return is_platform_admin(GetUserId());
}

} // namespace tenancy::identity
