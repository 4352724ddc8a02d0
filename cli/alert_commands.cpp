// tenantctl alerts: usage crossing 80 % and 100 % of a tenant's limits, as
// recorded in tenancy.alerts, and (--follow) as they come (LISTEN
// tenancy_alerts). Any role can send a notification on that channel, so one
// is only a prompt: the alerts are read with tenancy.alert_list(), under its
// rights, and each is printed once, in the order of their ids.
#include "commands.hpp"
#include "output.hpp"

#include <iostream>
#include <memory>

namespace tenantctl {

namespace {

// The arguments of tenantctl alerts.
struct AlertArgs {
	std::string tenant, since;
	bool follow = false;
};

// The columns printed for alerts.
const char *const alert_columns =
	"a.at, a.tenant, a.limit_key, a.threshold, a.usage, a.\"limit\", a.plan";

// Prints the alerts recorded so far (of one tenant, or of all).
void list(Session &session, const Invocation &invocation, const AlertArgs &args)
{
	const char *source = "tenancy.alert_list(nullif($1, ''), $2::timestamptz) a";
	if (invocation.json())
		print_json(session.value(std::string("SELECT coalesce(json_agg(a), '[]')::text FROM ") + source, args.tenant,
								 or_null(args.since)));
	else
		print_result(invocation.output, session.run(std::string("SELECT ") + alert_columns + " FROM " + source,
												   args.tenant, or_null(args.since)));
}

// Prints each new alert as it comes, until stopped: one JSON object per
// line with --json, else one line of text. Starts after the newest alert the
// caller may read (which also checks the caller's rights at once); each
// notification then prints the alerts newer than the last one printed, so
// that a notification sent again, or by anyone, prints nothing twice.
void follow(Session &session, const Invocation &invocation, const AlertArgs &args)
{
	const char *source = " FROM tenancy.alert_list(nullif($1, ''), NULL) a ";
	std::string last = session.value(std::string("SELECT coalesce(max(a.id), 0)::text") + source, args.tenant);
	auto on_notify = [&](const std::string &) {
		pqxx::result alerts = session.run(
			std::string("SELECT a.id::text, row_to_json(a)::text, a.at::timestamptz(0)::text, a.tenant, a.limit_key, "
						"a.threshold, a.usage, a.\"limit\", a.plan") +
				source + "WHERE a.id > $2::bigint ORDER BY a.id",
			args.tenant, last);
		for (const auto &row : alerts) {
			if (invocation.json())
				std::cout << row[1].c_str() << std::endl;
			else
				std::cout << row[2].c_str() << "  " << row[3].c_str() << "  " << row[4].c_str() << " at "
						  << row[5].c_str() << " %: " << row[6].c_str() << " of " << row[7].c_str() << " (plan "
						  << row[8].c_str() << ")" << std::endl;
			last = row[0].c_str();
		}
	};
	auto ready = [&] {
		if (!invocation.json())
			std::cerr << "waiting for alerts (Ctrl-C to stop)" << std::endl;
	};
	session.listen("tenancy_alerts", ready, on_notify);
}

} // namespace

// Registers tenantctl alerts.
void add_alert_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<AlertArgs>();
	CLI::App *alerts = app.add_subcommand(
		"alerts", "Usage alerts: a tenant crossing 80 % or 100 % of a limit (all tenants, or one)");
	alerts->add_option("slug", args->tenant, "Only this tenant's alerts (its owners and admins may read them)");
	alerts->add_option("--since", args->since, "Only alerts from this time on (a PostgreSQL timestamp)");
	alerts->add_flag("--follow", args->follow, "Print each new alert as it comes, until stopped");
	alerts->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			if (args->follow)
				follow(session, invocation, *args);
			else
				list(session, invocation, *args);
		};
	});
}

} // namespace tenantctl
