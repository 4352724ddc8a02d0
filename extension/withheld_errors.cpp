// Withholds what an owner's DDL says while it evaluates expressions on every
// tenant's rows.
//
// Building an index, validating a constraint or converting a column runs its
// expressions on every row of a protected table, whichever tenant it belongs
// to. Even a built-in function then tells what it saw: a cast of a secret to
// integer fails with 'invalid input syntax for type integer: "the secret"',
// to_tsquery() and the XML functions send NOTICEs and WARNINGs that quote
// their input. While such a statement of a role that is no platform admin
// runs (CREATE INDEX, ALTER TABLE, ALTER DOMAIN on a protected table; REINDEX,
// VACUUM, ANALYZE, CLUSTER in a database with protected tables):
//  * every message below ERROR is dropped, for the client and the server log;
//  * an error keeps its SQLSTATE, but its message, detail and context are
//    replaced by a notice that they were withheld (a refusal,
//    insufficient_privilege, is kept as it is);
//  * log_min_messages is lowered to INFO, because PostgreSQL calls the log
//    hook only for messages that go to the server log.
// The statement may commit on the way (CREATE INDEX CONCURRENTLY, VACUUM):
// withholding lasts until it ends or its transaction aborts. An exception
// handler would read an error before any hook, so these statements are
// refused inside a subtransaction.
#include "withheld_errors.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "owner_code_guard.hpp"
#include "protected_tables.hpp"
#include "relation_name.hpp"

extern "C" {
#include "access/xact.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

#include <string>

namespace tenancy::withheld_errors {

namespace {

emit_log_hook_type previous_hook = nullptr;
bool withholding = false;          // while such a statement runs
int saved_log_min_messages = -1;   // log_min_messages before it started, or -1
char withheld_name[2 * NAMEDATALEN + 32]; // "protected table x.y", captured when the statement starts
										  // (no catalog access while an error is reported)

// Returns the protected table whose rows a DDL statement evaluates
// expressions on (target: the table an ALTER TABLE or CREATE INDEX locked),
// or InvalidOid.
Oid evaluated_table(Node *statement, Oid target)
{
	if (IsA(statement, AlterDomainStmt)) {
		auto *alter = reinterpret_cast<AlterDomainStmt *>(statement);
		if (alter->subtype != 'C' && alter->subtype != 'V')
			return InvalidOid;
		Oid domain = typenameTypeId(nullptr, makeTypeNameFromNameList(alter->typeName));
		return owner_code_guard::protected_table_using_domain(domain);
	}
	return protected_tables::find(target) ? target : InvalidOid;
}

// The log hook: drops the messages of the running statement below ERROR and
// replaces what its errors say.
void on_emit_log(ErrorData *error)
{
	if (previous_hook)
		previous_hook(error);
	if (!withholding || error->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		return;
	if (error->elevel < ERROR) {
		error->output_to_client = false;
		error->output_to_server = false;
		return;
	}
	error->message = psprintf("an expression failed on a row of %s", withheld_name);
	error->detail = pstrdup("The message is withheld from the table owner: it could show another tenant's data.");
	error->detail_log = nullptr;
	error->hint = pstrdup("Try the expression on your own tenant's rows first (with tenancy.tenant set), or ask a "
						  "platform admin to run the statement.");
	error->context = nullptr;
	error->internalquery = nullptr;
}

// Starts withholding, naming what the errors are about.
void start_withholding(const std::string &what)
{
	strlcpy(withheld_name, what.c_str(), sizeof(withheld_name));
	if (saved_log_min_messages < 0) {
		saved_log_min_messages = log_min_messages;
		if (log_min_messages > INFO)
			log_min_messages = INFO;
	}
	withholding = true;
}

// Stops withholding and gives log_min_messages its value back.
void stop_withholding() noexcept
{
	withholding = false;
	if (saved_log_min_messages >= 0)
		log_min_messages = saved_log_min_messages;
	saved_log_min_messages = -1;
}

// Stops withholding when a transaction aborts (the statement failed, and its
// error was reported before the abort).
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event == XACT_EVENT_ABORT)
		stop_withholding();
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
void begin_statement(Node *statement, Oid target)
{
	Oid relid = pg_call(evaluated_table, statement, target);
	if (!OidIsValid(relid))
		return;
	if (IsSubTransaction())
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					std::string("cannot run this statement on protected table ") + pg_call(relation_name, relid) +
						" inside a subtransaction")
			.detail("It evaluates expressions on every tenant's rows, and an exception handler (or a savepoint's "
					"client) would read their error messages, which can show another tenant's data.")
			.hint("Run it outside exception blocks and savepoints, or ask a platform admin.");
	start_withholding("protected table " + std::string(pg_call(relation_name, relid)));
}

// Stops withholding: the statement is over.
void end_statement() noexcept
{
	stop_withholding();
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
	start_withholding("a table of this database (protected tables among them)");
}

// Stops withholding once a maintenance command ran.
void end_maintenance(const Node *statement) noexcept
{
	if (IsA(statement, VacuumStmt) || IsA(statement, ReindexStmt) || IsA(statement, ClusterStmt))
		stop_withholding();
}

} // namespace tenancy::withheld_errors
