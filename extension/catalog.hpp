// Reading pg_tenancy's own catalog (tenancy.tenants, tenancy.memberships)
// with direct index scans: no SQL, no planner, and no privilege needed by the
// caller, who is usually an ordinary tenant user.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/uuid.h"
}

#include <string>
#include <vector>

namespace tenancy::catalog {

// Membership roles in their order; none means "no role".
enum class Role : int { none = 0, viewer = 1, member = 2, admin = 3, owner = 4 };

// Lifecycle states of a tenant.
enum class Status : int { active = 0, suspended = 1, archived = 2, terminating = 3 };

// Where a tenant's rows live: in protected tables, its schema, its database.
enum class Isolation : int { row = 0, schema = 1, database = 2 };

// One row of tenancy.tenants, as far as the context needs it.
struct Tenant {
	bool found = false;
	pg_uuid_t id{};
	std::string slug;
	Status status = Status::active;
	std::string status_reason;
	Isolation isolation = Isolation::row;
};

// One row of tenancy.memberships, as far as the context needs it.
struct Membership {
	bool found = false;
	Role role = Role::none;
	bool active = false;
};

// Finds a tenant by slug or by uuid text.
Tenant find_tenant(const char *slug_or_uuid);

// Finds the schema-mode tenant whose schema has this name (not found before
// the update to 0.11 has run).
Tenant find_schema_tenant(const char *schema_name);

// Finds a tenant by id (latest committed state).
Tenant find_tenant_by_id(const pg_uuid_t &id);

// Finds the membership of an actor in a tenant.
Membership find_membership(const pg_uuid_t &tenant, const std::string &actor);

// Counts the active members of a tenant (latest committed state).
int64 active_members(const pg_uuid_t &tenant);

// The settings of one protected table.
struct ProtectedTable {
	Oid relid = InvalidOid;
	Role read_role = Role::viewer;
	Role write_role = Role::member;
	Role delete_role = Role::admin;
};

// Says whether the extension is (completely) installed in this database.
bool installed();

// Reads every row of tenancy.protected_tables.
std::vector<ProtectedTable> protected_tables();

// Returns the oid of tenancy.audit_log.
Oid audit_log();

// Says whether relid is one of the catalog tables whose changes must reach
// every session (tenants, memberships, protected_tables, platform_grants,
// plans, setting_definitions).
bool is_context_table(Oid relid);

// Says whether relid is tenancy.tenants or tenancy.memberships, whose changes
// the audit trigger records too.
bool audits_itself(Oid relid);

// Converts a tenancy.role enum value to a Role; throws on foreign values.
Role role_from_datum(Datum value);

// Converts a Role to its tenancy.role enum value.
Datum role_to_datum(Role role);

// Returns the label of a role ("viewer" ... "owner").
const char *role_name(Role role);

// Returns the label of a status ("active" ... "terminating").
const char *status_name(Status status);

// The platform rights of a database (tenancy.platform_grants).
enum class PlatformRight { platform_admin, service };

// One row of tenancy.platform_grants: a role holding a right in this database.
struct PlatformGrant {
	Oid role;
	PlatformRight right;
};

// Returns the oid of tenancy_table_owner, the owner of tables protected in
// strict mode (InvalidOid if absent).
Oid table_owner_role();

// Reads every row of tenancy.platform_grants (latest committed state).
std::vector<PlatformGrant> platform_grants();

// Forgets every resolved oid; called when the catalog may have changed.
void forget() noexcept;

} // namespace tenancy::catalog
