// Writing rows into tenancy.audit_log, fast enough to leave on.
//
// An SQL INSERT per audited row would pay for executor start-up and partition
// routing every time. Instead, rows are inserted the way logical replication
// applies them: the partition that covers the row's timestamp is found with
// PostgreSQL's own range-bound search, and the row is inserted with
// ExecSimpleRelationInsert(), which still checks constraints and the partition
// constraint, maintains the indexes and fires triggers the partition may have.
//
// The executor state for the partition is built once per transaction and kept
// until pre-commit: the relations are opened under the top-level resource
// owner and the state lives in TopTransactionContext, so a subtransaction
// that rolls back (taking its audit rows with it) does not pull them away.
// Inserting directly needs no privilege on the audit log, so the caller's
// identity is never switched.
//
// When the partition has nothing else to enforce (no trigger, no constraint
// but the operation check, no generated column), the row is written with
// the heap and index calls ExecSimpleRelationInsert() would make, skipping
// the per-transaction preparation of constraint expressions that our rows
// satisfy by construction: the operation is always one of the allowed ones,
// NOT NULL columns are always filled, and the partition was chosen by its
// bounds.
//
// This file is plain PostgreSQL code run through pg_call().
#include "audit_writer.hpp"
#include "boundary.hpp"
#include "catalog.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"
}

namespace tenancy::audit {

namespace {

// The columns of tenancy.audit_log, in the order of Sink::attnums.
enum Column { id, at, tenant_id, actor, db_role, table_name, relid, operation, old_row, new_row, xid,
			  support_access, column_count };
const char *const column_names[column_count] = {
	"id", "at", "tenant_id", "actor", "db_role", "table_name", "relid", "operation", "old_row", "new_row",
	"xid", "support_access"};

// The open partition audit rows of this transaction go to.
struct Sink {
	bool open;
	Relation parent;
	Relation partition;
	EState *estate;
	ResultRelInfo *result;
	TupleTableSlot *slot;
	AttrNumber attnums[column_count];
	Oid sequence;
	bool plain; // nothing to enforce beyond what our rows satisfy by construction
	TimestampTz routed_at; // the timestamp the open partition was last checked for
};

Sink sink;

// Attribute numbers of the last partition opened, kept across transactions
// until that partition changes (any relcache invalidation of it).
struct ColumnCache {
	Oid partition;
	AttrNumber attnums[column_count];
	Oid sequence;
};

ColumnCache columns_cache;

// Returns the oid of the partition of the audit log that takes a row stamped at.
Oid partition_for(Relation parent, TimestampTz at)
{
	PartitionKey key = RelationGetPartitionKey(parent);
	PartitionDesc desc = RelationGetPartitionDesc(parent, true);
	PartitionBoundInfo bounds = desc->boundinfo;
	int index = -1;
	if (bounds != nullptr && bounds->ndatums > 0) {
		Datum value = TimestampTzGetDatum(at);
		bool equal;
		int offset = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, bounds, 1, &value, &equal);
		index = bounds->indexes[offset + 1];
	}
	if (index < 0 && bounds != nullptr)
		index = bounds->default_index;
	if (index < 0)
		ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
						errmsg("no partition of tenancy.audit_log takes rows of %s", timestamptz_to_str(at)),
						errhint("Run tenancy.prune_audit() to create the coming partitions, or recreate "
								"tenancy.audit_log_default.")));
	return desc->oids[index];
}

// Says whether a partition enforces nothing our rows do not satisfy by
// construction: no triggers, no generated columns, and no CHECK constraint
// but audit_log_operation_check.
bool enforces_nothing_else(Relation partition, ResultRelInfo *result)
{
	if (result->ri_TrigDesc != nullptr)
		return false;
	TupleConstr *constraints = RelationGetDescr(partition)->constr;
	if (constraints == nullptr)
		return true;
	if (constraints->has_generated_stored)
		return false;
	for (int i = 0; i < constraints->num_check; i++)
		if (strcmp(constraints->check[i].ccname, "audit_log_operation_check") != 0)
			return false;
	return true;
}

// Closes the sink's relations; keeps nothing.
void close_sink()
{
	if (!sink.open)
		return;
	sink.open = false;
	ExecDropSingleTupleTableSlot(sink.slot);
	ExecCloseIndices(sink.result);
	table_close(sink.partition, NoLock);
	table_close(sink.parent, NoLock);
	FreeExecutorState(sink.estate);
}

// Opens the partition that takes a row stamped at, for the rest of the transaction.
void open_sink(Oid parent_oid, TimestampTz at)
{
	ResourceOwner saved_owner = CurrentResourceOwner;
	MemoryContext saved_context = MemoryContextSwitchTo(TopTransactionContext);
	CurrentResourceOwner = TopTransactionResourceOwner;
	sink.parent = nullptr;
	sink.partition = nullptr;
	PG_TRY();
	{
		sink.parent = table_open(parent_oid, RowExclusiveLock);
		Oid partition_oid = partition_for(sink.parent, at);
		sink.partition = table_open(partition_oid, RowExclusiveLock);
		sink.estate = CreateExecutorState();
		RangeTblEntry *rte = makeNode(RangeTblEntry);
		rte->rtekind = RTE_RELATION;
		rte->relid = partition_oid;
		rte->relkind = RELKIND_RELATION;
		rte->rellockmode = RowExclusiveLock;
		ExecInitRangeTable(sink.estate, list_make1(rte));
		sink.result = makeNode(ResultRelInfo);
		InitResultRelInfo(sink.result, sink.partition, 1, nullptr, 0);
		ExecOpenIndices(sink.result, false);
		sink.slot = MakeSingleTupleTableSlot(RelationGetDescr(sink.partition), &TTSOpsVirtual);
		if (columns_cache.partition != partition_oid) {
			for (int i = 0; i < column_count; i++)
				columns_cache.attnums[i] = get_attnum(partition_oid, column_names[i]);
			columns_cache.sequence = get_relname_relid("audit_log_id_seq", RelationGetNamespace(sink.parent));
			columns_cache.partition = partition_oid;
		}
		memcpy(sink.attnums, columns_cache.attnums, sizeof(sink.attnums));
		sink.sequence = columns_cache.sequence;
		sink.plain = enforces_nothing_else(sink.partition, sink.result);
		sink.routed_at = at;
		sink.open = true;
	}
	PG_CATCH();
	{
		// Release what was opened: a caller's subtransaction may catch the
		// error, and the top-level owner would otherwise hold it until commit.
		if (sink.partition != nullptr)
			table_close(sink.partition, NoLock);
		if (sink.parent != nullptr)
			table_close(sink.parent, NoLock);
		CurrentResourceOwner = saved_owner;
		MemoryContextSwitchTo(saved_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	CurrentResourceOwner = saved_owner;
	MemoryContextSwitchTo(saved_context);
}

// Inserts one audit row.
void insert_row(const AuditEvent *event, const char *actor_name, const char *role_name, Oid parent_oid)
{
	// Rows of one statement share its timestamp: route again only when it changes.
	TimestampTz stamp = GetCurrentStatementStartTimestamp();
	if (sink.open && stamp != sink.routed_at) {
		if (RelationGetRelid(sink.parent) != parent_oid ||
			partition_for(sink.parent, stamp) != RelationGetRelid(sink.partition))
			close_sink();
		else
			sink.routed_at = stamp;
	}
	if (!sink.open)
		open_sink(parent_oid, stamp);

	TupleTableSlot *slot = sink.slot;
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));
	auto set = [slot](Column column, Datum value) {
		AttrNumber attnum = sink.attnums[column];
		slot->tts_values[attnum - 1] = value;
		slot->tts_isnull[attnum - 1] = false;
	};
	set(id, Int64GetDatum(nextval_internal(sink.sequence, false)));
	set(at, TimestampTzGetDatum(stamp));
	if (!event->tenant_null)
		set(tenant_id, event->tenant);
	set(actor, CStringGetTextDatum(actor_name));
	set(db_role, CStringGetTextDatum(role_name));
	if (event->table_name)
		set(table_name, CStringGetTextDatum(event->table_name));
	if (OidIsValid(event->relid))
		set(relid, ObjectIdGetDatum(event->relid));
	set(operation, CStringGetTextDatum(event->operation));
	if (event->old_row)
		set(old_row, PointerGetDatum(event->old_row));
	if (event->new_row)
		set(new_row, PointerGetDatum(event->new_row));
	set(xid, FullTransactionIdGetDatum(GetTopFullTransactionId()));
	set(support_access, BoolGetDatum(event->support_access));
	ExecStoreVirtualTuple(slot);

	sink.estate->es_output_cid = GetCurrentCommandId(true);
	sink.estate->es_snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : InvalidSnapshot;
	if (sink.plain) {
		simple_table_tuple_insert(sink.partition, slot);
		if (sink.result->ri_NumIndices > 0)
			list_free(ExecInsertIndexTuples(sink.result, slot, sink.estate, false, false, nullptr, NIL));
	} else {
		bool after_triggers = sink.result->ri_TrigDesc && sink.result->ri_TrigDesc->trig_insert_after_row;
		if (after_triggers)
			AfterTriggerBeginQuery();
		ExecSimpleRelationInsert(sink.result, sink.estate, slot);
		if (after_triggers)
			AfterTriggerEndQuery(sink.estate);
	}
	ResetPerTupleExprContext(sink.estate);
	ExecClearTuple(slot);
}

// Closes the sink before commit, under the owner it was opened with (a
// procedure's COMMIT runs this under its portal's owner); forgets it after
// an abort, whose resource owner has already released what it held.
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
		release_writer();
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		sink.open = false;
}

// Closes the sink when a subtransaction rolls back: it may have been opened
// on a partition or index that the rollback removes.
void on_subtransaction_end(SubXactEvent event, SubTransactionId subxact, SubTransactionId parent,
						   void *arg) noexcept
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		release_writer();
}

} // namespace

// Inserts an audit row.
void write_audit_row(const AuditEvent &event, const std::string &actor, const std::string &db_role)
{
	Oid parent = catalog::audit_log();
	pg_call(insert_row, &event, actor.c_str(), db_role.c_str(), parent);
}

// Closes the sink under the owner it was opened with.
void release_writer() noexcept
{
	if (!sink.open)
		return;
	ResourceOwner saved_owner = CurrentResourceOwner;
	CurrentResourceOwner = TopTransactionResourceOwner;
	close_sink();
	CurrentResourceOwner = saved_owner;
}

// Forgets cached attribute numbers when an audit partition changes.
void forget_writer_columns(Oid relid) noexcept
{
	if (relid == InvalidOid || relid == columns_cache.partition)
		columns_cache.partition = InvalidOid;
}

// Registers the transaction callbacks that close the sink.
void register_writer()
{
	RegisterXactCallback(on_transaction_end, nullptr);
	RegisterSubXactCallback(on_subtransaction_end, nullptr);
}

} // namespace tenancy::audit
