// The executor and utility hooks of pg_tenancy.
//
// They count how deeply statements nest, so that the start of a top-level
// statement is known: there the context's inputs are captured for the whole
// statement (statement.hpp). A query that reads or writes protected tables
// remembers the inputs it started with and the protected tables it uses;
// when it runs again in a later statement (a cursor's FETCH, a portal
// executed later), it is checked again against the catalog as it is now and
// runs with its own inputs. A cursor WITH HOLD, whose rows are kept after its
// transaction, is checked again at every FETCH and MOVE.
//
// The hooks themselves are plain C-style code: PostgreSQL may raise errors
// through them (longjmp), so no C++ object lives in their frames; C++ runs
// inside guarded() calls that complete before PostgreSQL is called again.
#include "statement_hooks.hpp"
#include "boundary.hpp"
#include "lock_guard.hpp"
#include "statement.hpp"
#include "statement_check.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/portal.h"
}

#include <string>
#include <utility>
#include <vector>

namespace tenancy::statement_hooks {

namespace {

// What a query started with: a top-level query (whose portal may run in a
// later protocol message or statement), or any query on protected tables.
struct QueryRecord {
	statement::Inputs inputs;
	uint64 boundary;   // the top-level statement it started in
	TimestampTz stamp; // the statement start time (one per protocol message) it started at
	std::vector<statement_check::Access> accesses;
};

// A cursor WITH HOLD whose rows outlived the transaction that read them.
struct HeldCursor {
	Portal portal; // compared, never followed: the portal may be gone
	std::string name;
	TimestampTz created;
	QueryRecord record;
};

constexpr size_t max_held = 1000;

ExecutorStart_hook_type previous_start = nullptr;
ExecutorRun_hook_type previous_run = nullptr;
ExecutorFinish_hook_type previous_finish = nullptr;
ExecutorEnd_hook_type previous_end = nullptr;
ProcessUtility_hook_type previous_utility = nullptr;

int nesting = 0;
// The records of the queries whose executor is open; few at a time (nested
// queries and open cursors), so a list searched from its end.
std::vector<std::pair<const QueryDesc *, QueryRecord>> running;
std::vector<HeldCursor> held;

// Returns the record of a query, or nullptr.
QueryRecord *record_of(const QueryDesc *query) noexcept
{
	for (auto entry = running.rbegin(); entry != running.rend(); ++entry)
		if (entry->first == query)
			return &entry->second;
	return nullptr;
}

// Forgets the record of a query whose executor state is going away.
void forget_query(void *query) noexcept
{
	for (size_t i = running.size(); i-- > 0;)
		if (running[i].first == query) {
			running.erase(running.begin() + static_cast<long>(i));
			return;
		}
}

// Arranges for forget_query() to run when the query's executor state is freed.
void forget_with_executor_state(QueryDesc *query)
{
	auto *callback = static_cast<MemoryContextCallback *>(
		MemoryContextAlloc(query->estate->es_query_cxt, sizeof(MemoryContextCallback)));
	callback->func = forget_query;
	callback->arg = query;
	MemoryContextRegisterResetCallback(query->estate->es_query_cxt, callback);
}

// Remembers what a top-level query, or a query on protected tables, started with.
void remember_query(QueryDesc *query, bool top_level)
{
	if (query->plannedstmt == nullptr || query->estate == nullptr)
		return;
	const std::vector<statement_check::Access> &accesses = statement_check::found_in(query->plannedstmt->rtable);
	if (accesses.empty() && !top_level)
		return;
	forget_query(query); // an earlier query freed without a reset of its context
	running.emplace_back(query, QueryRecord{statement::current(), statement::boundary(),
											GetCurrentStatementStartTimestamp(), accesses});
	pg_call(forget_with_executor_state, query);
}

// Makes a record's inputs current and checks its accesses against the
// catalog as it is now; returns false when nothing was pushed.
bool enter(const QueryRecord &record, bool check)
{
	if (!statement::push(record.inputs))
		throw Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "too many cursors on protected tables are running at once");
	if (!check)
		return true;
	try {
		statement_check::require(record.accesses);
	} catch (...) {
		statement::pop();
		throw;
	}
	return true;
}

// Says whether the active portal is a cursor WITH HOLD being stored at the
// end of its transaction (PersistHoldablePortal).
bool persisting(const QueryDesc *query, bool done)
{
	return ActivePortal != nullptr && ActivePortal->holdStore != nullptr &&
		   (ActivePortal->cursorOptions & CURSOR_OPT_HOLD) &&
		   ActivePortal->queryDesc == (done ? nullptr : query);
}

// Before a query runs: a query started in an earlier statement (a cursor
// fetched from, a portal bound in one protocol message and executed in
// another) runs with its own inputs, and its protected tables are checked
// again (unless it is only being stored for a cursor WITH HOLD: that cursor
// is checked at each FETCH instead).
bool before_run(QueryDesc *query)
{
	const QueryRecord *found = record_of(query);
	if (found == nullptr)
		return false;
	const QueryRecord &record = *found;
	if (record.boundary == statement::boundary() && record.stamp == GetCurrentStatementStartTimestamp())
		return false;
	return enter(record, !record.accesses.empty() && !persisting(query, false));
}

// Before a query's executor ends: the record of a cursor WITH HOLD being
// stored moves to the cursor, for its FETCHes.
void before_end(QueryDesc *query)
{
	const QueryRecord *found = record_of(query);
	if (found == nullptr || !persisting(query, true))
		return;
	if (held.size() >= max_held)
		held.erase(held.begin());
	held.push_back(HeldCursor{ActivePortal, ActivePortal->name, ActivePortal->creation_time, *found});
}

// Returns the record of the cursor WITH HOLD a FETCH or MOVE reads, if any.
const QueryRecord *held_record(const FetchStmt *fetch)
{
	Portal portal = fetch->portalname ? GetPortalByName(fetch->portalname) : nullptr;
	if (portal == nullptr || portal->holdStore == nullptr)
		return nullptr;
	for (const HeldCursor &cursor : held)
		if (cursor.portal == portal && cursor.created == portal->creation_time)
			return &cursor.record;
	return nullptr;
}

// Before a utility statement runs: guards, and the check of a FETCH from a
// cursor WITH HOLD.
void before_utility(const Node *statement)
{
	lock_guard::before(statement);
	if (IsA(statement, FetchStmt)) {
		const QueryRecord *record = held_record(reinterpret_cast<const FetchStmt *>(statement));
		if (record != nullptr && enter(*record, true))
			statement::pop();
	}
}

// Forgets the held cursors that no longer exist.
void forget_closed_cursors() noexcept
{
	for (size_t i = 0; i < held.size();) {
		Portal portal = GetPortalByName(held[i].name.c_str());
		if (portal == held[i].portal && portal->creation_time == held[i].created)
			i++;
		else
			held.erase(held.begin() + static_cast<long>(i));
	}
}

// The ExecutorStart hook: marks a top-level statement's start, and remembers
// what a query on protected tables started with.
void on_executor_start(QueryDesc *query, int eflags) noexcept
{
	bool top_level = nesting == 0;
	if (!IsParallelWorker()) {
		if (top_level)
			statement::begin_top_level();
		statement_check::forget_found();
	}
	if (previous_start)
		previous_start(query, eflags);
	else
		standard_ExecutorStart(query, eflags);
	if (!IsParallelWorker())
		guarded([&] { remember_query(query, top_level); });
}

// The ExecutorRun hook: a query started in an earlier statement runs with its
// own inputs, checked again first.
void on_executor_run(QueryDesc *query, ScanDirection direction, uint64 count, bool execute_once) noexcept
{
	bool pushed = !IsParallelWorker() && guarded([&] { return before_run(query); });
	nesting++;
	PG_TRY();
	{
		if (previous_run)
			previous_run(query, direction, count, execute_once);
		else
			standard_ExecutorRun(query, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		nesting--;
		if (pushed)
			statement::pop();
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

// The ExecutorEnd hook: a cursor WITH HOLD keeps its query's record.
void on_executor_end(QueryDesc *query) noexcept
{
	if (!IsParallelWorker())
		guarded([&] { before_end(query); });
	if (previous_end)
		previous_end(query);
	else
		standard_ExecutorEnd(query);
}

// The ProcessUtility hook: marks a top-level statement's start, runs the
// guards before and after the statement, and checks FETCH from a cursor WITH
// HOLD.
void on_utility(PlannedStmt *statement, const char *query_string, bool read_only_tree,
				ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *environment,
				DestReceiver *destination, QueryCompletion *completion) noexcept
{
	const Node *parsed = statement->utilityStmt;
	bool ours = !IsParallelWorker();
	if (ours) {
		if (nesting == 0)
			statement::begin_top_level();
		guarded([&] { before_utility(parsed); });
	}
	nesting++;
	PG_TRY();
	{
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
	}
	PG_END_TRY();
	if (ours)
		guarded([&] { lock_guard::after(parsed); });
}

// Forgets cursors WITH HOLD that were closed, at the end of each transaction.
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT)
		return;
	if (event == XACT_EVENT_ABORT && nesting == 0)
		statement::reset();
	forget_closed_cursors();
}

} // namespace

// Installs the hooks and the transaction callback.
void install()
{
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
