// The schemas of schema-mode tenants (tenancy.tenants.schema_name), open only
// to statements whose validated tenant they belong to, whatever the role's
// grants. pg_tenancy refuses (42501), at the points where PostgreSQL itself
// checks privileges:
//
//  * every relation of a query's range table (ExecutorCheckPerms, through
//    statement_check): SELECT, INSERT, UPDATE, DELETE, MERGE, COPY, the
//    tables behind views, prepared and cached plans, at every execution;
//  * a schema named explicitly (OAT_NAMESPACE_SEARCH with a report): any
//    statement, DDL included, that writes tenant_x.something;
//  * a function of a tenant schema, at every call (the function manager
//    hook, which also keeps SQL functions from being inlined); a TRUNCATE
//    (OAT_TRUNCATE);
//  * an object created, altered or dropped in a tenant schema (OAT_POST_CREATE,
//    OAT_POST_ALTER, OAT_DROP: CREATE TABLE, ALTER ... SET SCHEMA, DROP);
//  * LOCK TABLE, and DROP or RENAME of a tenant schema (check_utility()).
//
// The search path leaves closed tenant schemas out (as PostgreSQL leaves out
// a schema without USAGE), so no name it finds leads into another tenant's
// schema: not a sequence (nextval('seq')), not the table of a CREATE TRIGGER,
// GRANT or ALTER; the search path is computed again whenever the tenant, the
// actor, the role or pg_tenancy's catalog changes (guc.cpp, invalidation.cpp,
// owner_scope.cpp call assign_search_path()). The role a tenant
// member needs is the row mode's default (viewer reads, member writes, admin
// deletes and truncates). With no tenant selected, roles that bypass row
// level security (superusers, BYPASSRLS) see every tenant schema, as they see
// every row of protected tables: that is how pg_dump reads them; it takes the
// role SQL runs as and the session's outer role both, so a SECURITY DEFINER
// function never lends it. Code pg_tenancy runs as another role
// (owner_scope.hpp) sees the schema of the one tenant the scope opens.
#include "tenant_schemas.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "context.hpp"
#include "invalidation.hpp"
#include "owner_scope.hpp"
#include "rights.hpp"
#include "sql_function.hpp"
#include "statement.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_conversion.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_ts_config.h"
#include "catalog/pg_ts_dict.h"
#include "catalog/pg_ts_parser.h"
#include "catalog/pg_ts_template.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

#include <cstring>
#include <string>
#include <unordered_map>

namespace tenancy::tenant_schemas {

namespace {

object_access_hook_type previous_hook = nullptr;
needs_fmgr_hook_type previous_needs = nullptr;
fmgr_hook_type previous_fmgr_hook = nullptr;

// What pg_tenancy knows of one schema.
struct SchemaTenant {
	bool tenant_schema = false;
	pg_uuid_t tenant{};
	std::string schema;
};

// Schemas looked up since the catalog or pg_namespace last changed.
std::unordered_map<Oid, SchemaTenant> known;
uint64 known_generation = 0;
bool namespaces_changed = true;

constexpr char schema_prefix[] = "tenant_";

// How many EverySchemaReadable scopes are alive.
int every_schema_readable = 0;

// Notes that a schema was created, renamed or dropped.
void on_namespace_change(Datum, int, uint32) noexcept
{
	namespaces_changed = true;
}

// Copies the name of a schema that could be a tenant's (it starts with
// "tenant_") into a NAMEDATALEN buffer; false for any other (plain C).
bool candidate_name(Oid nsp, char *into)
{
	HeapTuple tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tuple))
		return false;
	const char *name = NameStr(((Form_pg_namespace) GETSTRUCT(tuple))->nspname);
	bool candidate = strncmp(name, schema_prefix, sizeof(schema_prefix) - 1) == 0;
	if (candidate)
		strlcpy(into, name, NAMEDATALEN);
	ReleaseSysCache(tuple);
	return candidate;
}

// Looks a schema up in pg_tenancy's catalog.
SchemaTenant look_up(Oid nsp)
{
	SchemaTenant entry;
	char name[NAMEDATALEN];
	if (!pg_call(candidate_name, nsp, name))
		return entry;
	catalog::Tenant tenant = catalog::find_schema_tenant(name);
	if (tenant.found) {
		entry.tenant_schema = true;
		entry.tenant = tenant.id;
		entry.schema = name;
	}
	return entry;
}

// Returns what pg_tenancy knows of a schema: whose tenant's it is, if any.
SchemaTenant schema_tenant(Oid nsp)
{
	if (nsp < FirstNormalObjectId || !OidIsValid(nsp) || !catalog::installed())
		return {};
	if (namespaces_changed || known_generation != invalidation::generation()) {
		known.clear();
		namespaces_changed = false;
		known_generation = invalidation::generation();
	}
	auto found = known.find(nsp);
	if (found != known.end())
		return found->second;
	uint64 stamp = invalidation::generation();
	SchemaTenant entry = look_up(nsp);
	if (stamp == invalidation::generation() && !namespaces_changed)
		known.emplace(nsp, entry);
	return entry;
}

// Says whether the statement runs with no tenant selected (and not as code
// pg_tenancy runs in a scope of its own).
bool no_tenant_selected()
{
	return !owner_scope::active() && statement::current().tenant[0] == '\0';
}

// Says whether both the role SQL runs as and the session's role bypass row
// level security.
bool roles_bypass()
{
	return pg_call(has_bypassrls_privilege, GetUserId()) && pg_call(has_bypassrls_privilege, GetOuterUserId());
}

// Says whether the roles the statement runs as see every tenant schema.
bool bypasses()
{
	return no_tenant_selected() && roles_bypass();
}

// The refusal of a closed tenant schema.
Error closed(const SchemaTenant &schema, const std::string &why)
{
	return Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for schema \"" + schema.schema + "\"")
		.detail("Schema \"" + schema.schema + "\" belongs to a tenant and is open only to statements of that "
				"tenant; " + why)
		.hint("Select the schema's tenant first: SELECT tenancy.enter('<slug>').");
}

// Throws unless the context's role allows the access to a relation.
void require_role(const context::Context &context, AclMode perms, Oid relid)
{
	using catalog::Role;
	using rights::Action;
	if (perms & ACL_SELECT)
		rights::require(context, Role::viewer, Action::select, relid);
	if (perms & ACL_INSERT)
		rights::require(context, Role::member, Action::insert, relid);
	if (perms & ACL_UPDATE)
		rights::require(context, Role::member, Action::update, relid);
	if (perms & (ACL_DELETE | ACL_TRUNCATE))
		rights::require(context, Role::admin, Action::remove, relid);
}

// How an object of a schema is used: a relation of a range table or a
// schema named explicitly (what a union view's read needs), or anything else
// (creating, changing, dropping objects, calling functions).
enum class Use { read, other };

// Throws unless the statement may use an object of schema nsp: it is no
// tenant's schema, or the schema of the statement's validated tenant (and,
// for a relation, the role allows perms). Inside an EverySchemaReadable
// scope, every tenant schema is open to reading relations, and to nothing
// else.
void require_open(Oid nsp, AclMode perms, Oid relid, Use use = Use::other)
{
	SchemaTenant schema = schema_tenant(nsp);
	if (!schema.tenant_schema || bypasses())
		return;
	if (every_schema_readable > 0 && use == Use::read && (perms & ~ACL_SELECT) == 0)
		return;
	if (no_tenant_selected())
		throw closed(schema, "no tenant is selected.");
	const context::Context &context = context::current();
	if (memcmp(context.tenant_id.data, schema.tenant.data, UUID_LEN) != 0)
		throw closed(schema, "the statement works in another tenant.");
	if (OidIsValid(relid) && perms != 0)
		require_role(context, perms, relid);
}

// Says whether a schema may stay in the search path being computed: a tenant
// schema closed to the session is left out, as PostgreSQL leaves out a schema
// without USAGE, so that no name the search path finds ever leads into
// another tenant's schema. It is judged by the settings as they are now (the
// search path is computed again whenever they change), not by the running
// statement's: a search path made in the statement that selects a tenant
// serves the statements that follow, whose tenant that is; the statement
// itself is still checked against its own tenant wherever it uses an object.
// Records nothing; closed on any doubt.
bool stays_in_search_path(Oid nsp)
{
	static bool deciding = false;
	SchemaTenant schema = schema_tenant(nsp);
	if (!schema.tenant_schema)
		return true;
	if (deciding)
		return false;
	struct Deciding {
		Deciding() { deciding = true; }
		~Deciding() { deciding = false; }
	} during;
	try {
		const context::Context *context;
		if (owner_scope::active())
			context = &owner_scope::context();
		else {
			statement::Inputs now = statement::peek();
			if (now.tenant[0] == '\0')
				return roles_bypass();
			context = context::quietly_for(now);
		}
		return context != nullptr && memcmp(context->tenant_id.data, schema.tenant.data, UUID_LEN) == 0;
	} catch (const Error &) {
		return false;
	}
}

// Says whether objects of a catalog live in a schema that this check covers.
bool in_schema_catalog(Oid class_id)
{
	switch (class_id) {
	case RelationRelationId:
	case ProcedureRelationId:
	case TypeRelationId:
	case OperatorRelationId:
	case CollationRelationId:
	case ConversionRelationId:
	case StatisticExtRelationId:
	case OperatorClassRelationId:
	case OperatorFamilyRelationId:
	case TSConfigRelationId:
	case TSDictionaryRelationId:
	case TSParserRelationId:
	case TSTemplateRelationId:
		return true;
	default:
		return false;
	}
}

// Returns the schema of an object just created or changed in this command,
// which the syscache may not show yet (SnapshotSelf), or InvalidOid (plain C).
Oid schema_of_object(Oid class_id, Oid object_id)
{
	Relation catalog = table_open(class_id, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, get_object_attnum_oid(class_id), BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(object_id));
	SysScanDesc scan = systable_beginscan(catalog, get_object_oid_index(class_id), true, SnapshotSelf, 1, &key);
	HeapTuple tuple = systable_getnext(scan);
	Oid nsp = InvalidOid;
	if (HeapTupleIsValid(tuple)) {
		bool isnull;
		Datum value = heap_getattr(tuple, get_object_attnum_namespace(class_id), RelationGetDescr(catalog), &isnull);
		if (!isnull)
			nsp = DatumGetObjectId(value);
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return nsp;
}

// Checks one event of the object access hook.
void check_access(ObjectAccessType access, Oid class_id, Oid object_id, void *arg)
{
	switch (access) {
	case OAT_NAMESPACE_SEARCH: {
		// A schema named explicitly is refused; the search path leaves it out.
		auto *search = static_cast<ObjectAccessNamespaceSearch *>(arg);
		if (search->ereport_on_violation)
			require_open(object_id, 0, InvalidOid, Use::read);
		else if (search->result && !stays_in_search_path(object_id))
			search->result = false;
		break;
	}
	case OAT_TRUNCATE:
		require_open(pg_call(get_rel_namespace, object_id), ACL_TRUNCATE, object_id);
		break;
	case OAT_POST_CREATE:
	case OAT_POST_ALTER:
	case OAT_DROP:
		if (in_schema_catalog(class_id))
			require_open(pg_call(schema_of_object, class_id, object_id), 0, InvalidOid);
		break;
	default:
		break;
	}
}

// The object access hook: the previous hook first, then ours, in client
// backends only (parallel workers run what their leader checked).
void on_object_access(ObjectAccessType access, Oid class_id, Oid object_id, int sub_id, void *arg) noexcept
{
	if (previous_hook != nullptr)
		previous_hook(access, class_id, object_id, sub_id, arg);
	if (MyBackendType != B_BACKEND || IsParallelWorker() || !IsTransactionState())
		return;
	guarded([&] { check_access(access, class_id, object_id, arg); });
}

// Says whether a function needs the function manager hook: one that lives in
// a tenant schema (it is then never inlined, and checked at every call).
bool needs_hook(Oid function) noexcept
{
	if (previous_needs != nullptr && previous_needs(function))
		return true;
	if (MyBackendType != B_BACKEND || IsParallelWorker())
		return false;
	Oid nsp = get_func_namespace(function);
	return nsp >= FirstNormalObjectId && guarded([&] { return schema_tenant(nsp).tenant_schema; });
}

// The function manager hook: a call of a function of a tenant schema is
// refused unless the schema is open to the statement.
void fmgr_check(FmgrHookEventType event, FmgrInfo *flinfo, Datum *arg) noexcept
{
	if (previous_fmgr_hook != nullptr)
		previous_fmgr_hook(event, flinfo, arg);
	if (event != FHET_START || MyBackendType != B_BACKEND || IsParallelWorker())
		return;
	guarded([&] { require_open(pg_call(get_func_namespace, flinfo->fn_oid), 0, InvalidOid); });
}

// Returns the schema named, or InvalidOid.
Oid schema_named(const char *name)
{
	return pg_call(get_namespace_oid, name, true);
}

// Says whether pg_tenancy itself runs this statement with schema's tenant
// open (tenancy._run_in_tenant(), which drops the schema with its tenant).
bool opened_by_tenancy(const SchemaTenant &schema)
{
	if (!owner_scope::active())
		return false;
	try {
		const context::Context &context = owner_scope::context();
		return memcmp(context.tenant_id.data, schema.tenant.data, UUID_LEN) == 0;
	} catch (const Error &) {
		return false;
	}
}

// Refuses a DROP SCHEMA of tenant schemas (they go with their tenant).
void check_schema_drop(const DropStmt *drop)
{
	ListCell *cell;
	foreach (cell, drop->objects) {
		SchemaTenant schema = schema_tenant(schema_named(strVal(lfirst(cell))));
		if (schema.tenant_schema && !opened_by_tenancy(schema))
			throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "cannot drop schema \"" + schema.schema + "\"")
				.detail("It is the schema of a schema-mode tenant, and goes only with its tenant.")
				.hint("Drop the tenant with tenancy.drop_tenant() (platform admins).");
	}
}

// Refuses the renaming of a tenant schema (pg_tenancy knows it by name).
void check_schema_rename(const RenameStmt *rename)
{
	SchemaTenant schema = schema_tenant(schema_named(rename->subname));
	if (schema.tenant_schema)
		throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "cannot rename schema \"" + schema.schema + "\"")
			.detail("It is the schema of a schema-mode tenant, which pg_tenancy finds by its name.");
}

// Checks the tables a LOCK names (a search path may lead into a closed schema).
void check_lock(const LockStmt *lock)
{
	ListCell *cell;
	foreach (cell, lock->relations) {
		auto *relation = static_cast<RangeVar *>(lfirst(cell));
		Oid relid = pg_call([&] { return RangeVarGetRelid(relation, NoLock, true); });
		if (OidIsValid(relid))
			require_open(pg_call(get_rel_namespace, relid), 0, relid);
	}
}

// Runs a statement as a role, with search_path and one tenant open (plain C).
void run_in_tenant(Oid role, const pg_uuid_t *tenant, const char *search_path, const char *body)
{
	owner_scope::OwnerSession session = owner_scope::enter_as_role(role, InvalidOid, search_path, tenant);
	int result = SPI_execute(body, false, 0);
	if (result < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_TRANSACTION_STATE),
						errmsg("migration statement failed: %s", SPI_result_code_string(result)),
						errhint("A migration cannot begin, commit or roll back transactions.")));
	owner_scope::leave_as_owner(session);
}

} // namespace

// Opens every tenant schema to reading.
EverySchemaReadable::EverySchemaReadable()
{
	++every_schema_readable;
}

// Closes them again.
EverySchemaReadable::~EverySchemaReadable()
{
	--every_schema_readable;
}

// Checks the relations of a range table.
void check_range_table(List *range_table)
{
	ListCell *cell;
	foreach (cell, range_table) {
		auto *rte = static_cast<RangeTblEntry *>(lfirst(cell));
		if (rte->rtekind == RTE_RELATION)
			require_open(pg_call(get_rel_namespace, rte->relid), rte->requiredPerms, rte->relid, Use::read);
	}
}

// Checks a utility statement before it runs.
void check_utility(const Node *statement)
{
	if (IsA(statement, LockStmt))
		check_lock(reinterpret_cast<const LockStmt *>(statement));
	else if (IsA(statement, DropStmt) && reinterpret_cast<const DropStmt *>(statement)->removeType == OBJECT_SCHEMA)
		check_schema_drop(reinterpret_cast<const DropStmt *>(statement));
	else if (IsA(statement, RenameStmt) &&
			 reinterpret_cast<const RenameStmt *>(statement)->renameType == OBJECT_SCHEMA)
		check_schema_rename(reinterpret_cast<const RenameStmt *>(statement));
}

// Installs the hook and the callback that forgets schemas.
void install()
{
	previous_hook = object_access_hook;
	object_access_hook = on_object_access;
	previous_needs = needs_fmgr_hook;
	previous_fmgr_hook = fmgr_hook;
	needs_fmgr_hook = needs_hook;
	fmgr_hook = fmgr_check;
	CacheRegisterSyscacheCallback(NAMESPACEOID, on_namespace_change, (Datum) 0);
}

} // namespace tenancy::tenant_schemas

using namespace tenancy;

// tenancy._in_transaction_block() → boolean
TENANCY_SQL_FUNCTION(tenancy_in_transaction_block)
{
	PG_RETURN_BOOL(IsTransactionBlock());
}

// tenancy._run_in_tenant(run_as regrole, tenant uuid, path text, body text):
// runs SQL as run_as under SECURITY_RESTRICTED_OPERATION, with the search
// path given and the tenant's schema (and protected rows) open, whatever the
// caller selected. Not executable by PUBLIC.
TENANCY_SQL_FUNCTION(tenancy_run_in_tenant)
{
	Oid role = PG_GETARG_OID(0);
	pg_uuid_t *tenant = PG_GETARG_UUID_P(1);
	char *path = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char *body = text_to_cstring(PG_GETARG_TEXT_PP(3));
	guarded([&] { pg_call(tenant_schemas::run_in_tenant, role, tenant, path, body); });
	PG_RETURN_VOID();
}
