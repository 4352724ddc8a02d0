// tenantctl report --html FILE [--from DATE] [--to DATE]: one self-contained
// HTML page (inline CSS and SVG, no external asset) for platform admins: the
// usage trend of each tenant, the top tenants by storage and by writes, and
// the tenants near or over their limits with this month's alerts.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace tenantctl {

namespace {

// The arguments of tenantctl report.
struct ReportArgs {
	std::string file, from, to;
};

// One day of one tenant; rows and storage are negative on days without a
// collection (tenancy.collect_usage()).
struct Day {
	std::string day;
	double writes = 0, rows = -1, storage_mb = -1;
};

// One tenant's days, in order.
struct Series {
	std::string tenant, plan;
	std::vector<Day> days;
	double writes() const
	{
		double sum = 0;
		for (const Day &day : days)
			sum += day.writes;
		return sum;
	}
	// Returns the storage of the latest collection (0: none).
	double storage() const
	{
		for (auto day = days.rbegin(); day != days.rend(); ++day)
			if (day->storage_mb >= 0)
				return day->storage_mb;
		return 0;
	}
};

// Returns text with HTML's special characters escaped.
std::string html(const std::string &text)
{
	std::string escaped;
	for (char c : text) {
		switch (c) {
		case '&': escaped += "&amp;"; break;
		case '<': escaped += "&lt;"; break;
		case '>': escaped += "&gt;"; break;
		case '"': escaped += "&quot;"; break;
		case '\'': escaped += "&#39;"; break;
		default: escaped += c;
		}
	}
	return escaped;
}

// Formats a number for the page (at most three decimals, no trailing zeros).
std::string number(double value)
{
	char buffer[64];
	snprintf(buffer, sizeof(buffer), "%.3f", value);
	std::string text = buffer;
	text.erase(text.find_last_not_of('0') + 1);
	if (!text.empty() && text.back() == '.')
		text.pop_back();
	return text;
}

// Draws a tenant's writes per day as a bar chart, with its rows as a line.
std::string trend_chart(const Series &series)
{
	const double width = 640, height = 140, top = 10, bottom = 24, left = 48;
	double most_writes = 1, most_rows = 1;
	for (const Day &day : series.days) {
		most_writes = std::max(most_writes, day.writes);
		most_rows = std::max(most_rows, day.rows);
	}
	size_t n = std::max<size_t>(series.days.size(), 1);
	double step = (width - left) / static_cast<double>(n), plot = height - top - bottom;
	std::ostringstream svg;
	svg << "<svg class=\"chart trend\" role=\"img\" width=\"" << width << "\" height=\"" << height
		<< "\" viewBox=\"0 0 " << width << ' ' << height << "\" aria-label=\"Writes and rows per day of "
		<< html(series.tenant) << "\"><title>Writes and rows per day of " << html(series.tenant) << "</title>";
	svg << "<text x=\"0\" y=\"" << top + 10 << "\" class=\"axis\">" << number(most_writes) << "</text>";
	svg << "<line x1=\"" << left << "\" y1=\"" << height - bottom << "\" x2=\"" << width << "\" y2=\""
		<< height - bottom << "\" class=\"base\"/>";
	std::string points;
	for (size_t i = 0; i < series.days.size(); i++) {
		const Day &day = series.days[i];
		double bar = plot * day.writes / most_writes, x = left + step * static_cast<double>(i);
		svg << "<rect class=\"writes\" x=\"" << number(x + step * 0.15) << "\" y=\"" << number(height - bottom - bar)
			<< "\" width=\"" << number(step * 0.7) << "\" height=\"" << number(bar) << "\"><title>" << html(day.day)
			<< ": " << number(day.writes) << " rows written";
		if (day.rows >= 0) {
			svg << ", " << number(day.rows) << " rows, " << number(day.storage_mb) << " MB";
			points += number(x + step / 2) + "," + number(height - bottom - plot * day.rows / most_rows) + " ";
		}
		svg << "</title></rect>";
	}
	if (!points.empty())
		svg << "<polyline class=\"rows\" points=\"" << points << "\"/>";
	if (!series.days.empty())
		svg << "<text x=\"" << left << "\" y=\"" << height - 6 << "\" class=\"axis\">" << html(series.days.front().day)
			<< "</text><text x=\"" << width << "\" y=\"" << height - 6 << "\" class=\"axis end\">"
			<< html(series.days.back().day) << "</text>";
	svg << "</svg>";
	return svg.str();
}

// Draws the top tenants by a measure as horizontal bars.
std::string top_chart(const std::string &title, std::vector<std::pair<std::string, double>> entries,
					  const std::string &unit)
{
	std::sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) { return a.second > b.second; });
	if (entries.size() > 10)
		entries.resize(10);
	const double width = 640, row = 26, label = 160;
	double height = row * static_cast<double>(std::max<size_t>(entries.size(), 1)) + 8, most = 0;
	for (const auto &entry : entries)
		most = std::max(most, entry.second);
	if (most <= 0)
		most = 1;
	std::ostringstream svg;
	svg << "<svg class=\"chart top\" role=\"img\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
		<< width << ' ' << height << "\" aria-label=\"" << html(title) << "\"><title>" << html(title) << "</title>";
	for (size_t i = 0; i < entries.size(); i++) {
		double y = 4 + row * static_cast<double>(i), bar = (width - label - 90) * entries[i].second / most;
		svg << "<text x=\"0\" y=\"" << y + 17 << "\" class=\"label\">" << html(entries[i].first) << "</text>"
			<< "<rect class=\"bar\" x=\"" << label << "\" y=\"" << y + 4 << "\" width=\"" << number(bar)
			<< "\" height=\"" << row - 8 << "\"><title>" << html(entries[i].first) << ": " << number(entries[i].second)
			<< ' ' << unit << "</title></rect><text x=\"" << number(label + bar + 6) << "\" y=\"" << y + 17
			<< "\" class=\"value\">" << number(entries[i].second) << ' ' << unit << "</text>";
	}
	if (entries.empty())
		svg << "<text x=\"0\" y=\"20\" class=\"label\">no usage yet</text>";
	svg << "</svg>";
	return svg.str();
}

// Writes an HTML table of a result, with a class for each row from a column.
std::string table(const pqxx::result &result, int class_column = -1)
{
	std::ostringstream out;
	out << "<table><thead><tr>";
	for (pqxx::row::size_type c = 0; c < result.columns(); c++)
		if (static_cast<int>(c) != class_column)
			out << "<th>" << html(result.column_name(c)) << "</th>";
	out << "</tr></thead><tbody>";
	for (const auto &row : result) {
		out << "<tr" << (class_column >= 0 ? " class=\"" + html(row[class_column].c_str()) + "\"" : "") << ">";
		for (pqxx::row::size_type c = 0; c < row.size(); c++)
			if (static_cast<int>(c) != class_column)
				out << "<td>" << html(row[static_cast<int>(c)].is_null() ? "" : row[static_cast<int>(c)].c_str())
					<< "</td>";
		out << "</tr>";
	}
	if (result.empty())
		out << "<tr><td colspan=\"" << result.columns() << "\">none</td></tr>";
	out << "</tbody></table>";
	return out.str();
}

const char *const style =
	"body{font-family:system-ui,sans-serif;margin:2em;color:#1f2933;max-width:1400px}"
	"h1{margin-bottom:0}.period{color:#52606d;margin-top:.3em}"
	"section{margin:2em 0}.grid{display:flex;flex-wrap:wrap;gap:2em}"
	".tenant h3{margin:.2em 0;font-size:1em}.tenant .totals{color:#52606d;font-size:.85em}"
	".writes{fill:#3e7cb1}.rows{fill:none;stroke:#e07a1f;stroke-width:2}.base{stroke:#9aa5b1}"
	".bar{fill:#3e7cb1}.axis,.label,.value{font-size:12px;fill:#52606d}.end{text-anchor:end}"
	"table{border-collapse:collapse}th,td{border:1px solid #cbd2d9;padding:.3em .6em;text-align:left}"
	"tr.over td{background:#fde2e1}tr.near td{background:#fff3c4}.legend span{margin-right:1.5em}";

// Writes the report.
void write_report(Session &session, const ReportArgs &args)
{
	// Refused (42501) unless the caller may read every tenant's usage.
	pqxx::result period = session.run(
		"SELECT (SELECT count(*) FROM tenancy.usage_summary()), "
		"       coalesce(nullif($1, '')::date, coalesce(nullif($2, '')::date, (now() AT TIME ZONE 'UTC')::date) - 29)::text, "
		"       coalesce(nullif($2, '')::date, (now() AT TIME ZONE 'UTC')::date)::text, now()::timestamptz(0)::text",
		args.from, args.to);
	std::string from = period[0][1].c_str(), to = period[0][2].c_str();
	pqxx::result days = session.run(
		"SELECT t.slug, t.plan, u.day::text, u.inserted + u.updated + u.deleted, coalesce(u.rows, -1), "
		"       coalesce(u.storage_mb, -1) "
		"  FROM tenancy.tenant_list() t CROSS JOIN LATERAL tenancy.usage(t.slug, $1::date, $2::date) u "
		" ORDER BY t.slug, u.day",
		from, to);
	std::vector<Series> tenants;
	for (const auto &row : days) {
		if (tenants.empty() || tenants.back().tenant != row[0].c_str())
			tenants.push_back({row[0].c_str(), row[1].c_str(), {}});
		tenants.back().days.push_back(
			{row[2].c_str(), row[3].as<double>(), row[4].as<double>(), row[5].as<double>()});
	}
	pqxx::result limits = session.run(
		"SELECT CASE WHEN l.over THEN 'over' ELSE 'near' END AS status, t.slug AS tenant, l.key AS \"limit\", "
		"       l.\"limit\" #>> '{}' AS allowed, l.usage, "
		"       round(100 * l.usage / nullif((l.\"limit\" #>> '{}')::numeric, 0)) || ' %' AS used "
		"  FROM tenancy.tenant_list() t CROSS JOIN LATERAL tenancy.tenant_limits(t.slug) l "
		" WHERE l.usage IS NOT NULL AND jsonb_typeof(l.\"limit\") = 'number' "
		"   AND l.usage >= 0.8 * (l.\"limit\" #>> '{}')::numeric "
		" ORDER BY l.over DESC, l.usage / nullif((l.\"limit\" #>> '{}')::numeric, 0) DESC, t.slug");
	pqxx::result alerts = session.run(
		"SELECT a.at::timestamptz(0)::text AS at, a.tenant, a.limit_key AS \"limit\", a.threshold || ' %' AS threshold, "
		"       a.usage, a.\"limit\" AS allowed "
		"  FROM tenancy.alert_list(NULL, date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') a "
		" ORDER BY a.at DESC");

	std::vector<std::pair<std::string, double>> by_storage, by_writes;
	for (const Series &series : tenants) {
		by_storage.emplace_back(series.tenant, series.storage());
		by_writes.emplace_back(series.tenant, series.writes());
	}
	std::ostringstream page;
	page << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pg_tenancy usage report "
		 << html(from) << " to " << html(to) << "</title><style>" << style << "</style></head><body>"
		 << "<h1>pg_tenancy usage report</h1><p class=\"period\">" << html(from) << " to " << html(to)
		 << " (UTC days), " << tenants.size() << " tenants, written " << html(period[0][3].c_str()) << "</p>";
	page << "<section id=\"limits\"><h2>Tenants near or over their limits</h2>" << table(limits, 0)
		 << "<h3>Alerts this month</h3>" << table(alerts) << "</section>";
	page << "<section id=\"top\"><h2>Top tenants</h2><div class=\"grid\"><div><h3>By storage (MB, latest "
			"collection)</h3>"
		 << top_chart("Top tenants by storage", by_storage, "MB") << "</div><div><h3>By rows written</h3>"
		 << top_chart("Top tenants by rows written", by_writes, "rows") << "</div></div></section>";
	page << "<section id=\"trends\"><h2>Usage trend per tenant</h2><p class=\"legend\"><span>bars: rows written "
			"per day</span><span>line: rows held</span></p><div class=\"grid\">";
	for (const Series &series : tenants)
		page << "<div class=\"tenant\"><h3>" << html(series.tenant) << " <span class=\"totals\">plan "
			 << html(series.plan) << ", " << number(series.writes()) << " rows written, "
			 << number(series.storage()) << " MB</span></h3>" << trend_chart(series) << "</div>";
	page << "</div></section></body></html>\n";

	std::ofstream file(args.file, std::ios::binary | std::ios::trunc);
	file << page.str();
	file.close();
	if (!file)
		throw UsageError("cannot write the report to " + args.file);
}

} // namespace

// Registers tenantctl report.
void add_report_command(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<ReportArgs>();
	CLI::App *report = app.add_subcommand(
		"report", "Write a usage report: one self-contained HTML page with charts (platform admins)");
	report->add_option("--html", args->file, "The HTML file to write")->required();
	report->add_option("--from", args->from, "First day (default: 29 days before --to)");
	report->add_option("--to", args->to, "Last day (default: today, UTC)");
	report->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			write_report(session, *args);
			if (invocation.json())
				print_json(session.value("SELECT json_build_object('written', $1::text)::text", args->file));
			else
				print_done("wrote " + args->file);
		};
	});
}

} // namespace tenantctl
