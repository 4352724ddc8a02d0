// SQL-callable functions of the tenant context: current_tenant_id(),
// current_tenant(), actor(), current_role(), has_role(), is_platform_admin(),
// db_role(), installed(), _current_role_is_platform_admin(). Each is a thin
// wrapper around context.cpp / identity.cpp.
#include "boundary.hpp"
#include "context.hpp"
#include "datum.hpp"
#include "sql_function.hpp"

using namespace tenancy;

// tenancy.current_tenant_id() returns the uuid of the validated tenant.
TENANCY_SQL_FUNCTION(tenancy_current_tenant_id)
{
	return guarded([&] { return uuid_datum(context::current().tenant_id); });
}

// tenancy.current_tenant() returns the slug of the validated tenant.
TENANCY_SQL_FUNCTION(tenancy_current_tenant)
{
	return guarded([&] { return text_datum(context::current().slug); });
}

// tenancy.actor() returns who is acting: the login role, or the application
// user asserted by a service role of this database.
TENANCY_SQL_FUNCTION(tenancy_actor)
{
	return guarded([&] { return text_datum(identity::current().actor); });
}

// tenancy.db_role() returns the session's outer database role.
TENANCY_SQL_FUNCTION(tenancy_db_role)
{
	return guarded([&] { return text_datum(identity::current().db_role); });
}

// tenancy.current_role() returns the actor's role in the validated tenant.
TENANCY_SQL_FUNCTION(tenancy_current_role)
{
	return guarded([&] { return catalog::role_to_datum(context::current().role); });
}

// tenancy.has_role(role) says whether the actor's role in the validated
// tenant is at least the given one.
TENANCY_SQL_FUNCTION(tenancy_has_role)
{
	Datum wanted = PG_GETARG_DATUM(0);
	return guarded([&] {
		catalog::Role required = catalog::role_from_datum(wanted);
		return BoolGetDatum(context::current().role >= required);
	});
}

// tenancy.installed() returns true: the permissive policy of protected
// tables, which goes with the extension (see sql/src/functions/09_protect.sql).
TENANCY_SQL_FUNCTION(tenancy_installed)
{
	return guarded([&] { return BoolGetDatum(true); });
}

// tenancy._current_role_is_platform_admin() says whether current_user is a
// platform admin (for event trigger functions that run with the caller's
// rights).
TENANCY_SQL_FUNCTION(tenancy_current_role_is_platform_admin)
{
	return guarded([&] { return BoolGetDatum(identity::current_role_is_platform_admin()); });
}

// tenancy.is_platform_admin() says whether the acting role is a superuser or
// a platform admin of this database (never while a service asserts tenancy.actor).
TENANCY_SQL_FUNCTION(tenancy_is_platform_admin)
{
	return guarded([&] { return BoolGetDatum(identity::current().platform_admin); });
}
