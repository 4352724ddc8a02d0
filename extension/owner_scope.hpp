// What protected tables are while pg_tenancy runs a statement as a table's
// owner (owner_execution.cpp, tenant_rows.cpp). The owner's code may run then
// (a backfill expression, triggers, functions folded while planning), so the
// owner is never exempt from forced row level security: instead, every
// protected table is either closed (any use refused) or open for one tenant
// with a fixed role, whatever tenancy.tenant says. And pg_tenancy judges the
// owner meanwhile, not the platform admin or member who started the
// operation: the owner's code cannot grant rights, add members or read the
// catalog with the caller's identity.
#pragma once

#include "catalog.hpp"
#include "context.hpp"

namespace tenancy::owner_scope {

// Begins a scope where the owner's code runs and protected tables are closed
// (plain C: raises when scopes nest too deep).
void begin_closed(Oid owner, Oid target);

// Begins a scope where the owner's code runs and protected tables show one
// tenant with role (plain C: raises when scopes nest too deep).
void begin_open(Oid owner, Oid target, const pg_uuid_t &tenant, catalog::Role role);

// Ends the innermost scope.
void end() noexcept;

// The identity and settings of the caller while a statement runs as a
// table's owner.
struct OwnerSession {
	Oid saved_user;
	int saved_context;
	int nest_level;
};

// Becomes the owner of relid for a statement: under
// SECURITY_RESTRICTED_OPERATION, never exempt from forced row level security,
// with search_path set (NULL keeps the caller's), no parallel workers (they
// would not know the scope), in a scope where protected tables are closed or,
// with open_for, show that tenant with open_role; connected to SPI, and refusing
// while a cursor holds rows (plain C: runs inside pg_call; an error on the
// way is cleaned up by the abort, which restores the user and the settings).
OwnerSession enter_as_owner(Oid relid, const char *search_path, const pg_uuid_t *open_for,
							catalog::Role open_role = catalog::Role::owner);

// Becomes role the way enter_as_owner() becomes a table's owner; target is
// the table concerned, or InvalidOid (a migration of a tenant's schema).
OwnerSession enter_as_role(Oid role, Oid target, const char *search_path, const pg_uuid_t *open_for,
						   catalog::Role open_role = catalog::Role::owner);

// Becomes the caller again, dropping every setting changed meanwhile.
void leave_as_owner(const OwnerSession &session);

// Raises when the session has a cursor whose rows wait in a store (WITH HOLD,
// or over a statement with RETURNING): read with the caller's tenant, they
// come from a store no check sees, and the owner's code could fetch them
// (plain C: to call connected to SPI, in a scope).
void refuse_held_cursors();

// Says whether a scope is active.
bool active() noexcept;

// Returns a number that identifies the innermost active scope (0: none), so
// that a cursor opened outside it is not read inside it (query_records.cpp).
uint64 current_serial() noexcept;

// Returns the table whose statement the innermost scope runs, or InvalidOid.
Oid target() noexcept;

// Returns the table owner of the active scope: the identity pg_tenancy
// judges meanwhile (identity::current()), whoever started the operation.
Oid owner() noexcept;

// Returns the context protected tables get in the active scope, or throws
// when they are closed.
const context::Context &context();

// Registers the callbacks that end scopes left by an error.
void register_callbacks();

} // namespace tenancy::owner_scope
