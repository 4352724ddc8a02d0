// Guards of protected tables against their own owners.
//
// Row level security and the audit trigger are table properties that the
// owner could otherwise switch off: TRUNCATE ignores both, ALTER TABLE can
// disable them, DROP/ALTER POLICY can rewrite the isolation. The event
// trigger tenancy_guard_ddl and the BEFORE TRUNCATE trigger refuse these
// unless the role running them (the current role: inside tenancy.protect()
// that is the extension owner) is a platform admin.
#include "audit_writer.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "lock_guard.hpp"
#include "owner_code.hpp"
#include "owner_code_guard.hpp"
#include "protected_tables.hpp"
#include "relation_name.hpp"
#include "withheld_errors.hpp"
#include "sql_function.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/rel.h"
}

#include <cstring>

using namespace tenancy;

namespace {

// Says whether a trigger or policy name is one pg_tenancy keeps for its own
// (tenancy_*): on a protected table, every trigger or policy of that name is
// pg_tenancy's, since protect() refuses a table that has another trigger of
// that name and the guards refuse creating one.
bool is_reserved_name(const char *name)
{
	return name != nullptr && strncmp(name, "tenancy_", 8) == 0;
}

// Says whether a column name is the tenant column.
bool is_tenant_column(const char *name)
{
	return name != nullptr && strcmp(name, "tenant_id") == 0;
}

// Returns the oid of a relation named by a RangeVar, or InvalidOid.
Oid relation_of(RangeVar *relation)
{
	return relation ? RangeVarGetRelid(relation, NoLock, true) : InvalidOid;
}

// Returns the oid of the relation named by all but the last element of a
// qualified object name (trigger or policy names are table.name).
Oid relation_of_qualified(List *names)
{
	if (list_length(names) < 2)
		return InvalidOid;
	List *table_names = list_truncate(list_copy(names), list_length(names) - 1);
	return RangeVarGetRelid(makeRangeVarFromNameList(table_names), NoLock, true);
}

// Throws the refusal of a change to a protected table.
[[noreturn]] void refuse(const std::string &what, Oid relid)
{
	std::string table = pg_call(relation_name, relid);
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "cannot " + what + " of protected table " + table)
		.detail("Only platform admins may weaken the protection that tenancy.protect() installed.")
		.hint("A platform admin can remove the protection with tenancy.unprotect() or switch the audit "
			  "off with tenancy.set_audit().");
}

// Checks one ALTER TABLE subcommand.
void check_alter_command(Oid relid, const AlterTableCmd *command)
{
	switch (command->subtype) {
	case AT_DisableRowSecurity:
	case AT_NoForceRowSecurity:
		refuse("weaken row level security", relid);
	case AT_DisableTrigAll:
	case AT_DisableTrigUser:
		refuse("disable the triggers", relid);
	case AT_DisableTrig:
	case AT_EnableReplicaTrig:
		if (is_reserved_name(command->name))
			refuse("disable trigger \"" + std::string(command->name) + "\"", relid);
		return;
	case AT_AlterColumnType:
		if (is_tenant_column(command->name))
			refuse("change column \"tenant_id\"", relid);
		owner_code_guard::check_column_type_change(relid, command);
		return;
	case AT_DropColumn:
	case AT_DropNotNull:
	case AT_ColumnDefault:
		if (is_tenant_column(command->name))
			refuse("change column \"tenant_id\"", relid);
		return;
	default:
		return;
	}
}

// Checks a DDL statement (target: the table an ALTER TABLE locked); returns
// normally when it does not weaken a protected table.
void check_statement(Node *statement, Oid target)
{
	switch (nodeTag(statement)) {
	case T_AlterTableStmt: {
		auto *alter = reinterpret_cast<AlterTableStmt *>(statement);
		Oid relid = target;
		if (!protected_tables::find(relid))
			return;
		ListCell *cell;
		foreach (cell, alter->cmds)
			check_alter_command(relid, static_cast<AlterTableCmd *>(lfirst(cell)));
		return;
	}
	case T_RenameStmt: {
		auto *rename = reinterpret_cast<RenameStmt *>(statement);
		// A trigger may neither lose a name of pg_tenancy's nor take one.
		bool guarded = (rename->renameType == OBJECT_COLUMN && is_tenant_column(rename->subname)) ||
					   (rename->renameType == OBJECT_TRIGGER &&
						(is_reserved_name(rename->subname) || is_reserved_name(rename->newname))) ||
					   (rename->renameType == OBJECT_POLICY && is_reserved_name(rename->subname));
		Oid relid = guarded ? pg_call(relation_of, rename->relation) : InvalidOid;
		if (guarded && protected_tables::find(relid))
			refuse("rename \"" + std::string(rename->subname) + "\"", relid);
		return;
	}
	case T_DropStmt: {
		auto *drop = reinterpret_cast<DropStmt *>(statement);
		if (drop->removeType != OBJECT_TRIGGER && drop->removeType != OBJECT_POLICY)
			return;
		ListCell *cell;
		foreach (cell, drop->objects) {
			List *names = static_cast<List *>(lfirst(cell));
			const char *name = strVal(llast(names));
			bool ours = is_reserved_name(name);
			Oid relid = ours ? pg_call(relation_of_qualified, names) : InvalidOid;
			if (ours && protected_tables::find(relid))
				refuse(std::string("drop ") + (drop->removeType == OBJECT_TRIGGER ? "trigger" : "policy") +
						   " \"" + name + "\"",
					   relid);
		}
		return;
	}
	case T_AlterPolicyStmt: {
		auto *alter = reinterpret_cast<AlterPolicyStmt *>(statement);
		Oid relid = is_reserved_name(alter->policy_name) ? pg_call(relation_of, alter->table) : InvalidOid;
		if (protected_tables::find(relid))
			refuse("alter policy \"" + std::string(alter->policy_name) + "\"", relid);
		return;
	}
	case T_AlterObjectDependsStmt: {
		// ALTER TRIGGER name ON table DEPENDS ON EXTENSION: the table is in
		// relation, the trigger's name alone in object.
		auto *depends = reinterpret_cast<AlterObjectDependsStmt *>(statement);
		if (depends->objectType != OBJECT_TRIGGER)
			return;
		const char *name = strVal(llast(castNode(List, depends->object)));
		Oid relid = is_reserved_name(name) ? pg_call(relation_of, depends->relation) : InvalidOid;
		if (protected_tables::find(relid))
			refuse("make trigger \"" + std::string(name) + "\" depend on an extension", relid);
		return;
	}
	case T_CreateTrigStmt: {
		// The names pg_tenancy gives its triggers are its own: no trigger of
		// another function may take (or, with OR REPLACE, replace) them.
		auto *create = reinterpret_cast<CreateTrigStmt *>(statement);
		Oid relid = is_reserved_name(create->trigname) ? pg_call(relation_of, create->relation) : InvalidOid;
		if (protected_tables::find(relid))
			refuse("create trigger \"" + std::string(create->trigname) + "\"", relid);
		return;
	}
	default:
		return;
	}
}

// Raises unless called as an event trigger; returns the parse tree.
Node *checked_event_parsetree(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("pg_tenancy's DDL guards must be called as event triggers")));
	return reinterpret_cast<EventTriggerData *>(fcinfo->context)->parsetree;
}

// Raises unless called as a BEFORE TRUNCATE trigger; returns the table.
Relation checked_truncate_relation(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_TRUNCATE(reinterpret_cast<TriggerData *>(fcinfo->context)->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("tenancy.guard_truncate() must be a BEFORE TRUNCATE trigger")));
	return reinterpret_cast<TriggerData *>(fcinfo->context)->tg_relation;
}

// The first weakness that the current DDL statement left in a table, as
// tenancy._ddl_weaknesses() finds it; all null when there is none.
struct Weakness {
	char *problem = nullptr;
	char *hint = nullptr;
};

// Asks tenancy._ddl_weaknesses() about the tables the current DDL statement
// changed (the event trigger's event says how to find them).
Weakness first_weakness(const char *event)
{
	MemoryContext caller = CurrentMemoryContext;
	Weakness weakness;
	Oid argument_types[] = {TEXTOID};
	Datum arguments[] = {CStringGetTextDatum(event)};
	SPI_connect();
	int result = SPI_execute_with_args(
		"SELECT w.problem, w.hint FROM tenancy._ddl_weaknesses($1) w LIMIT 1",
		1, argument_types, arguments, nullptr, false, 1);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "tenancy._ddl_weaknesses() failed: %s", SPI_result_code_string(result));
	if (SPI_processed > 0) {
		HeapTuple row = SPI_tuptable->vals[0];
		TupleDesc columns = SPI_tuptable->tupdesc;
		char *problem = SPI_getvalue(row, columns, 1);
		char *hint = SPI_getvalue(row, columns, 2);
		weakness.problem = MemoryContextStrdup(caller, problem ? problem : "unknown weakness");
		weakness.hint = MemoryContextStrdup(caller, hint ? hint : "");
	}
	SPI_finish();
	return weakness;
}

} // namespace

// tenancy.guard_ddl_outcome() refuses, at the end of a DDL statement (and
// after what it dropped), any weakness it left in a table it changed, unless
// the current role is a platform admin. It judges tables by oid, after every
// lock was taken: a concurrent rename cannot lead it to the wrong table.
TENANCY_SQL_FUNCTION(tenancy_guard_ddl_outcome)
{
	return guarded([&] {
		pg_call(checked_event_parsetree, fcinfo);
		withheld_errors::end_statement();
		if (identity::current_role_is_platform_admin() || protected_tables::all().empty())
			return PointerGetDatum(nullptr);
		const char *event = reinterpret_cast<EventTriggerData *>(fcinfo->context)->event;
		Weakness weakness = pg_call(first_weakness, event);
		if (weakness.problem == nullptr)
			return PointerGetDatum(nullptr);
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					std::string("cannot weaken the isolation of protected tables: ") + weakness.problem)
			.detail("Only platform admins may weaken the isolation that tenancy.protect() installed.")
			.hint(weakness.hint);
	});
}

// tenancy._trusted_function(oid) says whether a function may run on every
// tenant's rows: built in, owned by a superuser, or part of pg_tenancy.
TENANCY_SQL_FUNCTION(tenancy_trusted_function)
{
	return guarded([&] { return BoolGetDatum(pg_call(owner_code::trusted_function, PG_GETARG_OID(0))); });
}

// tenancy.guard_ddl() refuses DDL that weakens a protected table, unless the
// current role is a platform admin.
TENANCY_SQL_FUNCTION(tenancy_guard_ddl)
{
	return guarded([&] {
		Node *statement = pg_call(checked_event_parsetree, fcinfo);
		if (!identity::current_role_is_platform_admin()) {
			Oid target = pg_call(lock_guard::locked_target, statement);
			check_statement(statement, target);
			withheld_errors::begin_statement(statement, target);
		}
		return PointerGetDatum(nullptr);
	});
}

// tenancy.guard_truncate() refuses TRUNCATE of a protected table (it spans
// every tenant and bypasses row level security and row triggers) unless the
// current role is a platform admin, whose TRUNCATE is then audited.
TENANCY_SQL_FUNCTION(tenancy_guard_truncate)
{
	return guarded([&] {
		Relation rel = pg_call(checked_truncate_relation, fcinfo);
		Oid relid = RelationGetRelid(rel);
		if (!identity::current_role_is_platform_admin()) {
			std::string table = pg_call(relation_name, relid);
			throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "cannot truncate protected table " + table)
				.detail("TRUNCATE removes the rows of every tenant and bypasses row level security and the "
						"audit trigger.")
				.hint("Delete the current tenant's rows with DELETE, or ask a platform admin.");
		}
		const identity::Identity &who = identity::current();
		audit::AuditEvent event;
		event.relid = relid;
		event.table_name = pg_call(relation_name, relid);
		event.operation = "TRUNCATE";
		event.support_access = true;
		audit::write_audit_row(event, who.actor, who.db_role);
		return PointerGetDatum(nullptr);
	});
}
