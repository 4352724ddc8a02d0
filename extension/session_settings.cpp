// The settings a tenant gives the sessions that select it (see
// session_settings.hpp).
//
// What a tenant wants is read by tenancy._session_settings() (plan and own
// limits merged, the timezone setting or its default) once per tenant until
// the catalog changes: tenants, plans and setting definitions all send the
// invalidation that moves the generation.
#include "session_settings.hpp"
#include "boundary.hpp"
#include "context.hpp"
#include "generation_cache.hpp"
#include "guc.hpp"
#include "statement.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "pgtime.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
}

#include <string>

namespace tenancy::session_settings {

namespace {

constexpr int setting_count = 3;
constexpr size_t value_bytes = 256;
constexpr size_t cache_limit = 10000;

// The settings, in the order tenancy._session_settings() returns them.
enum Setting { statement_timeout = 0, work_mem_setting = 1, time_zone = 2 };
const char *const setting_names[setting_count] = {"statement_timeout", "work_mem", "TimeZone"};

// One value a tenant wants; number is in the setting's base unit (ms, kB).
struct Wanted {
	bool present = false;
	std::string text;
	int number = 0;
};

// What one tenant wants for each setting.
struct TenantSettings {
	Wanted wanted[setting_count];
};

// The values read by tenancy._session_settings(); plain data for pg_call.
struct RawSettings {
	bool present[setting_count];
	char value[setting_count][value_bytes];
};

// What this transaction changed of one setting: the value it had before,
// and the value it was given.
struct Applied {
	bool changed = false;
	std::string original;
	std::string ours;
};

GenerationMap<TenantSettings> cache(cache_limit);
Applied applied[setting_count];
bool any_applied = false;

// Calls tenancy._session_settings(tenant) under a catalog snapshot (the
// latest committed state, like every catalog read of pg_tenancy): never the
// transaction's snapshot, which a statement such as SET TRANSACTION or LOCK
// must not have taken yet. Leaves out all false when the function does not
// exist (an older version of the extension).
void read_raw(const pg_uuid_t *tenant, RawSettings *out)
{
	Oid argument_types[1] = {UUIDOID};
	List *name = list_make2(makeString(pstrdup("tenancy")), makeString(pstrdup("_session_settings")));
	Oid function = LookupFuncName(name, 1, argument_types, true);
	if (!OidIsValid(function))
		return;
	InvalidateCatalogSnapshot();
	PushActiveSnapshot(GetCatalogSnapshot(InvalidOid));
	ArrayType *values = DatumGetArrayTypeP(OidFunctionCall1(function, UUIDPGetDatum(tenant)));
	PopActiveSnapshot();
	Datum *elements;
	bool *nulls;
	int count;
	deconstruct_array(values, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
	for (int i = 0; i < count && i < setting_count; i++) {
		out->present[i] = !nulls[i];
		if (!nulls[i])
			text_to_cstring_buffer(DatumGetTextPP(elements[i]), out->value[i], value_bytes);
	}
}

// Converts a value of statement_timeout or work_mem to its base unit; false
// when it is not one (the plan functions check values, so this is defensive).
bool parse_number(Setting setting, const char *text, int *number)
{
	int unit = setting == statement_timeout ? GUC_UNIT_MS : GUC_UNIT_KB;
	return pg_call([&] { return parse_int(text, number, unit, nullptr); });
}

// Reads what a tenant wants.
TenantSettings read_settings(const pg_uuid_t &tenant)
{
	RawSettings raw{};
	pg_call(read_raw, &tenant, &raw);
	TenantSettings settings;
	for (int i = 0; i < setting_count; i++) {
		Wanted &wanted = settings.wanted[i];
		if (!raw.present[i] || raw.value[i][0] == '\0')
			continue;
		wanted.text = raw.value[i];
		wanted.present = i == time_zone || parse_number(static_cast<Setting>(i), raw.value[i], &wanted.number);
	}
	return settings;
}

// Returns what a tenant wants, from the cache when the catalog is unchanged.
const TenantSettings &settings_of(const pg_uuid_t &tenant)
{
	std::string key(reinterpret_cast<const char *>(tenant.data), UUID_LEN);
	return cache.get(key, [&] { return read_settings(tenant); });
}

// Says whether a setting has the value wanted now.
bool has_value(Setting setting, const Wanted &wanted)
{
	switch (setting) {
	case statement_timeout:
		return StatementTimeout == wanted.number;
	case work_mem_setting:
		return work_mem == wanted.number;
	case time_zone:
		return session_timezone != nullptr && pg_strcasecmp(pg_get_timezone_name(session_timezone),
															 wanted.text.c_str()) == 0;
	}
	return true;
}

// Returns the current value of a setting, as SHOW would set it again.
std::string current_value(Setting setting)
{
	const char *value = pg_call([&] { return GetConfigOption(setting_names[setting], false, false); });
	return value != nullptr ? value : "";
}

// Sets a setting for the rest of the transaction; a value the server refuses
// gives a warning, not a failed statement. A new statement_timeout also
// arms (or stops) the timer of the statement starting now.
void set_locally(Setting setting, const std::string &value)
{
	pg_call([&] {
		(void) set_config_option(setting_names[setting], value.c_str(), PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, WARNING, false);
		if (setting != statement_timeout)
			return;
		if (StatementTimeout > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
		else if (get_timeout_active(STATEMENT_TIMEOUT))
			disable_timeout(STATEMENT_TIMEOUT, false);
	});
}

// Gives a setting the value wanted, or, when nothing is wanted, gives back
// the value it had before this transaction changed it (unless the session
// changed it since).
void apply_setting(Setting setting, const Wanted *wanted)
{
	Applied &memo = applied[setting];
	if (wanted != nullptr && wanted->present) {
		if (has_value(setting, *wanted))
			return;
		if (!memo.changed) {
			memo.original = current_value(setting);
			memo.changed = true;
			any_applied = true;
		}
		set_locally(setting, wanted->text);
		memo.ours = current_value(setting);
		return;
	}
	if (!memo.changed)
		return;
	if (current_value(setting) == memo.ours)
		set_locally(setting, memo.original);
	memo = Applied{};
}

// Forgets what the transaction applied: its values end with it.
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
		return;
	if (!any_applied)
		return;
	for (Applied &memo : applied)
		memo = Applied{};
	any_applied = false;
}

// Applies the settings of the tenant of context (none: nullptr).
void apply_for(const context::Context *context)
{
	const TenantSettings *settings = context != nullptr ? &settings_of(context->tenant_id) : nullptr;
	if (settings == nullptr && !any_applied)
		return;
	for (int i = 0; i < setting_count; i++) {
		const Wanted *wanted = settings != nullptr ? &settings->wanted[i] : nullptr;
		if (i == time_zone && !guc::apply_timezone())
			wanted = nullptr;
		apply_setting(static_cast<Setting>(i), wanted);
	}
}

} // namespace

// Applies the settings of the current statement's tenant.
void apply()
{
	apply_for(statement::current().tenant[0] != '\0' ? context::current_quietly() : nullptr);
}

// Applies the settings of the tenant the settings select now.
void apply_before_planning()
{
	statement::Inputs inputs = statement::peek();
	apply_for(inputs.tenant[0] != '\0' ? context::quietly_for(inputs) : nullptr);
}

// Says what is wrong with a value of a statement_timeout or work_mem limit.
std::string limit_problem(const std::string &key, const std::string &value)
{
	bool timeout = key == "statement_timeout";
	double number = 0;
	int unit = timeout ? GUC_UNIT_MS : GUC_UNIT_KB;
	bool parsed = pg_call([&] { return parse_real(value.c_str(), &number, unit, nullptr); });
	if (timeout) {
		if (!parsed || number < 0)
			return "statement_timeout is a duration, as in \"5s\" or \"250ms\".";
		if (number > 0 && number < 1)
			return "statement_timeout is 0 (no timeout) or at least 1ms.";
		if (number > INT_MAX)
			return "statement_timeout is at most 2147483647ms (about 24 days).";
		return "";
	}
	if (!parsed || number < 0)
		return "work_mem is an amount of memory, as in \"64MB\".";
	if (number < 64 || number > MAX_KILOBYTES)
		return "work_mem is between 64kB and " + std::to_string(MAX_KILOBYTES) + "kB.";
	return "";
}

// Registers the transaction callback.
void register_callbacks() { RegisterXactCallback(on_transaction_end, nullptr); }

} // namespace tenancy::session_settings
