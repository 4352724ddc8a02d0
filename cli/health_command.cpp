// tenantctl health: the extension's health check; exits 1 on any error.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"

#include <iostream>

namespace tenantctl {

namespace {

// Colours the severity of a finding: errors red, warnings yellow.
Colour severity_colour(const std::string &column, const std::string &text)
{
	if (column != "severity")
		return Colour::none;
	return text == "error" ? Colour::red : text == "warning" ? Colour::yellow : Colour::none;
}

} // namespace

// Registers the health command.
void add_health_command(CLI::App &app, Invocation &invocation)
{
	CLI::App *health = app.add_subcommand("health", "Check how tables are protected; exit 1 on any error");
	health->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			pqxx::result counts = session.run(
				"SELECT count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity = 'warning') "
				"FROM tenancy.health_check()");
			long errors = counts[0][0].as<long>();
			long warnings = counts[0][1].as<long>();
			if (invocation.json()) {
				print_json(session.value("SELECT coalesce(json_agg(f), '[]')::text FROM tenancy.health_check() f"));
			} else {
				print_result(invocation.output, session.run("SELECT * FROM tenancy.health_check()"), severity_colour);
				// The summary is for people: in CSV it goes to standard error,
				// so that standard output stays one CSV document.
				(invocation.output.format == Format::csv ? std::cerr : std::cout)
					<< errors << " error(s), " << warnings << " warning(s)\n";
			}
			if (errors > 0)
				throw CheckFailed("the health check found errors");
		};
	});
}

} // namespace tenantctl
