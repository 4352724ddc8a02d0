// tenantctl member add|set-role|remove|list
#include "commands.hpp"
#include "output.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of the member commands.
struct MemberArgs {
	std::string tenant, actor, role;
};

// Prints one membership after a change (or its removal).
void print_member(Session &session, const Invocation &invocation, const MemberArgs &args, bool removed,
				  const std::string &done)
{
	if (!invocation.json())
		print_done(done);
	else if (removed)
		print_json(session.value("SELECT json_build_object('tenant', $1::text, 'actor', $2::text, 'removed', true)::text",
								 args.tenant, args.actor));
	else
		print_json(session.value(
			"SELECT (jsonb_build_object('tenant', $1::text) || to_jsonb(m))::text FROM tenancy.member_list($1) m "
			"WHERE m.actor = $2",
			args.tenant, args.actor));
}

} // namespace

// Registers the member command group.
void add_member_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<MemberArgs>();
	CLI::App *member = app.add_subcommand("member", "Add, change, remove and list the members of a tenant");
	member->require_subcommand(1);
	const auto roles = CLI::IsMember({"viewer", "member", "admin", "owner"});

	CLI::App *add = member->add_subcommand("add", "Add an actor to a tenant");
	add->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	add->add_option("actor", args->actor, "Login role or application user")->required();
	add->add_option("--role", args->role, "viewer, member (default), admin or owner")->check(roles);
	add->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			if (args->role.empty())
				session.run("SELECT tenancy.add_member($1, $2)", args->tenant, args->actor);
			else
				session.run("SELECT tenancy.add_member($1, $2, $3::tenancy.role)", args->tenant, args->actor,
							args->role);
			print_member(session, invocation, *args, false, "added " + args->actor + " to " + args->tenant);
		};
	});

	CLI::App *set_role = member->add_subcommand("set-role", "Change a member's role");
	set_role->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	set_role->add_option("actor", args->actor, "The member")->required();
	set_role->add_option("--role", args->role, "viewer, member, admin or owner")->required()->check(roles);
	set_role->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.set_member_role($1, $2, $3::tenancy.role)", args->tenant, args->actor,
						args->role);
			print_member(session, invocation, *args, false,
						 args->actor + " is now " + args->role + " of " + args->tenant);
		};
	});

	CLI::App *remove = member->add_subcommand("remove", "Remove a member from a tenant");
	remove->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	remove->add_option("actor", args->actor, "The member")->required();
	remove->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.remove_member($1, $2)", args->tenant, args->actor);
			print_member(session, invocation, *args, true, "removed " + args->actor + " from " + args->tenant);
		};
	});

	CLI::App *list = member->add_subcommand("list", "List the members of a tenant");
	list->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	list->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			if (invocation.json())
				print_json(session.value(
					"SELECT coalesce(json_agg(m), '[]')::text FROM tenancy.member_list($1) m", args->tenant));
			else
				print_result(invocation.output,
							 session.run("SELECT actor, role, is_active, created_at FROM tenancy.member_list($1)",
										 args->tenant));
		};
	});
}

} // namespace tenantctl
