// tenantctl psql SLUG [-- psql args]: psql on the same connection, with
// tenancy.tenant already set and the search path of tenancy.enter() (a
// schema-mode tenant's schema first). The tenant is checked first, so that a typo or
// a refusal is reported before psql starts.
//
// The tenant is set with a SET statement, not with connection options: a
// connection pooler such as PgBouncer refuses the "options" startup
// parameter. With -c or -f, the SET runs as the first command; in an
// interactive session it runs from a startup file (PSQLRC) that then reads
// the user's own startup file.
#include "commands.hpp"
#include "errors.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace tenantctl {

namespace {

// The arguments of the psql command.
struct PsqlArgs {
	std::string tenant;
	std::vector<std::string> psql_args;
};

// Returns a SQL string literal of text.
std::string sql_literal(const std::string &text)
{
	std::string literal = "'";
	for (char c : text)
		literal += c == '\'' ? std::string("''") : std::string(1, c);
	return literal + "'";
}

// Says whether psql will run commands and exit (-c or -f) rather than read
// from the terminal.
bool runs_commands(const std::vector<std::string> &args)
{
	for (const std::string &arg : args)
		if (arg == "-c" || arg == "-f" || arg.rfind("--command", 0) == 0 || arg.rfind("--file", 0) == 0 ||
			(arg.size() > 2 && (arg.rfind("-c", 0) == 0 || arg.rfind("-f", 0) == 0)))
			return true;
	return false;
}

// Returns the psql command line: the connection, then the user's arguments,
// with the SET as the first command when psql runs commands.
std::vector<std::string> command_line(const Invocation &invocation, const PsqlArgs &args, const std::string &set)
{
	std::vector<std::string> words = {"psql"};
	if (!invocation.conninfo.empty())
		words.insert(words.end(), {"-d", invocation.conninfo});
	if (runs_commands(args.psql_args))
		words.insert(words.end(), {"-c", "\\o /dev/null", "-c", set, "-c", "\\o"});
	words.insert(words.end(), args.psql_args.begin(), args.psql_args.end());
	return words;
}

// Writes a psql startup file that sets the tenant and then reads the user's
// own startup file, if there is one; returns its path.
std::string write_startup_file(const std::string &set)
{
	char path[] = "/tmp/tenantctl-psqlrc-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		throw std::runtime_error(std::string("cannot create a psql startup file: ") + std::strerror(errno));
	close(fd);
	std::ofstream file(path);
	file << set << ";\n";
	std::string own;
	if (const char *configured = std::getenv("PSQLRC"))
		own = configured;
	else if (const char *home = std::getenv("HOME"))
		own = std::string(home) + "/.psqlrc";
	if (!own.empty() && access(own.c_str(), R_OK) == 0)
		file << "\\i " << own << "\n";
	return path;
}

// Runs psql and returns its exit code; tenantctl ignores the terminal's
// interrupts meanwhile, which are psql's to handle.
int run_psql(std::vector<std::string> words)
{
	std::vector<char *> argv;
	for (std::string &word : words)
		argv.push_back(word.data());
	argv.push_back(nullptr);
	pid_t child = fork();
	if (child < 0)
		throw std::runtime_error(std::string("cannot start psql: ") + std::strerror(errno));
	if (child == 0) {
		execvp("psql", argv.data());
		std::fprintf(stderr, "tenantctl: cannot start psql: %s\n", std::strerror(errno));
		_exit(127);
	}
	std::signal(SIGINT, SIG_IGN);
	std::signal(SIGQUIT, SIG_IGN);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// Runs psql with the tenant and its search path set (path: from the server,
// identifiers already quoted); exits with psql's exit code.
[[noreturn]] void start_psql(const Invocation &invocation, const PsqlArgs &args, const std::string &path)
{
	std::string set = "SET tenancy.tenant = " + sql_literal(args.tenant) + "; SET search_path = " + path;
	std::vector<std::string> words = command_line(invocation, args, set);
	if (runs_commands(args.psql_args))
		std::exit(run_psql(words));
	std::string startup = write_startup_file(set);
	setenv("PSQLRC", startup.c_str(), 1);
	int code = run_psql(words);
	unlink(startup.c_str());
	std::exit(code);
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
			// Two statements: the context of a statement is fixed when it starts.
			session.run("SELECT set_config('tenancy.tenant', $1, false)", args->tenant);
			session.run("SELECT tenancy.current_tenant()");
			// The search path that finds the tenant's tables in every mode
			// (a database-mode tenant is refused with the database to use).
			std::string path = session.value("SELECT path FROM tenancy._entry($1)", args->tenant);
			start_psql(invocation, *args, path.empty() ? "DEFAULT" : path);
		};
	});
}

} // namespace tenantctl
