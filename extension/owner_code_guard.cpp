// Refuses DDL that would run a table owner's own code on every tenant's rows.
//
// An index is built, a CHECK or domain constraint validated, a generated
// column computed and extended statistics gathered over every row of the
// table, whichever tenant it belongs to, as the role running the DDL: a
// function of the owner's that RAISEs NOTICE with its argument would read
// them all, before any later check could roll the statement back.
// PostgreSQL's object access hook sees each such object as its catalog row
// is made: on the very table PostgreSQL locked (not a name that a concurrent
// rename could move) and before any row is read. The object is refused
// unless every function it calls is trusted and immutable (owner_code.hpp);
// extended statistics on expressions are refused outright (ANALYZE evaluates
// them on every row). Platform admins are not checked.
#include "owner_code_guard.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "owner_code.hpp"
#include "protected_tables.hpp"
#include "relation_name.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/partition.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_type.h"
#include "catalog/index.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_statistic_ext.h"
#include "nodes/pg_list.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <cstring>
#include <string>

namespace tenancy::owner_code_guard {

namespace {

object_access_hook_type previous_hook = nullptr;

// An object whose expression is evaluated over a table's rows when created.
struct RowCode {
	Oid relid = InvalidOid;        // the table, or InvalidOid for a domain constraint
	Oid domain = InvalidOid;       // the domain of a domain constraint
	Node *expression = nullptr;    // what is evaluated; nullptr when nothing is
	const char *what = nullptr;    // "index", "check constraint", ...
};

// Returns a copy of the catalog row found through a unique index by one or
// two oid-like keys, as this very command made it (SnapshotSelf: the row is
// not visible to other snapshots yet), or nullptr.
HeapTuple own_row(Relation catalog, Oid index, AttrNumber first_column, Datum first, AttrNumber second_column = 0,
				  Datum second = 0)
{
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], first_column, BTEqualStrategyNumber, F_OIDEQ, first);
	if (second_column != 0)
		ScanKeyInit(&keys[1], second_column, BTEqualStrategyNumber, F_INT2EQ, second);
	SysScanDesc scan = systable_beginscan(catalog, index, true, SnapshotSelf, second_column != 0 ? 2 : 1, keys);
	HeapTuple tuple = systable_getnext(scan);
	HeapTuple copy = HeapTupleIsValid(tuple) ? heap_copytuple(tuple) : nullptr;
	systable_endscan(scan);
	return copy;
}

// Returns the expression stored in a pg_node_tree column, or nullptr.
Node *stored_expression(HeapTuple tuple, Relation catalog, AttrNumber column)
{
	bool isnull;
	Datum value = heap_getattr(tuple, column, RelationGetDescr(catalog), &isnull);
	return isnull ? nullptr : static_cast<Node *>(stringToNode(TextDatumGetCString(value)));
}

// Describes a just-created index: its expressions and predicate.
RowCode index_code(Oid index)
{
	RowCode code;
	Relation catalog = table_open(IndexRelationId, AccessShareLock);
	HeapTuple tuple = own_row(catalog, IndexRelidIndexId, Anum_pg_index_indexrelid, ObjectIdGetDatum(index));
	if (tuple != nullptr) {
		code.relid = ((Form_pg_index) GETSTRUCT(tuple))->indrelid;
		code.expression = reinterpret_cast<Node *>(
			list_make2(stored_expression(tuple, catalog, Anum_pg_index_indexprs),
					   stored_expression(tuple, catalog, Anum_pg_index_indpred)));
		code.what = "an index";
	}
	table_close(catalog, AccessShareLock);
	return code;
}

// Describes a just-created constraint: a CHECK constraint of a table or of a
// domain (other kinds evaluate no expression of the owner's).
RowCode constraint_code(Oid constraint)
{
	RowCode code;
	Relation catalog = table_open(ConstraintRelationId, AccessShareLock);
	HeapTuple tuple = own_row(catalog, ConstraintOidIndexId, Anum_pg_constraint_oid, ObjectIdGetDatum(constraint));
	if (tuple != nullptr && ((Form_pg_constraint) GETSTRUCT(tuple))->contype == CONSTRAINT_CHECK) {
		code.relid = ((Form_pg_constraint) GETSTRUCT(tuple))->conrelid;
		code.domain = ((Form_pg_constraint) GETSTRUCT(tuple))->contypid;
		code.expression = stored_expression(tuple, catalog, Anum_pg_constraint_conbin);
		code.what = OidIsValid(code.domain) ? "a domain constraint" : "a check constraint";
	}
	table_close(catalog, AccessShareLock);
	return code;
}

// Describes a just-created column default (the hook names it by table and
// column): only a generated column's expression reads the row (a plain
// default cannot refer to columns).
RowCode default_code(Oid relid, int attnum)
{
	RowCode code;
	Relation catalog = table_open(AttrDefaultRelationId, AccessShareLock);
	HeapTuple tuple = own_row(catalog, AttrDefaultIndexId, Anum_pg_attrdef_adrelid, ObjectIdGetDatum(relid),
							  Anum_pg_attrdef_adnum, Int16GetDatum(attnum));
	if (tuple != nullptr) {
		Node *expression = stored_expression(tuple, catalog, Anum_pg_attrdef_adbin);
		if (expression != nullptr && contain_var_clause(expression)) {
			code.relid = relid;
			code.expression = expression;
			code.what = "a generated column";
		}
	}
	table_close(catalog, AccessShareLock);
	return code;
}

// Describes a just-created extended statistics object: ANALYZE evaluates
// its expressions on a sample of every tenant's rows.
RowCode statistics_code(Oid statistics)
{
	RowCode code;
	Relation catalog = table_open(StatisticExtRelationId, AccessShareLock);
	HeapTuple tuple = own_row(catalog, StatisticExtOidIndexId, Anum_pg_statistic_ext_oid, ObjectIdGetDatum(statistics));
	if (tuple != nullptr) {
		code.relid = ((Form_pg_statistic_ext) GETSTRUCT(tuple))->stxrelid;
		code.expression = stored_expression(tuple, catalog, Anum_pg_statistic_ext_stxexprs);
		code.what = "extended statistics";
	}
	table_close(catalog, AccessShareLock);
	return code;
}

// Says whether a table is protected, or a partition of a protected table.
bool protected_or_partition_of_protected(Oid relid)
{
	if (!OidIsValid(relid))
		return false;
	if (protected_tables::find(relid))
		return true;
	if (!get_rel_relispartition(relid))
		return false;
	ListCell *cell;
	foreach (cell, get_partition_ancestors(relid))
		if (protected_tables::find(lfirst_oid(cell)))
			return true;
	return false;
}

// Says whether just-created extended statistics evaluate expressions on a
// protected table's rows.
bool statistics_on_protected_expressions(Oid statistics)
{
	RowCode code = statistics_code(statistics);
	return code.expression != nullptr && protected_or_partition_of_protected(code.relid);
}

// Returns the table an object depending on a type belongs to (a column's or
// an index's, a constraint's or a default's table), the type of a composite
// type's row, or InvalidOid; *type_out is set for objects that are types.
Oid table_of_dependent(Oid class_id, Oid object_id, Oid *type_out)
{
	*type_out = InvalidOid;
	if (class_id == TypeRelationId) {
		*type_out = object_id;
		return InvalidOid;
	}
	if (class_id == RelationRelationId) {
		char kind = get_rel_relkind(object_id);
		if (kind == RELKIND_COMPOSITE_TYPE) {
			*type_out = get_rel_type_id(object_id);
			return InvalidOid;
		}
		return kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX ? IndexGetRelation(object_id, true)
																		   : object_id;
	}
	if (class_id == ConstraintRelationId) {
		HeapTuple tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(object_id));
		if (!HeapTupleIsValid(tuple))
			return InvalidOid;
		Oid relid = ((Form_pg_constraint) GETSTRUCT(tuple))->conrelid;
		ReleaseSysCache(tuple);
		return relid;
	}
	if (class_id == AttrDefaultRelationId)
		return GetAttrDefaultColumnAddress(object_id).objectId;
	return InvalidOid;
}

// Returns a protected table whose columns or stored expressions (indexes,
// constraints, defaults) use a type — directly or through arrays, composite
// types and domains based on it, as pg_depend records — or InvalidOid.
Oid protected_table_using_type(Oid type, List **seen)
{
	if (list_member_oid(*seen, type))
		return InvalidOid;
	*seen = lappend_oid(*seen, type);
	List *classes = NIL;
	List *objects = NIL;
	Relation depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
	ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(type));
	SysScanDesc scan = systable_beginscan(depend, DependReferenceIndexId, true, nullptr, 2, keys);
	HeapTuple tuple;
	while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
		Form_pg_depend form = (Form_pg_depend) GETSTRUCT(tuple);
		classes = lappend_oid(classes, form->classid);
		objects = lappend_oid(objects, form->objid);
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	ListCell *class_cell, *object_cell;
	forboth (class_cell, classes, object_cell, objects) {
		Oid dependent_type;
		Oid relid = table_of_dependent(lfirst_oid(class_cell), lfirst_oid(object_cell), &dependent_type);
		if (protected_or_partition_of_protected(relid))
			return relid;
		Oid found = OidIsValid(dependent_type) ? protected_table_using_type(dependent_type, seen) : InvalidOid;
		if (OidIsValid(found))
			return found;
	}
	return InvalidOid;
}

// The finding of the check of a new object: which table, which function.
struct Finding {
	Oid relid = InvalidOid;
	Oid function = InvalidOid;
	const char *what = nullptr;
};

// Checks a just-created object; returns the untrusted function it would run
// over a protected table's rows, if any.
Finding check_created(Oid class_id, Oid object_id, int sub_id)
{
	Finding finding;
	RowCode code;
	if (class_id == RelationRelationId && sub_id == 0)
		code = index_code(object_id);
	else if (class_id == ConstraintRelationId)
		code = constraint_code(object_id);
	else if (class_id == AttrDefaultRelationId)
		code = default_code(object_id, sub_id);
	if (code.expression == nullptr)
		return finding;
	Oid relid = OidIsValid(code.domain) ? protected_table_using_domain(code.domain) : code.relid;
	if (!protected_or_partition_of_protected(relid))
		return finding;
	finding.relid = relid;
	finding.function = owner_code::first_untrusted_function(code.expression);
	finding.what = code.what;
	return finding;
}

// Refuses a new object when it would run untrusted code over a protected
// table's rows.
void check_new_object(Oid class_id, Oid object_id, int sub_id)
{
	if (protected_tables::all().empty() || identity::current_role_is_platform_admin())
		return;
	if (class_id == StatisticExtRelationId && pg_call(statistics_on_protected_expressions, object_id))
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					"cannot create extended statistics on expressions of a protected table")
			.detail("ANALYZE evaluates the expressions on every tenant's rows, and their errors can show those "
					"rows.")
			.hint("Create the statistics on columns, or ask a platform admin.");
	Finding finding = pg_call(check_created, class_id, object_id, sub_id);
	if (!OidIsValid(finding.function))
		return;
	std::string table = pg_call(relation_name, finding.relid);
	std::string function = pg_call(owner_code::describe_function, finding.function);
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
				std::string("cannot create ") + finding.what + " on protected table " + table +
					" that calls function " + function)
		.detail("Creating it evaluates the function on every tenant's rows. Only immutable functions that are "
				"built into PostgreSQL, owned by a superuser, or part of pg_tenancy may run there.")
		.hint("Use immutable built-in functions, have a superuser own the function, or ask a platform admin to "
			  "run the statement.");
}

// The object access hook: checks new objects, then calls the previous hook.
void on_object_access(ObjectAccessType access, Oid class_id, Oid object_id, int sub_id, void *arg)
{
	if (previous_hook)
		previous_hook(access, class_id, object_id, sub_id, arg);
	if (access == OAT_POST_CREATE &&
		(class_id == RelationRelationId || class_id == ConstraintRelationId || class_id == AttrDefaultRelationId ||
		 class_id == StatisticExtRelationId))
		guarded([&] { check_new_object(class_id, object_id, sub_id); });
}

// Returns the first untrusted function that converting a column to a new
// type (as ALTER COLUMN ... TYPE without USING does) would call, or InvalidOid.
Oid untrusted_type_conversion(Oid relid, const char *column, TypeName *type_name)
{
	AttrNumber attnum = get_attnum(relid, column);
	if (attnum == InvalidAttrNumber)
		return InvalidOid;
	Oid old_type, collation, new_type;
	int32 old_typmod, new_typmod;
	get_atttypetypmodcoll(relid, attnum, &old_type, &old_typmod, &collation);
	typenameTypeIdAndMod(nullptr, type_name, &new_type, &new_typmod);
	Node *column_value = reinterpret_cast<Node *>(makeVar(1, attnum, old_type, old_typmod, collation, 0));
	Node *conversion = coerce_to_target_type(nullptr, column_value, old_type, new_type, new_typmod,
											 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	return conversion == nullptr ? InvalidOid : owner_code::first_untrusted_function(conversion);
}

} // namespace

// Returns a protected table that uses the domain anywhere, or InvalidOid.
Oid protected_table_using_domain(Oid domain)
{
	List *seen = NIL;
	return protected_table_using_type(domain, &seen);
}

// Refuses ALTER COLUMN ... TYPE on a protected table when it would rewrite
// every tenant's rows with a USING expression, or convert them with an
// untrusted function.
void check_column_type_change(Oid relid, const AlterTableCmd *command)
{
	auto *definition = reinterpret_cast<ColumnDef *>(command->def);
	std::string table = pg_call(relation_name, relid);
	std::string column = command->name;
	if (definition->raw_default != nullptr)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					"cannot rewrite column \"" + column + "\" of protected table " + table + " with USING")
			.detail("ALTER COLUMN ... TYPE ... USING evaluates its expression on every tenant's rows and rewrites "
					"them without an audit row.")
			.hint("Change the type without USING, or change each tenant's rows with UPDATE (which is audited); a "
				  "platform admin may run the statement.");
	Oid function = pg_call(untrusted_type_conversion, relid, command->name, definition->typeName);
	if (!OidIsValid(function))
		return;
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "cannot change the type of column \"" + column +
													"\" of protected table " + table + " with function " +
													pg_call(owner_code::describe_function, function))
		.detail("The conversion evaluates the function on every tenant's rows. Only immutable functions that are "
				"built into PostgreSQL, owned by a superuser, or part of pg_tenancy may run there.")
		.hint("Convert with a built-in cast, or ask a platform admin to run the statement.");
}

// Installs the object access hook.
void install()
{
	previous_hook = object_access_hook;
	object_access_hook = on_object_access;
}

} // namespace tenancy::owner_code_guard
