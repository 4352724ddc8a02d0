// Running statements on a user's table as the table's owner, the way
// PostgreSQL runs its maintenance commands (SECURITY_RESTRICTED_OPERATION,
// and every setting changed meanwhile thrown away). The owner is never
// exempt from forced row level security here: the owner's code may run (the
// backfill expression, triggers, functions of indexes), so protected tables
// are closed meanwhile, and pg_tenancy judges the owner, not the caller
// (owner_scope.hpp):
//
//  * tenancy._execute_as_owner() runs the statement that places a backfill's
//    rows (and the validation of the online protection's CHECK), so that
//    neither the backfill expression nor the table's triggers ever run with
//    the rights of the caller (a platform admin, a superuser) or of the
//    extension's owner. Names resolve in the search_path of the call that
//    started the backfill, with pg_temp last.
//  * tenancy._scan_as_owner() runs the checks pg_tenancy makes on a table's
//    rows. Planning a query on a table evaluates the constant parts of its
//    index expressions, which may call the owner's IMMUTABLE functions: as
//    the extension's owner, that would run the table owner's code as a
//    superuser.
//  * tenancy._rows_as_owner() runs the statements of personal data requests
//    (pii.sql): finding a subject's rows, redacting or deleting them. The
//    owner's code may run (triggers, equality operators of the owner's
//    types), so protected tables show that one tenant only, whatever the
//    caller's tenancy.tenant says.
//  * tenancy._count_tenant_rows() counts one tenant's rows of a protected
//    table for tenant_details() by a direct scan, so that no code of the
//    owner runs at all.
//
// None is executable by PUBLIC; SECURITY DEFINER functions build the
// statements.
#include "boundary.hpp"
#include "datum.hpp"
#include "owner_scope.hpp"
#include "protected_tables.hpp"
#include "sql_function.hpp"
#include "tenant_row_count.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"
}

#include <string>

using namespace tenancy;

namespace {

// Runs a statement with parameters ($1 uuid, $2 and $3 tid) as the owner of
// relid, under search_path; returns the rows it processed (plain C: runs
// inside pg_call, and an error on the way is cleaned up by the abort of the
// transaction, which restores the user and the settings).
uint64 execute_as_owner(Oid relid, const char *search_path, const char *query, Datum *values, const char *nulls)
{
	owner_scope::OwnerSession session = owner_scope::enter_as_owner(relid, search_path, nullptr);
	Oid types[3] = {UUIDOID, TIDOID, TIDOID};
	int result = SPI_execute_with_args(query, 3, types, values, nulls, false, 0);
	if (result < 0)
		elog(ERROR, "backfill statement failed: %s", SPI_result_code_string(result));
	uint64 processed = SPI_processed;
	owner_scope::leave_as_owner(session);
	return processed;
}

// Runs a query with one parameter ($1 uuid[]) as the owner of relid and
// returns the first column of its first row as text, copied into the
// caller's memory, or NULL (plain C: runs inside pg_call).
text *scan_as_owner(Oid relid, const char *query, Datum ids, bool ids_null)
{
	MemoryContext caller_memory = CurrentMemoryContext;
	owner_scope::OwnerSession session = owner_scope::enter_as_owner(relid, "pg_catalog, pg_temp", nullptr);
	Oid types[1] = {UUIDARRAYOID};
	Datum values[1] = {ids};
	char nulls[1] = {ids_null ? 'n' : ' '};
	int result = SPI_execute_with_args(query, 1, types, values, nulls, true, 1);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "check of table rows failed: %s", SPI_result_code_string(result));
	text *answer = nullptr;
	if (SPI_processed > 0) {
		char *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (value != nullptr) {
			MemoryContext spi_memory = MemoryContextSwitchTo(caller_memory);
			answer = cstring_to_text(value);
			MemoryContextSwitchTo(spi_memory);
		}
	}
	owner_scope::leave_as_owner(session);
	return answer;
}

// Runs a statement with parameters ($1 uuid: the tenant, $2 jsonb) as the
// owner of relid, with protected tables open for that tenant only (with
// role), and puts
// the first column of each row it returns (jsonb) into the function's result
// set (plain C: runs inside pg_call).
void rows_as_owner(Oid relid, const pg_uuid_t *tenant, catalog::Role role, const char *query, Datum argument,
				   bool argument_null, ReturnSetInfo *result)
{
	owner_scope::OwnerSession session = owner_scope::enter_as_owner(relid, "pg_catalog, pg_temp", tenant, role);
	Oid types[2] = {UUIDOID, JSONBOID};
	Datum values[2] = {UUIDPGetDatum(tenant), argument};
	char nulls[2] = {' ', argument_null ? 'n' : ' '};
	int status = SPI_execute_with_args(query, 2, types, values, nulls, false, 0);
	if (status < 0)
		elog(ERROR, "statement on the rows of %s failed: %s", get_rel_name(relid), SPI_result_code_string(status));
	if (SPI_tuptable != nullptr && SPI_tuptable->tupdesc->natts >= 1 &&
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) == JSONBOID) {
		for (uint64 i = 0; i < SPI_processed; ++i) {
			bool isnull;
			Datum value = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
			tuplestore_putvalues(result->setResult, result->setDesc, &value, &isnull);
		}
	}
	owner_scope::leave_as_owner(session);
}

} // namespace

// tenancy._rows_as_owner(target, tenant, role, query, argument): the jsonb
// values a statement on the table's rows returns, run as its owner with
// protected tables open for the tenant with that role ($1: tenant, $2:
// argument).
TENANCY_SQL_FUNCTION(tenancy_rows_as_owner)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table, tenant, role and query must not be null")));
	Oid relid = PG_GETARG_OID(0);
	pg_uuid_t tenant = *PG_GETARG_UUID_P(1);
	Datum role_datum = PG_GETARG_DATUM(2);
	std::string query = text_of(PG_GETARG_TEXT_PP(3));
	Datum argument = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	bool argument_null = PG_ARGISNULL(4);
	guarded([&] {
		catalog::Role role = catalog::role_from_datum(role_datum);
		pg_call(InitMaterializedSRF, fcinfo, static_cast<bits32>(MAT_SRF_USE_EXPECTED_DESC));
		auto *result = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		pg_call(rows_as_owner, relid, static_cast<const pg_uuid_t *>(&tenant), role, query.c_str(), argument,
				argument_null, result);
	});
	return (Datum) 0;
}

// tenancy._count_tenant_rows(target, tenant): the tenant's rows in a
// protected table, counted by a direct scan.
TENANCY_SQL_FUNCTION(tenancy_count_tenant_rows)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table and tenant must not be null")));
	Oid relid = PG_GETARG_OID(0);
	pg_uuid_t tenant = *PG_GETARG_UUID_P(1);
	int64 count = guarded([&] {
		if (protected_tables::find(relid) == nullptr)
			throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "table is not protected");
		return pg_call(tenant_row_count::count_tenant_rows, relid, static_cast<const pg_uuid_t *>(&tenant),
					   GetActiveSnapshot());
	});
	PG_RETURN_INT64(count);
}

// tenancy._count_all_rows(table regclass) → bigint: every row of a table
// (of its partitions), counted by direct scans that no policy hides a row
// from (tenancy.move_tenant(), about a table of a tenant's schema).
TENANCY_SQL_FUNCTION(tenancy_count_all_rows)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table must not be null")));
	Oid relid = PG_GETARG_OID(0);
	int64 count = guarded([&] { return pg_call(tenant_row_count::count_all_rows, relid, GetActiveSnapshot()); });
	PG_RETURN_INT64(count);
}

// tenancy._execute_as_owner(target, search_path, query, tenant, first, last):
// the rows a backfill statement processed, run as the table's owner.
TENANCY_SQL_FUNCTION(tenancy_execute_as_owner)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table, search_path and query must not be null")));
	Oid relid = PG_GETARG_OID(0);
	std::string search_path = text_of(PG_GETARG_TEXT_PP(1));
	std::string query = text_of(PG_GETARG_TEXT_PP(2));
	Datum values[3];
	char nulls[3];
	for (int i = 0; i < 3; ++i) {
		values[i] = PG_ARGISNULL(i + 3) ? (Datum) 0 : PG_GETARG_DATUM(i + 3);
		nulls[i] = PG_ARGISNULL(i + 3) ? 'n' : ' ';
	}
	uint64 processed = guarded([&] {
		return pg_call(execute_as_owner, relid, search_path.c_str(), query.c_str(), values,
					   static_cast<const char *>(nulls));
	});
	PG_RETURN_INT64(static_cast<int64>(processed));
}

// tenancy._scan_as_owner(target, query, ids): the first value of a query on
// the table's rows, run as its owner ($1: ids, a uuid[]).
TENANCY_SQL_FUNCTION(tenancy_scan_as_owner)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table and query must not be null")));
	Oid relid = PG_GETARG_OID(0);
	std::string query = text_of(PG_GETARG_TEXT_PP(1));
	Datum ids = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	bool ids_null = PG_ARGISNULL(2);
	text *answer = guarded([&] { return pg_call(scan_as_owner, relid, query.c_str(), ids, ids_null); });
	if (answer == nullptr)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(answer);
}
