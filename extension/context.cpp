// The tenant context, validated at every use and cached until something it
// depends on changes: the statement's inputs (statement.hpp) or, through
// invalidation messages, tenants, memberships and role grants. A revocation
// committed by another session is therefore enforced from this session's next
// statement on, without a catalog lookup per row or per statement.
#include "context.hpp"
#include "owner_scope.hpp"
#include "usage_meter.hpp"
#include "access_log.hpp"
#include "actor_names.hpp"
#include "boundary.hpp"
#include "generation_cache.hpp"
#include "statement.hpp"
#include "tenant_lock.hpp"

namespace tenancy::context {

namespace {

using catalog::Role;
using catalog::Status;

constexpr size_t cache_limit = 10000;

GenerationMap<catalog::Tenant> tenants(cache_limit);
GenerationMap<catalog::Membership> memberships(cache_limit);
GenerationMap<Context> contexts(cache_limit);
uint64 last_serial = 0;
uint64 last_generation = 0;
const Context *last = nullptr;
bool last_entry_recorded = false; // a support entry into last's tenant was recorded
bool last_use_noted = false;      // last's use of its tenant today was metered

// Returns the tenant named by slug or uuid text, from the cache if possible.
catalog::Tenant tenant_named(const std::string &key)
{
	return tenants.get(key, [&] { return catalog::find_tenant(key.c_str()); });
}

// Returns the membership of actor in tenant, from the cache if possible.
catalog::Membership membership_of(const pg_uuid_t &tenant, const std::string &actor)
{
	std::string key(reinterpret_cast<const char *>(tenant.data), UUID_LEN);
	key += actor;
	return memberships.get(key, [&] { return catalog::find_membership(tenant, actor); });
}

// Records a denial and throws the error the user sees.
[[noreturn]] void deny(const identity::Identity &who, const char *requested, const catalog::Tenant *tenant,
					   const char *reason, Error error)
{
	access_log::record_denial({who.actor, who.db_role, requested, tenant && tenant->found ? &tenant->id : nullptr,
							   reason, error.message_});
	throw std::move(error);
}

// Throws the refusal a caller without rights gets for a tenant, the same
// whether or not the tenant exists, so that it tells nothing about others.
[[noreturn]] void deny_access(const identity::Identity &who, const char *requested, const catalog::Tenant *tenant,
							  const char *reason)
{
	std::string shown = actor_names::shown(requested);
	deny(who, requested, tenant, reason,
		 Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for tenant \"" + shown + "\"")
			 .detail("Actor \"" + actor_names::shown(who.actor.c_str()) + "\" is not a member of tenant \"" + shown +
					 "\".")
			 .hint("Check the tenant with tenancy.my_tenants(); an owner or admin of the tenant can add the actor "
				   "with tenancy.add_member()."));
}

// Builds and validates the context for the statement's inputs.
Context resolve(const statement::Inputs &inputs)
{
	const identity::Identity &who = identity::current();
	const char *requested = inputs.tenant;
	if (requested[0] == '\0')
		throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "no tenant selected")
			.detail("Tenant data can only be used once the session has selected a tenant.")
			.hint("Run SET tenancy.tenant = '<slug>' (SET LOCAL inside a transaction) first.");
	if (who.service && !inputs.tenant_local)
		deny(who, requested, nullptr, "session_setting",
			 Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
				   "tenancy.tenant of service role \"" + who.db_role + "\" must be set for the transaction")
				 .detail("A service role's tenancy.tenant set for the whole session (SET, connection options, "
						 "ALTER ROLE ... SET) would stay on a pooled connection and reach its next client.")
				 .hint("Run SET LOCAL tenancy.tenant = '...' (or set_config('tenancy.tenant', ..., true)) inside "
					   "the transaction, and RESET tenancy.tenant."));

	uint64 stamp = invalidation::generation();
	catalog::Tenant tenant = tenant_named(requested);
	if (!tenant.found) {
		if (!who.platform_admin)
			deny_access(who, requested, nullptr, "unknown_tenant");
		deny(who, requested, nullptr, "unknown_tenant",
			 Error(ERRCODE_UNDEFINED_OBJECT, "tenant \"" + actor_names::shown(requested) + "\" does not exist")
				 .hint("Check the slug with tenancy.tenant_list()."));
	}
	tenant_lock::known_to_exist(tenant, stamp);

	Context context;
	context.tenant_id = tenant.id;
	context.slug = tenant.slug;
	context.status = tenant.status;
	context.actor = who.actor;
	context.db_role = who.db_role;

	catalog::Membership membership = membership_of(tenant.id, who.actor);
	if (membership.found && membership.active)
		context.role = membership.role;
	if (who.platform_admin) {
		context.support = context.role == Role::none;
		context.role = Role::owner;
	}
	if (context.role == Role::none) {
		if (!membership.found)
			deny_access(who, requested, &tenant, "not_member");
		deny(who, requested, &tenant, "inactive_membership",
			 Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for tenant \"" + tenant.slug + "\"")
				 .detail("The membership of actor \"" + actor_names::shown(who.actor.c_str()) + "\" in tenant \"" +
						 tenant.slug + "\" is inactive.")
				 .hint("An owner or admin of the tenant can reactivate it with tenancy.set_member_active()."));
	}
	if (tenant.status == Status::suspended && !who.platform_admin) {
		std::string detail = tenant.status_reason.empty()
			? "Suspended tenants cannot be used."
			: "Suspended tenants cannot be used. Reason given: " + tenant.status_reason;
		deny(who, requested, &tenant, "suspended",
			 Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "tenant \"" + tenant.slug + "\" is suspended")
				 .detail(std::move(detail))
				 .hint("A platform admin can reactivate it with tenancy.activate_tenant()."));
	}
	return context;
}

// Returns the cache key of the inputs that the context depends on.
std::string key_of(const statement::Inputs &inputs)
{
	std::string key(reinterpret_cast<const char *>(&inputs.outer_role), sizeof(Oid));
	key += inputs.tenant_local ? 'l' : 's';
	key += inputs.actor_local ? 'l' : 's';
	key += inputs.tenant;
	key += '\0';
	key += inputs.actor;
	return key;
}

// Returns the validated context of the statement's inputs, from the cache
// when nothing changed, without recording a platform admin's entry.
const Context &current_unrecorded()
{
	invalidation::catch_up();
	const statement::Inputs &inputs = statement::current();
	if (last != nullptr && last_serial == inputs.serial && last_generation == invalidation::generation())
		return *last;
	last = nullptr;
	uint64 generation = invalidation::generation();
	const Context &context = contexts.get(key_of(inputs), [&] { return resolve(inputs); });
	last = &context;
	last_entry_recorded = false;
	last_use_noted = false;
	last_serial = inputs.serial;
	last_generation = generation;
	return context;
}

} // namespace

// Returns the validated context, from the cache when nothing changed; a
// platform admin's entry into a tenant she is not a member of is recorded
// at its first use (once per session, see access_log.hpp).
const Context &current()
{
	if (owner_scope::active())
		return owner_scope::context();
	const Context &context = current_unrecorded();
	if (context.support && !last_entry_recorded) {
		access_log::record_support_entry(context.actor, context.db_role, context.tenant_id);
		last_entry_recorded = true;
	}
	if (!last_use_noted) {
		// A platform admin's support work is no use of the tenant's own.
		if (!context.support)
			usage_meter::note_actor(context.tenant_id, context.actor);
		last_use_noted = true;
	}
	return context;
}

// Returns the validated context, or nullptr where current() would refuse,
// without recording a denial or an entry: for the planner's estimates and
// the tenant's session settings, which are not uses of the tenant's data.
const Context *current_quietly()
{
	if (owner_scope::active())
		return &owner_scope::context();
	access_log::MutedDenials muted;
	try {
		return &current_unrecorded();
	} catch (const Error &) {
		return nullptr;
	}
}

// Returns the validated context of other inputs, or nullptr; records nothing.
const Context *quietly_for(const statement::Inputs &inputs)
{
	if (owner_scope::active())
		return &owner_scope::context();
	access_log::MutedDenials muted;
	try {
		invalidation::catch_up();
		// Inputs unchanged since the statement's (statement::peek() keeps
		// their serial): the statement's context.
		if (last != nullptr && last_serial == inputs.serial && last_generation == invalidation::generation())
			return last;
		last = nullptr; // the map may forget every entry to make room
		return &contexts.get(key_of(inputs), [&] { return resolve(inputs); });
	} catch (const Error &) {
		return nullptr;
	}
}

// Returns the active role of actor in tenant.
catalog::Role role_in(const pg_uuid_t &tenant, const std::string &actor)
{
	invalidation::catch_up();
	catalog::Membership membership = membership_of(tenant, actor);
	return membership.found && membership.active ? membership.role : Role::none;
}

} // namespace tenancy::context
