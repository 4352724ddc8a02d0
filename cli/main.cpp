// tenantctl: the operator's command line for pg_tenancy. Every action is a
// call of an extension function, so operators and SQL users get the same
// rules and errors. Exit codes: 0 ok, 1 refused by the database or a failed
// check, 2 usage error, 3 cannot connect.
#include "commands.hpp"
#include "errors.hpp"

#include <cstdlib>
#include <iostream>

using namespace tenantctl;

namespace {

// Builds the command line: global options and every command group.
void build(CLI::App &app, Invocation &invocation)
{
	app.set_version_flag("--version", std::string("tenantctl ") + TENANTCTL_VERSION);
	app.add_option("-d,--dbname", invocation.conninfo,
				   "Connection string or URI (default: libpq's PG* variables and service file)");
	app.add_flag("--json", invocation.json, "Machine-readable output, built by the server");
	app.fallthrough();
	app.require_subcommand(1);
	add_tenant_commands(app, invocation);
	add_member_commands(app, invocation);
	add_admin_commands(app, invocation);
	add_protect_commands(app, invocation);
	add_domain_commands(app, invocation);
	add_settings_commands(app, invocation);
	add_health_command(app, invocation);
	add_psql_command(app, invocation);
}

// Prints a database error as the server worded it: message, detail, hint.
// The CONTEXT lines (which PL/pgSQL function raised it) are for developers,
// not operators, and are left out.
void print_database_error(const pqxx::sql_error &error)
{
	std::string text = error.what();
	size_t context = text.find("\nCONTEXT:");
	if (context != std::string::npos)
		text.erase(context);
	while (!text.empty() && text.back() == '\n')
		text.pop_back();
	std::cerr << text << "\n";
}

// Runs the chosen command and maps every way it can end to an exit code.
int run(const Invocation &invocation)
{
	Session session(invocation.conninfo);
	try {
		invocation.action(session);
		return exit_ok;
	} catch (const pqxx::broken_connection &error) {
		std::cerr << "tenantctl: cannot connect to the database: " << error.what()
				  << "hint: check -d/--dbname, or PGHOST, PGPORT, PGUSER and PGDATABASE.\n";
		return exit_no_connection;
	} catch (const pqxx::sql_error &error) {
		print_database_error(error);
		return exit_refused;
	} catch (const UsageError &error) {
		std::cerr << "tenantctl: " << error.what() << "\n";
		return exit_usage;
	} catch (const CheckFailed &error) {
		std::cerr << "tenantctl: " << error.what() << "\n";
		return exit_refused;
	} catch (const pqxx::failure &error) {
		std::cerr << "tenantctl: the database connection failed: " << error.what() << "\n";
		return exit_no_connection;
	} catch (const std::exception &error) {
		std::cerr << "tenantctl: " << error.what() << "\n";
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
	build(app, invocation);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &error) {
		int code = app.exit(error);
		return code == 0 ? exit_ok : exit_usage;
	}
	if (!invocation.action) {
		std::cerr << app.help();
		return exit_usage;
	}
	return run(invocation);
}
