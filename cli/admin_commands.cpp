// tenantctl admin grant|revoke|list|service: platform admins (tenancy_admin)
// and trusted application roles (tenancy_service).
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
	if (invocation.json)
		print_json(session.value(
			"SELECT json_build_object('role', $1::text, "
			"'platform_admin', pg_has_role($1::regrole, 'tenancy_admin', 'MEMBER'), "
			"'service', pg_has_role($1::regrole, 'tenancy_service', 'MEMBER'))::text",
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
		{"grant", "Make a role a platform admin (tenancy_admin)", "grant_platform_admin", "is now a platform admin"},
		{"revoke", "Remove a role from the platform admins", "revoke_platform_admin", "is no longer a platform admin"},
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
		"service", "Trust an application role to assert application users with tenancy.user (tenancy_service)");
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
			if (invocation.json)
				print_json(session.value("SELECT coalesce(json_agg(r), '[]')::text FROM tenancy.platform_roles() r"));
			else
				print_table(session.run("SELECT * FROM tenancy.platform_roles()"));
		};
	});
}

} // namespace tenantctl
