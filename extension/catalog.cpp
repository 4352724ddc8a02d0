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
constexpr int status_count = 4;
constexpr int isolation_count = 3;
constexpr size_t text_buffer = 512;

// Oids and attribute numbers of the catalog, resolved once per invalidation.
struct Oids {
	bool resolved;
	bool installed;
	Oid tenants, tenants_pkey, tenants_slug_key, tenants_schema_name_key;
	Oid memberships, memberships_pkey;
	Oid protected_tables, audit_log, platform_grants;
	Oid plans, setting_definitions;
	Oid table_owner_role;
	AttrNumber tenant_id, tenant_slug, tenant_status, tenant_reason, tenant_schema_name, tenant_isolation;
	AttrNumber member_tenant, member_actor, member_role, member_active;
	Oid role_value[role_count];
	Oid status_value[status_count];
	Oid isolation_value[isolation_count];
};

Oids oids;

const char *const role_labels[role_count] = {nullptr, "viewer", "member", "admin", "owner"};
const char *const status_labels[status_count] = {"active", "suspended", "archived", "terminating"};
const char *const isolation_labels[isolation_count] = {"row", "schema", "database"};

// The fields of a tenant row copied out of the heap; plain data for pg_call.
struct TenantFields {
	bool found;
	pg_uuid_t id;
	Oid status;
	Oid isolation;
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
		found.tenants_schema_name_key = get_relname_relid("tenants_schema_name_key", schema);
		found.memberships_pkey = get_relname_relid("memberships_pkey", schema);
		found.audit_log = get_relname_relid("audit_log", schema);
		found.platform_grants = get_relname_relid("platform_grants", schema);
		found.plans = get_relname_relid("plans", schema);
		found.setting_definitions = get_relname_relid("setting_definitions", schema);
		found.tenant_id = get_attnum(found.tenants, "id");
		found.tenant_slug = get_attnum(found.tenants, "slug");
		found.tenant_status = get_attnum(found.tenants, "status");
		found.tenant_reason = get_attnum(found.tenants, "status_reason");
		found.tenant_schema_name = get_attnum(found.tenants, "schema_name");
		found.tenant_isolation = get_attnum(found.tenants, "isolation");
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
		Oid isolation_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("isolation"),
											 ObjectIdGetDatum(schema));
		for (int i = 0; i < isolation_count; i++)
			found.isolation_value[i] = enum_value(isolation_type, isolation_labels[i]);
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
		out->isolation = DatumGetObjectId(heap_getattr(tuple, oids.tenant_isolation, desc, &isnull));
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

// Counts the active memberships of a tenant in the latest committed state.
int64 scan_active_members(const pg_uuid_t *tenant)
{
	Relation rel = table_open(oids.memberships, AccessShareLock);
	ScanKeyData key;
	ScanKeyEntryInitialize(&key, 0, oids.member_tenant, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_UUID_EQ,
						   UUIDPGetDatum(tenant));
	Snapshot snapshot = latest_snapshot(oids.memberships);
	SysScanDesc scan = systable_beginscan(rel, oids.memberships_pkey, true, snapshot, 1, &key);
	TupleDesc desc = RelationGetDescr(rel);
	int64 count = 0;
	for (HeapTuple tuple; HeapTupleIsValid(tuple = systable_getnext(scan));) {
		bool isnull;
		if (DatumGetBool(heap_getattr(tuple, oids.member_active, desc, &isnull)))
			count++;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return count;
}

// Copies one row of a scanned table into the scan's own rows[index].
using CopyRow = void (*)(HeapTuple tuple, TupleDesc desc, void *scan, int index);

// Reads every row of one of our tables in its latest committed state, handing
// the first capacity of them to copy; returns how many there are (which may
// exceed capacity: then call again with more room).
int scan_table(Oid relid, CopyRow copy, void *scan, int capacity)
{
	Relation rel = table_open(relid, AccessShareLock);
	TupleDesc desc = RelationGetDescr(rel);
	Snapshot snapshot = latest_snapshot(relid);
	SysScanDesc table_scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, nullptr);
	int count = 0;
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(table_scan))) {
		if (count < capacity)
			copy(tuple, desc, scan, count);
		count++;
	}
	systable_endscan(table_scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return count;
}

// One row of tenancy.protected_tables as stored: enum oids, not Roles yet.
struct ProtectedFields {
	Oid relid;
	Oid read_role, write_role, delete_role;
};

// A scan of tenancy.protected_tables: where rows go, and the columns.
struct ProtectedScan {
	ProtectedFields *rows;
	AttrNumber relid, read_role, write_role, delete_role;
};

// Copies one row of tenancy.protected_tables.
void copy_protected(HeapTuple tuple, TupleDesc desc, void *scan_data, int index)
{
	const ProtectedScan *scan = static_cast<const ProtectedScan *>(scan_data);
	ProtectedFields &row = scan->rows[index];
	bool isnull;
	row.relid = DatumGetObjectId(heap_getattr(tuple, scan->relid, desc, &isnull));
	row.read_role = DatumGetObjectId(heap_getattr(tuple, scan->read_role, desc, &isnull));
	row.write_role = DatumGetObjectId(heap_getattr(tuple, scan->write_role, desc, &isnull));
	row.delete_role = DatumGetObjectId(heap_getattr(tuple, scan->delete_role, desc, &isnull));
}

// Reads up to capacity rows of tenancy.protected_tables; returns how many
// there are, like scan_table().
int scan_protected_tables(ProtectedFields *rows, int capacity)
{
	Oid relid = oids.protected_tables;
	ProtectedScan scan{rows, get_attnum(relid, "relid"), get_attnum(relid, "read_role"),
					   get_attnum(relid, "write_role"), get_attnum(relid, "delete_role")};
	return scan_table(relid, copy_protected, &scan, capacity);
}

// The fields of a tenancy.platform_grants row; plain data for pg_call.
struct GrantFields {
	Oid role;
	bool platform_admin;
};

// A scan of tenancy.platform_grants: where rows go, and the columns.
struct GrantScan {
	GrantFields *rows;
	AttrNumber role, kind;
};

// Copies one row of tenancy.platform_grants.
void copy_grant(HeapTuple tuple, TupleDesc desc, void *scan_data, int index)
{
	const GrantScan *scan = static_cast<const GrantScan *>(scan_data);
	bool isnull;
	char kind[text_buffer];
	scan->rows[index].role = DatumGetObjectId(heap_getattr(tuple, scan->role, desc, &isnull));
	copy_text_datum(heap_getattr(tuple, scan->kind, desc, &isnull), isnull, kind);
	scan->rows[index].platform_admin = strcmp(kind, "platform_admin") == 0;
}

// Reads up to capacity rows of tenancy.platform_grants; returns how many
// there are, like scan_table() (none while an upgrade has yet to make it).
int scan_platform_grants(GrantFields *rows, int capacity)
{
	Oid relid = oids.platform_grants;
	if (!OidIsValid(relid))
		return 0;
	GrantScan scan{rows, get_attnum(relid, "role"), get_attnum(relid, "kind")};
	return scan_table(relid, copy_grant, &scan, capacity);
}

// Reads every row with one of the scan functions above (through pg_call),
// growing the buffer until they all fit.
template <typename Fields>
std::vector<Fields> read_rows(int (&scan)(Fields *, int))
{
	std::vector<Fields> rows(16);
	int count;
	while ((count = pg_call(scan, rows.data(), static_cast<int>(rows.size()))) > static_cast<int>(rows.size()))
		rows.resize(count * 2);
	rows.resize(count);
	return rows;
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

// Converts the isolation enum oid of a row into an Isolation.
Isolation isolation_from_oid(Oid value)
{
	for (int i = 0; i < isolation_count; i++)
		if (oids.isolation_value[i] == value)
			return static_cast<Isolation>(i);
	throw Error(ERRCODE_DATA_CORRUPTED, "unknown isolation mode in tenancy.tenants");
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
		tenant.isolation = isolation_from_oid(fields.isolation);
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

// Finds the schema-mode tenant whose schema has this name.
Tenant find_schema_tenant(const char *schema_name)
{
	const Oids &o = resolved();
	TenantFields fields{};
	if (OidIsValid(o.tenants_schema_name_key))
		pg_call([&] {
			scan_tenants(o.tenants_schema_name_key, o.tenant_schema_name, F_TEXTEQ,
						 CStringGetTextDatum(schema_name), &fields);
		});
	return to_tenant(fields);
}

// Finds a tenant by id.
Tenant find_tenant_by_id(const pg_uuid_t &id)
{
	const Oids &o = resolved();
	TenantFields fields{};
	pg_call(scan_tenants, o.tenants_pkey, o.tenant_id, F_UUID_EQ, UUIDPGetDatum(&id), &fields);
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

// Counts the active members of a tenant (latest committed state).
int64 active_members(const pg_uuid_t &tenant)
{
	resolved();
	return pg_call(scan_active_members, &tenant);
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
	std::vector<ProtectedTable> tables;
	for (const ProtectedFields &row : read_rows(scan_protected_tables)) {
		ProtectedTable table;
		table.relid = row.relid;
		table.read_role = role_from_datum(ObjectIdGetDatum(row.read_role));
		table.write_role = role_from_datum(ObjectIdGetDatum(row.write_role));
		table.delete_role = role_from_datum(ObjectIdGetDatum(row.delete_role));
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
							 relid == oids.protected_tables || relid == oids.platform_grants ||
							 relid == oids.plans || relid == oids.setting_definitions);
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

// Returns the label of a status ("active" ... "terminating").
const char *status_name(Status status)
{
	return status_labels[static_cast<int>(status)];
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
	std::vector<PlatformGrant> grants;
	for (const GrantFields &row : read_rows(scan_platform_grants))
		grants.push_back({row.role, row.platform_admin ? PlatformRight::platform_admin : PlatformRight::service});
	return grants;
}

// Forgets every resolved oid.
void forget() noexcept
{
	oids.resolved = false;
}

} // namespace tenancy::catalog
