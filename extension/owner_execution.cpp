// tenancy._execute_as_owner(): runs the statement that places a backfill's
// rows as the owner of the table, the way PostgreSQL runs maintenance
// commands (SECURITY_RESTRICTED_OPERATION), so that neither the backfill
// expression nor the table's own triggers ever run with the rights of the
// caller (a platform admin, or a superuser) - nor, since this function is
// reached only through SECURITY DEFINER code, with the extension owner's.
// The expression's names resolve in the search_path of the call that
// started the backfill, with pg_temp last.
//
// Not executable by PUBLIC: tenancy._backfill_rows() builds the statement
// from the job that tenancy._backfill_prepare() or protect_online() recorded.
#include "boundary.hpp"
#include "datum.hpp"
#include "sql_function.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/syscache.h"
}

#include <string>

using namespace tenancy;

namespace {

// Returns the owner of a relation (plain C: runs inside pg_call).
Oid relation_owner(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table with oid %u does not exist", relid)));
	Oid owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

// Runs a statement with parameters ($1 uuid, $2 and $3 tid) as the owner of
// relid, under search_path; returns the rows it processed (plain C: runs
// inside pg_call, and an error on the way is cleaned up by the abort of the
// transaction, which restores the user and the settings).
uint64 execute_as_owner(Oid relid, const char *search_path, const char *query, Datum *values, const char *nulls)
{
	Oid owner = relation_owner(relid);
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	int nest_level = NewGUCNestLevel();
	(void) set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
							 false);
	SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	Oid types[3] = {UUIDOID, TIDOID, TIDOID};
	int result = SPI_execute_with_args(query, 3, types, values, nulls, false, 0);
	if (result < 0)
		elog(ERROR, "backfill statement failed: %s", SPI_result_code_string(result));
	uint64 processed = SPI_processed;
	SPI_finish();
	SetUserIdAndSecContext(saved_user, saved_context);
	AtEOXact_GUC(true, nest_level);
	return processed;
}

} // namespace

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
