// tenantctl psql SLUG [-- psql args]: psql on the same connection, with
// tenancy.tenant already set. The tenant is checked first, so that a typo or
// a refusal is reported before psql starts.
#include "commands.hpp"
#include "errors.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unistd.h>
#include <vector>

namespace tenantctl {

namespace {

// The arguments of the psql command.
struct PsqlArgs {
	std::string tenant;
	std::vector<std::string> psql_args;
};

// Replaces this process with psql.
[[noreturn]] void exec_psql(const Invocation &invocation, const PsqlArgs &args)
{
	std::string options = "-c tenancy.tenant=" + args.tenant;
	if (const char *existing = std::getenv("PGOPTIONS"))
		options = std::string(existing) + " " + options;
	setenv("PGOPTIONS", options.c_str(), 1);
	std::vector<std::string> words = {"psql"};
	if (!invocation.conninfo.empty())
		words.insert(words.end(), {"-d", invocation.conninfo});
	words.insert(words.end(), args.psql_args.begin(), args.psql_args.end());
	std::vector<char *> argv;
	for (std::string &word : words)
		argv.push_back(word.data());
	argv.push_back(nullptr);
	execvp("psql", argv.data());
	throw std::runtime_error(std::string("cannot start psql: ") + std::strerror(errno));
}

} // namespace

// Registers the psql command.
void add_psql_command(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<PsqlArgs>();
	CLI::App *psql = app.add_subcommand("psql", "Start psql with tenancy.tenant set (arguments after -- go to psql)");
	psql->add_option("tenant", args->tenant, "Tenant slug or uuid")->required();
	psql->add_option("psql_args", args->psql_args, "Arguments for psql, after --");
	psql->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT set_config('tenancy.tenant', $1, false), tenancy.current_tenant()", args->tenant);
			exec_psql(invocation, *args);
		};
	});
}

} // namespace tenantctl
