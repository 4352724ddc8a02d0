// Which tables tenancy.protect() protects, cached per backend.
#pragma once

#include "catalog.hpp"

#include <vector>

namespace tenancy::protected_tables {

// Returns the settings of a protected table, or nullptr when relid is not
// protected (or the extension is not installed in this database).
const catalog::ProtectedTable *find(Oid relid);

// Returns the oids of every protected table (none when the extension is not
// installed in this database).
std::vector<Oid> all();

} // namespace tenancy::protected_tables
