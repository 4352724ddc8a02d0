// Writing rows into tenancy.audit_log.
//
// Users cannot write the audit log, so the insert runs as the table's owner
// (the extension owner), switched to for the insert only, like a SECURITY
// DEFINER function but without the per-call cost. The INSERT is prepared once
// per backend and kept; PostgreSQL re-plans it if the table changes. The row
// goes through the partitioned table, so that it lands in its month.
#include "audit_writer.hpp"
#include "boundary.hpp"
#include "catalog.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"
}

namespace tenancy::audit {

namespace {

constexpr int parameter_count = 11;
SPIPlanPtr insert_plan = nullptr;

// Prepares and keeps the INSERT into tenancy.audit_log.
void prepare_insert()
{
	Oid types[parameter_count] = {TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, OIDOID,
								  TEXTOID,        JSONBOID, JSONBOID, XID8OID, BOOLOID};
	SPIPlanPtr plan = SPI_prepare(
		"INSERT INTO tenancy.audit_log (at, tenant_id, actor, db_role, table_name, relid, operation, "
		"old_row, new_row, xid, support_access) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		parameter_count, types);
	if (plan == nullptr)
		elog(ERROR, "pg_tenancy could not prepare the audit insert: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	insert_plan = plan;
}

// Runs the INSERT as the owner of tenancy.audit_log.
void insert_as_owner(Oid owner, Datum *values, const char *nulls)
{
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_tenancy could not connect to SPI");
		if (insert_plan == nullptr)
			prepare_insert();
		int result = SPI_execute_plan(insert_plan, values, nulls, false, 0);
		if (result != SPI_OK_INSERT)
			elog(ERROR, "pg_tenancy could not write the audit log: %s", SPI_result_code_string(result));
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
}

// Builds the parameters of the INSERT and runs it.
void insert_row(const AuditEvent *event, const char *actor, const char *db_role, Oid owner)
{
	Datum values[parameter_count] = {
		TimestampTzGetDatum(GetCurrentStatementStartTimestamp()),
		event->tenant,
		CStringGetTextDatum(actor),
		CStringGetTextDatum(db_role),
		event->table_name ? CStringGetTextDatum(event->table_name) : (Datum) 0,
		ObjectIdGetDatum(event->relid),
		CStringGetTextDatum(event->operation),
		PointerGetDatum(event->old_row),
		PointerGetDatum(event->new_row),
		FullTransactionIdGetDatum(GetTopFullTransactionId()),
		BoolGetDatum(event->support_access),
	};
	char nulls[parameter_count + 1] = "           ";
	nulls[1] = event->tenant_null ? 'n' : ' ';
	nulls[4] = event->table_name ? ' ' : 'n';
	nulls[5] = OidIsValid(event->relid) ? ' ' : 'n';
	nulls[7] = event->old_row ? ' ' : 'n';
	nulls[8] = event->new_row ? ' ' : 'n';
	insert_as_owner(owner, values, nulls);
}

} // namespace

// Inserts an audit row.
void write_audit_row(const AuditEvent &event, const std::string &actor, const std::string &db_role)
{
	Oid owner = catalog::audit_log_owner();
	pg_call(insert_row, &event, actor.c_str(), db_role.c_str(), owner);
}

} // namespace tenancy::audit
