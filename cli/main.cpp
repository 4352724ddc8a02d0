// tenantctl: the operator's command line for pg_tenancy. Every action is a
// call of an extension function, so operators and SQL users get the same
// rules and errors. Exit codes: 0 ok, 1 refused by the database or a failed
// check, 2 usage error, 3 cannot connect.
#include "colour.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "report.hpp"
#include "suggest.hpp"

#include <cstdlib>
#include <iostream>
#include <unistd.h>

using namespace tenantctl;

namespace {

// The global options as typed, before they are settled into an Output.
struct GlobalOptions {
	bool json = false;  // --json
	std::string output; // --output (empty: not given)
	bool no_headers = false;
};

// Builds the command line: global options and every command group.
void build(CLI::App &app, Invocation &invocation, GlobalOptions &options)
{
	app.set_version_flag("--version", std::string("tenantctl ") + TENANTCTL_VERSION);
	app.add_option("-d,--dbname", invocation.conninfo,
				   "Connection string or URI (default: libpq's PG* variables and service file)");
	app.add_option("-o,--output", options.output, "Output format: table (default), json or csv")
		->check(CLI::IsMember({"table", "json", "csv"}));
	app.add_flag("--json", options.json, "Same as --output json: machine-readable output, built by the server");
	app.add_flag("--no-headers", options.no_headers, "Leave out the header line (and the dashes line) of tables and CSV");
	app.fallthrough();
	app.require_subcommand(1);
	add_tenant_commands(app, invocation);
	add_member_commands(app, invocation);
	add_admin_commands(app, invocation);
	add_protect_commands(app, invocation);
	add_domain_commands(app, invocation);
	add_settings_commands(app, invocation);
	add_plan_commands(app, invocation);
	add_region_commands(app, invocation);
	add_alert_commands(app, invocation);
	add_pii_commands(app, invocation);
	add_usage_commands(app, invocation);
	add_report_command(app, invocation);
	add_migrate_command(app, invocation);
	add_health_command(app, invocation);
	add_psql_command(app, invocation);
	add_completion_command(app, invocation);
}

// Settles the global options into how results are printed; refuses --json
// with another --output.
void settle_output(const GlobalOptions &options, Output &output)
{
	if (options.json && !options.output.empty() && options.output != "json")
		throw UsageError("--json and --output " + options.output + " contradict each other");
	output.format = options.json || options.output == "json" ? Format::json
					: options.output == "csv"                 ? Format::csv
															  : Format::table;
	output.headers = !options.no_headers;
	output.colour = output.format == Format::table && colour_wanted(STDOUT_FILENO);
}

// Reports a command line that CLI11 refused: a mistyped or missing command
// with suggestions, anything else in CLI11's words; returns the exit code.
int report_parse_error(const CLI::App &app, const CLI::ParseError &error, const CommandLine &line)
{
	if (std::optional<Problem> problem = explain_command_error(app, line)) {
		report_problem(*problem, line.json);
		return exit_usage;
	}
	if (line.json) {
		Problem problem;
		problem.message = error.what();
		problem.exit_code = exit_usage;
		report_problem(problem, true);
		return exit_usage;
	}
	std::cerr << error.what() << "\nRun with --help for more information.\n";
	return exit_usage;
}

// Runs the chosen command and maps every way it can end to an exit code.
int run(const Invocation &invocation)
{
	Session session(invocation.conninfo);
	const bool json = invocation.json();
	try {
		invocation.action(session);
		return exit_ok;
	} catch (const pqxx::broken_connection &error) {
		Problem problem{"cannot connect to the database", "", error.what(),
						"Check -d/--dbname, or PGHOST, PGPORT, PGUSER and PGDATABASE.", exit_no_connection};
		while (!problem.detail.empty() && (problem.detail.back() == '\n' || problem.detail.back() == ' '))
			problem.detail.pop_back();
		report_problem(problem, json);
		return exit_no_connection;
	} catch (const pqxx::transaction_rollback &error) {
		// A deadlock or serialization failure: the database refused, the
		// connection is fine (libpqxx 6.4 does not make it an sql_error).
		report_database_error(error, exit_refused, json);
		return exit_refused;
	} catch (const pqxx::sql_error &error) {
		report_database_error(error, exit_refused, json);
		return exit_refused;
	} catch (const UsageError &error) {
		report_problem({error.what(), "", "", "", exit_usage}, json);
		return exit_usage;
	} catch (const Refusal &error) {
		report_problem({error.what(), "", error.detail, error.hint, exit_refused}, json);
		return exit_refused;
	} catch (const CheckFailed &error) {
		report_problem({error.what(), "", "", "", exit_refused}, json);
		return exit_refused;
	} catch (const pqxx::failure &error) {
		report_problem({"the database connection failed", "", error.what(), "", exit_no_connection}, json);
		return exit_no_connection;
	} catch (const std::exception &error) {
		report_problem({error.what(), "", "", "", exit_refused}, json);
		return exit_refused;
	}
}

} // namespace

// Parses the command line and runs the command.
int main(int argc, char **argv)
{
	setenv("PGAPPNAME", "tenantctl", 0);
	CLI::App app{"tenantctl: manage pg_tenancy tenants, members, admins and protected tables", "tenantctl"};
	Invocation invocation;
	GlobalOptions options;
	build(app, invocation, options);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &error) {
		if (error.get_exit_code() == 0)
			return app.exit(error); // --help, --version
		const CommandLine line = walk_command_line(app, std::vector<std::string>(argv + 1, argv + argc));
		return report_parse_error(app, error, line);
	}
	try {
		settle_output(options, invocation.output);
	} catch (const UsageError &error) {
		report_problem({error.what(), "", "", "", exit_usage}, options.json || options.output == "json");
		return exit_usage;
	}
	if (!invocation.action) {
		std::cerr << app.help();
		return exit_usage;
	}
	return run(invocation);
}
