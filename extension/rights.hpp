// The rights a membership role gives on a protected table.
#pragma once

#include "context.hpp"

namespace tenancy::rights {

// What a statement does to a table.
enum class Action { select, insert, update, remove };

// Parses "select", "insert", "update" or "delete" (length bytes, not
// necessarily terminated).
Action action_named(const char *verb, size_t length);

// Throws the error a user sees when the validated context does not allow the
// action on the table: a write into an archived tenant, or a role below the
// required one. The error names the role needed.
void require(const context::Context &context, catalog::Role required, Action action, Oid relid);

} // namespace tenancy::rights
