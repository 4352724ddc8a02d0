// Invalidation of everything pg_tenancy caches in a backend.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace tenancy::invalidation {

// A number that changes whenever tenants, memberships or role grants may
// have changed, here or in a committed transaction of another session.
uint64 generation();

// Processes invalidation messages from other sessions, so that a change they
// committed is seen by the very next check. Cheap when there is none.
void catch_up();

// Registers the relcache and syscache callbacks; called once from _PG_init.
void register_callbacks();

} // namespace tenancy::invalidation
