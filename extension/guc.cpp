// The settings users type: tenancy.tenant and tenancy.user. Their check hooks
// refuse malformed values at SET time; whether a value may be *used* (tenant
// exists, actor is a member, tenancy.user is allowed) is decided at each use
// by context.cpp, because a value can arrive before this library is loaded
// (PGOPTIONS, ALTER ROLE ... SET) and must be judged all the same.
#include "guc.hpp"
#include "names.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace tenancy::guc {

namespace {

char *tenant_value = nullptr;
char *user_value = nullptr;
uint64 tenant_assignments = 0;
uint64 user_assignments = 0;

// Accepts "", a slug or a uuid for tenancy.tenant.
bool check_tenant(char **newval, void **extra, GucSource source)
{
	if (*newval == nullptr || (*newval)[0] == '\0')
		return true;
	if (is_valid_slug(*newval) || is_uuid_text(*newval))
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("invalid tenant \"%s\"", *newval);
	GUC_check_errdetail("A tenant is named by its slug (a lowercase letter, then lowercase letters, "
						"digits, \"_\" or \"-\", at most 63 characters) or by its uuid.");
	return false;
}

// Accepts "" or a well-formed actor name for tenancy.user.
bool check_user(char **newval, void **extra, GucSource source)
{
	if (*newval == nullptr || (*newval)[0] == '\0' || is_valid_actor(*newval))
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("invalid tenancy.user \"%s\"", *newval);
	GUC_check_errdetail("An actor name has 1 to 256 bytes, no control characters and no leading or "
						"trailing spaces.");
	return false;
}

// Notes that tenancy.tenant changed, so that the context is validated again.
void note_tenant_assignment(const char *newval, void *extra)
{
	tenant_assignments++;
}

// Notes that tenancy.user changed, so that the identity is judged again.
void note_user_assignment(const char *newval, void *extra)
{
	user_assignments++;
}

} // namespace

// Returns the current value of tenancy.tenant.
const char *tenant() { return tenant_value ? tenant_value : ""; }

// Returns the current value of tenancy.user.
const char *user() { return user_value ? user_value : ""; }

// Returns a number that changes with every assignment of tenancy.tenant.
uint64 tenant_generation() { return tenant_assignments; }

// Returns a number that changes with every assignment of tenancy.user.
uint64 user_generation() { return user_assignments; }

// Defines tenancy.tenant and tenancy.user.
void define()
{
	DefineCustomStringVariable(
		"tenancy.tenant",
		"Selects the tenant whose rows this session sees and changes.",
		"A tenant slug or uuid; checked against the caller's membership at every use. "
		"Use SET LOCAL inside transactions behind a connection pooler.",
		&tenant_value, "", PGC_USERSET, 0, check_tenant, note_tenant_assignment, nullptr);

	DefineCustomStringVariable(
		"tenancy.user",
		"Application user on whose behalf a trusted service role acts.",
		"Honoured only for roles granted tenancy_service; any other role that sets it is refused.",
		&user_value, "", PGC_USERSET, 0, check_user, note_user_assignment, nullptr);

	MarkGUCPrefixReserved("tenancy");
}

} // namespace tenancy::guc
