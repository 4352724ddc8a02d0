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

// Copies text into a fixed field, cut to fit.
void put(char *field, size_t size, const char *text) noexcept
{
	size_t length = strnlen(text, size - 1);
	memcpy(field, text, length);
	field[length] = '\0';
}

// Copies the settings as they are now into inputs; returns whether they
// differ from what inputs held (the serial is left to the caller).
bool capture(Inputs &inputs) noexcept
{
	guc::Value tenant = guc::tenant();
	guc::Value actor = guc::actor();
	Oid role = GetOuterUserId();
	if (inputs.serial != 0 && inputs.outer_role == role && inputs.tenant_local == tenant.local &&
		inputs.actor_local == actor.local && strcmp(inputs.tenant, tenant.text) == 0 &&
		strcmp(inputs.actor, actor.text) == 0)
		return false;
	inputs.outer_role = role;
	inputs.tenant_local = tenant.local;
	inputs.actor_local = actor.local;
	put(inputs.tenant, sizeof(inputs.tenant), tenant.text);
	put(inputs.actor, sizeof(inputs.actor), actor.text);
	return true;
}

// Makes the settings as they are now the frozen inputs; their serial changes
// only when they differ from the inputs frozen before.
void freeze() noexcept
{
	if (capture(frozen))
		frozen.serial = ++serials;
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

// Returns the inputs the settings make now: the frozen ones when they are
// the same, else a copy with a serial of its own.
Inputs peek() noexcept
{
	Inputs inputs = frozen;
	if (capture(inputs))
		inputs.serial = ++serials;
	return inputs;
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
