// Guards against locks on protected tables that would lock every tenant out.
//
// LOCK TABLE needs only UPDATE (or DELETE, TRUNCATE) privilege for its
// strongest modes, and TRUNCATE takes ACCESS EXCLUSIVE before its guard
// trigger can refuse it: a tenant member could stall every other tenant. So
// do CREATE TRIGGER, CREATE RULE, DROP TRIGGER/POLICY/RULE and foreign keys
// that reference a table: PostgreSQL takes their lock before it checks that
// the caller may. The names a statement mentions (and the tables of the views
// it names) are checked before it runs, so that a refused lock is never even
// queued for; what a LOCK locked is checked after it ran, by relation oid, so
// that a concurrent rename cannot lead it past us.
#include "lock_guard.hpp"
#include "tree_walker.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "protected_tables.hpp"
#include "relation_name.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/tablecmds.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lock.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <string>

namespace tenancy::lock_guard {

namespace {

const char *const lock_mode_names[] = {"", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
									   "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"};

// Says whether the current role owns a relation (or has its owner's privileges).
bool current_role_owns(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	Oid owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return has_privs_of_role(GetUserId(), owner);
}

bool collect_relations(Node *node, void *context);

// collect_relations() as PostgreSQL's tree walkers take it.
const TreeWalker relation_collector = as_tree_walker(collect_relations);

// Collects the relations a query reads, in its subqueries, CTEs and sublinks too.
bool collect_relations(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	auto *relids = static_cast<List **>(context);
	if (IsA(node, Query)) {
		Query *query = reinterpret_cast<Query *>(node);
		ListCell *cell;
		foreach (cell, query->rtable) {
			auto *rte = static_cast<RangeTblEntry *>(lfirst(cell));
			if (rte->rtekind == RTE_RELATION)
				*relids = lappend_oid(*relids, rte->relid);
		}
		return query_tree_walker(query, relation_collector, context, 0);
	}
	return expression_tree_walker(node, relation_collector, context);
}

// Adds to relids the relations a view reads, through views it reads too (as
// LOCK does: it locks a view's tables with the view owner's rights).
void add_view_relations(Oid view, List **relids, int depth)
{
	if (depth > 32 || get_rel_relkind(view) != RELKIND_VIEW)
		return;
	Relation rel = relation_open(view, AccessShareLock);
	List *found = NIL;
	collect_relations(reinterpret_cast<Node *>(get_view_query(rel)), &found);
	relation_close(rel, AccessShareLock);
	ListCell *cell;
	foreach (cell, found) {
		Oid relid = lfirst_oid(cell);
		if (list_member_oid(*relids, relid))
			continue;
		*relids = lappend_oid(*relids, relid);
		add_view_relations(relid, relids, depth + 1);
	}
}

// Returns the oids a RangeVar leads a LOCK to: the relation, its inheritors
// unless ONLY, and the tables of a view.
List *relations_named(const RangeVar *relation)
{
	Oid relid = RangeVarGetRelid(relation, NoLock, true);
	if (!OidIsValid(relid))
		return NIL;
	List *relids = relation->inh ? find_all_inheritors(relid, NoLock, nullptr) : list_make1_oid(relid);
	add_view_relations(relid, &relids, 0);
	return relids;
}

// Throws the refusal of a lock on a protected table.
[[noreturn]] void refuse_lock(Oid relid, LOCKMODE mode)
{
	std::string table = pg_call(relation_name, relid);
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
				"permission denied to lock protected table " + table + " in " + lock_mode_names[mode] + " mode")
		.detail("A lock stronger than ROW EXCLUSIVE on a protected table blocks every tenant; only its owner and "
				"platform admins may take one.")
		.hint("Lock the rows you need with SELECT ... FOR UPDATE instead.");
}

// Throws the refusal of TRUNCATE of a protected table.
[[noreturn]] void refuse_truncate(Oid relid)
{
	std::string table = pg_call(relation_name, relid);
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "cannot truncate protected table " + table)
		.detail("TRUNCATE removes the rows of every tenant and bypasses row level security and the audit trigger.")
		.hint("Delete the current tenant's rows with DELETE, or ask a platform admin.");
}

// Says whether the current role may take strong locks on a protected table.
bool may_lock_strongly(Oid relid)
{
	return identity::current_role_is_platform_admin() || pg_call(current_role_owns, relid);
}

// Checks the tables a LOCK or TRUNCATE statement names.
void check_named(const List *relations, bool truncate, LOCKMODE mode)
{
	const ListCell *cell;
	foreach (cell, relations) {
		List *oids = pg_call(relations_named, static_cast<const RangeVar *>(lfirst(cell)));
		const ListCell *oid_cell;
		foreach (oid_cell, oids) {
			Oid relid = lfirst_oid(oid_cell);
			if (protected_tables::find(relid) == nullptr)
				continue;
			if (truncate && !identity::current_role_is_platform_admin())
				refuse_truncate(relid);
			if (!truncate && !may_lock_strongly(relid))
				refuse_lock(relid, mode);
		}
	}
}

// Returns the strongest lock mode above ROW EXCLUSIVE this session holds on a
// relation, or NoLock.
LOCKMODE strong_lock_held(Oid relid)
{
	LOCKTAG tag;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (LOCKMODE mode = AccessExclusiveLock; mode > RowExclusiveLock; mode--)
		if (LockHeldByMe(&tag, mode))
			return mode;
	return NoLock;
}

// Refuses a statement that would lock a protected table before PostgreSQL
// checks that the caller owns it (or holds TRIGGER or REFERENCES on it, which
// only its owner does): waiting for that lock, it would queue every tenant
// behind it, only to fail.
void require_owner(const RangeVar *relation, const char *what)
{
	Oid relid = relation ? pg_call([relation] { return RangeVarGetRelid(relation, NoLock, true); }) : InvalidOid;
	if (!OidIsValid(relid) || protected_tables::find(relid) == nullptr || may_lock_strongly(relid))
		return;
	std::string table = pg_call(relation_name, relid);
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, std::string("permission denied to ") + what + " " + table)
		.detail("Only the owner of a protected table and platform admins may; the lock it takes first would "
				"block every tenant.");
}

// Returns the table a DROP TRIGGER, DROP POLICY or DROP RULE names.
RangeVar *table_of_object(List *names)
{
	if (list_length(names) < 2)
		return nullptr;
	return makeRangeVarFromNameList(list_truncate(list_copy(names), list_length(names) - 1));
}

// Refuses the foreign keys of a CREATE TABLE or ALTER TABLE that reference a
// protected table.
void check_references(const List *constraints)
{
	const ListCell *cell;
	foreach (cell, constraints) {
		const Node *node = static_cast<const Node *>(lfirst(cell));
		if (IsA(node, Constraint) && reinterpret_cast<const Constraint *>(node)->contype == CONSTR_FOREIGN)
			require_owner(reinterpret_cast<const Constraint *>(node)->pktable, "reference");
	}
}

// Checks the statements that take a strong lock on a table before checking
// ownership.
void check_owner_statements(const Node *statement)
{
	switch (nodeTag(statement)) {
	case T_CreateTrigStmt:
		require_owner(reinterpret_cast<const CreateTrigStmt *>(statement)->relation, "create a trigger on");
		return;
	case T_RuleStmt:
		require_owner(reinterpret_cast<const RuleStmt *>(statement)->relation, "create a rule on");
		return;
	case T_DropStmt: {
		auto *drop = reinterpret_cast<const DropStmt *>(statement);
		if (drop->removeType != OBJECT_TRIGGER && drop->removeType != OBJECT_POLICY &&
			drop->removeType != OBJECT_RULE)
			return;
		const ListCell *cell;
		foreach (cell, drop->objects)
			require_owner(pg_call(table_of_object, static_cast<List *>(lfirst(cell))), "drop an object of");
		return;
	}
	case T_CreateStmt: {
		auto *create = reinterpret_cast<const CreateStmt *>(statement);
		check_references(create->constraints);
		const ListCell *cell;
		foreach (cell, create->tableElts)
			if (IsA(lfirst(cell), ColumnDef))
				check_references(static_cast<const ColumnDef *>(lfirst(cell))->constraints);
		return;
	}
	case T_AlterTableStmt: {
		const ListCell *cell;
		foreach (cell, reinterpret_cast<const AlterTableStmt *>(statement)->cmds) {
			auto *command = static_cast<const AlterTableCmd *>(lfirst(cell));
			if (command->subtype == AT_AddConstraint && command->def != nullptr)
				check_references(list_make1(command->def));
		}
		return;
	}
	default:
		return;
	}
}

} // namespace

// Refuses a LOCK or TRUNCATE of a protected table before any lock is taken,
// and the statements that would lock it before checking ownership.
void before(const Node *statement)
{
	if (!catalog::installed())
		return;
	if (IsA(statement, LockStmt)) {
		auto *lock = reinterpret_cast<const LockStmt *>(statement);
		if (lock->mode > RowExclusiveLock)
			check_named(lock->relations, false, lock->mode);
	} else if (IsA(statement, TruncateStmt)) {
		check_named(reinterpret_cast<const TruncateStmt *>(statement)->relations, true, AccessExclusiveLock);
	} else {
		check_owner_statements(statement);
	}
}

// Refuses a LOCK that left a strong lock on a protected table.
void after(const Node *statement)
{
	if (!IsA(statement, LockStmt) || reinterpret_cast<const LockStmt *>(statement)->mode <= RowExclusiveLock)
		return;
	if (!catalog::installed() || identity::current_role_is_platform_admin())
		return;
	for (Oid relid : protected_tables::all()) {
		LOCKMODE held = pg_call(strong_lock_held, relid);
		if (held != NoLock && !pg_call(current_role_owns, relid))
			refuse_lock(relid, held);
	}
}

// Looks up and locks the table of an ALTER TABLE or CREATE INDEX.
Oid locked_target(Node *statement)
{
	if (IsA(statement, AlterTableStmt)) {
		auto *alter = reinterpret_cast<AlterTableStmt *>(statement);
		return AlterTableLookupRelation(alter, AlterTableGetLockLevel(alter->cmds));
	}
	if (IsA(statement, IndexStmt)) {
		auto *index = reinterpret_cast<IndexStmt *>(statement);
		LOCKMODE mode = index->concurrent ? ShareUpdateExclusiveLock : ShareLock;
		return RangeVarGetRelidExtended(index->relation, mode, 0, RangeVarCallbackOwnsRelation, nullptr);
	}
	return InvalidOid;
}

} // namespace tenancy::lock_guard
