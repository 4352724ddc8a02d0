// Which code an expression runs, and whether that code is trusted to run on
// every tenant's rows.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
}

namespace tenancy::owner_code {

// Says whether a function is trusted: built into PostgreSQL, owned by a
// superuser, or part of pg_tenancy. May raise a PostgreSQL error.
bool trusted_function(Oid function);

// Returns "name(argument types), owned by role", for messages.
const char *describe_function(Oid function);

// Returns the first function an expression calls (directly, through an
// operator, a cast or a domain constraint) that is not trusted or not
// immutable (a volatile built-in such as set_config, pg_notify or
// query_to_xml has side effects or runs SQL), or InvalidOid. May raise a
// PostgreSQL error.
Oid first_untrusted_function(Node *expression);

} // namespace tenancy::owner_code
