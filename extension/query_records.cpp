// What each query started with (see query_records.hpp).
//
// A record holds the context inputs a query started with, the statement it
// started in, the transaction, and the protected tables it reads, directly or
// through the queries it runs (a function that reads a protected table). It
// is forgotten when the query's executor state is freed. A cursor WITH HOLD
// keeps a copy of its record after its query ended, for as long as it exists.
#include "query_records.hpp"
#include "owner_scope.hpp"
#include "boundary.hpp"
#include "invalidation.hpp"
#include "statement.hpp"
#include "statement_check.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "utils/memutils.h"
#include "utils/portal.h"
}

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace tenancy::query_records {

namespace {

using statement_check::Access;

// What a query started with.
struct QueryRecord {
	statement::Inputs inputs;
	uint64 boundary;                // the top-level statement it started in
	TimestampTz stamp;              // the statement start time (one per protocol message) it started at
	LocalTransactionId transaction; // the transaction it started in
	std::vector<Access> accesses;   // the protected tables its rows come from
	uint64 scope;                   // the owner scope it started in (owner_scope.hpp), 0 for none
};

// A cursor WITH HOLD whose rows outlived the transaction that read them.
struct HeldCursor {
	Portal portal; // compared, never followed: the portal may be gone
	std::string name;
	TimestampTz created;
	QueryRecord record;
};

// The records of the queries whose executor is open; few at a time (nested
// queries and open cursors), so a list searched from its end.
std::vector<std::pair<const QueryDesc *, QueryRecord>> records;
// The recorded queries that are running now, innermost last.
std::vector<const QueryDesc *> run_stack;
std::vector<HeldCursor> held;
uint64 held_checked_generation = 0;

// Returns the record of a query, or nullptr.
QueryRecord *record_of(const QueryDesc *query) noexcept
{
	for (auto entry = records.rbegin(); entry != records.rend(); ++entry)
		if (entry->first == query)
			return &entry->second;
	return nullptr;
}

// Forgets the record of a query whose executor state is going away.
void forget_query(void *query) noexcept
{
	for (size_t i = records.size(); i-- > 0;)
		if (records[i].first == query) {
			records.erase(records.begin() + static_cast<long>(i));
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

// Adds accesses to a record, once each.
void add_accesses(QueryRecord &record, const std::vector<Access> &accesses)
{
	for (const Access &access : accesses) {
		auto same = [&access](const Access &known) { return known.relid == access.relid; };
		auto known = std::find_if(record.accesses.begin(), record.accesses.end(), same);
		if (known == record.accesses.end())
			record.accesses.push_back(access);
		else
			known->perms |= access.perms;
	}
}

// Says whether the query being started is a cursor's or a portal's own query
// (PortalStart of a SELECT), which may run again in a later statement.
bool starting_portal_query()
{
	return ActivePortal != nullptr && ActivePortal->strategy == PORTAL_ONE_SELECT && ActivePortal->queryDesc == nullptr;
}

// Returns the name of the portal running now, for messages.
std::string running_portal_name()
{
	return ActivePortal != nullptr && ActivePortal->name != nullptr && ActivePortal->name[0] != '\0'
		? std::string(ActivePortal->name) : std::string("(unnamed)");
}

// Refuses a record whose tenant or actor was set for a transaction that has
// ended: such settings count only in their own transaction.
void require_same_transaction(const QueryRecord &record, const std::string &portal)
{
	if ((record.inputs.tenant_local || record.inputs.actor_local) && record.transaction != MyProc->lxid)
		throw Error(ERRCODE_INVALID_CURSOR_STATE,
					"cursor \"" + portal + "\" was opened with tenancy settings of another transaction")
			.detail("Its tenant or actor was set for the transaction that opened it (SET LOCAL), which has ended.")
			.hint("Open the cursor again in this transaction.");
}

// Makes a record's inputs current and checks its accesses against the
// catalog as it is now.
void enter(const QueryRecord &record, bool check)
{
	if (!statement::push(record.inputs))
		throw Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "too many cursors on protected tables are running at once");
	if (!check)
		return;
	try {
		statement_check::require(record.accesses);
	} catch (...) {
		statement::pop();
		throw;
	}
}


// Returns the held cursor that portal is, or nullptr.
HeldCursor *held_cursor(Portal portal)
{
	if (portal == nullptr || portal->holdStore == nullptr)
		return nullptr;
	for (HeldCursor &cursor : held)
		if (cursor.portal == portal && cursor.created == portal->creation_time)
			return &cursor;
	return nullptr;
}

// Checks a held cursor's record; throws when it is no longer allowed.
void check_held(const HeldCursor &cursor)
{
	require_same_transaction(cursor.record, cursor.name);
	enter(cursor.record, true);
	statement::pop();
}

// Says whether a held portal may be closed now (not running, not pinned).
bool closable(Portal portal)
{
	return portal->status == PORTAL_READY && !portal->portalPinned;
}

// Closes a held cursor whose context is no longer allowed, with a warning.
void close_cursor(Portal portal, const char *name, const char *reason)
{
	ereport(WARNING, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					  errmsg("closed cursor \"%s\": %s", name, reason),
					  errdetail("A cursor WITH HOLD is checked again at every statement; its tenant context is "
								"no longer allowed.")));
	PortalDrop(portal, false);
}

} // namespace

// Says whether the active portal is a cursor WITH HOLD being stored at the
// end of its transaction (PersistHoldablePortal).
bool persisting(const QueryDesc *query, bool done)
{
	return ActivePortal != nullptr && ActivePortal->holdStore != nullptr &&
		   (ActivePortal->cursorOptions & CURSOR_OPT_HOLD) && ActivePortal->queryDesc == (done ? nullptr : query);
}

// Remembers what a query started with.
void started(QueryDesc *query, bool top_level)
{
	if (query->plannedstmt == nullptr || query->estate == nullptr)
		return;
	const std::vector<Access> &accesses = statement_check::found_in(query->plannedstmt->rtable);
	if (!accesses.empty())
		for (const QueryDesc *outer : run_stack)
			if (QueryRecord *record = record_of(outer))
				add_accesses(*record, accesses);
	if (accesses.empty() && !top_level && !starting_portal_query())
		return;
	forget_query(query); // an earlier query freed without a reset of its context
	records.emplace_back(query, QueryRecord{statement::current(), statement::boundary(),
											GetCurrentStatementStartTimestamp(), MyProc->lxid, accesses,
											owner_scope::current_serial()});
	pg_call(forget_with_executor_state, query);
}

// Before a query runs.
bool running(QueryDesc *query)
{
	const QueryRecord *record = record_of(query);
	if (record == nullptr)
		return false;
	run_stack.push_back(query);
	try {
		// While pg_tenancy runs a table owner's code, a cursor opened outside
		// (by the caller, with the caller's tenant) is not read: the owner's
		// code would get rows the scope does not show it.
		if (owner_scope::active() && record->scope != owner_scope::current_serial() && !record->accesses.empty())
			throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "cursor cannot be read here")
				.detail("pg_tenancy is running a statement as a table's owner; a cursor on protected tables opened "
						"before it cannot be read by the code that runs meanwhile.");
		if (record->boundary == statement::boundary() && record->stamp == GetCurrentStatementStartTimestamp())
			return false;
		bool storing = persisting(query, false);
		if (!storing)
			require_same_transaction(*record, running_portal_name());
		enter(*record, !record->accesses.empty() && !storing);
	} catch (...) {
		run_stack.pop_back();
		throw;
	}
	return true;
}

// After a query ran.
void finished(QueryDesc *query, bool pushed) noexcept
{
	if (pushed)
		statement::pop();
	if (!run_stack.empty() && run_stack.back() == query)
		run_stack.pop_back();
}

// Before a query's executor ends.
void ending(QueryDesc *query)
{
	const QueryRecord *record = record_of(query);
	if (record == nullptr || !persisting(query, true) || record->accesses.empty())
		return;
	held.push_back(HeldCursor{ActivePortal, ActivePortal->name, ActivePortal->creation_time, *record});
}

// Checks a FETCH or MOVE from a cursor WITH HOLD.
void fetching(const FetchStmt *fetch)
{
	Portal portal = fetch->portalname ? pg_call(GetPortalByName, fetch->portalname) : nullptr;
	if (const HeldCursor *cursor = held_cursor(portal))
		check_held(*cursor);
}

// Closes the cursors WITH HOLD whose context is no longer allowed.
void check_held_cursors()
{
	if (held.empty())
		return;
	invalidation::catch_up();
	uint64 generation = invalidation::generation();
	if (generation == held_checked_generation)
		return;
	for (size_t i = 0; i < held.size(); i++) {
		Portal portal = pg_call(GetPortalByName, held[i].name.c_str());
		if (held_cursor(portal) != &held[i] || !pg_call(closable, portal))
			continue;
		std::string reason;
		try {
			check_held(held[i]);
			continue;
		} catch (const Error &refusal) {
			reason = refusal.message_; // ours: thrown after every PostgreSQL call returned cleanly
		}
		pg_call(close_cursor, portal, held[i].name.c_str(), reason.c_str());
	}
	held_checked_generation = generation;
	forget_closed_cursors();
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

} // namespace tenancy::query_records
