// COPY FROM into pg_tenancy's catalog (what pg_restore does) is a restore:
// see catalog_load.hpp. Only the catalog's owner (a superuser) can COPY into
// these tables; everyone else changes them through the management functions,
// whose changes the audit trigger records.
#include "catalog_load.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "sql_function.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "nodes/parsenodes.h"
}

namespace tenancy::catalog_load {

namespace {

Oid loading = InvalidOid; // the catalog table a running COPY FROM fills

} // namespace

// Remembers the catalog table a COPY FROM fills.
Oid begin(const Node *statement)
{
	Oid previous = loading;
	if (!IsA(statement, CopyStmt))
		return previous;
	const CopyStmt *copy = reinterpret_cast<const CopyStmt *>(statement);
	if (!copy->is_from || copy->relation == nullptr || !catalog::installed())
		return previous;
	Oid target = pg_call([&] { return RangeVarGetRelid(copy->relation, NoLock, true); });
	if (OidIsValid(target) && catalog::audits_itself(target))
		loading = target;
	return previous;
}

// Restores what was loaded before the statement.
void end(Oid previous) noexcept
{
	loading = previous;
}

// Says whether a COPY FROM is loading this catalog table.
bool is_loading(Oid relid) noexcept
{
	return OidIsValid(relid) && relid == loading;
}

} // namespace tenancy::catalog_load

// tenancy._catalog_loading(table) says whether a COPY FROM (a restore) is
// loading that catalog table: the history triggers then invent no events,
// since the dump holds the loaded rows' events too.
TENANCY_SQL_FUNCTION(tenancy_catalog_loading)
{
	return BoolGetDatum(tenancy::catalog_load::is_loading(PG_GETARG_OID(0)));
}
