// Background workers that do pg_tenancy's work in other databases of the
// cluster (see database_worker.hpp).
//
// A SQL function cannot connect to another database, and CREATE DATABASE
// and DROP DATABASE refuse to run inside a transaction block. A dynamic
// background worker can do both: it connects to any database as the
// bootstrap superuser, without a password or a pg_hba.conf entry, and runs
// in transactions of its own. The caller hands it the statements in a
// dynamic shared memory segment, waits until it exits, and reads back its
// result or its error (SQLSTATE, message, detail, hint) from the segment.
//
// Only superusers run these functions (pg_tenancy's SECURITY DEFINER
// functions, which build every statement with quoted names and pass data
// as a parameter); they are not executable by PUBLIC either.
#include "database_worker.hpp"
#include "boundary.hpp"
#include "sql_function.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "nodes/plannodes.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

#include <cstring>

namespace tenancy::database_worker {

namespace {

// What a worker does.
enum Kind : int {
	run_statements = 1, // setup and query in a database named by name
	run_utility_statement = 2, // one utility statement, from the database of oid database
};

// How a worker ended.
enum Outcome : int { not_finished = 0, succeeded = 1, failed = 2 };

constexpr Size result_capacity = 256 * 1024;

// How a worker ended, and its error.
struct Status {
	int outcome;
	int sqlstate;
	char message[2048];
	char detail[2048];
	char hint[1024];
};

// The shared memory segment of one worker: what to do, then what happened.
// Texts are stored one after another in data[], each NUL-terminated, and
// the result after them.
struct Shared {
	int kind;
	Oid database;
	char name[NAMEDATALEN];
	Size setup, query, argument, utility, result; // offsets into data
	bool has_argument;
	Status status;
	char data[FLEXIBLE_ARRAY_MEMBER];
};

// A database to drop when the transaction ends (drop_later()).
struct PendingDrop {
	char name[NAMEDATALEN];
	bool at_commit;
	SubTransactionId subtransaction;
};

constexpr int max_pending = 64;
PendingDrop pending[max_pending];
int pending_count = 0;

// True in a worker process.
bool worker_process = false;

// Copies text into a fixed buffer, cut to fit (plain C).
void put(char *field, size_t size, const char *text)
{
	strlcpy(field, text != nullptr ? text : "", size);
}

// Stores the error being handled into the segment (plain C, in PG_CATCH).
void record_error(Shared *shared)
{
	MemoryContextSwitchTo(TopMemoryContext);
	ErrorData *error = CopyErrorData();
	FlushErrorState();
	shared->status.sqlstate = error->sqlerrcode;
	put(shared->status.message, sizeof(shared->status.message), error->message);
	put(shared->status.detail, sizeof(shared->status.detail), error->detail);
	put(shared->status.hint, sizeof(shared->status.hint), error->hint);
	shared->status.outcome = failed;
}

// Runs the setup statements and the query of the segment in one
// transaction, and keeps the query's first value (plain C).
void execute_statements(Shared *shared)
{
	const char *setup = shared->data + shared->setup;
	const char *query = shared->data + shared->query;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, query);
	if (setup[0] != '\0' && SPI_execute(setup, false, 0) < 0)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("pg_tenancy worker setup failed")));
	char *result = shared->data + shared->result;
	result[0] = '\0';
	if (query[0] != '\0') {
		Oid types[1] = {TEXTOID};
		Datum values[1] = {CStringGetTextDatum(shared->data + shared->argument)};
		const char nulls[1] = {shared->has_argument ? ' ' : 'n'};
		if (SPI_execute_with_args(query, 1, types, values, nulls, false, 0) < 0)
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("pg_tenancy worker query failed")));
		if (SPI_processed > 0 && SPI_tuptable != nullptr) {
			char *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			if (value != nullptr && strlen(value) >= result_capacity)
				ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								errmsg("the result of a pg_tenancy worker is longer than %zu bytes",
									   result_capacity - 1)));
			put(result, result_capacity, value);
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, nullptr);
}

// Runs one utility statement as a top-level statement outside any
// transaction block, as a client's simple query would (plain C).
void execute_utility(const char *statement)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, statement);
	List *parsed = pg_parse_query(statement);
	if (list_length(parsed) != 1)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("a pg_tenancy worker runs one utility statement")));
	RawStmt *raw = linitial_node(RawStmt, parsed);
	PlannedStmt *planned = makeNode(PlannedStmt);
	planned->commandType = CMD_UTILITY;
	planned->canSetTag = true;
	planned->utilityStmt = raw->stmt;
	planned->stmt_location = raw->stmt_location;
	planned->stmt_len = raw->stmt_len;
	PushActiveSnapshot(GetTransactionSnapshot());
	ProcessUtility(planned, statement, false, PROCESS_UTILITY_TOPLEVEL, nullptr, nullptr, None_Receiver, nullptr);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, nullptr);
}

// The drop of a database that outlived its tenant (drop_later()), as the
// worker's extra data names it.
struct DropRequest {
	Oid control_database;
	char name[NAMEDATALEN];
};

// Drops the database of a drop request unless a tenant of the control
// database holds its name (plain C).
void execute_drop(const DropRequest *request)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	Oid types[1] = {TEXTOID};
	Datum values[1] = {CStringGetTextDatum(request->name)};
	int status = SPI_execute_with_args("SELECT NOT EXISTS (SELECT 1 FROM tenancy.tenant_databases d "
									   "WHERE d.database_name = $1)",
									   1, types, values, nullptr, true, 1);
	bool free_to_drop = false;
	if (status == SPI_OK_SELECT && SPI_processed == 1) {
		bool isnull;
		free_to_drop = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (free_to_drop)
		execute_utility(psprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", quote_identifier(request->name)));
}

// Starts a worker for a segment and waits until it exits; the worker is
// stopped when the wait is interrupted (plain C).
void launch_and_wait(dsm_segment *segment, const char *label)
{
	BackgroundWorker worker;
	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_tenancy worker: %s", label);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_tenancy worker");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_tenancy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tenancy_database_worker_main");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(segment));
	worker.bgw_notify_pid = MyProcPid;
	BackgroundWorkerHandle *handle;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						errmsg("could not start a pg_tenancy worker"),
						errdetail("Every background worker slot is taken."),
						errhint("Raise max_worker_processes, or try again when fewer workers run.")));
	PG_TRY();
	{
		if (WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
			ereport(FATAL, (errcode(ERRCODE_ADMIN_SHUTDOWN), errmsg("the postmaster died")));
	}
	PG_CATCH();
	{
		TerminateBackgroundWorker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

// Creates a segment big enough for the texts and the result, with the texts
// in place (plain C).
dsm_segment *create_segment(int kind, const char *name, const char *setup, const char *query,
							const char *argument, bool has_argument, const char *utility)
{
	Size lengths[4] = {strlen(setup) + 1, strlen(query) + 1, strlen(argument) + 1, strlen(utility) + 1};
	Size size = offsetof(Shared, data) + lengths[0] + lengths[1] + lengths[2] + lengths[3] + result_capacity;
	dsm_segment *segment = dsm_create(size, 0);
	Shared *shared = static_cast<Shared *>(dsm_segment_address(segment));
	memset(shared, 0, offsetof(Shared, data));
	shared->kind = kind;
	shared->database = MyDatabaseId;
	put(shared->name, sizeof(shared->name), name);
	shared->setup = 0;
	shared->query = shared->setup + lengths[0];
	shared->argument = shared->query + lengths[1];
	shared->utility = shared->argument + lengths[2];
	shared->result = shared->utility + lengths[3];
	memcpy(shared->data + shared->setup, setup, lengths[0]);
	memcpy(shared->data + shared->query, query, lengths[1]);
	memcpy(shared->data + shared->argument, argument, lengths[2]);
	memcpy(shared->data + shared->utility, utility, lengths[3]);
	shared->has_argument = has_argument;
	shared->data[shared->result] = '\0';
	return segment;
}

// Throws the outcome of a finished worker unless it succeeded.
void require_success(const Status &status, const std::string &where)
{
	if (status.outcome == succeeded)
		return;
	if (status.outcome == not_finished)
		throw Error(ERRCODE_CONNECTION_FAILURE, "the pg_tenancy worker for " + where + " stopped before it finished")
			.detail("It could not connect, or it was terminated; the server log says why.")
			.hint("Check that the database exists and accepts connections.");
	Error error(status.sqlstate, std::string(status.message));
	std::string detail = status.detail;
	detail = detail.empty() ? "It happened in " + where + "." : detail + " It happened in " + where + ".";
	throw std::move(error).detail(detail).hint(status.hint);
}

// Raises unless the role SQL runs as is a superuser.
void require_superuser()
{
	if (!superuser())
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to run pg_tenancy workers")
			.detail("Only pg_tenancy's own functions, running as a superuser, start them.");
}

// Launches a kind of worker for a segment, then checks its outcome and
// returns its result.
std::string run_segment(dsm_segment *segment, const char *label, const std::string &where)
{
	pg_call(launch_and_wait, segment, label);
	const Shared *shared = static_cast<const Shared *>(dsm_segment_address(segment));
	std::string result = shared->data + shared->result;
	Status status = shared->status;
	pg_call(dsm_detach, segment);
	require_success(status, where);
	return result;
}

// Launches the drop worker of one pending drop, without waiting; the
// transaction is over, so a failure is only logged (plain C).
void launch_drop(const PendingDrop &drop) noexcept
{
	BackgroundWorker worker;
	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_tenancy worker: drop %s", drop.name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_tenancy worker");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_tenancy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tenancy_database_worker_main");
	worker.bgw_main_arg = UInt32GetDatum(DSM_HANDLE_INVALID);
	DropRequest request;
	memset(&request, 0, sizeof(request));
	request.control_database = MyDatabaseId;
	put(request.name, sizeof(request.name), drop.name);
	static_assert(sizeof(DropRequest) <= BGW_EXTRALEN, "a drop request fits in bgw_extra");
	memcpy(worker.bgw_extra, &request, sizeof(request));
	if (!RegisterDynamicBackgroundWorker(&worker, nullptr))
		ereport(WARNING, (errmsg("could not start the pg_tenancy worker that drops database \"%s\"", drop.name),
						  errhint("tenancy.health_check() reports the database; drop it by hand.")));
}

// Launches the drops that the end of the transaction calls for, and forgets
// every pending drop.
void on_transaction_end(XactEvent event, void *) noexcept
{
	if (event == XACT_EVENT_PRE_PREPARE && pending_count > 0)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("cannot prepare a transaction that creates or drops a tenant's database")));
	bool committed = event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT;
	bool aborted = event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT;
	if (!committed && !aborted)
		return;
	for (int i = 0; i < pending_count; i++)
		if (pending[i].at_commit == committed)
			launch_drop(pending[i]);
	pending_count = 0;
}

// Launches the drops a rolled-back subtransaction calls for; hands those of
// a committed one to its parent.
void on_subtransaction_end(SubXactEvent event, SubTransactionId mine, SubTransactionId parent, void *) noexcept
{
	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	int kept = 0;
	for (int i = 0; i < pending_count; i++) {
		if (pending[i].subtransaction != mine)
			pending[kept++] = pending[i];
		else if (event == SUBXACT_EVENT_COMMIT_SUB) {
			pending[i].subtransaction = parent;
			pending[kept++] = pending[i];
		} else if (!pending[i].at_commit)
			launch_drop(pending[i]);
	}
	pending_count = kept;
}

} // namespace

// Runs statements in another database in a worker.
std::string run_in(const std::string &database, const std::string &setup, const std::string &query,
				   const std::string &argument)
{
	require_superuser();
	dsm_segment *segment = pg_call(create_segment, static_cast<int>(run_statements), database.c_str(), setup.c_str(),
								   query.c_str(), argument.c_str(), true, "");
	return run_segment(segment, database.c_str(), "database \"" + database + "\"");
}

// Runs a utility statement in a worker of this database.
void run_utility(const std::string &statement)
{
	require_superuser();
	dsm_segment *segment =
		pg_call(create_segment, static_cast<int>(run_utility_statement), "", "", "", "", false, statement.c_str());
	run_segment(segment, "utility statement", "a utility statement of a pg_tenancy worker");
}

// Queues a drop for the end of the transaction.
void drop_later(const std::string &name, bool at_commit)
{
	require_superuser();
	if (pending_count == max_pending)
		throw Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "too many tenant databases created or dropped in one transaction")
			.hint("Create or drop at most 64 database-mode tenants per transaction.");
	PendingDrop &drop = pending[pending_count];
	put(drop.name, sizeof(drop.name), name.c_str());
	drop.at_commit = at_commit;
	drop.subtransaction = GetCurrentSubTransactionId();
	pending_count++;
}

// Says whether this process is a pg_tenancy worker.
bool in_worker() noexcept
{
	return worker_process;
}

// Registers the transaction callbacks.
void register_callbacks()
{
	RegisterXactCallback(on_transaction_end, nullptr);
	RegisterSubXactCallback(on_subtransaction_end, nullptr);
}

} // namespace tenancy::database_worker

using namespace tenancy;

// The entry point of every pg_tenancy worker (plain C). With a segment it
// runs what the segment says and writes back the outcome; without one it
// drops the database its extra data names.
TENANCY_EXPORTED void tenancy_database_worker_main(Datum argument)
{
	using namespace tenancy::database_worker;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	worker_process = true;
	dsm_handle handle = DatumGetUInt32(argument);
	if (handle == DSM_HANDLE_INVALID) {
		DropRequest request;
		memcpy(&request, MyBgworkerEntry->bgw_extra, sizeof(request));
		BackgroundWorkerInitializeConnectionByOid(request.control_database, InvalidOid, 0);
		execute_drop(&request);
		return;
	}
	dsm_segment *segment = dsm_attach(handle);
	if (segment == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("the pg_tenancy worker's caller is gone")));
	Shared *shared = static_cast<Shared *>(dsm_segment_address(segment));
	if (shared->kind == run_statements)
		BackgroundWorkerInitializeConnection(shared->name, nullptr, BGWORKER_BYPASS_ALLOWCONN);
	else
		BackgroundWorkerInitializeConnectionByOid(shared->database, InvalidOid, 0);
	PG_TRY();
	{
		if (shared->kind == run_statements)
			execute_statements(shared);
		else
			execute_utility(shared->data + shared->utility);
		shared->status.outcome = succeeded;
	}
	PG_CATCH();
	{
		record_error(shared);
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	dsm_detach(segment);
}

// tenancy._run_in_database(database name, setup text, query text, argument
// text) → text: runs setup and then query ($1 = argument) in another
// database as the bootstrap superuser, in a transaction of its own that
// commits before this returns; the query's first value. Superusers only.
TENANCY_SQL_FUNCTION(tenancy_run_in_database)
{
	std::string database = NameStr(*PG_GETARG_NAME(0));
	std::string setup = text_to_cstring(PG_GETARG_TEXT_PP(1));
	std::string query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	std::string argument = PG_ARGISNULL(3) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	std::string result = guarded([&] { return database_worker::run_in(database, setup, query, argument); });
	PG_RETURN_TEXT_P(cstring_to_text_with_len(result.data(), result.size()));
}

// tenancy._run_outside_transaction(statement text): runs CREATE DATABASE or
// DROP DATABASE in a worker connected to this database. Superusers only.
TENANCY_SQL_FUNCTION(tenancy_run_outside_transaction)
{
	std::string statement = text_to_cstring(PG_GETARG_TEXT_PP(0));
	guarded([&] { database_worker::run_utility(statement); });
	PG_RETURN_VOID();
}

// tenancy._drop_database_later(name, at_commit boolean): drops a tenant's
// database when the transaction commits (true) or rolls back (false), unless
// a tenant holds it by then. Superusers only.
TENANCY_SQL_FUNCTION(tenancy_drop_database_later)
{
	std::string name = NameStr(*PG_GETARG_NAME(0));
	bool at_commit = PG_GETARG_BOOL(1);
	guarded([&] { database_worker::drop_later(name, at_commit); });
	PG_RETURN_VOID();
}

// tenancy._in_database_worker() → boolean: whether this session is a
// pg_tenancy worker (which alone writes the catalog of a tenant's database).
TENANCY_SQL_FUNCTION(tenancy_in_database_worker)
{
	PG_RETURN_BOOL(database_worker::in_worker());
}
