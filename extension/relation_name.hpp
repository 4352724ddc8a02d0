// The name of a relation for messages.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace tenancy {

// Returns the schema-qualified, quoted name of a relation, or "(dropped
// table)". May raise a PostgreSQL error (call it through pg_call()).
const char *relation_name(Oid relid);

} // namespace tenancy
