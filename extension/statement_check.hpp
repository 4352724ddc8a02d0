// The check at the start of every statement that touches a protected table.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
}

#include <vector>

namespace tenancy::statement_check {

// A protected table a statement uses, and how (ACL_SELECT, ACL_INSERT, ...).
struct Access {
	Oid relid;
	AclMode perms;
};

// Throws unless the context of the current statement allows every access.
void require(const std::vector<Access> &accesses);

// Returns the protected accesses found when range_table was last checked
// (empty when it touched no protected table or was not the last checked).
const std::vector<Access> &found_in(const List *range_table);

// Forgets what the last check found; called before a query starts, so that a
// range table allocated where an earlier one was is never mistaken for it.
void forget_found() noexcept;

// Installs the executor permission hook; called once from _PG_init.
void install();

} // namespace tenancy::statement_check
