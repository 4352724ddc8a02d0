// tenantctl domain add|remove|list
#include "commands.hpp"
#include "output.hpp"

#include <memory>

namespace tenantctl {

namespace {

// The arguments of the domain commands.
struct DomainArgs {
	std::string tenant, host;
};

} // namespace

// Registers the domain command group.
void add_domain_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<DomainArgs>();
	CLI::App *domain = app.add_subcommand("domain", "Host names that resolve to a tenant");
	domain->require_subcommand(1);

	CLI::App *add = domain->add_subcommand("add", "Assign a host name to a tenant");
	add->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	add->add_option("host", args->host, "Host name, such as acme.example.com")->required();
	add->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			std::string host = session.value("SELECT tenancy.add_domain($1, $2)", args->tenant, args->host);
			if (invocation.json())
				print_json(session.value("SELECT json_build_object('host', $1::text, "
										 "'tenant', tenancy.resolve_domain($1))::text",
										 host));
			else
				print_done("assigned " + host + " to " + args->tenant);
		};
	});

	CLI::App *remove = domain->add_subcommand("remove", "Remove a host name from its tenant");
	remove->add_option("host", args->host, "Host name")->required();
	remove->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.remove_domain($1)", args->host);
			if (invocation.json())
				print_json(session.value("SELECT json_build_object('host', $1::text, 'removed', true)::text",
										 args->host));
			else
				print_done("removed " + args->host);
		};
	});

	CLI::App *list = domain->add_subcommand("list", "List host names, of one tenant or all");
	list->add_option("tenant", args->tenant, "Tenant slug or uuid (all tenants when omitted)");
	list->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(d), '[]')::text FROM tenancy.domain_list($1) d",
										 or_null(args->tenant)));
			else
				print_result(invocation.output,
							 session.run("SELECT * FROM tenancy.domain_list($1)", or_null(args->tenant)));
		};
	});
}

} // namespace tenantctl
