// Counting one tenant's rows of a protected table by a direct scan: see
// tenant_row_count.hpp. Plain PostgreSQL code, run through pg_call().
#include "tenant_row_count.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace tenancy::tenant_row_count {

namespace {

// The btree operator family uuid_ops (pg_opfamily.dat): an index that uses
// any other for tenant_id could call its owner's functions while scanned.
constexpr Oid uuid_btree_opfamily = 2968;

// Returns a valid plain btree index of relid led by tenant_id (column attnum)
// with uuid_ops, no expressions and no predicate, or InvalidOid; only the
// catalog is read, so no code of the table's owner runs.
Oid plain_tenant_index(Relation rel, AttrNumber attnum)
{
	List *indexes = RelationGetIndexList(rel);
	ListCell *cell;
	foreach (cell, indexes) {
		Relation index = index_open(lfirst_oid(cell), AccessShareLock);
		Form_pg_index form = index->rd_index;
		bool plain = form->indisvalid && form->indnatts >= 1 && form->indkey.values[0] == attnum &&
					 index->rd_rel->relam == BTREE_AM_OID && index->rd_opfamily[0] == uuid_btree_opfamily &&
					 heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) &&
					 heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr);
		Oid oid = RelationGetRelid(index);
		index_close(index, AccessShareLock);
		if (plain)
			return oid;
	}
	return InvalidOid;
}

} // namespace

// Counts the rows of one tenant in a protected table visible to a snapshot,
// by a direct scan (a plain index led by tenant_id, or the heap with the
// builtin uuid equality): no planner folding the owner's index expressions,
// no policies, no code of the table's owner at all (plain C: runs inside
// pg_call).
int64 count_tenant_rows(Oid relid, const pg_uuid_t *tenant, Snapshot snapshot)
{
	Relation rel = table_open(relid, AccessShareLock);
	AttrNumber attnum = get_attnum(relid, "tenant_id");
	if (attnum == InvalidAttrNumber)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
						errmsg("table %s has no column tenant_id", RelationGetRelationName(rel))));
	Oid index = plain_tenant_index(rel, attnum);
	ScanKeyData key;
	ScanKeyInit(&key, attnum, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(const_cast<pg_uuid_t *>(tenant)));
	SysScanDesc scan = systable_beginscan(rel, index, OidIsValid(index), snapshot, 1, &key);
	int64 count = 0;
	while (HeapTupleIsValid(systable_getnext(scan)))
		count++;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return count;
}

// Counts every row of a table, or of the leaf partitions of a partitioned
// one, visible to a snapshot, by heap scans: no policies, no code of the
// table's owner (plain C: runs inside pg_call).
int64 count_all_rows(Oid relid, Snapshot snapshot)
{
	int64 count = 0;
	ListCell *cell;
	foreach (cell, find_all_inheritors(relid, AccessShareLock, nullptr)) {
		Relation rel = table_open(lfirst_oid(cell), AccessShareLock);
		if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind) &&
			(lfirst_oid(cell) == relid || rel->rd_rel->relispartition)) {
			SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, nullptr);
			while (HeapTupleIsValid(systable_getnext(scan)))
				count++;
			systable_endscan(scan);
		}
		table_close(rel, AccessShareLock);
	}
	return count;
}

} // namespace tenancy::tenant_row_count
