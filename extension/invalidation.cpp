// Invalidation of everything pg_tenancy caches in a backend.
//
// The catalog tables carry a statement trigger (tenancy.catalog_changed) that
// sends a relcache invalidation for the table at commit. Every backend
// receives it at its next catch_up() and drops its caches; role grants are
// followed through the pg_authid and pg_auth_members syscaches.
#include "invalidation.hpp"
#include "audit_columns.hpp"
#include "audit_writer.hpp"
#include "boundary.hpp"
#include "catalog.hpp"

extern "C" {
#include "utils/inval.h"
#include "utils/guc.h"
#include "utils/syscache.h"
}

namespace tenancy::invalidation {

namespace {

uint64 current_generation = 1;

// Drops the caches built on tenancy's catalog.
void invalidate_all() noexcept
{
	current_generation++;
	catalog::forget();
	// Which tenant schemas the search path may hold can change too.
	assign_search_path(nullptr, nullptr);
}

// Reacts to a relcache invalidation: our catalog tables, or everything.
void on_relcache(Datum arg, Oid relid) noexcept
{
	if (relid == InvalidOid || catalog::is_context_table(relid))
		invalidate_all();
	audit::forget_columns(relid);
	audit::forget_writer_columns(relid);
}

// Reacts to a change of pg_authid or pg_auth_members.
void on_roles(Datum arg, int cache_id, uint32 hash_value) noexcept
{
	invalidate_all();
}

} // namespace

// Returns the current cache generation.
uint64 generation() { return current_generation; }

// Processes pending invalidation messages.
void catch_up() { pg_call(AcceptInvalidationMessages); }

// Registers the callbacks.
void register_callbacks()
{
	CacheRegisterRelcacheCallback(on_relcache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, on_roles, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_roles, (Datum) 0);
}

} // namespace tenancy::invalidation
