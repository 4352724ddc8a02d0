// Tenant locks: what keeps a tenant and its rows together without a foreign
// key from every protected table to tenancy.tenants.
//
// A transaction that writes rows of a tenant holds a lock on the tenant until
// it ends: taken at its first write into the tenant, and followed by a check
// that the tenant still exists. Removing a tenant takes the same lock in a
// mode that conflicts: it waits for every transaction that is writing into
// the tenant, and the ones that come after it find the tenant gone. A foreign
// key did the same with a query and a row lock on the tenant's row for every
// inserted row; this costs one lock per transaction and tenant.
//
// The locks are advisory lock tags in a space of pg_tenancy's own (pg_locks:
// locktype advisory, objsubid 29812), which pg_advisory_lock() cannot name.
#pragma once

#include "catalog.hpp"

extern "C" {
#include "postgres.h"
#include "utils/uuid.h"
}

namespace tenancy::tenant_lock {

// Holds the tenant for writing until the transaction ends, and throws a
// foreign_key_violation when the tenant does not exist (any more), and
// object_not_in_prerequisite_state when it keeps its rows outside protected
// tables (schema or database mode, perhaps since a move this write waited
// for). Cheap when this transaction already holds it.
void hold_for_write(const pg_uuid_t &tenant);

// Holds the tenant for deleting rows of it, like hold_for_write() except
// that the tenant may be gone (its rows are being removed with it).
void hold_for_delete(const pg_uuid_t &tenant);

// Waits for the transactions writing into the tenant and holds it for its
// removal until this transaction ends; no transaction can start writing into
// it meanwhile.
void hold_for_removal(const pg_uuid_t &tenant);

// Records that the tenant exists, and in which mode, as found in the catalog
// by a lookup that began at invalidation generation stamp (the context's
// validation), so that the first write into it needs no lookup of its own.
void known_to_exist(const catalog::Tenant &tenant, uint64 stamp);

// Forgets that this transaction checked the tenant, which it is removing.
void forget(const pg_uuid_t &tenant);

// Takes the tenant's member seats tag until the transaction ends, so that
// additions of members to one tenant take turns (the members limit).
void hold_member_seats(const pg_uuid_t &tenant);

// Registers the transaction callbacks; called once from _PG_init.
void register_callbacks();

} // namespace tenancy::tenant_lock
