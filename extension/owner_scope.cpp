// Scopes in which pg_tenancy runs statements as a table's owner.
#include "owner_scope.hpp"
#include "boundary.hpp"
#include "identity.hpp"
#include "sql_function.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/pquery.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/portal.h"
}

namespace tenancy::owner_scope {

namespace {

// One scope: what protected tables are in it.
struct Scope {
	uint64 serial = 0;      // identifies it among all scopes of the backend
	Oid owner = InvalidOid; // the table owner whose code runs
	Oid target = InvalidOid; // the table whose statement runs
	bool open = false;   // false: protected tables are closed
	pg_uuid_t tenant{};  // open: the tenant they show
	catalog::Role role = catalog::Role::none;
	int nest_level = 0;  // the transaction nesting level it began at
};

constexpr int max_depth = 16;
Scope scopes[max_depth]; // the active scopes, innermost last
int depth = 0;
uint64 serials = 0;
context::Context open_context; // the context handed out for an open scope

// Pushes a scope (plain C: raises when too deep).
void begin(Oid owner, Oid target, bool open, const pg_uuid_t *tenant, catalog::Role role)
{
	if (depth == max_depth)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("pg_tenancy statements run as a table's owner nest too deep")));
	Scope &scope = scopes[depth];
	scope.serial = ++serials;
	scope.owner = owner;
	scope.target = target;
	scope.open = open;
	scope.tenant = tenant != nullptr ? *tenant : pg_uuid_t{};
	scope.role = role;
	scope.nest_level = GetCurrentTransactionNestLevel();
	depth++;
	assign_search_path(nullptr, nullptr); // the tenant schemas it may hold change
}

// Ends every scope when the transaction ends (an error left some behind).
void on_transaction_end(XactEvent event, void *) noexcept
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_COMMIT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE) {
		if (depth > 0)
			assign_search_path(nullptr, nullptr);
		depth = 0;
	}
}

// Ends the scopes begun in a subtransaction that rolls back (an error left
// them behind); those of enclosing levels stay.
void on_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void *) noexcept
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	int level = GetCurrentTransactionNestLevel();
	int before = depth;
	while (depth > 0 && scopes[depth - 1].nest_level >= level)
		depth--;
	if (depth != before)
		assign_search_path(nullptr, nullptr);
}

} // namespace

// Begins a closed scope.
void begin_closed(Oid owner, Oid target)
{
	begin(owner, target, false, nullptr, catalog::Role::none);
}

// Begins a scope open for one tenant.
void begin_open(Oid owner, Oid target, const pg_uuid_t &tenant, catalog::Role role)
{
	begin(owner, target, true, &tenant, role);
}

// Raises when the session has a cursor whose rows wait in a store (WITH
// HOLD, or a cursor over INSERT/UPDATE/DELETE ... RETURNING once fetched):
// fetching from a store runs no executor, so no check sees it.
void refuse_held_cursors()
{
	if (SPI_execute("SELECT c.name FROM pg_catalog.pg_cursor() c", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "cannot list the session's cursors");
	for (uint64 i = 0; i < SPI_processed; i++) {
		char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		Portal portal = name != nullptr ? GetPortalByName(name) : nullptr;
		if (portal == nullptr || portal == ActivePortal)
			continue;
		if (portal->holdStore != nullptr || (portal->cursorOptions & CURSOR_OPT_HOLD) != 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_CURSOR_STATE),
							errmsg("cannot run a table owner's code while cursor \"%s\" holds rows", name),
							errdetail("pg_tenancy runs code of the table's owner meanwhile (triggers, a backfill "
									  "expression), and this cursor (WITH HOLD, or over a statement with "
									  "RETURNING) keeps rows read with this session's tenant where that code "
									  "could fetch them."),
							errhint("Close the cursor first (CLOSE ALL).")));
	}
}

namespace {

// Returns the owner of a relation (plain C).
Oid relation_owner(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table with oid %u does not exist", relid)));
	Oid owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

} // namespace

// Becomes the owner of relid for a statement, in a scope.
OwnerSession enter_as_owner(Oid relid, const char *search_path, const pg_uuid_t *open_for, catalog::Role open_role)
{
	return enter_as_role(relation_owner(relid), relid, search_path, open_for, open_role);
}

// Becomes a role for pg_tenancy's statements, as enter_as_owner() does.
OwnerSession enter_as_role(Oid owner, Oid relid, const char *search_path, const pg_uuid_t *open_for,
						   catalog::Role open_role)
{
	OwnerSession session;
	GetUserIdAndSecContext(&session.saved_user, &session.saved_context);
	session.nest_level = NewGUCNestLevel();
	if (search_path != nullptr)
		(void) set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	(void) set_config_option("max_parallel_workers_per_gather", "0", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (open_for != nullptr)
		begin_open(owner, relid, *open_for, open_role);
	else
		begin_closed(owner, relid);
	SetUserIdAndSecContext(owner, session.saved_context | SECURITY_LOCAL_USERID_CHANGE |
									  SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	refuse_held_cursors();
	return session;
}

// Becomes the caller again, dropping every setting changed meanwhile.
void leave_as_owner(const OwnerSession &session)
{
	SPI_finish();
	SetUserIdAndSecContext(session.saved_user, session.saved_context);
	end();
	AtEOXact_GUC(false, session.nest_level);
}

// Ends the innermost scope.
void end() noexcept
{
	if (depth > 0)
		depth--;
	assign_search_path(nullptr, nullptr);
}

// Says whether a scope is active.
bool active() noexcept
{
	return depth > 0;
}

// Returns the number of the innermost active scope, or 0.
uint64 current_serial() noexcept
{
	return depth > 0 ? scopes[depth - 1].serial : 0;
}

// Returns the table of the innermost scope.
Oid target() noexcept
{
	return depth > 0 ? scopes[depth - 1].target : InvalidOid;
}

// Returns the table owner of the active scope.
Oid owner() noexcept
{
	return depth > 0 ? scopes[depth - 1].owner : InvalidOid;
}

// Returns the context of the active scope, or throws when it is closed.
const context::Context &context()
{
	const Scope &scope = scopes[depth - 1];
	if (!scope.open)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "protected tables cannot be used here")
			.detail("pg_tenancy is running a statement as a table's owner (a backfill, or a check of a table's "
					"rows); code that runs meanwhile, such as the backfill expression, the table's triggers or "
					"functions of its indexes, may not read or write protected tables.")
			.hint("Use only the table's own columns in a backfill expression.");
	const identity::Identity &who = identity::current();
	open_context.tenant_id = scope.tenant;
	open_context.slug.clear();
	open_context.status = catalog::Status::active;
	open_context.role = scope.role;
	open_context.support = false;
	open_context.actor = who.actor;
	open_context.db_role = who.db_role;
	return open_context;
}

} // namespace tenancy::owner_scope

// tenancy._owner_scope_target(): the table whose statement pg_tenancy runs
// as its owner now, or NULL.
TENANCY_SQL_FUNCTION(tenancy_owner_scope_target)
{
	Oid target = tenancy::owner_scope::target();
	if (!OidIsValid(target))
		PG_RETURN_NULL();
	PG_RETURN_OID(target);
}

namespace tenancy::owner_scope {

// Registers the callbacks.
void register_callbacks()
{
	RegisterXactCallback(on_transaction_end, nullptr);
	RegisterSubXactCallback(on_subtransaction_end, nullptr);
}

} // namespace tenancy::owner_scope
