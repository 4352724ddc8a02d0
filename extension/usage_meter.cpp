// Usage metering (see usage_meter.hpp).
#include "usage_meter.hpp"
#include "access_log_queue.hpp"
#include "boundary.hpp"
#include "context.hpp"
#include "denial_collector.hpp"
#include "guc.hpp"
#include "protected_tables.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parsetree.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"
}

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace tenancy::usage_meter {

namespace {

using access_log::queue::Kind;
using access_log::queue::Record;

constexpr TimestampTz flush_interval = USECS_PER_SEC;

// What counts are kept by: tenant, table and UTC day (days since 2000-01-01).
struct Key {
	pg_uuid_t tenant;
	Oid relid;
	int32 day;

	// Orders keys, for the maps.
	bool operator<(const Key &other) const
	{
		int order = memcmp(tenant.data, other.tenant.data, UUID_LEN);
		return order != 0 ? order < 0 : std::tie(relid, day) < std::tie(other.relid, other.day);
	}
};

// Rows written.
struct Counts {
	int64 inserted = 0, updated = 0, deleted = 0;

	// Adds other's counts.
	void add(const Counts &other)
	{
		inserted += other.inserted;
		updated += other.updated;
		deleted += other.deleted;
	}
};

// Counts of the running transaction, at the subtransaction level that made them.
struct Delta {
	int level;
	Key key;
	Counts counts;
};

// An actor who used a tenant on a day.
using ActorKey = std::tuple<std::string, int32, std::string>; // tenant bytes, day, actor

std::vector<Delta> in_transaction;
std::map<Key, Counts> pending;
std::set<ActorKey> actors_noted;
std::vector<ActorKey> actors_pending;
TimestampTz last_flush = 0;

// Returns today's UTC day number.
int32 today()
{
	return static_cast<int32>(GetCurrentTimestamp() / USECS_PER_DAY);
}

// Adds rows written by a statement of the running (sub)transaction.
void add(const pg_uuid_t &tenant, Oid relid, CmdType operation, uint64 rows)
{
	Counts counts;
	int64 n = static_cast<int64>(rows);
	if (operation == CMD_INSERT)
		counts.inserted = n;
	else if (operation == CMD_DELETE)
		counts.deleted = n;
	else
		counts.updated = n; // UPDATE, and MERGE, whose rows are not told apart
	Key key{tenant, relid, today()};
	int level = GetCurrentTransactionNestLevel();
	for (Delta &delta : in_transaction)
		if (delta.level == level && !(delta.key < key) && !(key < delta.key)) {
			delta.counts.add(counts);
			return;
		}
	in_transaction.push_back({level, key, counts});
}

// Counts rows of a protected table for the current statement's tenant.
void count(Oid relid, CmdType operation, uint64 rows)
{
	if (rows == 0 || !guc::usage_metering() || IsParallelWorker() || protected_tables::find(relid) == nullptr)
		return;
	const context::Context *context = context::current_quietly();
	if (context != nullptr)
		add(context->tenant_id, relid, operation, rows);
}

// Fills a queue record's common fields.
Record record_of(Kind kind, const pg_uuid_t &tenant, int32 day)
{
	Record record{};
	record.kind = kind;
	record.has_tenant = true;
	record.tenant = tenant;
	record.at = static_cast<TimestampTz>(day) * USECS_PER_DAY;
	return record;
}

// Appends a record to this database's queue; false when it could not.
bool append(Record &record)
{
	access_log::queue::seal(record);
	return access_log::queue::append(MyDatabaseId, record);
}

// Appends the pending counts and actors to the queue (plain POSIX calls
// and memory: safe at commit and at the session's end). What cannot be
// appended stays pending.
void append_pending() noexcept
try {
	for (auto entry = pending.begin(); entry != pending.end();) {
		Record record = record_of(Kind::usage_writes, entry->first.tenant, entry->first.day);
		snprintf(record.requested, sizeof(record.requested), "%u", entry->first.relid);
		snprintf(record.message, sizeof(record.message), INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT,
				 entry->second.inserted, entry->second.updated, entry->second.deleted);
		if (!append(record))
			return;
		entry = pending.erase(entry);
	}
	while (!actors_pending.empty()) {
		const ActorKey &actor = actors_pending.back();
		pg_uuid_t tenant;
		memcpy(tenant.data, std::get<0>(actor).data(), UUID_LEN);
		Record record = record_of(Kind::usage_actor, tenant, std::get<1>(actor));
		snprintf(record.actor, sizeof(record.actor), "%s", std::get<2>(actor).c_str());
		if (!append(record))
			return;
		actors_pending.pop_back();
	}
} catch (...) {
	// Out of memory: the counts stay pending for the next flush.
}

// Starts the collector, quietly: at commit no error may be raised, and the
// next flush tries again.
void start_collector() noexcept
try {
	pg_call(denial_collector::ensure_running);
} catch (...) {
}

// At the end of each subtransaction: an abort takes its counts away, a
// commit hands them to its parent.
void on_subtransaction(SubXactEvent event, SubTransactionId subxact, SubTransactionId parent, void *arg) noexcept
{
	if (in_transaction.empty())
		return;
	int level = GetCurrentTransactionNestLevel();
	if (event == SUBXACT_EVENT_ABORT_SUB) {
		std::vector<Delta> kept;
		for (const Delta &delta : in_transaction)
			if (delta.level < level)
				kept.push_back(delta);
		in_transaction.swap(kept);
	} else if (event == SUBXACT_EVENT_COMMIT_SUB) {
		for (Delta &delta : in_transaction)
			if (delta.level >= level)
				delta.level = level - 1;
	}
}

// At the end of each transaction: a commit makes its counts pending, and
// flushes them when the last flush is a second old; an abort drops them.
void on_transaction(XactEvent event, void *arg) noexcept
try {
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE) {
		in_transaction.clear();
		return;
	}
	if (event != XACT_EVENT_COMMIT)
		return;
	for (const Delta &delta : in_transaction)
		pending[delta.key].add(delta.counts);
	in_transaction.clear();
	if ((pending.empty() && actors_pending.empty()) || GetCurrentTimestamp() - last_flush < flush_interval)
		return;
	last_flush = GetCurrentTimestamp();
	append_pending();
	start_collector();
} catch (...) {
	in_transaction.clear();
}

// At the session's end: what is pending goes to the queue.
void on_exit(int code, Datum arg) noexcept
{
	append_pending();
}

} // namespace

// Counts the rows a finished statement wrote into a protected table.
void count_statement(const QueryDesc *query)
{
	CmdType operation = query->operation;
	if (operation != CMD_INSERT && operation != CMD_UPDATE && operation != CMD_DELETE && operation != CMD_MERGE)
		return;
	const PlannedStmt *plan = query->plannedstmt;
	if (query->estate == nullptr || plan == nullptr || plan->resultRelations == NIL)
		return;
	Index first = linitial_int(plan->resultRelations);
	count(rt_fetch(first, plan->rtable)->relid, operation, query->estate->es_processed);
}

// Counts the rows a COPY FROM wrote.
void count_copy(Oid relid, uint64 rows)
{
	count(relid, CMD_INSERT, rows);
}

// Notes an actor's use of a tenant today.
void note_actor(const pg_uuid_t &tenant, const std::string &actor)
{
	if (IsParallelWorker())
		return;
	ActorKey key{std::string(reinterpret_cast<const char *>(tenant.data), UUID_LEN), today(), actor};
	if (actors_noted.insert(key).second)
		actors_pending.push_back(std::move(key));
}

// Appends every committed count to the queue now, and starts the collector.
void flush()
{
	last_flush = GetCurrentTimestamp();
	append_pending();
	pg_call(denial_collector::ensure_running);
}

// Registers the callbacks.
void register_callbacks()
{
	RegisterXactCallback(on_transaction, nullptr);
	RegisterSubXactCallback(on_subtransaction, nullptr);
	before_shmem_exit(on_exit, 0);
}

} // namespace tenancy::usage_meter
