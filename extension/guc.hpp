// The settings users type: tenancy.tenant and tenancy.user.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace tenancy::guc {

// Current value of tenancy.tenant: a slug, a uuid, or "" for none.
const char *tenant();

// Current value of tenancy.user: an asserted application user, or "".
const char *user();

// A number that changes whenever tenancy.tenant is assigned.
uint64 tenant_generation();

// A number that changes whenever tenancy.user is assigned.
uint64 user_generation();

// Defines both settings and reserves the "tenancy." prefix.
void define();

} // namespace tenancy::guc
