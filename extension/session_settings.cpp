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

// Calls tenancy._session_settings(tenant) (under a snapshot of its own when
// the statement has none yet, as SET and SHOW do not); leaves out all false
// when the function does not exist (an older version of the extension).
void read_raw(const pg_uuid_t *tenant, RawSettings *out)
{
	Oid argument_types[1] = {UUIDOID};
	List *name = list_make2(makeString(pstrdup("tenancy")), makeString(pstrdup("_session_settings")));
	Oid function = LookupFuncName(name, 1, argument_types, true);
	if (!OidIsValid(function))
		return;
	bool pushed = !ActiveSnapshotSet();
	if (pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	ArrayType *values = DatumGetArrayTypeP(OidFunctionCall1(function, UUIDPGetDatum(tenant)));
	if (pushed)
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

} // namespace

// Applies the current tenant's settings to the statement about to start.
void apply()
{
	const TenantSettings *settings = nullptr;
	if (statement::current().tenant[0] != '\0') {
		const context::Context *context = context::current_quietly();
		if (context != nullptr)
			settings = &settings_of(context->tenant_id);
	}
	if (settings == nullptr && !any_applied)
		return;
	for (int i = 0; i < setting_count; i++) {
		const Wanted *wanted = settings != nullptr ? &settings->wanted[i] : nullptr;
		if (i == time_zone && !guc::apply_timezone())
			wanted = nullptr;
		apply_setting(static_cast<Setting>(i), wanted);
	}
}

// Registers the transaction callback.
void register_callbacks() { RegisterXactCallback(on_transaction_end, nullptr); }

} // namespace tenancy::session_settings
