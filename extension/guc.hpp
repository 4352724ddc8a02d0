// The settings users type: tenancy.tenant and tenancy.actor, and the
// switches tenancy.default_region and tenancy.apply_timezone.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace tenancy::guc {

// The value of a setting, and whether it was set for the current
// transaction only (SET LOCAL, set_config(..., true), a function's SET
// clause) rather than for the session (SET, PGOPTIONS, ALTER ROLE ... SET).
struct Value {
	const char *text; // "" when unset
	bool local;
};

// Current value of tenancy.tenant: a slug, a uuid, or "".
Value tenant();

// Current value of tenancy.actor: an asserted application user, or "".
Value actor();

// Says whether a tenant's timezone setting applies to its sessions
// (tenancy.apply_timezone).
bool apply_timezone();

// Says whether writes into protected tables are metered
// (tenancy.usage_metering, superusers only).
bool usage_metering();

// Defines the settings and reserves the "tenancy." prefix.
void define();

} // namespace tenancy::guc
