// The inputs of the tenant context, fixed per top-level statement (see
// statement.hpp). The hooks in statement_hooks.cpp call begin_top_level()
// when a top-level statement starts, and push()/pop() around a cursor that
// runs in a later statement than the one that opened it.
#include "statement.hpp"
#include "guc.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
}

#include <cstring>

namespace tenancy::statement {

namespace {

constexpr int max_pushed = 64;

Inputs frozen{};
TimestampTz frozen_at = 0;
uint64 serials = 0;
uint64 boundaries = 0;
Inputs pushed[max_pushed];
int depth = 0;

// Reads the settings and the outer role as they are now.
Inputs capture() noexcept
{
	Inputs now{};
	guc::Value tenant = guc::tenant();
	guc::Value actor = guc::actor();
	now.outer_role = GetOuterUserId();
	now.tenant_local = tenant.local;
	now.actor_local = actor.local;
	strlcpy(now.tenant, tenant.text, sizeof(now.tenant));
	strlcpy(now.actor, actor.text, sizeof(now.actor));
	return now;
}

// Says whether two inputs are the same, ignoring their serials.
bool same(const Inputs &a, const Inputs &b) noexcept
{
	return a.outer_role == b.outer_role && a.tenant_local == b.tenant_local && a.actor_local == b.actor_local &&
		   strcmp(a.tenant, b.tenant) == 0 && strcmp(a.actor, b.actor) == 0;
}

// Makes the settings as they are now the frozen inputs.
void freeze() noexcept
{
	Inputs now = capture();
	now.serial = same(now, frozen) && frozen.serial != 0 ? frozen.serial : ++serials;
	frozen = now;
	frozen_at = GetCurrentStatementStartTimestamp();
	boundaries++;
}

} // namespace

// Returns the inputs of the statement running now.
const Inputs &current()
{
	if (depth > 0)
		return pushed[depth - 1];
	if (frozen.serial == 0 || frozen_at != GetCurrentStatementStartTimestamp())
		freeze();
	return frozen;
}

// Captures the settings for a new top-level statement.
void begin_top_level() noexcept
{
	freeze();
}

// Returns the number of top-level statements begun so far.
uint64 boundary() noexcept
{
	return boundaries;
}

// Makes inputs current until pop(); false when too many are pushed already.
bool push(const Inputs &inputs) noexcept
{
	if (depth >= max_pushed)
		return false;
	pushed[depth++] = inputs;
	return true;
}

// Undoes the last successful push().
void pop() noexcept
{
	if (depth > 0)
		depth--;
}

// Forgets every push().
void reset() noexcept
{
	depth = 0;
}

} // namespace tenancy::statement
