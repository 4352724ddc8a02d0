// What the tenant context is computed from, fixed for a whole top-level
// statement: the values of tenancy.tenant and tenancy.actor (and whether each
// was set for the transaction only) and the session's outer role, as they
// were when the statement started.
//
// A set_config() in a subquery, a function or a trigger therefore changes the
// settings from the next top-level statement on, never in the middle of the
// one that runs: every default, policy and audit row of a statement sees the
// same tenant and actor. A cursor keeps the inputs it was opened with, and is
// checked against them again at every FETCH.
#pragma once

#include "actor_names.hpp"

extern "C" {
#include "postgres.h"
}

namespace tenancy::statement {

// The inputs of the context; plain data, copied freely.
struct Inputs {
	uint64 serial;     // equal serials mean equal inputs
	Oid outer_role;    // GetOuterUserId(): SET ROLE counts, SECURITY DEFINER does not
	bool tenant_local; // tenancy.tenant was set for the current transaction only
	bool actor_local;  // likewise tenancy.actor
	char tenant[64];   // a slug (at most 63 bytes) or a uuid, "" for none
	char actor[actor_names::max_bytes + 1]; // "" for none
};

// Returns the inputs of the statement running now: those of the cursor being
// fetched from, or else those captured when the top-level statement started
// (captured now when a new statement began without passing our hooks, as a
// fast-path function call does).
const Inputs &current();

// Captures the settings as the inputs of a new top-level statement.
void begin_top_level() noexcept;

// Returns the inputs the settings make now, without making them the
// statement's (for what runs before a top-level statement begins: planning).
Inputs peek() noexcept;

// Counts top-level statements: a cursor opened in an earlier statement is
// checked again before it runs in a later one.
uint64 boundary() noexcept;

// Makes inputs the current ones until pop(): a cursor runs with its own.
// Returns false (and changes nothing) when 64 cursors are running already.
bool push(const Inputs &inputs) noexcept;

// Undoes the last successful push().
void pop() noexcept;

// Forgets every push(); called when a transaction aborts.
void reset() noexcept;

} // namespace tenancy::statement
