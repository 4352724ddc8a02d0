// tenantctl plan create|list|show|set|drop and tenant limits: plans, the
// features they unlock and the limits they set.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"

#include <iostream>
#include <memory>
#include <vector>

namespace tenantctl {

namespace {

// The arguments of the plan commands.
struct PlanArgs {
	std::string name, tenant, description;
	std::vector<std::string> features, limits;
};

// Joins values with line breaks, for the server to split into an array
// (string_to_array); a value holding a line break is a usage error.
std::string lines_of(const std::vector<std::string> &values, const char *what)
{
	std::string joined;
	for (const std::string &value : values) {
		if (value.find('\n') != std::string::npos)
			throw UsageError(std::string(what) + " must not contain a line break");
		joined += (joined.empty() ? "" : "\n") + value;
	}
	return joined;
}

// The limits of --limit KEY=VALUE as JSON, built by the server: a value that
// reads as a number is a number, anything else a string; rows.SCHEMA.TABLE
// keys make the rows object. Refuses a limit without "=".
const char *const limits_json =
	"(WITH l(k, v) AS (SELECT * FROM unnest(string_to_array(nullif($3, ''), E'\\n'), "
	"                                       string_to_array(nullif($4, ''), E'\\n'))), "
	"      typed AS (SELECT k, CASE WHEN v ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN to_jsonb(v::numeric) "
	"                               ELSE to_jsonb(v) END AS j FROM l) "
	" SELECT coalesce((SELECT jsonb_object_agg(k, j) FROM typed WHERE k NOT LIKE 'rows.%'), '{}') "
	"     || coalesce((SELECT jsonb_build_object('rows', jsonb_object_agg(substr(k, 6), j)) FROM typed "
	"                   WHERE k LIKE 'rows.%' HAVING count(*) > 0), '{}'))";

// Splits the --limit options into keys and values (line-joined).
std::pair<std::string, std::string> split_limits(const std::vector<std::string> &limits)
{
	std::vector<std::string> keys, values;
	for (const std::string &limit : limits) {
		size_t equals = limit.find('=');
		if (equals == std::string::npos || equals == 0)
			throw UsageError("--limit takes KEY=VALUE, as in members=5 or rows.app.invoices=10000, not \"" + limit +
							 "\"");
		keys.push_back(limit.substr(0, equals));
		values.push_back(limit.substr(equals + 1));
	}
	return {lines_of(keys, "a limit"), lines_of(values, "a limit")};
}

// Creates a plan.
void create(Session &session, const Invocation &invocation, const PlanArgs &args)
{
	auto [keys, values] = split_limits(args.limits);
	session.run(std::string("SELECT tenancy.create_plan($1, coalesce(string_to_array(nullif($2, ''), E'\\n'), '{}'), ") +
					limits_json + ", $5)",
				args.name, lines_of(args.features, "a feature"), keys, values, or_null(args.description));
	if (invocation.json())
		print_json(session.value("SELECT tenancy.plan_details($1)::text", args.name));
	else
		print_done("created plan " + args.name);
}

// Shows one plan: its fields, then the tenants that have it.
void show(Session &session, const Invocation &invocation, const std::string &name)
{
	if (invocation.json()) {
		print_json(session.value("SELECT tenancy.plan_details($1)::text", name));
		return;
	}
	print_fields(invocation.output,
				 session.run("SELECT d.* FROM jsonb_to_record(tenancy.plan_details($1)) AS d(name text, "
							 "description text, features text[], limits jsonb, created_at timestamptz, "
							 "updated_at timestamptz)",
							 name));
	std::cout << (invocation.output.format == Format::csv ? "\n" : "\ntenants:\n");
	print_result(invocation.output,
				 session.run("SELECT t AS tenant FROM jsonb_array_elements_text(tenancy.plan_details($1)->'tenants') t",
							 name));
}

// Gives a tenant a plan, and warns about each limit it is already over.
void set(Session &session, const Invocation &invocation, const PlanArgs &args)
{
	session.run("SELECT tenancy.set_plan($1, $2)", args.tenant, args.name);
	if (invocation.json()) {
		print_json(session.value(
			"SELECT json_build_object('tenant', $1::text, 'plan', $2::text, 'over_limits', "
			"coalesce((SELECT json_agg(l ORDER BY l.key) FROM tenancy.tenant_limits($1) l WHERE l.over), '[]'))::text",
			args.tenant, args.name));
		return;
	}
	pqxx::result over =
		session.run("SELECT key, \"limit\", usage FROM tenancy.tenant_limits($1) WHERE over ORDER BY key", args.tenant);
	print_done("tenant " + args.tenant + " now has plan " + args.name);
	for (const auto &row : over)
		print_warning(std::string("over the limit ") + row[0].c_str() + ": " + row[2].c_str() + " (limit " +
					  row[1].c_str() + ")");
}

// Prints a tenant's limits with where each comes from and its usage.
void limits(Session &session, const Invocation &invocation, const std::string &tenant)
{
	if (invocation.json())
		print_json(session.value("SELECT coalesce(json_agg(l), '[]')::text FROM tenancy.tenant_limits($1) l", tenant));
	else
		print_result(invocation.output,
					 session.run("SELECT key, \"limit\", source, usage, over FROM tenancy.tenant_limits($1)", tenant));
}

} // namespace

// Registers the plan command group, and tenant limits on the tenant group.
void add_plan_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<PlanArgs>();
	CLI::App *plan = app.add_subcommand("plan", "Plans: the features they unlock and the limits they set");
	plan->require_subcommand(1);

	CLI::App *create_command = plan->add_subcommand("create", "Create a plan");
	create_command->add_option("name", args->name, "Plan name: a lowercase letter, then letters, digits, _ or -")
		->required();
	create_command->add_option("--feature", args->features, "A feature the plan unlocks (repeatable)");
	create_command->add_option("--limit", args->limits,
							   "KEY=VALUE: members=5, rows.app.invoices=10000, storage_mb=500, "
							   "statement_timeout=5s, work_mem=64MB (repeatable)");
	create_command->add_option("--description", args->description, "What the plan is for");
	create_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { create(session, invocation, *args); };
	});

	CLI::App *list_command = plan->add_subcommand("list", "List plans: features, limits, number of tenants");
	list_command->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(p), '[]')::text FROM tenancy.plan_list() p"));
			else
				print_result(invocation.output, session.run("SELECT * FROM tenancy.plan_list()"));
		};
	});

	CLI::App *show_command = plan->add_subcommand("show", "Show a plan and the tenants that have it");
	show_command->add_option("name", args->name, "Plan name")->required();
	show_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { show(session, invocation, args->name); };
	});

	CLI::App *set_command = plan->add_subcommand("set", "Give a tenant a plan");
	set_command->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	set_command->add_option("plan", args->name, "Plan name")->required();
	set_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { set(session, invocation, *args); };
	});

	CLI::App *drop_command = plan->add_subcommand("drop", "Drop a plan that no tenant has");
	drop_command->add_option("name", args->name, "Plan name")->required();
	drop_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.drop_plan($1)", args->name);
			if (invocation.json())
				print_json(session.value("SELECT json_build_object('dropped', $1::text)::text", args->name));
			else
				print_done("dropped plan " + args->name);
		};
	});
}

// Registers tenant limits under the tenant group.
void add_tenant_limits_command(CLI::App &tenant, Invocation &invocation)
{
	auto slug = std::make_shared<std::string>();
	CLI::App *command = tenant.add_subcommand("limits", "Show a tenant's limits, where each comes from, and usage");
	command->add_option("slug", *slug, "Tenant slug or uuid")->required();
	command->callback([&invocation, slug] {
		invocation.action = [&invocation, slug](Session &session) { limits(session, invocation, *slug); };
	});
}

} // namespace tenantctl
