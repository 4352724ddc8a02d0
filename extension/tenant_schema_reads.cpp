// tenancy._read_tenant_schemas(query text) → setof record: the rows of one
// read-only query that reads tables of every tenant schema, for the union
// views of platform admins (functions/29_union_views.sql builds the query,
// after checking the caller). Every tenant schema is open to SELECT while the
// query runs, and to nothing else; the query runs read-only (SPI refuses
// any write), as the SECURITY DEFINER function that calls this one. Not
// executable by PUBLIC.
#include "boundary.hpp"
#include "sql_function.hpp"
#include "tenant_schemas.hpp"

extern "C" {
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

#include <string>

using namespace tenancy;

namespace {

// Says whether the query's rows have the columns the caller expects.
bool same_columns(TupleDesc got, TupleDesc expected)
{
	if (got->natts != expected->natts)
		return false;
	for (int i = 0; i < got->natts; ++i)
		if (TupleDescAttr(got, i)->atttypid != TupleDescAttr(expected, i)->atttypid)
			return false;
	return true;
}

// Runs the query and puts its rows into the result (plain C).
void read_rows(const char *query, ReturnSetInfo *result)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	int status = SPI_execute(query, true, 0);
	if (status != SPI_OK_SELECT)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("a read of tenant schemas must be one SELECT")));
	if (!same_columns(SPI_tuptable->tupdesc, result->setDesc))
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
						errmsg("the rows read from tenant schemas do not have the columns expected")));
	for (uint64 i = 0; i < SPI_processed; ++i)
		tuplestore_puttuple(result->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
}

} // namespace

// tenancy._read_tenant_schemas(query text) → setof record
TENANCY_SQL_FUNCTION(tenancy_read_tenant_schemas)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query must not be null")));
	char *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	guarded([&] {
		pg_call(InitMaterializedSRF, fcinfo, static_cast<bits32>(MAT_SRF_USE_EXPECTED_DESC));
		auto *result = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		tenant_schemas::EverySchemaReadable open;
		pg_call(read_rows, static_cast<const char *>(query), result);
	});
	return (Datum) 0;
}
