// tenantctl settings get|set|unset|define|undefine|definitions: a tenant's own
// settings (jsonb), and the types platform admins give their keys.
#include "commands.hpp"
#include "output.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of the settings commands.
struct SettingsArgs {
	std::string tenant, key, value, type, default_value, description;
	bool raw = false;
};

// Says whether a setting value given on the command line is JSON for the
// server (--raw, or a key of type integer, numeric, boolean or jsonb), rather
// than a string.
bool value_is_json(Session &session, const std::string &key, const std::string &type, bool raw)
{
	if (raw)
		return true;
	std::string defined =
		type.empty() ? session.value("SELECT coalesce((SELECT d.type FROM tenancy.setting_definitions d "
									 "WHERE d.key = $1), '')",
									 key)
					 : type;
	return defined == "integer" || defined == "numeric" || defined == "boolean" || defined == "jsonb";
}

// Returns the SQL expression of parameter n as the setting value: $n::jsonb
// or to_jsonb($n::text).
std::string value_expression(bool json, int n)
{
	std::string parameter = "$" + std::to_string(n);
	return json ? parameter + "::jsonb" : "to_jsonb(" + parameter + "::text)";
}

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
	set->add_flag("--raw", args->raw,
				  "The value is JSON (a number, true, an object...), not a string; implied for keys defined as "
				  "integer, numeric, boolean or jsonb");
	set->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			print_settings(session, invocation,
						   session.value("SELECT tenancy.set_tenant_setting($1, $2, " +
											 value_expression(value_is_json(session, args->key, "", args->raw), 3) +
											 ")::text",
										 args->tenant, args->key, args->value));
		};
	});

	CLI::App *define = settings->add_subcommand(
		"define", "Give a setting key a type, a default and a description (platform admins)");
	define->add_option("key", args->key, "Setting name")->required();
	define->add_option("type", args->type, "Its type")
		->required()
		->check(CLI::IsMember(
			{"text", "integer", "numeric", "boolean", "timezone", "locale", "email", "url", "color", "jsonb"}));
	define->add_option("--default", args->default_value, "Default value (JSON for integer, numeric, boolean, jsonb)");
	define->add_option("--description", args->description, "What the setting is for");
	define->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.define_setting($1, $2, " +
							value_expression(value_is_json(session, args->key, args->type, false), 3) + ", $4)",
						args->key, args->type, or_null(args->default_value), or_null(args->description));
			if (invocation.json())
				print_json(session.value("SELECT row_to_json(d)::text FROM tenancy.setting_definitions d WHERE d.key = $1",
										 args->key));
			else
				print_done("defined setting " + args->key + " (" + args->type + ")");
		};
	});

	CLI::App *undefine = settings->add_subcommand("undefine", "Remove a key's definition; values stay, untyped");
	undefine->add_option("key", args->key, "Setting name")->required();
	undefine->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.undefine_setting($1)", args->key);
			if (invocation.json())
				print_json(session.value("SELECT json_build_object('undefined', $1::text)::text", args->key));
			else
				print_done("undefined setting " + args->key);
		};
	});

	CLI::App *definitions = settings->add_subcommand("definitions", "List the defined setting keys");
	definitions->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(d ORDER BY d.key), '[]')::text "
										 "FROM tenancy.setting_definitions d"));
			else
				print_result(invocation.output,
							 session.run("SELECT key, type, default_value, description FROM tenancy.setting_definitions "
										 "ORDER BY key"));
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
