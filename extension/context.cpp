// The tenant context, validated at every use and cached until something it
// depends on changes: tenancy.tenant, tenancy.user, the outer role, or (via
// invalidation messages) tenants, memberships and role grants. A revocation
// committed by another session is therefore enforced from this session's next
// check on, without a catalog lookup per row or per statement.
#include "context.hpp"
#include "access_log.hpp"
#include "boundary.hpp"
#include "guc.hpp"
#include "invalidation.hpp"

extern "C" {
#include "miscadmin.h"
}

#include <unordered_map>

namespace tenancy::context {

namespace {

using catalog::Role;
using catalog::Status;

constexpr size_t cache_limit = 10000;

// Tenants and memberships looked up so far in this cache generation.
struct Lookups {
	uint64 generation = 0;
	std::unordered_map<std::string, catalog::Tenant> tenants;
	std::unordered_map<std::string, catalog::Membership> memberships;
};

Lookups lookups;
Context cached;
bool cached_valid = false;
Oid cached_role = InvalidOid;
uint64 cached_tenant_generation = 0;
uint64 cached_user_generation = 0;
uint64 cached_generation = 0;

// Empties the lookup caches when the catalog changed or they grew too big.
void refresh_lookups()
{
	if (lookups.generation != invalidation::generation() || lookups.tenants.size() > cache_limit ||
		lookups.memberships.size() > cache_limit) {
		lookups.tenants.clear();
		lookups.memberships.clear();
		lookups.generation = invalidation::generation();
	}
}

// Returns the tenant named by slug or uuid text, from the cache if possible.
const catalog::Tenant &tenant_named(const std::string &key)
{
	auto found = lookups.tenants.find(key);
	if (found != lookups.tenants.end())
		return found->second;
	return lookups.tenants.emplace(key, catalog::find_tenant(key.c_str())).first->second;
}

// Returns the membership of actor in tenant, from the cache if possible.
const catalog::Membership &membership_of(const pg_uuid_t &tenant, const std::string &actor)
{
	std::string key(reinterpret_cast<const char *>(tenant.data), UUID_LEN);
	key += actor;
	auto found = lookups.memberships.find(key);
	if (found != lookups.memberships.end())
		return found->second;
	return lookups.memberships.emplace(key, catalog::find_membership(tenant, actor)).first->second;
}

// Records a denial and throws the error the user sees.
[[noreturn]] void deny(const identity::Identity &who, const catalog::Tenant *tenant,
					   const char *reason, Error error)
{
	access_log::record_denial({who.actor, who.db_role, guc::tenant(),
							   tenant && tenant->found ? &tenant->id : nullptr, reason,
							   error.message_});
	throw std::move(error);
}

// Builds and validates the context for the current settings.
Context resolve()
{
	const identity::Identity &who = identity::current();
	std::string requested = guc::tenant();
	if (requested.empty())
		throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "no tenant selected")
			.detail("Tenant data can only be used once the session has selected a tenant.")
			.hint("Run SET tenancy.tenant = '<slug>' (SET LOCAL inside a transaction) first.");

	refresh_lookups();
	const catalog::Tenant &tenant = tenant_named(requested);
	if (!tenant.found)
		deny(who, nullptr, "unknown_tenant",
			 Error(ERRCODE_UNDEFINED_OBJECT, "tenant \"" + requested + "\" does not exist")
				 .hint("Check the slug with tenancy.my_tenants(), or ask a platform admin."));

	Context context;
	context.tenant_id = tenant.id;
	context.slug = tenant.slug;
	context.status = tenant.status;
	context.actor = who.actor;
	context.db_role = who.db_role;

	const catalog::Membership &membership = membership_of(tenant.id, who.actor);
	if (membership.found && membership.active)
		context.role = membership.role;
	if (who.platform_admin) {
		context.support = context.role == Role::none;
		context.role = Role::owner;
	}
	if (context.role == Role::none) {
		std::string detail = membership.found
			? "The membership of actor \"" + who.actor + "\" in tenant \"" + tenant.slug + "\" is inactive."
			: "Actor \"" + who.actor + "\" is not a member of tenant \"" + tenant.slug + "\".";
		const char *hint = membership.found
			? "An owner or admin of the tenant can reactivate it with tenancy.set_member_active()."
			: "An owner or admin of the tenant can add the actor with tenancy.add_member().";
		deny(who, &tenant, membership.found ? "inactive_membership" : "not_member",
			 Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for tenant \"" + tenant.slug + "\"")
				 .detail(std::move(detail))
				 .hint(hint));
	}
	if (tenant.status == Status::suspended && !who.platform_admin) {
		std::string detail = tenant.status_reason.empty()
			? "Suspended tenants cannot be used."
			: "Suspended tenants cannot be used. Reason given: " + tenant.status_reason;
		deny(who, &tenant, "suspended",
			 Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "tenant \"" + tenant.slug + "\" is suspended")
				 .detail(std::move(detail))
				 .hint("A platform admin can reactivate it with tenancy.activate_tenant()."));
	}
	if (context.support)
		access_log::record_support_entry(who.actor, who.db_role, tenant.id);
	return context;
}

} // namespace

// Returns the validated context, from the cache when nothing changed.
const Context &current()
{
	invalidation::catch_up();
	Oid role = GetOuterUserId();
	if (cached_valid && cached_role == role && cached_tenant_generation == guc::tenant_generation() &&
		cached_user_generation == guc::user_generation() && cached_generation == invalidation::generation())
		return cached;
	cached_valid = false;
	cached = resolve();
	cached_role = role;
	cached_tenant_generation = guc::tenant_generation();
	cached_user_generation = guc::user_generation();
	cached_generation = invalidation::generation();
	cached_valid = true;
	return cached;
}

// Returns the active role of actor in tenant.
catalog::Role role_in(const pg_uuid_t &tenant, const std::string &actor)
{
	invalidation::catch_up();
	refresh_lookups();
	const catalog::Membership &membership = membership_of(tenant, actor);
	return membership.found && membership.active ? membership.role : Role::none;
}

} // namespace tenancy::context
