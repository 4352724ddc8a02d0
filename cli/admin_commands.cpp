// tenantctl admin grant|revoke|list|service: the platform admins and trusted
// application roles of the database tenantctl is connected to.
#include "commands.hpp"
#include "output.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of the admin commands.
struct AdminArgs {
	std::string role;
	bool revoke = false;
};

// Prints one role's platform rights after a change.
void print_role(Session &session, const Invocation &invocation, const std::string &role, const std::string &done)
{
	if (invocation.json())
		print_json(session.value(
			"SELECT json_build_object('role', $1::text, 'platform_admin', coalesce(r.platform_admin, false), "
			"'service', coalesce(r.service, false))::text "
			"FROM (SELECT) one LEFT JOIN tenancy.platform_roles() r "
			"ON r.role = (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = $1::regrole)",
			role));
	else
		print_done(done);
}

} // namespace

// Registers the admin command group.
void add_admin_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<AdminArgs>();
	CLI::App *admin = app.add_subcommand("admin", "Platform admins and trusted service roles");
	admin->require_subcommand(1);

	struct Change {
		const char *name, *help, *function, *done;
	};
	static const Change changes[] = {
		{"grant", "Make a role a platform admin of this database", "grant_platform_admin", "is now a platform admin"},
		{"revoke", "Remove a platform admin of this database", "revoke_platform_admin",
		 "is no longer a platform admin"},
	};
	for (const Change &change : changes) {
		CLI::App *command = admin->add_subcommand(change.name, change.help);
		command->add_option("role", args->role, "Database role")->required();
		command->callback([&invocation, args, &change] {
			invocation.action = [&invocation, args, &change](Session &session) {
				session.run(std::string("SELECT tenancy.") + change.function + "($1::regrole)", args->role);
				print_role(session, invocation, args->role, args->role + " " + change.done);
			};
		});
	}

	CLI::App *service = admin->add_subcommand(
		"service", "Trust an application role, in this database, to assert application users with tenancy.actor");
	service->add_option("role", args->role, "Database role of the application")->required();
	service->add_flag("--revoke", args->revoke, "Withdraw the trust instead");
	service->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run(args->revoke ? "SELECT tenancy.revoke_service($1::regrole)"
									 : "SELECT tenancy.grant_service($1::regrole)",
						args->role);
			print_role(session, invocation, args->role,
					   args->role + (args->revoke ? " is no longer a trusted service" : " is now a trusted service"));
		};
	});

	CLI::App *list = admin->add_subcommand("list", "List platform admins, services and login superusers");
	list->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(r), '[]')::text FROM tenancy.platform_roles() r"));
			else
				print_result(invocation.output, session.run("SELECT * FROM tenancy.platform_roles()"));
		};
	});
}

} // namespace tenantctl
