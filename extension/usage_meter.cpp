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
#include "pgstat.h"
#include "storage/ipc.h"
#include "utils/rel.h"
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

	// Says whether any row is counted.
	bool any() const { return inserted != 0 || updated != 0 || deleted != 0; }
};

// A table a running statement measures: its counters when it started.
struct Measure {
	const QueryDesc *owner;
	Relation relation;
	int level;
	Counts start;
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
std::vector<Measure> measures;
std::map<Key, Counts> pending;
std::set<ActorKey> actors_noted;
std::vector<ActorKey> actors_pending;
TimestampTz last_flush = 0;
bool flushed_in_transaction = false;

// Returns today's UTC day number.
int32 today()
{
	return static_cast<int32>(GetCurrentTimestamp() / USECS_PER_DAY);
}

// Says whether two keys are equal.
bool same(const Key &a, const Key &b)
{
	return !(a < b) && !(b < a);
}

// Adds rows written at a level of the running transaction to its list.
void add_at(int level, const Key &key, const Counts &counts)
{
	for (Delta &delta : in_transaction)
		if (delta.level == level && same(delta.key, key)) {
			delta.counts.add(counts);
			return;
		}
	in_transaction.push_back({level, key, counts});
}

// Counts rows of a table for the current statement's tenant.
void count(Oid relid, const Counts &counts)
{
	if (!counts.any())
		return;
	const context::Context *context = context::current_quietly();
	if (context != nullptr)
		add_at(GetCurrentTransactionNestLevel(), Key{context->tenant_id, relid, today()}, counts);
}

// Says whether metering runs in this process.
bool metering()
{
	return guc::usage_metering() && !IsParallelWorker();
}

// Returns pgstat's counters of a table for one level of the transaction.
Counts counters_of(Relation relation, int level)
{
	Counts counts;
	const PgStat_TableStatus *status = relation->pgstat_info;
	if (status != nullptr && status->trans != nullptr && status->trans->nest_level == level) {
		counts.inserted = status->trans->tuples_inserted;
		counts.updated = status->trans->tuples_updated;
		counts.deleted = status->trans->tuples_deleted;
	}
	return counts;
}

// Says whether a statement measures a table already.
bool measured(Oid relid)
{
	for (const Measure &measure : measures)
		if (RelationGetRelid(measure.relation) == relid)
			return true;
	return false;
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

// At the end of each subtransaction: an abort takes its counts (and the
// measures of its statements) away, a commit merges them into its parent's.
void on_subtransaction(SubXactEvent event, SubTransactionId subxact, SubTransactionId parent, void *arg) noexcept
try {
	int level = GetCurrentTransactionNestLevel();
	if (event == SUBXACT_EVENT_ABORT_SUB) {
		std::vector<Delta> kept;
		for (const Delta &delta : in_transaction)
			if (delta.level < level)
				kept.push_back(delta);
		in_transaction.swap(kept);
		std::vector<Measure> running;
		for (const Measure &measure : measures)
			if (measure.level < level)
				running.push_back(measure);
		measures.swap(running);
	} else if (event == SUBXACT_EVENT_COMMIT_SUB && !in_transaction.empty()) {
		std::vector<Delta> merged;
		merged.swap(in_transaction);
		for (const Delta &delta : merged)
			add_at(delta.level >= level ? level - 1 : delta.level, delta.key, delta.counts);
	}
} catch (...) {
	in_transaction.clear();
}

// At the end of each transaction: a commit makes its counts pending, and
// flushes them when the last flush is a second old; an abort drops them.
void on_transaction(XactEvent event, void *arg) noexcept
try {
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE)
		flushed_in_transaction = false;
	if (event == XACT_EVENT_ABORT) {
		in_transaction.clear();
		measures.clear();
		return;
	}
	// A prepared transaction counts when it is prepared: its COMMIT PREPARED
	// may come from any session, or never (ROLLBACK PREPARED).
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PREPARE)
		return;
	measures.clear();
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
	measures.clear();
}

// At the session's end: what is pending goes to the queue.
void on_exit(int code, Datum arg) noexcept
{
	append_pending();
}

} // namespace

// Starts measuring the protected tables a statement writes.
void start_statement(const QueryDesc *query)
{
	if (query->estate == nullptr || query->estate->es_opened_result_relations == NIL || !metering())
		return;
	int level = GetCurrentTransactionNestLevel();
	ListCell *cell;
	foreach (cell, query->estate->es_opened_result_relations) {
		Relation relation = static_cast<ResultRelInfo *>(lfirst(cell))->ri_RelationDesc;
		Oid relid = RelationGetRelid(relation);
		if (!measured(relid) && protected_tables::find(relid) != nullptr)
			measures.push_back({query, relation, level, counters_of(relation, level)});
	}
}

// Counts what a statement wrote into the tables it measured.
void end_statement(const QueryDesc *query)
{
	for (size_t i = measures.size(); i-- > 0;) {
		if (measures[i].owner != query)
			continue;
		Measure measure = measures[i];
		measures.erase(measures.begin() + static_cast<std::ptrdiff_t>(i));
		if (measure.level != GetCurrentTransactionNestLevel())
			continue;
		Counts now = counters_of(measure.relation, measure.level), written;
		written.inserted = now.inserted - measure.start.inserted;
		written.updated = now.updated - measure.start.updated;
		written.deleted = now.deleted - measure.start.deleted;
		count(RelationGetRelid(measure.relation), written);
	}
}

// Counts the rows a COPY FROM wrote.
void count_copy(Oid relid, uint64 rows)
{
	// A COPY run by a statement that measures the table is in its count.
	if (!metering() || measured(relid) || protected_tables::find(relid) == nullptr)
		return;
	Counts counts;
	counts.inserted = static_cast<int64>(rows);
	count(relid, counts);
}

// Notes an actor's use of a tenant today.
void note_actor(const pg_uuid_t &tenant, const std::string &actor)
{
	if (!metering())
		return;
	int32 day = today();
	if (!actors_noted.empty() && std::get<1>(*actors_noted.begin()) != day)
		actors_noted.clear(); // a new day: yesterday's actors were noted then
	ActorKey key{std::string(reinterpret_cast<const char *>(tenant.data), UUID_LEN), day, actor};
	if (actors_noted.insert(key).second)
		actors_pending.push_back(std::move(key));
}

// Appends every committed count to the queue now, and starts the collector.
bool flush()
{
	if (flushed_in_transaction)
		return false;
	flushed_in_transaction = true;
	last_flush = GetCurrentTimestamp();
	append_pending();
	pg_call(denial_collector::ensure_running);
	return true;
}

// Registers the callbacks.
void register_callbacks()
{
	RegisterXactCallback(on_transaction, nullptr);
	RegisterSubXactCallback(on_subtransaction, nullptr);
	before_shmem_exit(on_exit, 0);
}

} // namespace tenancy::usage_meter
