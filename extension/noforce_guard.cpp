// Functions of table owners never run exempt from forced row level security.
#include "noforce_guard.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/pg_namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
}

namespace tenancy::noforce_guard {

namespace {

needs_fmgr_hook_type previous_needs = nullptr;
fmgr_hook_type previous_hook = nullptr;

// The caller's security context, saved while a guarded function runs.
struct Saved {
	Oid user;
	int context;
	bool changed;
};

// Says whether the calling context is exempt from forced row level security.
bool exempt_now() noexcept
{
	Oid user;
	int context;
	GetUserIdAndSecContext(&user, &context);
	return (context & SECURITY_NOFORCE_RLS) != 0;
}

// Says whether a function needs the hook: one called while exempt from
// forced row level security (a foreign key's action) that is not
// PostgreSQL's own (pg_catalog). Asked when its call is set up, which for a
// foreign key's action is inside the action. (Plain C: may raise on a
// catalog lookup, as fmgr_info does.)
bool needs_hook(Oid function) noexcept
{
	if (previous_needs != nullptr && previous_needs(function))
		return true;
	return exempt_now() && get_func_namespace(function) != PG_CATALOG_NAMESPACE;
}

// Runs the function without the exemption, and puts the caller's context
// back afterwards.
void hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *arg) noexcept
{
	if (previous_hook != nullptr)
		previous_hook(event, flinfo, arg);
	if (event == FHET_START) {
		auto *saved = reinterpret_cast<Saved *>(DatumGetPointer(*arg));
		if (saved == nullptr) {
			saved = static_cast<Saved *>(MemoryContextAlloc(flinfo->fn_mcxt, sizeof(Saved)));
			*arg = PointerGetDatum(saved);
		}
		GetUserIdAndSecContext(&saved->user, &saved->context);
		saved->changed = (saved->context & SECURITY_NOFORCE_RLS) != 0;
		if (saved->changed)
			SetUserIdAndSecContext(saved->user, saved->context & ~SECURITY_NOFORCE_RLS);
		return;
	}
	auto *saved = reinterpret_cast<Saved *>(DatumGetPointer(*arg));
	if (saved != nullptr && saved->changed) {
		SetUserIdAndSecContext(saved->user, saved->context);
		saved->changed = false;
	}
}

} // namespace

// Installs the hooks.
void install()
{
	previous_needs = needs_fmgr_hook;
	previous_hook = fmgr_hook;
	needs_fmgr_hook = needs_hook;
	fmgr_hook = hook;
}

} // namespace tenancy::noforce_guard
