// Building result Datums from C++ values, with PostgreSQL's allocation
// failures turned into exceptions.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/uuid.h"
}

#include <string>

namespace tenancy {

// Returns a text Datum holding a copy of value.
Datum text_datum(const std::string &value);

// Returns the bytes of a (detoasted) text value.
std::string text_of(const text *value);

// Returns a uuid Datum holding a copy of value.
Datum uuid_datum(const pg_uuid_t &value);

} // namespace tenancy
