// Withholds the error messages of an owner's DDL that evaluates expressions
// on every tenant's rows.
//
// Building an index, validating a constraint or converting a column runs its
// expressions on every row of a protected table, whichever tenant it belongs
// to. Even a built-in function then tells what it saw when it fails: a cast
// of a secret to integer reports 'invalid input syntax for type integer:
// "the secret"'. While such a statement of a role that is no platform admin
// runs, the log hook replaces the message, detail and context of any error
// with a notice that it was withheld (keeping the SQLSTATE); a refusal by
// pg_tenancy or PostgreSQL (insufficient_privilege) is kept as it is. An
// exception handler would read the message before any hook, so the statement
// is refused inside a subtransaction.
#include "withheld_errors.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "owner_code_guard.hpp"
#include "protected_tables.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
}

#include <string>

namespace tenancy::withheld_errors {

namespace {

emit_log_hook_type previous_hook = nullptr;
bool withholding = false; // while a DDL statement evaluates expressions on protected rows
bool maintaining = false;  // while VACUUM, ANALYZE, CLUSTER or REINDEX runs (they may commit on the way)
char withheld_name[2 * NAMEDATALEN + 32]; // "protected table x.y", captured when the statement starts
										  // (no catalog access while an error is reported)

// Returns the protected table whose rows a DDL statement evaluates
// expressions on, looked up and locked as the statement itself is about to
// (so that no rename can move it), or InvalidOid.
Oid evaluated_table(Node *statement)
{
	switch (nodeTag(statement)) {
	case T_IndexStmt: {
		auto *index = reinterpret_cast<IndexStmt *>(statement);
		LOCKMODE mode = index->concurrent ? ShareUpdateExclusiveLock : ShareLock;
		Oid relid = RangeVarGetRelidExtended(index->relation, mode, 0, RangeVarCallbackOwnsRelation, nullptr);
		return protected_tables::find(relid) ? relid : InvalidOid;
	}
	case T_AlterTableStmt: {
		auto *alter = reinterpret_cast<AlterTableStmt *>(statement);
		Oid relid = AlterTableLookupRelation(alter, AlterTableGetLockLevel(alter->cmds));
		return protected_tables::find(relid) ? relid : InvalidOid;
	}
	case T_AlterDomainStmt: {
		auto *alter = reinterpret_cast<AlterDomainStmt *>(statement);
		if (alter->subtype != 'C' && alter->subtype != 'V')
			return InvalidOid;
		Oid domain = typenameTypeId(nullptr, makeTypeNameFromNameList(alter->typeName));
		return owner_code_guard::protected_table_using_domain_of(domain);
	}
	default:
		return InvalidOid;
	}
}

// Returns the schema-qualified name of a relation.
const char *relation_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

// The log hook: replaces what an error of the running statement says.
void on_emit_log(ErrorData *error)
{
	if (previous_hook)
		previous_hook(error);
	if (!(withholding || maintaining) || error->elevel < ERROR || error->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		return;
	error->message = psprintf("an expression failed on a row of %s", withheld_name);
	error->detail = pstrdup("The message is withheld from the table owner: it could show another tenant's data.");
	error->detail_log = nullptr;
	error->hint = pstrdup("Try the expression on your own tenant's rows first (with tenancy.tenant set), or ask a "
						  "platform admin to run the statement.");
	error->context = nullptr;
	error->internalquery = nullptr;
}

// Stops withholding at the end of every transaction; a maintenance command
// commits on the way (VACUUM, one transaction per table) and stops only when
// it ends or fails.
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		withholding = false;
	if (event == XACT_EVENT_ABORT)
		maintaining = false;
}

} // namespace

// Installs the log hook and the transaction callback.
void install()
{
	previous_hook = emit_log_hook;
	emit_log_hook = on_emit_log;
	RegisterXactCallback(on_transaction_end, nullptr);
}

// Refuses the statement inside a subtransaction, or withholds its errors.
void begin_statement(Node *statement)
{
	Oid relid = pg_call(evaluated_table, statement);
	if (!OidIsValid(relid))
		return;
	if (IsSubTransaction())
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					std::string("cannot run this statement on protected table ") + pg_call(relation_name, relid) +
						" inside a subtransaction")
			.detail("It evaluates expressions on every tenant's rows, and an exception handler (or a savepoint's "
					"client) would read their error messages, which can show another tenant's data.")
			.hint("Run it outside exception blocks and savepoints, or ask a platform admin.");
	std::string name = "protected table " + std::string(pg_call(relation_name, relid));
	strlcpy(withheld_name, name.c_str(), sizeof(withheld_name));
	withholding = true;
}

// Stops withholding: the statement is over.
void end_statement() noexcept
{
	withholding = false;
}

// Refuses maintenance inside a subtransaction, or withholds its errors.
void begin_maintenance(const Node *statement)
{
	if (!IsA(statement, VacuumStmt) && !IsA(statement, ReindexStmt) && !IsA(statement, ClusterStmt))
		return;
	if (protected_tables::all().empty() || identity::current_role_is_platform_admin())
		return;
	if (IsSubTransaction())
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					"cannot run VACUUM, ANALYZE, CLUSTER or REINDEX inside a subtransaction in a database with "
					"protected tables")
			.detail("They evaluate index and statistics expressions on every tenant's rows, and an exception "
					"handler would read their error messages, which can show another tenant's data.")
			.hint("Run it outside exception blocks and savepoints, or ask a platform admin.");
	strlcpy(withheld_name, "a table of this database (protected tables among them)", sizeof(withheld_name));
	maintaining = true;
}

// Stops withholding once a maintenance command ran.
void end_maintenance(const Node *statement) noexcept
{
	if (IsA(statement, VacuumStmt) || IsA(statement, ReindexStmt) || IsA(statement, ClusterStmt))
		maintaining = false;
}

} // namespace tenancy::withheld_errors
