// Which tables tenancy.protect() protects: tenancy.protected_tables read once
// and kept until it changes (its statement trigger sends an invalidation).
#include "protected_tables.hpp"
#include "generation_cache.hpp"

#include <unordered_map>

namespace tenancy::protected_tables {

namespace {

using ByOid = std::unordered_map<Oid, catalog::ProtectedTable>;

GenerationCached<ByOid> tables;

// Reads tenancy.protected_tables into a map by oid.
ByOid load()
{
	ByOid by_oid;
	for (const catalog::ProtectedTable &table : catalog::protected_tables())
		by_oid[table.relid] = table;
	return by_oid;
}

} // namespace

// Returns the settings of a protected table, or nullptr.
const catalog::ProtectedTable *find(Oid relid)
{
	if (!catalog::installed())
		return nullptr;
	const ByOid &by_oid = tables.get(load);
	auto found = by_oid.find(relid);
	return found == by_oid.end() ? nullptr : &found->second;
}

// Returns the oids of every protected table.
std::vector<Oid> all()
{
	std::vector<Oid> oids;
	if (!catalog::installed())
		return oids;
	for (const auto &entry : tables.get(load))
		oids.push_back(entry.first);
	return oids;
}

} // namespace tenancy::protected_tables
