// tenantctl tenant terminate|restore|purge|events: the end of a tenant's
// life (a grace period, then deletion) and its recorded history.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "terminal.hpp"

#include <iostream>
#include <memory>

namespace tenantctl {

namespace {

// The arguments of the lifecycle commands.
struct LifecycleArgs {
	std::string slug;
	std::string grace = "30 days";
	std::string reason;
	bool yes = false;
};

// Starts a tenant's termination after the slug was typed again (or --yes).
void terminate(Session &session, const Invocation &invocation, const LifecycleArgs &args)
{
	if (!args.yes) {
		if (!interactive())
			throw UsageError("tenant terminate deletes the tenant after its grace period; pass --yes to confirm "
							 "without a terminal");
		std::cout << "This makes tenant " << args.slug << " read-only now and deletes it, with every row it owns, "
				  << "once its grace period (" << args.grace << ") ends.\n";
		if (ask("Type the slug again to confirm") != args.slug)
			throw UsageError("the slug was not typed again; nothing was changed");
	}
	pqxx::result ends = session.run(
		"SELECT to_char(e AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', "
		"json_build_object('tenant', $1::text, 'status', 'terminating', 'purge_after', e)::text "
		"FROM tenancy.terminate_tenant($1, $2::interval, $3) AS e",
		args.slug, args.grace, or_null(args.reason));
	if (invocation.json())
		print_json(ends[0][1].c_str());
	else
		print_done("tenant " + args.slug + " is terminating: read-only, deleted after " + ends[0][0].c_str());
}

// Makes a terminating tenant active again.
void restore(Session &session, const Invocation &invocation, const std::string &slug)
{
	std::string json = session.value(
		"SELECT json_build_object('tenant', $1::text, 'status', 'active')::text FROM tenancy.restore_tenant($1)",
		slug);
	if (invocation.json())
		print_json(json);
	else
		print_done("restored tenant " + slug);
}

// Deletes the terminating tenants whose grace period has ended; exits 1 when
// one of them could not go (busy, or rows a table owner's trigger keeps).
void purge(Session &session, const Invocation &invocation)
{
	pqxx::result purged = session.run(
		"WITH p AS (SELECT * FROM tenancy.purge_terminated()) "
		"SELECT (SELECT coalesce(json_agg(p), '[]') FROM p)::text, "
		"       (SELECT count(*) FILTER (WHERE purged) FROM p), (SELECT count(*) FILTER (WHERE NOT purged) FROM p)");
	long done = purged[0][1].as<long>(), left = purged[0][2].as<long>();
	if (invocation.json()) {
		print_json(purged[0][0].c_str());
	} else {
		pqxx::result rows = session.run(
			"SELECT slug, tenant_id, purge_after, purged, problem FROM json_to_recordset($1::json) "
			"AS p(slug text, tenant_id uuid, purge_after timestamptz, purged boolean, problem text)",
			purged[0][0].c_str());
		if (!rows.empty())
			print_result(invocation.output, rows);
		print_done("purged " + std::to_string(done) + (done == 1 ? " tenant" : " tenants"));
	}
	if (left > 0)
		throw CheckFailed(std::to_string(left) + (left == 1 ? " tenant" : " tenants") +
						  " could not be purged now; the next purge tries again");
}

// Prints a tenant's history, oldest first.
void events(Session &session, const Invocation &invocation, const std::string &slug)
{
	if (invocation.json())
		print_json(session.value(
			"SELECT coalesce(json_agg(e ORDER BY e.at, e.id), '[]')::text FROM tenancy.tenant_event_list($1) e", slug));
	else
		print_result(invocation.output,
					 session.run("SELECT at, actor, event, \"from\", \"to\", reason, details "
								 "FROM tenancy.tenant_event_list($1) ORDER BY at, id",
								 slug));
}

} // namespace

// Registers terminate, restore, purge and events under the tenant group.
void add_tenant_lifecycle_commands(CLI::App &tenant, Invocation &invocation)
{
	auto args = std::make_shared<LifecycleArgs>();

	CLI::App *terminate_command = tenant.add_subcommand(
		"terminate", "Make a tenant read-only and delete it after a grace period");
	terminate_command->add_option("slug", args->slug, "Tenant slug or uuid")->required();
	terminate_command->add_option("--grace", args->grace, "How long it can be restored: 30d (default), 12h, 0...");
	terminate_command->add_option("--reason", args->reason, "Why; recorded with the change");
	terminate_command->add_flag("--yes", args->yes, "Do not ask to type the slug again");
	terminate_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { terminate(session, invocation, *args); };
	});

	CLI::App *restore_command =
		tenant.add_subcommand("restore", "Make a terminating tenant active again, within its grace period");
	restore_command->add_option("slug", args->slug, "Tenant slug or uuid")->required();
	restore_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { restore(session, invocation, args->slug); };
	});

	CLI::App *purge_command =
		tenant.add_subcommand("purge", "Delete the terminating tenants whose grace period has ended (for cron)");
	purge_command->callback([&invocation] {
		invocation.action = [&invocation](Session &session) { purge(session, invocation); };
	});

	CLI::App *events_command = tenant.add_subcommand(
		"events", "Show a tenant's history: creation, status, plan, owners, deletion");
	events_command->add_option("slug", args->slug, "Tenant slug or uuid (deleted tenants: their slug)")->required();
	events_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { events(session, invocation, args->slug); };
	});
}

} // namespace tenantctl
