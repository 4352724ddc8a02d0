// tenantctl region define|list|drop and tenant set-region: the regions
// tenants' data lives in, for data residency.
#include "commands.hpp"
#include "output.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of the region commands.
struct RegionArgs {
	std::string name, tenant, description, server;
};

// Prints one region as JSON, or says what was done.
void print_region(Session &session, const Invocation &invocation, const std::string &name, const std::string &done)
{
	if (invocation.json())
		print_json(session.value(
			"SELECT coalesce((SELECT row_to_json(r)::text FROM tenancy.region_list() r WHERE r.name = $1), "
			"json_build_object('dropped', $1::text)::text)",
			name));
	else
		print_done(done);
}

} // namespace

// Registers the region command group, and tenant set-region on the tenant group.
void add_region_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<RegionArgs>();
	CLI::App *region = app.add_subcommand("region", "Regions: where tenants' data lives (data residency)");
	region->require_subcommand(1);

	CLI::App *define_command = region->add_subcommand("define", "Define a region, or change its description and server");
	define_command->add_option("name", args->name, "Region name: a lowercase letter, then letters, digits, _ or -")
		->required();
	define_command->add_option("--description", args->description, "What and where the region is");
	define_command->add_option("--server", args->server,
							   "libpq connection string of the server database-mode tenants of the region live on");
	define_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.define_region($1, $2, $3)", args->name, or_null(args->description),
						or_null(args->server));
			print_region(session, invocation, args->name, "defined region " + args->name);
		};
	});

	CLI::App *list_command = region->add_subcommand("list", "List regions: description, server, number of tenants");
	list_command->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(r), '[]')::text FROM tenancy.region_list() r"));
			else
				print_result(invocation.output, session.run("SELECT * FROM tenancy.region_list()"));
		};
	});

	CLI::App *drop_command = region->add_subcommand("drop", "Drop a region that no tenant lives in");
	drop_command->add_option("name", args->name, "Region name")->required();
	drop_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.drop_region($1)", args->name);
			print_region(session, invocation, args->name, "dropped region " + args->name);
		};
	});
}

// Registers tenant set-region under the tenant group.
void add_tenant_region_command(CLI::App &tenant, Invocation &invocation)
{
	auto args = std::make_shared<RegionArgs>();
	CLI::App *command = tenant.add_subcommand("set-region", "Move a tenant to another region (recorded as an event)");
	command->add_option("slug", args->tenant, "Tenant slug or uuid")->required();
	command->add_option("region", args->name, "Region name")->required();
	command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.set_region($1, $2)", args->tenant, args->name);
			if (invocation.json())
				print_json(session.value("SELECT json_build_object('tenant', $1::text, 'region', "
										 "tenancy.tenant_details($1)->>'region')::text",
										 args->tenant));
			else
				print_done("tenant " + args->tenant + " now lives in region " + args->name);
		};
	});
}

} // namespace tenantctl
