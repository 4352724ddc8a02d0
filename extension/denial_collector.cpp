// The collector of access events.
//
// One background worker per database at most: it holds a session-level
// advisory lock (tag below) while it runs, and a session that has just queued
// an event starts one when that lock is free. The worker reads the queue in
// batches and hands each batch to tenancy._record_denials() and
// tenancy._record_entries() in one transaction (they aggregate repeated
// denials); only once that transaction committed does it remove the batch
// from the queue. After one idle second it leaves, releasing its lock while it
// holds the queue's lock and sees the queue empty, so that an event queued
// after its last look always finds the lock free and starts a new collector.
// Leaving that soon matters: a worker connected to a database makes DROP
// DATABASE, and CREATE DATABASE ... TEMPLATE of it, fail after their 5 s wait
// for other sessions (Django's test runner does both).
//
// A batch that cannot be written (the extension was dropped, or awaits ALTER
// EXTENSION ... UPDATE) goes to the server log, record by record. Each batch
// first takes a share lock on the extension itself, the lock DROP EXTENSION
// takes before its tables: a drop then waits for the batch, or the batch for
// the drop, and never do both hold a table the other needs (a deadlock that
// failed the drop).
#include "denial_collector.hpp"
#include "access_log_queue.hpp"
#include "sql_function.hpp"

#include <cstdio>
#include <cstdlib>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
#include "utils/xid8.h"
}

namespace tenancy::denial_collector {

namespace {

using access_log::queue::Kind;
using access_log::queue::Record;

constexpr int batch_size = 1024;
constexpr long poll_ms = 100;
constexpr long idle_exit_ms = 1000;

BackgroundWorkerHandle *requested = nullptr; // the collector this session started last

// Returns the advisory lock a database's collector holds while it runs.
LOCKTAG collector_lock(Oid database)
{
	LOCKTAG tag;
	SET_LOCKTAG_ADVISORY(tag, database, 0x7465u, 0x6e61u, 3); // "tena", field 4 = 3: none of SQL's
	return tag;
}

// Says whether a collector runs for this database.
bool collector_running()
{
	LOCKTAG tag = collector_lock(MyDatabaseId);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, ExclusiveLock, true);
	return false;
}

// Says whether the collector this session started may still be on its way.
bool requested_one_pending()
{
	pid_t pid;
	return requested != nullptr && GetBackgroundWorkerPid(requested, &pid) != BGWH_STOPPED;
}

// Registers a collector worker for this database.
void start_collector()
{
	BackgroundWorker worker;
	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_tenancy access event collector");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_tenancy access event collector");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_tenancy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tenancy_denial_collector");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	worker.bgw_notify_pid = 0;
	MemoryContext previous = MemoryContextSwitchTo(TopMemoryContext);
	BackgroundWorkerHandle *handle = nullptr;
	if (RegisterDynamicBackgroundWorker(&worker, &handle)) {
		if (requested != nullptr)
			pfree(requested);
		requested = handle;
	}
	MemoryContextSwitchTo(previous);
}

// Builds a one-dimensional array of n datums of a type, with nulls.
Datum array_of(Datum *values, bool *nulls, int n, Oid type)
{
	int16 length;
	bool by_value;
	char align;
	get_typlenbyvalalign(type, &length, &by_value, &align);
	int dims[1] = {n};
	int lower[1] = {1};
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lower, type, length, by_value, align));
}

// Writes the denials of a batch with tenancy._record_denials().
void store_denials(const Record *batch, int count)
{
	int n = 0;
	Datum *columns[7];
	bool *nulls[7];
	for (int c = 0; c < 7; c++) {
		columns[c] = static_cast<Datum *>(palloc(sizeof(Datum) * count));
		nulls[c] = static_cast<bool *>(palloc0(sizeof(bool) * count));
	}
	for (int i = 0; i < count; i++) {
		const Record &r = batch[i];
		if (r.kind != Kind::denial)
			continue;
		columns[0][n] = TimestampTzGetDatum(r.at);
		columns[1][n] = CStringGetTextDatum(r.actor);
		columns[2][n] = CStringGetTextDatum(r.db_role);
		columns[3][n] = CStringGetTextDatum(r.requested);
		columns[4][n] = UUIDPGetDatum(&r.tenant);
		nulls[4][n] = !r.has_tenant;
		columns[5][n] = CStringGetTextDatum(r.reason);
		columns[6][n] = CStringGetTextDatum(r.message);
		n++;
	}
	if (n == 0)
		return;
	Oid element_types[7] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, UUIDOID, TEXTOID, TEXTOID};
	Oid array_types[7] = {TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, UUIDARRAYOID,
						  TEXTARRAYOID, TEXTARRAYOID};
	Datum arguments[7];
	for (int c = 0; c < 7; c++)
		arguments[c] = array_of(columns[c], nulls[c], n, element_types[c]);
	int result = SPI_execute_with_args("SELECT tenancy._record_denials($1, $2, $3, $4, $5, $6, $7)", 7,
									   array_types, arguments, nullptr, false, 0);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "tenancy._record_denials() failed: %s", SPI_result_code_string(result));
}

// Writes the platform admin entries of a batch with tenancy._record_entries().
void store_entries(const Record *batch, int count)
{
	int n = 0;
	Datum *columns[5];
	bool *nulls[5];
	for (int c = 0; c < 5; c++) {
		columns[c] = static_cast<Datum *>(palloc(sizeof(Datum) * count));
		nulls[c] = static_cast<bool *>(palloc0(sizeof(bool) * count));
	}
	for (int i = 0; i < count; i++) {
		const Record &r = batch[i];
		if (r.kind != Kind::support_entry)
			continue;
		columns[0][n] = TimestampTzGetDatum(r.at);
		columns[1][n] = UUIDPGetDatum(&r.tenant);
		columns[2][n] = CStringGetTextDatum(r.actor);
		columns[3][n] = CStringGetTextDatum(r.db_role);
		columns[4][n] = FullTransactionIdGetDatum(r.xid);
		nulls[4][n] = !FullTransactionIdIsValid(r.xid);
		n++;
	}
	if (n == 0)
		return;
	Oid element_types[5] = {TIMESTAMPTZOID, UUIDOID, TEXTOID, TEXTOID, XID8OID};
	Oid array_types[5] = {TIMESTAMPTZARRAYOID, UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, XID8ARRAYOID};
	Datum arguments[5];
	for (int c = 0; c < 5; c++)
		arguments[c] = array_of(columns[c], nulls[c], n, element_types[c]);
	int result = SPI_execute_with_args("SELECT tenancy._record_entries($1, $2, $3, $4, $5)", 5, array_types,
									   arguments, nullptr, false, 0);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "tenancy._record_entries() failed: %s", SPI_result_code_string(result));
}

// Writes the usage counts of a batch (usage_meter.hpp) with
// tenancy._record_usage().
void store_usage(const Record *batch, int count)
{
	constexpr int width = 6;
	int n = 0;
	Datum *columns[width];
	bool *nulls[width];
	for (int c = 0; c < width; c++) {
		columns[c] = static_cast<Datum *>(palloc(sizeof(Datum) * count));
		nulls[c] = static_cast<bool *>(palloc0(sizeof(bool) * count));
	}
	for (int i = 0; i < count; i++) {
		const Record &r = batch[i];
		long long inserted, updated, deleted;
		if (r.kind != Kind::usage_writes ||
			sscanf(r.message, "%lld %lld %lld", &inserted, &updated, &deleted) != 3)
			continue;
		columns[0][n] = TimestampTzGetDatum(r.at);
		columns[1][n] = UUIDPGetDatum(&r.tenant);
		columns[2][n] = ObjectIdGetDatum(static_cast<Oid>(strtoul(r.requested, nullptr, 10)));
		columns[3][n] = Int64GetDatum(inserted);
		columns[4][n] = Int64GetDatum(updated);
		columns[5][n] = Int64GetDatum(deleted);
		n++;
	}
	if (n == 0)
		return;
	Oid element_types[width] = {TIMESTAMPTZOID, UUIDOID, OIDOID, INT8OID, INT8OID, INT8OID};
	Oid array_types[width] = {TIMESTAMPTZARRAYOID, UUIDARRAYOID, OIDARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
							  INT8ARRAYOID};
	Datum arguments[width];
	for (int c = 0; c < width; c++)
		arguments[c] = array_of(columns[c], nulls[c], n, element_types[c]);
	int result = SPI_execute_with_args("SELECT tenancy._record_usage($1, $2, $3, $4, $5, $6)", width, array_types,
									   arguments, nullptr, false, 0);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "tenancy._record_usage() failed: %s", SPI_result_code_string(result));
}

// Writes the active actors of a batch with tenancy._record_actors().
void store_actors(const Record *batch, int count)
{
	constexpr int width = 3;
	int n = 0;
	Datum *columns[width];
	bool *nulls[width];
	for (int c = 0; c < width; c++) {
		columns[c] = static_cast<Datum *>(palloc(sizeof(Datum) * count));
		nulls[c] = static_cast<bool *>(palloc0(sizeof(bool) * count));
	}
	for (int i = 0; i < count; i++) {
		const Record &r = batch[i];
		if (r.kind != Kind::usage_actor)
			continue;
		columns[0][n] = TimestampTzGetDatum(r.at);
		columns[1][n] = UUIDPGetDatum(&r.tenant);
		columns[2][n] = CStringGetTextDatum(r.actor);
		n++;
	}
	if (n == 0)
		return;
	Oid element_types[width] = {TIMESTAMPTZOID, UUIDOID, TEXTOID};
	Oid array_types[width] = {TIMESTAMPTZARRAYOID, UUIDARRAYOID, TEXTARRAYOID};
	Datum arguments[width];
	for (int c = 0; c < width; c++)
		arguments[c] = array_of(columns[c], nulls[c], n, element_types[c]);
	int result = SPI_execute_with_args("SELECT tenancy._record_actors($1, $2, $3)", width, array_types, arguments,
									   nullptr, false, 0);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "tenancy._record_actors() failed: %s", SPI_result_code_string(result));
}

// Names the kind of a record, for the server log.
const char *kind_name(Kind kind)
{
	switch (kind) {
	case Kind::denial:
		return "access denial";
	case Kind::support_entry:
		return "platform admin entry";
	case Kind::usage_writes:
		return "usage count";
	case Kind::usage_actor:
		return "active actor";
	}
	return "event";
}

// Says whether a record is usage (usage_meter.hpp), not an access event.
bool is_usage(const Record &record)
{
	return record.kind == Kind::usage_writes || record.kind == Kind::usage_actor;
}

// Logs every record of a batch that could not be written (only the usage
// records when usage_only).
void log_batch(const Record *batch, int count, bool usage_only)
{
	for (int i = 0; i < count; i++) {
		if (usage_only && !is_usage(batch[i]))
			continue;
		if (is_usage(batch[i])) {
			char tenant[2 * UUID_LEN + 1];
			for (int b = 0; b < UUID_LEN; b++)
				snprintf(tenant + 2 * b, 3, "%02x", batch[i].tenant.data[b]);
			ereport(LOG, (errmsg("pg_tenancy %s recorded in the server log only", kind_name(batch[i].kind)),
						  errdetail("tenant=%s day=%s table_oid=%s actor=\"%s\" inserted_updated_deleted=\"%s\"",
									tenant, timestamptz_to_str(batch[i].at), batch[i].requested, batch[i].actor,
									batch[i].message)));
			continue;
		}
		ereport(LOG, (errmsg("pg_tenancy %s recorded in the server log only", kind_name(batch[i].kind)),
					  errdetail("actor=\"%s\" db_role=\"%s\" requested_tenant=\"%s\" reason=%s message=\"%s\"",
								batch[i].actor, batch[i].db_role, batch[i].requested, batch[i].reason,
								batch[i].message)));
	}
}

// Writes the usage of a batch in a subtransaction of its own: usage that
// cannot be written (a lock held too long) goes to the server log and never
// takes the batch's access events with it.
void store_usage_apart(const Record *batch, int count)
{
	MemoryContext batch_context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	BeginInternalSubTransaction(nullptr);
	PG_TRY();
	{
		store_usage(batch, count);
		store_actors(batch, count);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(batch_context);
		EmitErrorReport();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		log_batch(batch, count, true);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(batch_context);
	CurrentResourceOwner = owner;
}

// Writes a batch in one transaction; logs it when that fails.
void store(Record *batch, int count)
{
	int intact = 0;
	for (int i = 0; i < count; i++)
		if (access_log::queue::intact(batch[i]))
			batch[intact++] = batch[i];
	if (intact == 0)
		return;
	MemoryContext batch_context = CurrentMemoryContext;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		Oid extension = get_extension_oid("pg_tenancy", true);
		if (OidIsValid(extension))
			LockDatabaseObject(ExtensionRelationId, extension, 0, AccessShareLock);
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "recording pg_tenancy access events");
		store_denials(batch, intact);
		store_entries(batch, intact);
		store_usage_apart(batch, intact);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(batch_context);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		log_batch(batch, intact, false);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(batch_context);
	pgstat_report_activity(STATE_IDLE, nullptr);
}

// Releases the collector's lock; runs while the queue is locked and empty.
void leave()
{
	LOCKTAG tag = collector_lock(MyDatabaseId);
	LockRelease(&tag, ExclusiveLock, true);
}

} // namespace

// Starts this database's collector unless one runs or is starting.
void ensure_running()
{
	if (!IsUnderPostmaster || collector_running() || requested_one_pending())
		return;
	start_collector();
}

} // namespace tenancy::denial_collector

using namespace tenancy::denial_collector;

// Entry point of the collector worker: takes the queue of its database in
// batches and writes them, until it has been idle for a while.
TENANCY_EXPORTED void tenancy_denial_collector(Datum main_arg);

void tenancy_denial_collector(Datum main_arg)
{
	Oid database = DatumGetObjectId(main_arg);
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, BOOTSTRAP_SUPERUSERID, 0);

	LOCKTAG tag = tenancy::denial_collector::collector_lock(database);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		proc_exit(0); // another collector serves this database
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);

	MemoryContext batch_context = AllocSetContextCreate(TopMemoryContext, "pg_tenancy collector batch",
														ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(batch_context);
	auto *batch = static_cast<Record *>(MemoryContextAlloc(TopMemoryContext, sizeof(Record) * batch_size));
	TimestampTz last_busy = GetCurrentTimestamp();
	for (;;) {
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		int count = tenancy::access_log::queue::peek(database, batch, batch_size);
		if (count > 0) {
			store(batch, count);
			if (!tenancy::access_log::queue::consume(database, count))
				ereport(FATAL, (errcode_for_file_access(),
								errmsg("pg_tenancy access event collector cannot shorten its queue: %m")));
			MemoryContextReset(batch_context);
			last_busy = GetCurrentTimestamp();
			continue;
		}
		if (TimestampDifferenceExceeds(last_busy, GetCurrentTimestamp(), idle_exit_ms) &&
			tenancy::access_log::queue::when_empty(database, leave))
			proc_exit(0);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, poll_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
