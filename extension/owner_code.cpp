// Which code an expression runs, and whether that code is trusted.
//
// DDL on a protected table evaluates some expressions on every tenant's rows
// as the role running it: an index's expressions and predicate while it is
// built, a CHECK constraint and a domain constraint while they are validated,
// a generated column and a type conversion while the table is rewritten. Such
// an expression may only call trusted functions: built into PostgreSQL, owned
// by a superuser (a table owner cannot change them), or pg_tenancy's own.
#include "owner_code.hpp"

extern "C" {
#include "access/genam.h"
#include "access/transam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "catalog/dependency.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace tenancy::owner_code {

namespace {

bool collect_functions(Node *node, void *context);

// PostgreSQL 15's tree walkers take an untyped function pointer.
using Walker = bool (*)();
const Walker function_collector = reinterpret_cast<Walker>(reinterpret_cast<void (*)()>(collect_functions));

// Adds a function to the list of those an expression calls.
bool collect_function(Oid function, void *context)
{
	auto *functions = static_cast<List **>(context);
	*functions = list_append_unique_oid(*functions, function);
	return false;
}

// Adds the functions of a domain's CHECK constraints, and of the domains it
// is based on: coercing a value to the domain evaluates them.
void collect_domain_functions(Oid domain, List **functions)
{
	Oid type = domain;
	while (OidIsValid(type) && get_typtype(type) == TYPTYPE_DOMAIN) {
		Relation constraints = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyData key;
		ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(type));
		SysScanDesc scan = systable_beginscan(constraints, ConstraintTypidIndexId, true, nullptr, 1, &key);
		HeapTuple tuple;
		while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
			bool isnull;
			Datum bin = heap_getattr(tuple, Anum_pg_constraint_conbin, RelationGetDescr(constraints), &isnull);
			if (!isnull)
				collect_functions(static_cast<Node *>(stringToNode(TextDatumGetCString(bin))), functions);
		}
		systable_endscan(scan);
		table_close(constraints, AccessShareLock);
		type = domain_base(type);
	}
}

// Collects the functions an expression calls, through operators, casts and
// domain constraints too.
bool collect_functions(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	check_functions_in_node(node, collect_function, context);
	if (IsA(node, CoerceToDomain))
		collect_domain_functions(reinterpret_cast<CoerceToDomain *>(node)->resulttype, static_cast<List **>(context));
	return expression_tree_walker(node, function_collector, context);
}

} // namespace

// Returns the type a domain is directly based on (InvalidOid for other types).
Oid domain_base(Oid type)
{
	HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid base = ((Form_pg_type) GETSTRUCT(tuple))->typbasetype;
	ReleaseSysCache(tuple);
	return base;
}

// Says whether a function is trusted to run on every tenant's rows.
bool trusted_function(Oid function)
{
	if (function < FirstNormalObjectId)
		return true;
	HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
	if (!HeapTupleIsValid(tuple))
		return false;
	Oid owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	if (superuser_arg(owner))
		return true;
	Oid extension = getExtensionOfObject(ProcedureRelationId, function);
	return OidIsValid(extension) && extension == get_extension_oid("pg_tenancy", true);
}

// Returns "name(argument types), owned by role" for messages.
const char *describe_function(Oid function)
{
	HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
	Oid owner = HeapTupleIsValid(tuple) ? ((Form_pg_proc) GETSTRUCT(tuple))->proowner : InvalidOid;
	if (HeapTupleIsValid(tuple))
		ReleaseSysCache(tuple);
	const char *owner_name = GetUserNameFromId(owner, true);
	return psprintf("%s, owned by %s", format_procedure(function), owner_name ? owner_name : "(unknown)");
}

// Returns the first function an expression calls that is not trusted, or
// InvalidOid.
Oid first_untrusted_function(Node *expression)
{
	List *functions = NIL;
	collect_functions(expression, &functions);
	ListCell *cell;
	foreach (cell, functions)
		if (!trusted_function(lfirst_oid(cell)))
			return lfirst_oid(cell);
	return InvalidOid;
}

} // namespace tenancy::owner_code
