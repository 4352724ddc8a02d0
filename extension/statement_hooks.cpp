// The planner, executor and utility hooks of pg_tenancy.
//
// They count how deeply statements nest, so that the start of a top-level
// statement is known: there the context's inputs are captured for the whole
// statement (statement.hpp). A top-level statement is one that a portal runs
// (PortalStart, PortalRun) at nesting level zero; code that runs outside a
// portal at level zero — deferred triggers firing at COMMIT, a fast-path
// function call — keeps the inputs of the statement it belongs to. Planning
// and executor start-up count as nested, since both can run user functions
// (constant folding, partition pruning).
//
// Each query's record (query_records.hpp) lets a query that runs again in a
// later statement run with its own context, checked again first.
//
// The hooks themselves are plain C-style code: PostgreSQL may raise errors
// through them (longjmp), so no C++ object lives in their frames; C++ runs
// inside guarded() calls that complete before PostgreSQL is called again.
#include "statement_hooks.hpp"
#include "withheld_errors.hpp"
#include "audit_writer.hpp"
#include "boundary.hpp"
#include "implied_reads.hpp"
#include "catalog_load.hpp"
#include "lock_guard.hpp"
#include "query_records.hpp"
#include "session_settings.hpp"
#include "statement.hpp"
#include "statement_check.hpp"
#include "tenant_schemas.hpp"
#include "usage_meter.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "optimizer/planner.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
}

namespace tenancy::statement_hooks {

namespace {

planner_hook_type previous_planner = nullptr;
ExecutorStart_hook_type previous_start = nullptr;
ExecutorRun_hook_type previous_run = nullptr;
ExecutorFinish_hook_type previous_finish = nullptr;
ExecutorEnd_hook_type previous_end = nullptr;
ProcessUtility_hook_type previous_utility = nullptr;

int nesting = 0;
bool top_level_fetch = false; // a FETCH or MOVE sent by the client is running

// Before a top-level utility statement runs: the statement's inputs, and the
// cursors WITH HOLD (a FETCH checks the cursor it reads; CLOSE may close any).
void before_top_level_utility(const Node *statement)
{
	statement::begin_top_level();
	if (IsA(statement, FetchStmt))
		query_records::fetching(reinterpret_cast<const FetchStmt *>(statement));
	else if (!IsA(statement, ClosePortalStmt))
		query_records::check_held_cursors();
}

// Says whether a tenant's session settings may be applied now: inside a
// transaction that has not failed, outside parallel mode. They are applied
// nested, since reading them may run a query.
bool may_apply_settings()
{
	return IsTransactionState() && !IsAbortedTransactionBlockState() && !IsInParallelMode();
}

// Says whether a plan being made at nesting level zero is that of a
// statement the client sent (simple query, or Bind of the extended
// protocol), whose text the traffic cop passes on as debug_query_string
// itself: not one that code run outside any statement prepares, such as a
// deferred trigger's or a foreign key check's at COMMIT.
bool planning_client_statement(const char *query_string)
{
	return query_string != nullptr && query_string == debug_query_string;
}

// Meters the rows a COPY FROM wrote into a table.
void meter_copy(const CopyStmt *copy, uint64 rows)
{
	if (!copy->is_from || copy->relation == nullptr || rows == 0)
		return;
	Oid relid = pg_call([&] { return RangeVarGetRelid(copy->relation, NoLock, true); });
	if (OidIsValid(relid))
		usage_meter::count_copy(relid, rows);
}

// Before a top-level query starts.
void before_top_level_query()
{
	statement::begin_top_level();
	query_records::check_held_cursors();
}

// The planner hook: planning counts as nested. A top-level statement's
// planning runs with its tenant's session settings already. Drops the read
// policy's clauses that a write policy's implies (implied_reads.hpp) first.
PlannedStmt *on_planner(Query *parse, const char *query_string, int options, ParamListInfo params) noexcept
{
	PlannedStmt *volatile planned = nullptr;
	const volatile bool top_level = nesting == 0 && !IsParallelWorker() && planning_client_statement(query_string);
	nesting++;
	PG_TRY();
	{
		if (top_level && may_apply_settings())
			guarded([] { session_settings::apply_before_planning(); });
		implied_reads::drop(parse);
		planned = previous_planner ? previous_planner(parse, query_string, options, params)
								   : standard_planner(parse, query_string, options, params);
	}
	PG_FINALLY();
	{
		nesting--;
	}
	PG_END_TRY();
	return planned;
}

// The ExecutorStart hook: marks a top-level statement's start, and records
// what the query started with.
void on_executor_start(QueryDesc *query, int eflags) noexcept
{
	const volatile bool ours = !IsParallelWorker();
	const volatile bool top_level = ours && nesting == 0 && ActivePortal != nullptr;
	if (top_level)
		guarded([] { before_top_level_query(); });
	if (ours)
		statement_check::forget_found();
	nesting++;
	PG_TRY();
	{
		if (top_level && may_apply_settings())
			guarded([] { session_settings::apply(); });
		if (previous_start)
			previous_start(query, eflags);
		else
			standard_ExecutorStart(query, eflags);
	}
	PG_FINALLY();
	{
		nesting--;
	}
	PG_END_TRY();
	if (ours) {
		guarded([&] { query_records::started(query, top_level); });
		guarded([&] { usage_meter::start_statement(query); });
	}
}

// The ExecutorRun hook: a query started in an earlier statement runs with its
// own inputs, checked again first. When the client itself runs it (a FETCH
// or MOVE it sent, an Execute message), the statement gets the tenant's
// session settings too; a cursor read by code inside another statement
// leaves that statement's alone, and so does a cursor WITH HOLD stored at
// commit, when no statement timer runs.
void on_executor_run(QueryDesc *query, ScanDirection direction, uint64 count, bool execute_once) noexcept
{
	const volatile bool ours = !IsParallelWorker();
	const volatile bool pushed = ours && guarded([&] { return query_records::running(query); });
	const volatile bool run_by_client = nesting == 0 || (top_level_fetch && nesting == 1);
	nesting++;
	PG_TRY();
	{
		if (pushed && run_by_client && !query_records::persisting(query, false) && may_apply_settings())
			guarded([] { session_settings::apply(); });
		if (previous_run)
			previous_run(query, direction, count, execute_once);
		else
			standard_ExecutorRun(query, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		nesting--;
		if (ours)
			query_records::finished(query, pushed);
	}
	PG_END_TRY();
}

// The ExecutorFinish hook: AFTER triggers run nested in their statement.
void on_executor_finish(QueryDesc *query) noexcept
{
	nesting++;
	PG_TRY();
	{
		if (previous_finish)
			previous_finish(query);
		else
			standard_ExecutorFinish(query);
	}
	PG_FINALLY();
	{
		nesting--;
	}
	PG_END_TRY();
}

// The ExecutorEnd hook: a cursor WITH HOLD keeps its query's record, and the
// rows a statement wrote are metered.
void on_executor_end(QueryDesc *query) noexcept
{
	if (!IsParallelWorker()) {
		guarded([&] { query_records::ending(query); });
		guarded([&] { usage_meter::end_statement(query); });
	}
	if (previous_end)
		previous_end(query);
	else
		standard_ExecutorEnd(query);
}

// The ProcessUtility hook: marks a top-level statement's start, runs the
// guards before and after the statement (withholding the errors of
// maintenance commands), checks cursors WITH HOLD, notes a COPY that
// restores the catalog, and lets DDL find the audit log's partitions unused
// (every utility statement but transaction control, SET, SHOW and EXECUTE
// of a prepared statement, which cannot be DDL).
void on_utility(PlannedStmt *statement, const char *query_string, bool read_only_tree,
				ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *environment,
				DestReceiver *destination, QueryCompletion *completion) noexcept
{
	const Node *const parsed = statement->utilityStmt;
	const volatile bool ours = !IsParallelWorker();
	const volatile bool top_level = ours && nesting == 0 && context == PROCESS_UTILITY_TOPLEVEL;
	volatile Oid loaded_before = InvalidOid;
	if (ours) {
		if (top_level)
			guarded([&] { before_top_level_utility(parsed); });
		else if (IsA(parsed, FetchStmt))
			guarded([&] { query_records::fetching(reinterpret_cast<const FetchStmt *>(parsed)); });
		guarded([&] { lock_guard::before(parsed); });
		guarded([&] { tenant_schemas::check_utility(parsed); });
		guarded([&] { withheld_errors::begin_maintenance(parsed); });
		loaded_before = guarded([&] { return catalog_load::begin(parsed); });
		if (!IsA(parsed, TransactionStmt) && !IsA(parsed, VariableSetStmt) && !IsA(parsed, VariableShowStmt) &&
			!IsA(parsed, ExecuteStmt))
			audit::release_writer();
	}
	const volatile bool fetch_before = top_level_fetch;
	nesting++;
	PG_TRY();
	{
		top_level_fetch = top_level && IsA(parsed, FetchStmt);
		if (top_level && !IsA(parsed, TransactionStmt) && may_apply_settings())
			guarded([] { session_settings::apply(); });
		if (previous_utility)
			previous_utility(statement, query_string, read_only_tree, context, params, environment, destination,
							 completion);
		else
			standard_ProcessUtility(statement, query_string, read_only_tree, context, params, environment,
									destination, completion);
	}
	PG_FINALLY();
	{
		nesting--;
		top_level_fetch = fetch_before;
		if (ours)
			catalog_load::end(loaded_before);
	}
	PG_END_TRY();
	if (ours) {
		withheld_errors::end_maintenance(parsed);
		guarded([&] { lock_guard::after(parsed); });
		if (IsA(parsed, CopyStmt) && completion != nullptr)
			guarded([&] { meter_copy(reinterpret_cast<const CopyStmt *>(parsed), completion->nprocessed); });
	}
}

// At the end of each transaction: forgets closed cursors WITH HOLD, and after
// an abort outside any statement, every pushed context.
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT)
		return;
	if (event == XACT_EVENT_ABORT && nesting == 0)
		statement::reset();
	query_records::forget_closed_cursors();
}

} // namespace

// Installs the hooks and the transaction callback.
void install()
{
	previous_planner = planner_hook;
	planner_hook = on_planner;
	previous_start = ExecutorStart_hook;
	ExecutorStart_hook = on_executor_start;
	previous_run = ExecutorRun_hook;
	ExecutorRun_hook = on_executor_run;
	previous_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = on_executor_finish;
	previous_end = ExecutorEnd_hook;
	ExecutorEnd_hook = on_executor_end;
	previous_utility = ProcessUtility_hook;
	ProcessUtility_hook = on_utility;
	RegisterXactCallback(on_transaction_end, nullptr);
}

} // namespace tenancy::statement_hooks
