// Which tables tenancy.protect() protects: tenancy.protected_tables read once
// and kept until it changes (its statement trigger sends an invalidation).
#include "protected_tables.hpp"
#include "invalidation.hpp"

#include <unordered_map>

namespace tenancy::protected_tables {

namespace {

std::unordered_map<Oid, catalog::ProtectedTable> by_oid;
uint64 loaded_generation = 0;

} // namespace

// Returns the settings of a protected table, or nullptr.
const catalog::ProtectedTable *find(Oid relid)
{
	if (!catalog::installed())
		return nullptr;
	if (loaded_generation != invalidation::generation()) {
		by_oid.clear();
		for (const catalog::ProtectedTable &table : catalog::protected_tables())
			by_oid[table.relid] = table;
		loaded_generation = invalidation::generation();
	}
	auto found = by_oid.find(relid);
	return found == by_oid.end() ? nullptr : &found->second;
}

} // namespace tenancy::protected_tables
