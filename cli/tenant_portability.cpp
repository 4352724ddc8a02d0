// tenantctl tenant export|import|clone: registers the commands; export and
// import live in tenant_export.cpp and tenant_import.cpp, clone is one call
// of tenancy.clone_tenant().
#include "errors.hpp"
#include "portability.hpp"

#include <fstream>
#include <memory>
#include <sstream>

namespace tenantctl {

namespace {

// The arguments of tenant clone.
struct CloneArgs {
	std::string source, slug, name, owner;
	bool template_only = false;
};

// Copies a tenant inside the database.
void clone_tenant(Session &session, const Invocation &invocation, const CloneArgs &args)
{
	pqxx::result result = session.run(
		"SELECT c.id::text, jsonb_build_object('tenant', $2::text, 'id', c.id, 'source', $1::text, "
		"'template', $4::boolean)::text FROM (SELECT tenancy.clone_tenant($1, $2, $3, $4::boolean, $5) AS id) c",
		args.source, args.slug, or_null(args.name), args.template_only ? "true" : "false", or_null(args.owner));
	if (invocation.json()) {
		print_json(result[0][1].c_str());
		return;
	}
	print_done(std::string(args.template_only ? "created tenant " + args.slug + " from the template of " + args.source
											  : "cloned tenant " + args.source + " into " + args.slug) +
			   " (" + result[0][0].c_str() + ")");
}

} // namespace

// Reads a whole small file (a manifest) into a string.
std::string read_small_file(const std::string &path)
{
	std::ifstream file(path, std::ios::binary);
	if (!file)
		throw Refusal("cannot read " + path, "An export directory holds manifest.json and the files it lists.",
					  "Name the directory tenantctl tenant export wrote.");
	std::ostringstream text;
	text << file.rdbuf();
	return text.str();
}

// Registers tenant export|import|clone on the tenant group.
void add_tenant_portability_commands(CLI::App &tenant, Invocation &invocation)
{
	auto exported = std::make_shared<ExportArgs>();
	CLI::App *export_command = tenant.add_subcommand(
		"export", "Write a tenant's rows, members, settings and plan into a new directory, with a manifest");
	export_command->add_option("slug", exported->tenant, "The tenant")->required();
	export_command->add_option("--out", exported->out, "The directory to create (empty or absent)")->required();
	export_command->add_option("--format", exported->format, "csv (default), json (one object per line) or xlsx")
		->check(CLI::IsMember({"csv", "json", "xlsx"}));
	export_command->callback([&invocation, exported] {
		invocation.action = [&invocation, exported](Session &session) { export_tenant(session, invocation, *exported); };
	});

	auto imported = std::make_shared<ImportArgs>();
	CLI::App *import_command =
		tenant.add_subcommand("import", "Create a tenant from an export directory, all or nothing");
	import_command->add_option("directory", imported->directory, "The directory tenant export wrote")->required();
	import_command->add_option("--as", imported->slug, "The new tenant's slug")->required();
	import_command->add_option("--isolation", imported->isolation, "row (default: the exported tenant's)")
		->check(CLI::IsMember({"row", "schema", "database"}));
	import_command->add_option("--region", imported->region, "The region (default: the exported tenant's)");
	import_command->add_flag("--allow-cross-region", imported->allow_cross_region,
							 "Allow the tenant to move to another region or another region's server");
	import_command->callback([&invocation, imported] {
		invocation.action = [&invocation, imported](Session &session) { import_tenant(session, invocation, *imported); };
	});

	auto cloned = std::make_shared<CloneArgs>();
	CLI::App *clone_command =
		tenant.add_subcommand("clone", "Copy a tenant inside the database (rows, members, settings, plan)");
	clone_command->add_option("source", cloned->source, "The tenant to copy")->required();
	clone_command->add_option("slug", cloned->slug, "The new tenant's slug")->required();
	clone_command->add_flag("--template", cloned->template_only,
							"Copy the plan, settings and limits only: no members, no rows");
	clone_command->add_option("--name", cloned->name, "The new tenant's name (default: the source's)");
	clone_command->add_option("--owner", cloned->owner, "An actor to make the new tenant's owner");
	clone_command->callback([&invocation, cloned] {
		invocation.action = [&invocation, cloned](Session &session) { clone_tenant(session, invocation, *cloned); };
	});
}

} // namespace tenantctl
