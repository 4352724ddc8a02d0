// Guards against locks on protected tables that would lock every tenant out.
//
// LOCK TABLE needs only UPDATE (or DELETE, TRUNCATE) privilege for its
// strongest modes, and TRUNCATE takes ACCESS EXCLUSIVE before its guard
// trigger can refuse it: a tenant member could stall every other tenant. The
// names a statement mentions are checked before it runs, so that a refused
// lock is never even queued for; what it locked is checked after it ran, by
// relation oid, so that a view or a concurrent rename cannot lead it past us.
#include "lock_guard.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "protected_tables.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
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

// Returns the schema-qualified name of a relation.
const char *relation_name(Oid relid)
{
	char *name = get_rel_name(relid);
	char *schema = name ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
	return name && schema ? quote_qualified_identifier(schema, name) : "(dropped table)";
}

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

// Returns the oids a RangeVar names: the relation, and its inheritors unless ONLY.
List *relations_named(const RangeVar *relation)
{
	Oid relid = RangeVarGetRelid(relation, NoLock, true);
	if (!OidIsValid(relid))
		return NIL;
	return relation->inh ? find_all_inheritors(relid, NoLock, nullptr) : list_make1_oid(relid);
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

} // namespace

// Refuses a LOCK or TRUNCATE of a protected table before any lock is taken.
void before(const Node *statement)
{
	if (IsA(statement, LockStmt)) {
		auto *lock = reinterpret_cast<const LockStmt *>(statement);
		if (lock->mode > RowExclusiveLock)
			check_named(lock->relations, false, lock->mode);
	} else if (IsA(statement, TruncateStmt)) {
		check_named(reinterpret_cast<const TruncateStmt *>(statement)->relations, true, AccessExclusiveLock);
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

} // namespace tenancy::lock_guard
