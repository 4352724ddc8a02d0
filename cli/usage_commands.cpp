// tenantctl usage [SLUG] [--from DATE] [--to DATE]: a tenant's usage per day,
// or every tenant's over the period; on a terminal, with sparklines of the
// daily trend (drawn by the server, like every result).
#include "commands.hpp"
#include "output.hpp"

#include <iostream>
#include <memory>
#include <unistd.h>

namespace tenantctl {

namespace {

// The arguments of tenantctl usage.
struct UsageArgs {
	std::string tenant, from, to;
};

// The usage rows of one tenant, as a CTE named u ($1 tenant, $2 from, $3 to).
const char *const one_tenant = "WITH u AS (SELECT * FROM tenancy.usage($1, nullif($2, '')::date, nullif($3, '')::date)) ";

// Returns SQL for a sparkline of a series over rows (day, ...) of relation:
// one block character per day, scaled to the series' largest value.
std::string sparkline(const std::string &value, const std::string &relation)
{
	return "(SELECT string_agg(substr('▁▂▃▄▅▆▇█', 1 + CASE WHEN m.top > 0 THEN round(x.v * 7.0 / m.top)::int "
		   "ELSE 0 END, 1), '' ORDER BY x.day) FROM (SELECT r.day, coalesce(" +
		   value + ", 0) AS v FROM " + relation + " r) x CROSS JOIN (SELECT max(coalesce(" + value +
		   ", 0)) AS top FROM " + relation + " r) m)";
}

// Says whether sparklines go with the table: on a terminal, in table format.
bool with_sparklines(const Invocation &invocation)
{
	return invocation.output.format == Format::table && isatty(STDOUT_FILENO);
}

// Prints one tenant's usage per day, then the trend of each series.
void one(Session &session, const Invocation &invocation, const UsageArgs &args)
{
	if (invocation.json()) {
		print_json(session.value(std::string(one_tenant) + "SELECT coalesce(json_agg(u ORDER BY u.day), '[]')::text FROM u",
								 args.tenant, args.from, args.to));
		return;
	}
	print_result(invocation.output,
				 session.run(std::string(one_tenant) +
								 "SELECT day, inserted, updated, deleted, rows, storage_mb, active_actors FROM u "
								 "ORDER BY day",
							 args.tenant, args.from, args.to));
	if (!with_sparklines(invocation))
		return;
	pqxx::result trend = session.run(
		std::string(one_tenant) + "SELECT " + sparkline("r.inserted + r.updated + r.deleted", "u") + ", " +
			sparkline("r.rows", "u") + ", " + sparkline("r.storage_mb", "u") + ", " + sparkline("r.active_actors", "u") +
			", (SELECT sum(inserted + updated + deleted) FROM u), (SELECT max(active_actors) FROM u)",
		args.tenant, args.from, args.to);
	std::cout << "\nwrites   " << trend[0][0].c_str() << "  " << trend[0][4].c_str() << " in all\n"
			  << "rows     " << trend[0][1].c_str() << "\n"
			  << "storage  " << trend[0][2].c_str() << "\n"
			  << "actors   " << trend[0][3].c_str() << "  at most " << trend[0][5].c_str() << " a day\n";
}

// Prints the usage over the period of every tenant whose usage the caller
// may read (as a platform admin, or its owner or admin): writes in all, the latest
// rows and storage, the most active actors in a day, and on a terminal the
// trend of writes.
void all(Session &session, const Invocation &invocation, const UsageArgs &args)
{
	std::string per_tenant =
		"WITH d AS (SELECT t.slug AS tenant, t.plan, u.* FROM tenancy.tenant_list() t "
		"           CROSS JOIN LATERAL tenancy.usage(t.slug, nullif($1, '')::date, nullif($2, '')::date) u "
		"           WHERE tenancy.is_platform_admin() OR EXISTS (SELECT 1 FROM tenancy.my_tenants() m "
		"                                                        WHERE m.slug = t.slug AND m.role >= 'admin')) "
		"SELECT s.tenant, s.plan, sum(s.inserted + s.updated + s.deleted) AS writes, "
		"       (array_agg(s.rows ORDER BY s.day DESC) FILTER (WHERE s.rows IS NOT NULL))[1] AS rows, "
		"       (array_agg(s.storage_mb ORDER BY s.day DESC) FILTER (WHERE s.storage_mb IS NOT NULL))[1] AS storage_mb, "
		"       max(s.active_actors) AS most_actors_a_day";
	std::string trend = ", " + sparkline("r.inserted + r.updated + r.deleted",
										 "(SELECT * FROM d WHERE d.tenant = s.tenant)") + " AS trend";
	std::string from = " FROM d s GROUP BY s.tenant, s.plan ORDER BY s.tenant";
	if (invocation.json()) {
		print_json(session.value("SELECT coalesce(json_agg(x), '[]')::text FROM (" + per_tenant + from + ") x",
								 args.from, args.to));
		return;
	}
	print_result(invocation.output,
				 session.run(per_tenant + (with_sparklines(invocation) ? trend : "") + from, args.from, args.to));
}

} // namespace

// Registers tenantctl usage.
void add_usage_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<UsageArgs>();
	CLI::App *usage = app.add_subcommand(
		"usage", "Usage per UTC day: rows written, rows, storage, active actors (one tenant, or all over the period)");
	usage->add_option("slug", args->tenant, "One tenant's usage per day (its owners and admins may read it)");
	usage->add_option("--from", args->from, "First day (default: 29 days before --to)");
	usage->add_option("--to", args->to, "Last day (default: today, UTC)");
	usage->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			if (args->tenant.empty())
				all(session, invocation, *args);
			else
				one(session, invocation, *args);
		};
	});
}

} // namespace tenantctl
