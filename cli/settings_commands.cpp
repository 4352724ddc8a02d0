// tenantctl settings get|set|unset: a tenant's own settings (jsonb).
#include "commands.hpp"
#include "output.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of the settings commands.
struct SettingsArgs {
	std::string tenant, key, value;
	bool raw = false;
};

// Prints a tenant's settings: as JSON, or one "key value" line each.
void print_settings(Session &session, const Invocation &invocation, const std::string &json)
{
	if (invocation.json())
		print_json(json);
	else
		print_result(invocation.output, session.run("SELECT key, value FROM jsonb_each($1::jsonb) ORDER BY key", json));
}

} // namespace

// Registers the settings command group.
void add_settings_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<SettingsArgs>();
	CLI::App *settings = app.add_subcommand("settings", "A tenant's settings: feature flags, limits, branding");
	settings->require_subcommand(1);

	CLI::App *get = settings->add_subcommand("get", "Show a tenant's settings, or one of them");
	get->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	get->add_option("key", args->key, "One setting");
	get->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			print_settings(session, invocation,
						   session.value("SELECT CASE WHEN $2::text IS NULL THEN s ELSE "
										 "jsonb_strip_nulls(jsonb_build_object($2::text, s->$2::text)) END::text "
										 "FROM tenancy.tenant_settings($1) AS s",
										 args->tenant, or_null(args->key)));
		};
	});

	CLI::App *set = settings->add_subcommand("set", "Set one setting (a string, or JSON with --raw)");
	set->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	set->add_option("key", args->key, "Setting name")->required();
	set->add_option("value", args->value, "Value")->required();
	set->add_flag("--raw", args->raw, "The value is JSON (a number, true, an object...), not a string");
	set->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			print_settings(session, invocation,
						   session.value(args->raw ? "SELECT tenancy.set_tenant_setting($1, $2, $3::jsonb)::text"
												   : "SELECT tenancy.set_tenant_setting($1, $2, to_jsonb($3::text))::text",
										 args->tenant, args->key, args->value));
		};
	});

	CLI::App *unset = settings->add_subcommand("unset", "Remove one setting");
	unset->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	unset->add_option("key", args->key, "Setting name")->required();
	unset->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			print_settings(session, invocation,
						   session.value("SELECT tenancy.set_tenant_setting($1, $2, NULL)::text", args->tenant,
										 args->key));
		};
	});
}

} // namespace tenantctl
