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
#include "protected_tables.hpp"
#include "sql_function.hpp"
#include "tenant_lock.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <string>

using namespace tenancy;

namespace {

// What the trigger decided for one table and role, kept for the rest of the
// statement (in the trigger's own memory).
struct ConstraintState {
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
	auto *state = static_cast<ConstraintState *>(fcinfo->flinfo->fn_extra);
	Oid user;
	int security_context;
	GetUserIdAndSecContext(&user, &security_context);
	if (state != nullptr && state->user == user && state->security_context == security_context &&
		state->relid == relid)
		return state->needs_check;
	bool check = bypasses_policies(relid);
	if (state == nullptr) {
		state = static_cast<ConstraintState *>(
			pg_call(MemoryContextAlloc, fcinfo->flinfo->fn_mcxt, sizeof(ConstraintState)));
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
	Oid owner = InvalidOid;
	{
		HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tuple))
			return;
		owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
		ReleaseSysCache(tuple);
	}
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
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
	SPI_finish();
	SetUserIdAndSecContext(saved_user, saved_context);
}

// Returns the old row's tenant id of a DELETE on tenancy.tenants.
pg_uuid_t removed_tenant(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("tenancy.remove_tenant_rows() must be called as a trigger")));
	TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
	if (!TRIGGER_FIRED_BY_DELETE(trigger->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("tenancy.remove_tenant_rows() must fire for each deleted row")));
	Relation rel = trigger->tg_relation;
	bool isnull;
	Datum id = heap_getattr(trigger->tg_trigtuple, SPI_fnumber(RelationGetDescr(rel), "id"), RelationGetDescr(rel), &isnull);
	pg_uuid_t tenant{};
	if (!isnull)
		memcpy(&tenant, DatumGetUUIDP(id), sizeof(tenant));
	return tenant;
}

// Returns the row an INSERT or UPDATE wrote, checking the trigger protocol.
HeapTuple written_row(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("tenancy.tenant_check() must be called as a trigger")));
	TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
	if (!TRIGGER_FIRED_FOR_ROW(trigger->tg_event) || !TRIGGER_FIRED_AFTER(trigger->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigger->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("tenancy.tenant_check() must fire after INSERT or UPDATE for each row")));
	return TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
}

// Reads the tenant_id of a row; false when it is null (NOT NULL refuses it).
bool row_tenant(HeapTuple row, Relation rel, pg_uuid_t *tenant)
{
	int column = SPI_fnumber(RelationGetDescr(rel), "tenant_id");
	if (column <= 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
						errmsg("protected table %s has no column tenant_id", RelationGetRelationName(rel))));
	bool isnull;
	Datum value = heap_getattr(row, column, RelationGetDescr(rel), &isnull);
	if (!isnull)
		memcpy(tenant, DatumGetUUIDP(value), sizeof(*tenant));
	return !isnull;
}

} // namespace

// tenancy.tenant_check(): the tenant check of protected tables.
TENANCY_SQL_FUNCTION(tenancy_tenant_check)
{
	return guarded([&] {
		HeapTuple row = pg_call(written_row, fcinfo);
		TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
		Relation rel = trigger->tg_relation;
		if (needs_check(fcinfo, RelationGetRelid(rel))) {
			pg_uuid_t tenant{};
			if (pg_call(row_tenant, row, rel, &tenant))
				tenant_lock::hold_for_write(tenant);
		}
		return PointerGetDatum(nullptr);
	});
}

// tenancy.remove_tenant_rows(): deletes a removed tenant's rows everywhere.
TENANCY_SQL_FUNCTION(tenancy_remove_tenant_rows)
{
	return guarded([&] {
		pg_uuid_t tenant = pg_call(removed_tenant, fcinfo);
		tenant_lock::hold_for_removal(tenant);
		tenant_lock::forget(tenant);
		Datum id = UUIDPGetDatum(&tenant);
		for (const catalog::ProtectedTable &table : catalog::protected_tables())
			pg_call(delete_rows, table.relid, id);
		return PointerGetDatum(nullptr);
	});
}
