// Which code an expression runs, and whether that code is trusted.
//
// DDL on a protected table evaluates some expressions on every tenant's rows
// as the role running it: an index's expressions and predicate while it is
// built, a CHECK constraint and a domain constraint while they are validated,
// a generated column and a type conversion while the table is rewritten. Such
// an expression may only call trusted functions: built into PostgreSQL, owned
// by a superuser (a table owner cannot change them), or pg_tenancy's own.
#include "owner_code.hpp"
#include "tree_walker.hpp"

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
#include "catalog/pg_attribute.h"
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

// What the walk over an expression has found so far.
struct Collected {
	List *functions = NIL;  // the functions the expression calls
	List *seen_types = NIL; // the types whose domains were collected already
};

bool collect_functions(Node *node, void *context);

// collect_functions() as PostgreSQL's tree walkers take it.
const TreeWalker function_collector = as_tree_walker(collect_functions);

// Adds a function to the list of those an expression calls.
bool collect_function(Oid function, void *context)
{
	auto *collected = static_cast<Collected *>(context);
	collected->functions = list_append_unique_oid(collected->functions, function);
	return false;
}

// Adds the functions of a domain's own CHECK constraints (the domains it is
// based on are collect_contained_domains' business).
void collect_domain_functions(Oid domain, Collected *collected)
{
	Relation constraints = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(domain));
	SysScanDesc scan = systable_beginscan(constraints, ConstraintTypidIndexId, true, nullptr, 1, &key);
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		bool isnull;
		Datum bin = heap_getattr(tuple, Anum_pg_constraint_conbin, RelationGetDescr(constraints), &isnull);
		if (!isnull)
			collect_functions(static_cast<Node *>(stringToNode(TextDatumGetCString(bin))), collected);
	}
	systable_endscan(scan);
	table_close(constraints, AccessShareLock);
}

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

// Adds the functions of the constraints of every domain a type contains:
// itself, its element type, the attributes of a composite type, the subtype
// of a range. Producing a value of the type (an array or record input
// function, jsonb_populate_record) checks those domains.
void collect_contained_domains(Oid type, Collected *collected)
{
	if (!OidIsValid(type) || list_member_oid(collected->seen_types, type))
		return;
	collected->seen_types = lappend_oid(collected->seen_types, type);
	char kind = get_typtype(type);
	if (kind == TYPTYPE_DOMAIN) {
		collect_domain_functions(type, collected);
		collect_contained_domains(domain_base(type), collected);
	}
	collect_contained_domains(get_element_type(type), collected);
	if (kind == TYPTYPE_RANGE)
		collect_contained_domains(get_range_subtype(type), collected);
	Oid relid = get_typ_typrelid(type);
	if (!OidIsValid(relid))
		return;
	for (AttrNumber attnum = 1;; attnum++) {
		HeapTuple tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
		if (!HeapTupleIsValid(tuple))
			return;
		Form_pg_attribute attribute = (Form_pg_attribute) GETSTRUCT(tuple);
		Oid attribute_type = attribute->attisdropped ? InvalidOid : attribute->atttypid;
		ReleaseSysCache(tuple);
		collect_contained_domains(attribute_type, collected);
	}
}

// Says whether a node produces a value whose type may contain domains to
// check (the expression nodes exprType() knows and that make new values).
bool produces_value(Node *node)
{
	switch (nodeTag(node)) {
	case T_FuncExpr:
	case T_OpExpr:
	case T_CoerceViaIO:
	case T_ArrayCoerceExpr:
	case T_RelabelType:
	case T_RowExpr:
	case T_ConvertRowtypeExpr:
	case T_FieldStore:
	case T_SubscriptingRef:
	case T_ArrayExpr:
	case T_CoerceToDomain:
		return true;
	default:
		return false;
	}
}

// Collects the functions an expression calls, through operators, casts and
// the constraints of the domains its values contain too.
bool collect_functions(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	check_stack_depth();
	check_functions_in_node(node, collect_function, context);
	if (produces_value(node))
		collect_contained_domains(exprType(node), static_cast<Collected *>(context));
	return expression_tree_walker(node, function_collector, context);
}

} // namespace

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
	Collected collected;
	collect_functions(expression, &collected);
	ListCell *cell;
	foreach (cell, collected.functions)
		if (!trusted_function(lfirst_oid(cell)) || func_volatile(lfirst_oid(cell)) != PROVOLATILE_IMMUTABLE)
			return lfirst_oid(cell);
	return InvalidOid;
}

} // namespace tenancy::owner_code
