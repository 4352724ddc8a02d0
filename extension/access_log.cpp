// Durable records of access decisions.
//
// A denied statement fails and its transaction rolls back, so the record
// cannot be written in that transaction. It is handed, through a dynamic
// shared memory segment, to a short-lived background worker that connects to
// the same database, inserts the row and commits; the denied backend waits
// until the worker has finished, so the row is durable before the user sees
// the error. No shared_preload_libraries setting is needed. When no worker can
// be started (max_worker_processes exhausted, standby), the record goes to the
// server log instead.
#include "access_log.hpp"
#include "boundary.hpp"
#include "sql_function.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"
}

#include <cstdio>
#include <set>

namespace tenancy::access_log {

namespace {

enum class Kind : int { denial = 1, support_entry = 2 };

// What the worker writes; lives in the dynamic shared memory segment.
struct Payload {
	Kind kind;
	Oid database;
	TimestampTz at;
	FullTransactionId xid;
	bool has_tenant;
	pg_uuid_t tenant;
	char actor[512];
	char db_role[NAMEDATALEN];
	char requested[128];
	char reason[64];
	char message[1024];
	bool written; // set by the worker once its transaction committed
};

std::set<std::string> entered_tenants;

// Copies text into a fixed field of the payload, cut at a character boundary.
void put_text(char *field, size_t size, const std::string &text)
{
	int length = pg_mbcliplen(text.c_str(), static_cast<int>(text.size()), static_cast<int>(size) - 1);
	memcpy(field, text.data(), length);
	field[length] = '\0';
}

// Starts the writer worker for a payload and waits until it has finished.
// Returns whether the row was committed.
bool write_in_worker(const Payload *payload)
{
	dsm_segment *segment = dsm_create(sizeof(Payload), 0);
	Payload *shared = static_cast<Payload *>(dsm_segment_address(segment));
	memcpy(shared, payload, sizeof(Payload));
	shared->written = false;

	BackgroundWorker worker;
	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_tenancy access log writer");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_tenancy access log writer");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_tenancy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tenancy_access_log_worker");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(segment));
	worker.bgw_notify_pid = MyProcPid;

	BackgroundWorkerHandle *handle = nullptr;
	bool written = false;
	if (RegisterDynamicBackgroundWorker(&worker, &handle)) {
		WaitForBackgroundWorkerShutdown(handle);
		written = shared->written;
	}
	dsm_detach(segment);
	return written;
}

// Writes a payload to the server log, when no worker could write it.
void write_to_server_log(const Payload *payload)
{
	ereport(LOG,
			(errmsg("pg_tenancy could not record an access event in its table; recording it here"),
			 errdetail("kind=%s actor=\"%s\" db_role=\"%s\" requested_tenant=\"%s\" reason=%s message=\"%s\"",
					   payload->kind == Kind::denial ? "denial" : "support_entry", payload->actor,
					   payload->db_role, payload->requested, payload->reason, payload->message)));
}

// Records a payload durably, in a worker when possible, else in the server log.
void record(Payload &payload)
{
	payload.database = MyDatabaseId;
	payload.at = GetCurrentTimestamp();
	bool written = !IsParallelWorker() && pg_call(write_in_worker, &payload);
	if (!written)
		pg_call(write_to_server_log, &payload);
}

// Raises an error unless an SPI insert reported success.
void check_inserted(int spi_result)
{
	if (spi_result != SPI_OK_INSERT)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pg_tenancy access log writer failed: %s", SPI_result_code_string(spi_result))));
}

// Inserts the payload's row; runs in the worker, inside a transaction.
void insert_row(const Payload *payload)
{
	Datum tenant = payload->has_tenant ? UUIDPGetDatum(&payload->tenant) : (Datum) 0;
	char tenant_null = payload->has_tenant ? ' ' : 'n';
	if (payload->kind == Kind::denial) {
		Oid types[7] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, UUIDOID, TEXTOID, TEXTOID};
		Datum values[7] = {TimestampTzGetDatum(payload->at), CStringGetTextDatum(payload->actor),
						   CStringGetTextDatum(payload->db_role), CStringGetTextDatum(payload->requested),
						   tenant, CStringGetTextDatum(payload->reason),
						   CStringGetTextDatum(payload->message)};
		char nulls[8] = {' ', ' ', ' ', ' ', tenant_null, ' ', ' ', '\0'};
		check_inserted(SPI_execute_with_args(
			"INSERT INTO tenancy.access_denials "
			"(at, actor, db_role, requested_tenant, tenant_id, reason, message) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7)",
			7, types, values, nulls, false, 0));
	} else {
		Oid types[5] = {TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID, XID8OID};
		Datum values[5] = {TimestampTzGetDatum(payload->at), tenant, CStringGetTextDatum(payload->actor),
						   CStringGetTextDatum(payload->db_role), FullTransactionIdGetDatum(payload->xid)};
		char nulls[6] = {' ', tenant_null, ' ', ' ', FullTransactionIdIsValid(payload->xid) ? ' ' : 'n', '\0'};
		check_inserted(SPI_execute_with_args(
			"INSERT INTO tenancy.audit_log "
			"(at, tenant_id, actor, db_role, operation, support_access, xid) "
			"VALUES ($1, $2, $3, $4, 'ENTER', true, $5)",
			5, types, values, nulls, false, 0));
	}
}

} // namespace

// Records a denial durably.
void record_denial(const Denial &denial)
{
	Payload payload{};
	payload.kind = Kind::denial;
	put_text(payload.actor, sizeof(payload.actor), denial.actor);
	put_text(payload.db_role, sizeof(payload.db_role), denial.db_role);
	put_text(payload.requested, sizeof(payload.requested), denial.requested_tenant);
	put_text(payload.reason, sizeof(payload.reason), denial.reason);
	put_text(payload.message, sizeof(payload.message), denial.message);
	payload.has_tenant = denial.tenant_id != nullptr;
	if (payload.has_tenant)
		payload.tenant = *denial.tenant_id;
	record(payload);
}

// Records, once per session, a platform admin entering a tenant.
void record_support_entry(const std::string &actor, const std::string &db_role, const pg_uuid_t &tenant)
{
	std::string key = actor + '\0' + std::string(reinterpret_cast<const char *>(tenant.data), UUID_LEN);
	if (entered_tenants.count(key))
		return;
	Payload payload{};
	payload.kind = Kind::support_entry;
	put_text(payload.actor, sizeof(payload.actor), actor);
	put_text(payload.db_role, sizeof(payload.db_role), db_role);
	payload.has_tenant = true;
	payload.tenant = tenant;
	payload.xid = GetTopFullTransactionIdIfAny();
	record(payload);
	entered_tenants.insert(std::move(key));
}

} // namespace tenancy::access_log

using tenancy::access_log::Payload;

// Entry point of the writer worker: attaches to the payload, inserts its row
// in a transaction of its own, commits, and marks the payload written.
TENANCY_EXPORTED void tenancy_access_log_worker(Datum main_arg);

void tenancy_access_log_worker(Datum main_arg)
{
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(nullptr, "pg_tenancy access log writer");
	dsm_segment *segment = dsm_attach(DatumGetUInt32(main_arg));
	if (segment == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("pg_tenancy access log writer found no work to do")));
	Payload *payload = static_cast<Payload *>(dsm_segment_address(segment));

	BackgroundWorkerInitializeConnectionByOid(payload->database, BOOTSTRAP_SUPERUSERID, 0);
	SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "recording a pg_tenancy access event");
	tenancy::access_log::insert_row(payload);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, nullptr);

	payload->written = true;
	dsm_detach(segment);
	proc_exit(0);
}
