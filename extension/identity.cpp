// Who is acting. Identity is judged on the session's outer role as it was
// when the statement started (statement.hpp): SET ROLE changes it, a
// SECURITY DEFINER function does not, so no function owner can lend its
// identity to a caller.
//
// A service role of this database (tenancy.platform_grants, granted with
// tenancy.grant_service()) may name the application user it acts for,
// but only for the current transaction: a value set for the session would
// stay on a pooled server connection and be used by the next client.
#include "identity.hpp"
#include "owner_scope.hpp"
#include "access_log.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "generation_cache.hpp"
#include "statement.hpp"
#include "table_owner.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/acl.h"
}

namespace tenancy::identity {

namespace {

// Identities resolved so far, by outer role, actor and how it was set.
GenerationMap<Identity> identities(10000);
uint64 last_serial = 0;
uint64 last_generation = 0;
const Identity *last = nullptr;

// The platform grants of this database, read again after each invalidation.
GenerationCached<std::vector<catalog::PlatformGrant>> grants;

// Says whether a role holds a platform right of this database: granted to
// it, or to a role whose privileges it has.
bool holds(Oid role, catalog::PlatformRight right)
{
	const std::vector<catalog::PlatformGrant> &all = grants.get([] { return catalog::platform_grants(); });
	for (const catalog::PlatformGrant &grant : all)
		if (grant.right == right && pg_call(has_privs_of_role, role, grant.role))
			return true;
	return false;
}

// Returns the name of a role.
std::string role_name(Oid role)
{
	return pg_call([role] { return static_cast<const char *>(GetUserNameFromId(role, false)); });
}

// Records and throws the refusal of an asserted actor.
[[noreturn]] void refuse(const Identity &identity, const statement::Inputs &inputs, const char *reason,
						 Error error)
{
	access_log::record_denial({identity.db_role, identity.db_role, inputs.tenant, nullptr, reason,
							   error.message_});
	throw std::move(error);
}

// Builds the identity for the inputs, refusing an actor the role may not assert.
Identity resolve(const statement::Inputs &inputs)
{
	Identity identity;
	identity.role_oid = inputs.outer_role;
	identity.db_role = role_name(inputs.outer_role);
	bool superuser = pg_call(superuser_arg, inputs.outer_role);
	bool may_assert = superuser || holds(inputs.outer_role, catalog::PlatformRight::service);
	identity.service = may_assert && !superuser;
	if (inputs.actor[0] == '\0') {
		identity.actor = identity.db_role;
		identity.platform_admin = is_platform_admin(inputs.outer_role);
		return identity;
	}
	std::string shown = actor_names::shown(inputs.actor);
	if (!may_assert)
		refuse(identity, inputs, "spoofed_actor",
			   Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to act as \"" + shown + "\"")
				   .detail("Only service roles of this database (tenancy.grant_service()) may set "
						   "tenancy.actor; role \"" + identity.db_role + "\" is not one.")
				   .hint("Run RESET tenancy.actor, or connect as the application's service role."));
	if (identity.service && !inputs.actor_local)
		refuse(identity, inputs, "session_setting",
			   Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "tenancy.actor of service role \"" + identity.db_role +
														 "\" must be set for the transaction")
				   .detail("A service role's tenancy.actor set for the whole session (SET, connection options, "
						   "ALTER ROLE ... SET) would stay on a pooled connection and act for its next client.")
				   .hint("Run SET LOCAL tenancy.actor = '...' (or set_config('tenancy.actor', ..., true)) inside "
						 "the transaction, and RESET tenancy.actor."));
	identity.actor = inputs.actor;
	identity.asserted = true;
	return identity;
}

// Returns the cache key of the inputs that identity depends on.
std::string key_of(const statement::Inputs &inputs)
{
	std::string key(reinterpret_cast<const char *>(&inputs.outer_role), sizeof(Oid));
	key += inputs.actor_local ? 'l' : 's';
	key += inputs.actor;
	return key;
}

} // namespace

// Returns the identity of a role acting as itself.
const Identity &of_role(Oid role)
{
	statement::Inputs inputs{};
	inputs.outer_role = role;
	return identities.get(key_of(inputs), [&] { return resolve(inputs); });
}

// Returns the identity of the current statement.
const Identity &current()
{
	if (owner_scope::active())
		return of_role(owner_scope::owner());
	invalidation::catch_up();
	const statement::Inputs &inputs = statement::current();
	if (last != nullptr && last_serial == inputs.serial && last_generation == invalidation::generation())
		return *last;
	last = nullptr;
	uint64 generation = invalidation::generation();
	const Identity &identity = identities.get(key_of(inputs), [&] { return resolve(inputs); });
	last = &identity;
	last_serial = inputs.serial;
	last_generation = generation;
	return identity;
}

// Says whether a role is a superuser or a platform admin of this database.
bool is_platform_admin(Oid role)
{
	return pg_call(superuser_arg, role) || holds(role, catalog::PlatformRight::platform_admin);
}

// Says whether the current role is a platform admin. tenancy_table_owner
// counts as the session's outer role while tenancy.as_table_owner() runs a
// statement for it (which it does for platform admins only); anywhere else
// (an index expression ANALYZE evaluates as the table's owner) it is no admin.
bool current_role_is_platform_admin()
{
	Oid role = GetUserId();
	if (role == catalog::table_owner_role())
		return table_owner::acting_for_admin() && is_platform_admin(statement::current().outer_role);
	return is_platform_admin(role);
}

} // namespace tenancy::identity
