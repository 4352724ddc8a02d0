// tenantctl tenant create|list|show|suspend|activate|archive|drop
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "terminal.hpp"

#include <iostream>
#include <memory>

namespace tenantctl {

namespace {

// The arguments of the tenant commands.
struct TenantArgs {
	TenantDraft draft;
	std::string slug;
	std::string reason;
	bool yes = false;
};

// Creates a tenant from flags, or through the wizard on a terminal.
void create(Session &session, const Invocation &invocation, TenantDraft draft)
{
	if (draft.slug.empty() || draft.name.empty()) {
		if (!interactive())
			throw UsageError("tenant create needs SLUG and --name (or a terminal, for the wizard)");
		complete_with_wizard(session, draft);
	}
	pqxx::result created = session.run(
		"SELECT id, json_build_object('id', id, 'slug', $1::text)::text FROM "
		"tenancy.create_tenant($1, $2, $3, $4, $5::tenancy.isolation, region => $6) AS id",
		draft.slug, draft.name, or_null(draft.owner), or_null(draft.plan), or_null(draft.isolation),
		or_null(draft.region));
	if (invocation.json())
		print_json(created[0][1].c_str());
	else
		print_done("created tenant " + draft.slug + " (" + created[0][0].c_str() + ")");
}

// Lists the tenants the caller may see.
void list(Session &session, const Invocation &invocation)
{
	if (invocation.json())
		print_json(session.value("SELECT coalesce(json_agg(t), '[]')::text FROM tenancy.tenant_list() t"));
	else
		print_result(invocation.output, session.run("SELECT * FROM tenancy.tenant_list()"));
}

// Prints one section of tenant show: in a table, under its title; in CSV,
// after an empty line that separates it from the previous one.
void print_section(const Invocation &invocation, const std::string &title, const pqxx::result &result)
{
	if (invocation.output.format == Format::csv)
		std::cout << "\n";
	else
		std::cout << "\n" << title << ":\n";
	print_result(invocation.output, result);
}

// Shows a tenant's details, members, domains and rows per protected table.
// The details are typed columns (timestamps are timestamptz), shown one
// field per line.
void show(Session &session, const Invocation &invocation, const std::string &slug)
{
	if (invocation.json()) {
		print_json(session.value("SELECT tenancy.tenant_details($1)::text", slug));
		return;
	}
	print_fields(invocation.output,
				 session.run("SELECT d.* FROM jsonb_to_record(tenancy.tenant_details($1)) AS d(slug text, name text, "
							 "id uuid, status text, status_reason text, purge_after timestamptz, isolation text, plan text, "
							 "region text, settings jsonb, limits jsonb, created_at timestamptz, updated_at timestamptz)",
							 slug));
	print_section(invocation, "members",
				  session.run("SELECT m.* FROM jsonb_to_recordset(tenancy.tenant_details($1)->'members') "
							  "AS m(actor text, role text, is_active boolean)",
							  slug));
	print_section(invocation, "domains",
				  session.run("SELECT host FROM jsonb_array_elements_text(tenancy.tenant_details($1)->'domains') "
							  "AS host",
							  slug));
	print_section(invocation, "rows per protected table",
				  session.run("SELECT t.* FROM jsonb_to_recordset(tenancy.tenant_details($1)->'tables') "
							  "AS t(\"table\" text, rows bigint)",
							  slug));
}

// Prints the state of one tenant after a change.
void print_tenant(Session &session, const Invocation &invocation, const std::string &slug, const std::string &done)
{
	if (invocation.json())
		print_json(session.value(
			"SELECT row_to_json(t)::text FROM tenancy.tenant_list() t "
			"WHERE t.slug = tenancy.tenant_details($1)->>'slug'",
			slug));
	else
		print_done(done);
}

// Drops a tenant after the slug was typed again (or --yes).
void drop(Session &session, const Invocation &invocation, const TenantArgs &args)
{
	if (!args.yes) {
		if (!interactive())
			throw UsageError("tenant drop removes every row of the tenant; pass --yes to confirm without a terminal");
		std::cout << "This removes tenant " << args.slug << " and every row it owns in protected tables.\n";
		if (ask("Type the slug again to confirm") != args.slug)
			throw UsageError("the slug was not typed again; nothing was dropped");
	}
	std::string json = session.value(
		"SELECT json_build_object('dropped', $1::text)::text FROM tenancy.drop_tenant($1)", args.slug);
	if (invocation.json())
		print_json(json);
	else
		print_done("dropped tenant " + args.slug);
}

} // namespace

// Registers the tenant command group.
void add_tenant_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<TenantArgs>();
	CLI::App *tenant = app.add_subcommand(
		"tenant", "Create, list, show, suspend, activate, archive, move, terminate, restore and drop tenants");
	tenant->require_subcommand(1);

	CLI::App *create_command = tenant->add_subcommand(
		"create", "Create a tenant; on a terminal, missing arguments are asked for step by step");
	create_command->add_option("slug", args->draft.slug, "Tenant slug: a lowercase letter, then letters, digits, _ or -");
	create_command->add_option("--name", args->draft.name, "Display name of the tenant");
	create_command->add_option("--owner", args->draft.owner, "Actor who becomes the tenant's first owner");
	create_command->add_option("--plan", args->draft.plan, "Plan of the tenant (default: the server's, basic)");
	create_command->add_option("--isolation", args->draft.isolation, "row (default), schema or database")
		->check(CLI::IsMember({"row", "schema", "database"}));
	create_command->add_option("--region", args->draft.region,
							   "Region the tenant's data lives in (default: tenancy.default_region)");
	create_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { create(session, invocation, args->draft); };
	});

	CLI::App *list_command = tenant->add_subcommand("list", "List tenants: status, isolation, plan, members, created, region");
	list_command->callback([&invocation] {
		invocation.action = [&invocation](Session &session) { list(session, invocation); };
	});

	CLI::App *show_command = tenant->add_subcommand("show", "Show a tenant: details, members, domains, rows per table");
	show_command->add_option("slug", args->slug, "Tenant slug or uuid")->required();
	show_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { show(session, invocation, args->slug); };
	});

	struct Lifecycle {
		const char *name, *help, *function, *done;
		bool reason;
	};
	static const Lifecycle lifecycle[] = {
		{"suspend", "Suspend a tenant: its members are refused", "suspend_tenant", "suspended", true},
		{"activate", "Make a suspended or archived tenant active again", "activate_tenant", "activated", false},
		{"archive", "Archive a tenant: readable, no longer writable", "archive_tenant", "archived", true},
	};
	for (const Lifecycle &step : lifecycle) {
		CLI::App *command = tenant->add_subcommand(step.name, step.help);
		command->add_option("slug", args->slug, "Tenant slug or uuid")->required();
		if (step.reason)
			command->add_option("--reason", args->reason, "Why; shown to members who are refused");
		command->callback([&invocation, args, &step] {
			invocation.action = [&invocation, args, &step](Session &session) {
				if (step.reason)
					session.run(std::string("SELECT tenancy.") + step.function + "($1, $2)", args->slug,
								or_null(args->reason));
				else
					session.run(std::string("SELECT tenancy.") + step.function + "($1)", args->slug);
				print_tenant(session, invocation, args->slug, std::string(step.done) + " tenant " + args->slug);
			};
		});
	}

	CLI::App *drop_command = tenant->add_subcommand("drop", "Drop a tenant and every row it owns");
	drop_command->add_option("slug", args->slug, "Tenant slug")->required();
	drop_command->add_flag("--yes", args->yes, "Do not ask to type the slug again");
	drop_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { drop(session, invocation, *args); };
	});

	add_tenant_lifecycle_commands(*tenant, invocation);
	add_tenant_limits_command(*tenant, invocation);
	add_tenant_region_command(*tenant, invocation);
	add_tenant_portability_commands(*tenant, invocation);
	add_tenant_move_command(*tenant, invocation);
}

} // namespace tenantctl
