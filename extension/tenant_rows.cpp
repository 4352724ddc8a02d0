// The rows of a tenant live and die with it, in place of a foreign key from
// every protected table to tenancy.tenants:
//
//  * tenancy.tenant_check(), the row trigger tenancy_tenant_check that
//    protect() adds after INSERT and UPDATE OF tenant_id: a row written by a
//    role that bypasses row level security (a superuser, BYPASSRLS, a
//    referential action) must name an existing tenant, which stays held until
//    the transaction ends (tenant_lock.hpp). Rows written under the policies
//    need nothing more: the policies pin them to the validated tenant, which
//    tenancy.tenant_for() holds the same way; for them the trigger returns at
//    once. (A CHECK constraint would be simpler, but PostgreSQL parses its
//    expression again for every statement, which costs more than the trigger.
//    Like the foreign key, the trigger comes after the data in a dump.)
//  * tenancy.remove_tenant_rows(), the row trigger after DELETE on
//    tenancy.tenants: it waits for the transactions writing into the tenant,
//    then deletes the tenant's rows from every protected table, as the
//    table's owner and with the latest snapshot, as PostgreSQL's own ON
//    DELETE CASCADE does (under REPEATABLE READ, a row committed after the
//    transaction's snapshot is a serialization failure, never left behind).
#include "boundary.hpp"
#include "catalog.hpp"
#include "owner_scope.hpp"
#include "protected_tables.hpp"
#include "sql_function.hpp"
#include "tenant_lock.hpp"
#include "tenant_row_count.hpp"
#include "trigger_call.hpp"

#include <algorithm>
#include <utility>
#include <vector>

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
}


using namespace tenancy;

namespace {

// What the trigger decided for one table and role, kept for the rest of the
// statement (in the trigger's own memory).
struct CheckState {
	Oid user;
	int security_context;
	Oid relid;
	bool needs_check;
};

// Says whether rows the current role writes into the table skip its policies:
// only then must the trigger check their tenant.
bool bypasses_policies(Oid relid)
{
	return protected_tables::find(relid) != nullptr &&
		   pg_call(check_enable_rls, relid, InvalidOid, true) != RLS_ENABLED;
}

// Returns whether this call site must check the tenant, deciding once per
// statement and role.
bool needs_check(FunctionCallInfo fcinfo, Oid relid)
{
	auto *state = static_cast<CheckState *>(fcinfo->flinfo->fn_extra);
	Oid user;
	int security_context;
	GetUserIdAndSecContext(&user, &security_context);
	if (state != nullptr && state->user == user && state->security_context == security_context &&
		state->relid == relid)
		return state->needs_check;
	bool check = bypasses_policies(relid);
	if (state == nullptr) {
		state = static_cast<CheckState *>(
			pg_call(MemoryContextAlloc, fcinfo->flinfo->fn_mcxt, sizeof(CheckState)));
		fcinfo->flinfo->fn_extra = state;
	}
	*state = {user, security_context, relid, check};
	return check;
}

// Deletes the rows of a tenant from one protected table, as its owner and
// with the latest snapshot (plain C: runs inside pg_call).
void delete_rows(Oid relid, Datum tenant)
{
	char *schema = get_namespace_name(get_rel_namespace(relid));
	char *name = get_rel_name(relid);
	if (schema == nullptr || name == nullptr)
		return;
	StringInfoData query;
	initStringInfo(&query);
	appendStringInfo(&query, "DELETE FROM ONLY %s WHERE tenant_id OPERATOR(pg_catalog.=) $1",
					 quote_qualified_identifier(schema, name));
	// As the owner (owner_scope.hpp): protected tables show the removed tenant
	// only, so that the owner's triggers see no other tenant, and pg_tenancy
	// judges the table's owner, not the platform admin.
	owner_scope::OwnerSession session =
		owner_scope::enter_as_owner(relid, nullptr, DatumGetUUIDP(tenant));
	Oid argtypes[1] = {UUIDOID};
	SPIPlanPtr plan = SPI_prepare(query.data, 1, argtypes);
	if (plan == nullptr)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", query.data, SPI_result_code_string(SPI_result));
	Snapshot test_snapshot = InvalidSnapshot, crosscheck_snapshot = InvalidSnapshot;
	if (IsolationUsesXactSnapshot()) {
		CommandCounterIncrement();
		test_snapshot = GetLatestSnapshot();
		crosscheck_snapshot = GetTransactionSnapshot();
	}
	Datum values[1] = {tenant};
	int result = SPI_execute_snapshot(plan, values, nullptr, test_snapshot, crosscheck_snapshot, false, true, 0);
	if (result != SPI_OK_DELETE)
		elog(ERROR, "deleting the rows of a removed tenant from %s failed: %s", query.data,
			 SPI_result_code_string(result));
	owner_scope::leave_as_owner(session);
	// A trigger or rule of the owner may have kept rows: a tenant goes only
	// with all of them (no row may outlive its tenant).
	CommandCounterIncrement();
	int64 left = tenant_row_count::count_tenant_rows(relid, DatumGetUUIDP(tenant), GetLatestSnapshot());
	if (left > 0)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg_plural("%lld row of the removed tenant is left in table %s",
									  "%lld rows of the removed tenant are left in table %s", static_cast<unsigned long>(left),
									  static_cast<long long>(left), quote_qualified_identifier(schema, name)),
						errdetail("A trigger or rule of the table kept them from being deleted; a tenant is removed "
								  "only with all of its rows."),
						errhint("Change what keeps them (the table's owner can), then remove the tenant again.")));
}

// Returns the tables a table's foreign keys refer to, itself aside, as a
// list of oids (plain C: runs inside pg_call).
List *referenced_tables(Oid relid)
{
	Relation rel = table_open(relid, AccessShareLock);
	List *parents = NIL;
	ListCell *cell;
	foreach (cell, RelationGetFKeyList(rel)) {
		ForeignKeyCacheInfo *key = lfirst_node(ForeignKeyCacheInfo, cell);
		if (key->confrelid != relid)
			parents = lappend_oid(parents, key->confrelid);
	}
	table_close(rel, AccessShareLock);
	return parents;
}

// Returns the protected tables in an order where each comes before the
// tables it refers to, so that deleting a tenant's rows table by table never
// trips a foreign key between them; tables in a cycle keep the catalog's
// order.
std::vector<Oid> deletion_order()
{
	std::vector<Oid> remaining;
	for (const catalog::ProtectedTable &table : catalog::protected_tables())
		remaining.push_back(table.relid);
	std::vector<std::pair<Oid, Oid>> references; // (child, parent)
	for (Oid relid : remaining) {
		List *parents = pg_call(referenced_tables, relid);
		ListCell *cell;
		foreach (cell, parents)
			references.emplace_back(relid, lfirst_oid(cell));
	}
	std::vector<Oid> ordered;
	while (!remaining.empty()) {
		std::vector<Oid> ready;
		for (Oid relid : remaining) {
			bool referenced = std::any_of(references.begin(), references.end(), [&](const auto &reference) {
				return reference.second == relid &&
					   std::find(remaining.begin(), remaining.end(), reference.first) != remaining.end();
			});
			if (!referenced)
				ready.push_back(relid);
		}
		if (ready.empty())
			ready = remaining;
		for (Oid relid : ready) {
			ordered.push_back(relid);
			remaining.erase(std::find(remaining.begin(), remaining.end(), relid));
		}
	}
	return ordered;
}

// Reads a uuid column of a row; false when it is null.
bool row_uuid(HeapTuple row, Relation rel, const char *column_name, pg_uuid_t *value)
{
	int column = SPI_fnumber(RelationGetDescr(rel), column_name);
	if (column <= 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
						errmsg("table %s has no column %s", RelationGetRelationName(rel), column_name)));
	bool isnull;
	Datum datum = heap_getattr(row, column, RelationGetDescr(rel), &isnull);
	if (!isnull)
		memcpy(value, DatumGetUUIDP(datum), sizeof(*value));
	return !isnull;
}

} // namespace

// tenancy.tenant_check(): the tenant check of protected tables. It runs on
// every row written; for the roles the policies apply to it decides once per
// statement and returns at once.
TENANCY_SQL_FUNCTION(tenancy_tenant_check)
{
	return guarded([&] {
		TriggerData *trigger =
			after_row_trigger(fcinfo, "tenancy.tenant_check()", on_insert | on_update, "INSERT or UPDATE");
		Relation rel = trigger->tg_relation;
		if (!needs_check(fcinfo, RelationGetRelid(rel)))
			return PointerGetDatum(nullptr);
		HeapTuple row = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
		pg_uuid_t tenant{};
		if (pg_call(row_uuid, row, rel, "tenant_id", &tenant))
			tenant_lock::hold_for_write(tenant);
		return PointerGetDatum(nullptr);
	});
}

// tenancy.remove_tenant_rows(): deletes a removed tenant's rows everywhere.
TENANCY_SQL_FUNCTION(tenancy_remove_tenant_rows)
{
	return guarded([&] {
		TriggerData *trigger = after_row_trigger(fcinfo, "tenancy.remove_tenant_rows()", on_delete, "DELETE");
		pg_uuid_t tenant{};
		if (!pg_call(row_uuid, trigger->tg_trigtuple, trigger->tg_relation, "id", &tenant))
			return PointerGetDatum(nullptr);
		tenant_lock::hold_for_removal(tenant);
		tenant_lock::forget(tenant);
		Datum id = UUIDPGetDatum(&tenant);
		for (Oid relid : deletion_order())
			pg_call(delete_rows, relid, id);
		return PointerGetDatum(nullptr);
	});
}

// tenancy._hold_tenant_rows(tenant uuid): waits for the transactions writing
// into the tenant's rows and keeps new ones out until this transaction ends
// (tenancy.move_tenant()).
TENANCY_SQL_FUNCTION(tenancy_hold_tenant_rows)
{
	pg_uuid_t tenant = *PG_GETARG_UUID_P(0);
	return guarded([&] {
		tenant_lock::hold_for_removal(tenant);
		tenant_lock::forget(tenant);
		return PointerGetDatum(nullptr);
	});
}
