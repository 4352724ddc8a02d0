// SQL-callable functions on actor names, user input and memberships, for the
// management functions in SQL: tenancy._normalize_actor(),
// tenancy._actor_skeleton(), tenancy._shown(), tenancy._member_role(),
// tenancy._latest_status(), tenancy._active_members() and
// tenancy._lock_member_seats().
#include "actor_names.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "context.hpp"
#include "datum.hpp"
#include "invalidation.hpp"
#include "tenant_lock.hpp"
#include "sql_function.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/uuid.h"
}

using namespace tenancy;

// tenancy._normalize_actor(text) returns an actor name in normal form, or
// raises an error that says what is wrong with it.
TENANCY_SQL_FUNCTION(tenancy_normalize_actor)
{
	bool is_null = PG_ARGISNULL(0);
	const text *value = is_null ? nullptr : PG_GETARG_TEXT_PP(0);
	return guarded([&] {
		if (is_null)
			throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "actor must not be null");
		std::string name = text_of(value);
		actor_names::Checked checked = actor_names::check(name.data(), name.size());
		if (!checked.valid)
			throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "invalid actor \"" + actor_names::shown(name.c_str()) + "\"")
				.detail(checked.problem);
		return text_datum(checked.normalized);
	});
}

// tenancy._actor_skeleton(text) returns the confusable skeleton of a name.
TENANCY_SQL_FUNCTION(tenancy_actor_skeleton)
{
	const text *value = PG_GETARG_TEXT_PP(0);
	return guarded([&] {
		std::string name = text_of(value);
		return text_datum(actor_names::skeleton(name.data(), name.size()));
	});
}

// tenancy._shown(text) returns user input fit to be echoed in a message.
TENANCY_SQL_FUNCTION(tenancy_shown)
{
	const text *value = PG_GETARG_TEXT_PP(0);
	return guarded([&] { return text_datum(actor_names::shown(text_of(value).c_str())); });
}

// tenancy._member_role(uuid, text) returns the latest committed active role
// of an actor in a tenant, or NULL.
TENANCY_SQL_FUNCTION(tenancy_member_role)
{
	const pg_uuid_t *tenant = PG_GETARG_UUID_P(0);
	const text *value = PG_GETARG_TEXT_PP(1);
	catalog::Role role = guarded([&] { return context::role_in(*tenant, text_of(value)); });
	if (role == catalog::Role::none)
		PG_RETURN_NULL();
	return guarded([&] { return catalog::role_to_datum(role); });
}

// tenancy._latest_status(tenant) returns the latest committed status of a
// tenant (NULL when it does not exist), whatever the transaction's snapshot:
// a member's change checks it, and holds no lock that would make a platform
// admin's change of status wait.
TENANCY_SQL_FUNCTION(tenancy_latest_status)
{
	const pg_uuid_t *tenant = PG_GETARG_UUID_P(0);
	const char *status = guarded([&]() -> const char * {
		invalidation::catch_up();
		const char *id = pg_call([&] { return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(tenant))); });
		catalog::Tenant found = catalog::find_tenant(id);
		return found.found ? catalog::status_name(found.status) : nullptr;
	});
	if (status == nullptr)
		PG_RETURN_NULL();
	return guarded([&] { return text_datum(status); });
}

// tenancy._active_members(tenant) counts a tenant's active members in the
// latest committed state, whatever the snapshot: the members limit holds
// under every isolation level.
TENANCY_SQL_FUNCTION(tenancy_active_members)
{
	const pg_uuid_t *tenant = PG_GETARG_UUID_P(0);
	int64 count = guarded([&] {
		invalidation::catch_up();
		return catalog::active_members(*tenant);
	});
	PG_RETURN_INT64(count);
}

// tenancy._lock_member_seats(tenant) makes the additions of members to a
// tenant take turns until the transaction ends (tenant_lock.hpp).
TENANCY_SQL_FUNCTION(tenancy_lock_member_seats)
{
	const pg_uuid_t tenant = *PG_GETARG_UUID_P(0);
	guarded([&] { tenant_lock::hold_member_seats(tenant); });
	PG_RETURN_VOID();
}
