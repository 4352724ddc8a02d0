// Reading tenancy.tenants and tenancy.memberships with direct index scans.
//
// The scans use a fresh snapshot of the latest committed state, not the
// statement's, so that a membership revoked by another session is seen at
// once, even inside an older REPEATABLE READ transaction. They take it as a
// catalog snapshot, which PostgreSQL also allows in parallel mode (a plain
// GetLatestSnapshot() is refused there). Text keys are compared in the "C" collation,
// which is how the install script declares slug and actor.
#include "catalog.hpp"
#include "boundary.hpp"
#include "names.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace tenancy::catalog {

namespace {

constexpr int role_count = 5;
constexpr int status_count = 3;
constexpr size_t text_buffer = 512;

// Oids and attribute numbers of the catalog, resolved once per invalidation.
struct Oids {
	bool resolved;
	bool installed;
	Oid tenants, tenants_pkey, tenants_slug_key;
	Oid memberships, memberships_pkey;
	Oid protected_tables, audit_log, platform_grants;
	Oid table_owner_role;
	AttrNumber tenant_id, tenant_slug, tenant_status, tenant_reason;
	AttrNumber member_tenant, member_actor, member_role, member_active;
	Oid role_value[role_count];
	Oid status_value[status_count];
};

Oids oids;

const char *const role_labels[role_count] = {nullptr, "viewer", "member", "admin", "owner"};
const char *const status_labels[status_count] = {"active", "suspended", "archived"};

// The fields of a tenant row copied out of the heap; plain data for pg_call.
struct TenantFields {
	bool found;
	pg_uuid_t id;
	Oid status;
	char slug[text_buffer];
	char reason[text_buffer];
};

// The fields of a membership row copied out of the heap.
struct MembershipFields {
	bool found;
	Oid role;
	bool active;
};

// Returns the oid of a label of an enum type, or InvalidOid.
Oid enum_value(Oid type, const char *label)
{
	return GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid, ObjectIdGetDatum(type),
						   CStringGetDatum(label));
}

// Looks up every oid the lookups need; leaves installed false when the
// extension is not installed in this database.
void resolve_oids()
{
	Oids found{};
	Oid schema = get_namespace_oid("tenancy", true);
	found.tenants = OidIsValid(schema) ? get_relname_relid("tenants", schema) : InvalidOid;
	found.memberships = OidIsValid(schema) ? get_relname_relid("memberships", schema) : InvalidOid;
	found.protected_tables = OidIsValid(schema) ? get_relname_relid("protected_tables", schema) : InvalidOid;
	if (OidIsValid(found.tenants) && OidIsValid(found.memberships) && OidIsValid(found.protected_tables)) {
		found.installed = true;
		found.tenants_pkey = get_relname_relid("tenants_pkey", schema);
		found.tenants_slug_key = get_relname_relid("tenants_slug_key", schema);
		found.memberships_pkey = get_relname_relid("memberships_pkey", schema);
		found.audit_log = get_relname_relid("audit_log", schema);
		found.platform_grants = get_relname_relid("platform_grants", schema);
		found.tenant_id = get_attnum(found.tenants, "id");
		found.tenant_slug = get_attnum(found.tenants, "slug");
		found.tenant_status = get_attnum(found.tenants, "status");
		found.tenant_reason = get_attnum(found.tenants, "status_reason");
		found.member_tenant = get_attnum(found.memberships, "tenant_id");
		found.member_actor = get_attnum(found.memberships, "actor");
		found.member_role = get_attnum(found.memberships, "role");
		found.member_active = get_attnum(found.memberships, "is_active");
		Oid role_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("role"),
										ObjectIdGetDatum(schema));
		Oid status_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										  CStringGetDatum("tenant_status"), ObjectIdGetDatum(schema));
		for (int i = 1; i < role_count; i++)
			found.role_value[i] = enum_value(role_type, role_labels[i]);
		for (int i = 0; i < status_count; i++)
			found.status_value[i] = enum_value(status_type, status_labels[i]);
	}
	found.table_owner_role = get_role_oid("tenancy_table_owner", true);
	// Not installed (or being installed): look again next time.
	found.resolved = found.installed;
	oids = found;
}

// Says whether the extension is installed in this database.
bool is_installed()
{
	if (!oids.resolved)
		pg_call(resolve_oids);
	return oids.installed;
}

// Makes sure the oids are resolved and the extension is installed.
const Oids &resolved()
{
	if (!is_installed())
		throw Error(ERRCODE_UNDEFINED_OBJECT, "extension \"pg_tenancy\" is not installed in this database")
			.hint("Run CREATE EXTENSION pg_tenancy.");
	return oids;
}

// Returns a registered snapshot of the latest committed state, usable in
// parallel mode too: the catalog snapshot, taken anew.
Snapshot latest_snapshot(Oid relid)
{
	InvalidateCatalogSnapshot();
	return RegisterSnapshot(GetNonHistoricCatalogSnapshot(relid));
}

// Copies a text datum into a fixed buffer.
void copy_text_datum(Datum value, bool isnull, char *into)
{
	into[0] = '\0';
	if (!isnull)
		text_to_cstring_buffer(DatumGetTextPP(value), into, text_buffer);
}

// Scans tenancy.tenants through one index for one key.
void scan_tenants(Oid index, AttrNumber key_column, RegProcedure equality, Datum key,
				  TenantFields *out)
{
	Relation rel = table_open(oids.tenants, AccessShareLock);
	ScanKeyData scan_key;
	ScanKeyEntryInitialize(&scan_key, 0, key_column, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, equality, key);
	Snapshot snapshot = latest_snapshot(oids.tenants);
	SysScanDesc scan = systable_beginscan(rel, index, true, snapshot, 1, &scan_key);
	HeapTuple tuple = systable_getnext(scan);
	out->found = HeapTupleIsValid(tuple);
	if (out->found) {
		TupleDesc desc = RelationGetDescr(rel);
		bool isnull;
		Datum id = heap_getattr(tuple, oids.tenant_id, desc, &isnull);
		memcpy(&out->id, DatumGetUUIDP(id), sizeof(pg_uuid_t));
		out->status = DatumGetObjectId(heap_getattr(tuple, oids.tenant_status, desc, &isnull));
		Datum slug = heap_getattr(tuple, oids.tenant_slug, desc, &isnull);
		copy_text_datum(slug, isnull, out->slug);
		Datum reason = heap_getattr(tuple, oids.tenant_reason, desc, &isnull);
		copy_text_datum(reason, isnull, out->reason);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

// Scans tenancy.memberships for one (tenant, actor) pair.
void scan_membership(const pg_uuid_t *tenant, const char *actor, MembershipFields *out)
{
	Relation rel = table_open(oids.memberships, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyEntryInitialize(&keys[0], 0, oids.member_tenant, BTEqualStrategyNumber, InvalidOid,
						   InvalidOid, F_UUID_EQ, UUIDPGetDatum(tenant));
	ScanKeyEntryInitialize(&keys[1], 0, oids.member_actor, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, F_TEXTEQ, CStringGetTextDatum(actor));
	Snapshot snapshot = latest_snapshot(oids.memberships);
	SysScanDesc scan = systable_beginscan(rel, oids.memberships_pkey, true, snapshot, 2, keys);
	HeapTuple tuple = systable_getnext(scan);
	out->found = HeapTupleIsValid(tuple);
	if (out->found) {
		TupleDesc desc = RelationGetDescr(rel);
		bool isnull;
		out->role = DatumGetObjectId(heap_getattr(tuple, oids.member_role, desc, &isnull));
		out->active = DatumGetBool(heap_getattr(tuple, oids.member_active, desc, &isnull));
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

// One row of tenancy.protected_tables as stored: enum oids, not Roles yet.
struct ProtectedFields {
	Oid relid;
	Oid read_role, write_role, delete_role;
};

// Reads up to capacity rows of tenancy.protected_tables; returns how many
// there are (which may exceed capacity: then call again with more room).
int scan_protected_tables(ProtectedFields *rows, int capacity)
{
	Relation rel = table_open(oids.protected_tables, AccessShareLock);
	TupleDesc desc = RelationGetDescr(rel);
	AttrNumber relid_column = get_attnum(oids.protected_tables, "relid");
	AttrNumber read_column = get_attnum(oids.protected_tables, "read_role");
	AttrNumber write_column = get_attnum(oids.protected_tables, "write_role");
	AttrNumber delete_column = get_attnum(oids.protected_tables, "delete_role");
	Snapshot snapshot = latest_snapshot(oids.protected_tables);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, nullptr);
	int count = 0;
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		if (count < capacity) {
			bool isnull;
			rows[count].relid = DatumGetObjectId(heap_getattr(tuple, relid_column, desc, &isnull));
			rows[count].read_role = DatumGetObjectId(heap_getattr(tuple, read_column, desc, &isnull));
			rows[count].write_role = DatumGetObjectId(heap_getattr(tuple, write_column, desc, &isnull));
			rows[count].delete_role = DatumGetObjectId(heap_getattr(tuple, delete_column, desc, &isnull));
		}
		count++;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return count;
}

// The fields of a tenancy.platform_grants row; plain data for pg_call.
struct GrantFields {
	Oid role;
	bool platform_admin;
};

// Reads up to capacity rows of tenancy.platform_grants (latest committed
// state); returns how many there are, like scan_protected_tables().
int scan_platform_grants(GrantFields *rows, int capacity)
{
	if (!OidIsValid(oids.platform_grants))
		return 0;
	Relation rel = table_open(oids.platform_grants, AccessShareLock);
	TupleDesc desc = RelationGetDescr(rel);
	AttrNumber role_column = get_attnum(oids.platform_grants, "role");
	AttrNumber kind_column = get_attnum(oids.platform_grants, "kind");
	Snapshot snapshot = latest_snapshot(oids.platform_grants);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, nullptr);
	int count = 0;
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		if (count < capacity) {
			bool isnull;
			char kind[text_buffer];
			rows[count].role = DatumGetObjectId(heap_getattr(tuple, role_column, desc, &isnull));
			copy_text_datum(heap_getattr(tuple, kind_column, desc, &isnull), isnull, kind);
			rows[count].platform_admin = strcmp(kind, "platform_admin") == 0;
		}
		count++;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return count;
}

// Parses canonical uuid text into a pg_uuid_t.
void parse_uuid(const char *text, pg_uuid_t *out)
{
	Datum value = DirectFunctionCall1(uuid_in, CStringGetDatum(text));
	memcpy(out, DatumGetUUIDP(value), sizeof(pg_uuid_t));
}

// Converts the status enum oid of a row into a Status.
Status status_from_oid(Oid value)
{
	for (int i = 0; i < status_count; i++)
		if (oids.status_value[i] == value)
			return static_cast<Status>(i);
	throw Error(ERRCODE_DATA_CORRUPTED, "unknown tenant status in tenancy.tenants");
}

// Turns the fields of a tenant row into a Tenant.
Tenant to_tenant(const TenantFields &fields)
{
	Tenant tenant;
	tenant.found = fields.found;
	if (fields.found) {
		tenant.id = fields.id;
		tenant.slug = fields.slug;
		tenant.status = status_from_oid(fields.status);
		tenant.status_reason = fields.reason;
	}
	return tenant;
}

} // namespace

// Finds a tenant by slug or by uuid text.
Tenant find_tenant(const char *slug_or_uuid)
{
	const Oids &o = resolved();
	TenantFields fields{};
	if (is_uuid_text(slug_or_uuid)) {
		pg_uuid_t id;
		pg_call(parse_uuid, slug_or_uuid, &id);
		pg_call(scan_tenants, o.tenants_pkey, o.tenant_id, F_UUID_EQ, UUIDPGetDatum(&id), &fields);
	} else {
		pg_call([&] {
			scan_tenants(o.tenants_slug_key, o.tenant_slug, F_TEXTEQ,
						 CStringGetTextDatum(slug_or_uuid), &fields);
		});
	}
	return to_tenant(fields);
}

// Finds the membership of an actor in a tenant.
Membership find_membership(const pg_uuid_t &tenant, const std::string &actor)
{
	resolved();
	MembershipFields fields{};
	pg_call(scan_membership, &tenant, actor.c_str(), &fields);
	Membership membership;
	membership.found = fields.found;
	if (fields.found) {
		membership.role = role_from_datum(ObjectIdGetDatum(fields.role));
		membership.active = fields.active;
	}
	return membership;
}

// Says whether the extension is installed in this database.
bool installed()
{
	return is_installed();
}

// Reads every row of tenancy.protected_tables.
std::vector<ProtectedTable> protected_tables()
{
	resolved();
	std::vector<ProtectedFields> rows(16);
	int count;
	while ((count = pg_call(scan_protected_tables, rows.data(), static_cast<int>(rows.size()))) >
		   static_cast<int>(rows.size()))
		rows.resize(count * 2);
	std::vector<ProtectedTable> tables;
	for (int i = 0; i < count; i++) {
		ProtectedTable table;
		table.relid = rows[i].relid;
		table.read_role = role_from_datum(ObjectIdGetDatum(rows[i].read_role));
		table.write_role = role_from_datum(ObjectIdGetDatum(rows[i].write_role));
		table.delete_role = role_from_datum(ObjectIdGetDatum(rows[i].delete_role));
		tables.push_back(table);
	}
	return tables;
}

// Returns the oid of tenancy.audit_log.
Oid audit_log()
{
	const Oids &o = resolved();
	if (!OidIsValid(o.audit_log))
		throw Error(ERRCODE_UNDEFINED_TABLE, "relation \"tenancy.audit_log\" does not exist")
			.hint("Reinstall the extension with DROP EXTENSION pg_tenancy; CREATE EXTENSION pg_tenancy.");
	return o.audit_log;
}

// Says whether relid is tenants, memberships, protected_tables or platform_grants.
bool is_context_table(Oid relid)
{
	return oids.resolved && (relid == oids.tenants || relid == oids.memberships ||
							 relid == oids.protected_tables || relid == oids.platform_grants);
}

// Says whether relid is tenants or memberships.
bool audits_itself(Oid relid)
{
	const Oids &o = resolved();
	return relid == o.tenants || relid == o.memberships;
}

// Converts a tenancy.role enum value to a Role.
Role role_from_datum(Datum value)
{
	const Oids &o = resolved();
	Oid oid = DatumGetObjectId(value);
	for (int i = 1; i < role_count; i++)
		if (o.role_value[i] == oid)
			return static_cast<Role>(i);
	throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "value is not a tenancy.role");
}

// Converts a Role to its tenancy.role enum value.
Datum role_to_datum(Role role)
{
	const Oids &o = resolved();
	return ObjectIdGetDatum(o.role_value[static_cast<int>(role)]);
}

// Returns the label of a role.
const char *role_name(Role role)
{
	return role == Role::none ? "none" : role_labels[static_cast<int>(role)];
}

// Returns the oid of tenancy_table_owner (InvalidOid if absent).
Oid table_owner_role()
{
	return resolved().table_owner_role;
}

// Reads every row of tenancy.platform_grants.
std::vector<PlatformGrant> platform_grants()
{
	resolved();
	std::vector<GrantFields> rows(16);
	int count;
	while ((count = pg_call(scan_platform_grants, rows.data(), static_cast<int>(rows.size()))) >
		   static_cast<int>(rows.size()))
		rows.resize(count * 2);
	std::vector<PlatformGrant> grants;
	for (int i = 0; i < count; i++)
		grants.push_back({rows[i].role, rows[i].platform_admin ? PlatformRight::platform_admin
															   : PlatformRight::service});
	return grants;
}

// Forgets every resolved oid.
void forget() noexcept
{
	oids.resolved = false;
}

} // namespace tenancy::catalog
