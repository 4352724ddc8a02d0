// tenantctl tenant move SLUG --isolation row|schema: one call of
// tenancy.move_tenant(), which copies, verifies and switches in one
// transaction; this prints what moved.
#include "commands.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of tenant move.
struct MoveArgs {
	std::string slug, isolation;
};

// Moves a tenant to another isolation mode and prints its tables.
void move(Session &session, const Invocation &invocation, const MoveArgs &args)
{
	std::string moved = session.value("SELECT tenancy.move_tenant($1, $2::tenancy.isolation)::text", args.slug,
									  args.isolation);
	if (invocation.json()) {
		print_json(moved);
		return;
	}
	pqxx::result summary = session.run(
		"SELECT m->>'from', m->>'to', coalesce(' (' || (m->>'schema') || ')', ''), "
		"jsonb_array_length(m->'tables'), m->>'rows', m->>'seconds' FROM (SELECT $1::jsonb AS m) x",
		moved);
	const pqxx::row line = summary[0];
	std::string tables = line[3].c_str(), rows = line[4].c_str();
	print_done("moved tenant " + args.slug + " from " + line[0].c_str() + " to " + line[1].c_str() + " mode" +
			   line[2].c_str() + ": " + tables + (tables == "1" ? " table, " : " tables, ") + rows +
			   (rows == "1" ? " row" : " rows") + " copied, counts and checksums verified, in " + line[5].c_str() +
			   " s");
	print_result(invocation.output,
				 session.run("SELECT e->>'source' AS source, e->>'target' AS target, (e->>'rows')::bigint AS rows "
							 "FROM jsonb_array_elements($1::jsonb->'tables') e",
							 moved));
}

} // namespace

// Registers tenant move on the tenant group.
void add_tenant_move_command(CLI::App &tenant, Invocation &invocation)
{
	auto args = std::make_shared<MoveArgs>();
	CLI::App *command = tenant.add_subcommand(
		"move", "Move a tenant to another isolation mode: copy its rows, verify them, switch, remove the old copy");
	command->add_option("slug", args->slug, "Tenant slug or uuid")->required();
	command->add_option("--isolation", args->isolation, "The new mode: row or schema")
		->required()
		->check(CLI::IsMember({"row", "schema", "database"}));
	command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { move(session, invocation, *args); };
	});
}

} // namespace tenantctl
