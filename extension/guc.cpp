// The settings users type: tenancy.tenant and tenancy.actor. Their check
// hooks refuse malformed values at SET time (and put actor names in their
// normalized form); whether a value may be *used* (tenant exists, actor is a
// member, tenancy.actor is allowed, a service's value is transaction-local)
// is decided at each use by identity.cpp and context.cpp, because a value can
// arrive before this library is loaded (PGOPTIONS, ALTER ROLE ... SET) and
// must be judged all the same.
#include "guc.hpp"
#include "actor_names.hpp"
#include "names.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/guc_tables.h"
}

#include <cstdlib>
#include <cstring>

namespace tenancy::guc {

namespace {

char *tenant_value = nullptr;
char *actor_value = nullptr;
char *default_region_value = nullptr;
bool apply_timezone_value = true;
bool usage_metering_value = true;
config_generic *tenant_record = nullptr;
config_generic *actor_record = nullptr;

// Makes the search path be computed again: which tenant schemas it may hold
// depends on the tenant and the actor (tenant_schemas.cpp).
void recompute_search_path(const char *, void *) noexcept
{
	assign_search_path(nullptr, nullptr);
}

// Accepts "", a slug or a uuid for tenancy.tenant.
bool check_tenant(char **newval, void **extra, GucSource source) noexcept
{
	if (*newval == nullptr || (*newval)[0] == '\0')
		return true;
	if (is_uuid_text(*newval) || is_valid_slug(*newval))
		return true;
	char shown[actor_names::shown_bytes + 1];
	actor_names::shown_into(shown, *newval);
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("invalid tenant \"%s\"", shown);
	GUC_check_errdetail("A tenant is named by its slug (a lowercase letter, then lowercase letters, "
						"digits, \"_\" or \"-\", at most 63 characters) or by its uuid.");
	return false;
}

// Accepts "" or a well-formed region name for tenancy.default_region
// (whether the region exists is checked when a tenant is created).
bool check_region(char **newval, void **extra, GucSource source) noexcept
{
	if (*newval == nullptr || (*newval)[0] == '\0' || is_valid_slug(*newval))
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("invalid region \"%s\"", *newval);
	GUC_check_errdetail("A region name starts with a lowercase letter and has only lowercase letters, digits, "
						"\"_\" and \"-\", at most 63 characters, and does not look like a uuid.");
	return false;
}

// Checks and normalizes an actor name; false when it is refused (also when
// memory runs out: a check hook must never throw).
bool normalize_actor(char **newval) noexcept
try {
	actor_names::Checked checked = actor_names::check(*newval, strlen(*newval));
	if (!checked.valid) {
		char shown[actor_names::shown_bytes + 1];
		actor_names::shown_into(shown, *newval);
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("invalid tenancy.actor \"%s\"", shown);
		GUC_check_errdetail("%s", checked.problem);
		return false;
	}
	if (checked.normalized != *newval) {
		// GUC owns string values with malloc/free.
		char *normalized = static_cast<char *>(malloc(checked.normalized.size() + 1));
		if (normalized == nullptr)
			return false;
		memcpy(normalized, checked.normalized.c_str(), checked.normalized.size() + 1);
		free(*newval);
		*newval = normalized;
	}
	return true;
} catch (...) {
	return false;
}

// Accepts "" or a valid actor name for tenancy.actor, in its normalized form.
bool check_actor(char **newval, void **extra, GucSource source) noexcept
{
	if (*newval == nullptr || (*newval)[0] == '\0' || actor_names::plain_ascii_name(*newval, strlen(*newval)))
		return true;
	return normalize_actor(newval);
}

// Finds the GUC machinery's record of a setting, to read how it was set.
config_generic *record_of(const char *name)
{
	config_generic **variables = get_guc_variables();
	int count = GetNumConfigOptions();
	for (int i = 0; i < count; i++)
		if (strcmp(variables[i]->name, name) == 0)
			return variables[i];
	return nullptr;
}

// Says whether the current value of a setting goes away at the end of the
// transaction: its newest saved state is a SET LOCAL (GUC_LOCAL,
// GUC_SET_LOCAL) or a function's SET clause (GUC_SAVE), not a plain SET.
bool set_locally(const config_generic *record)
{
	return record != nullptr && record->stack != nullptr && record->stack->state != GUC_SET;
}

// Returns the value of a setting.
Value value_of(const char *text, const config_generic *record)
{
	if (text == nullptr || text[0] == '\0')
		return {"", false};
	return {text, set_locally(record)};
}

} // namespace

// Returns the current value of tenancy.tenant.
Value tenant() { return value_of(tenant_value, tenant_record); }

// Returns the current value of tenancy.actor.
Value actor() { return value_of(actor_value, actor_record); }

// Returns tenancy.apply_timezone.
bool apply_timezone() { return apply_timezone_value; }

// Returns tenancy.usage_metering.
bool usage_metering() { return usage_metering_value; }

// Defines tenancy.tenant, tenancy.actor, tenancy.default_region and
// tenancy.apply_timezone.
void define()
{
	DefineCustomStringVariable(
		"tenancy.tenant",
		"Selects the tenant whose rows this session sees and changes.",
		"A tenant slug or uuid; checked against the caller's membership at every use. "
		"Use SET LOCAL inside transactions behind a connection pooler.",
		&tenant_value, "", PGC_USERSET, 0, check_tenant, recompute_search_path, nullptr);

	DefineCustomStringVariable(
		"tenancy.actor",
		"Application user on whose behalf a trusted service role acts.",
		"Honoured only for service roles of the database (tenancy.grant_service()), and only when set for "
		"the current transaction (SET LOCAL); any other role that sets it is refused.",
		&actor_value, "", PGC_USERSET, 0, check_actor, recompute_search_path, nullptr);

	DefineCustomStringVariable(
		"tenancy.default_region",
		"Region of the tenants created without one.",
		"tenancy.create_tenant() puts a tenant in this region when none is given; \"default\" (this server) "
		"when empty.",
		&default_region_value, "default", PGC_USERSET, 0, check_region, nullptr, nullptr);

	DefineCustomBoolVariable(
		"tenancy.apply_timezone",
		"Applies the selected tenant's timezone setting to the session's TimeZone.",
		"When on, and a setting \"timezone\" of type timezone is defined, each statement runs in the "
		"current tenant's timezone (or the setting's default).",
		&apply_timezone_value, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);

	DefineCustomBoolVariable(
		"tenancy.usage_metering",
		"Meters the rows written into protected tables per tenant and day.",
		"Only superusers change it (tenants are billed by it); off is for measuring what metering costs.",
		&usage_metering_value, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);

	MarkGUCPrefixReserved("tenancy");
	tenant_record = record_of("tenancy.tenant");
	actor_record = record_of("tenancy.actor");
}

} // namespace tenancy::guc
