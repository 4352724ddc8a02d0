// tenantctl migrate DIR: shared migrations once, then tenant migrations in
// every place tenants' tables live (the shared schemas of row-mode tenants,
// each schema-mode tenant's schema), with --jobs connections at once. Each
// file commits with its ledger row, so a run stopped at any point (even
// kill -9) resumes where it stopped; a place that fails stops there and the
// others go on; any failure makes the exit code 1.
#include "commands.hpp"
#include "errors.hpp"
#include "json.hpp"
#include "migrations.hpp"
#include "progress.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace tenantctl {

namespace {

// The options of tenantctl migrate.
struct MigrateArgs {
	std::string dir;
	bool shared_only = false;
	std::vector<std::string> tenants;
	bool all = false;
	int jobs = 1;
	bool dry_run = false;
	std::string lock_timeout;
};

// A place with what is still to run there.
struct Work {
	Place place;
	std::vector<const Migration *> pending;
};

// What a run did, for the summary.
struct Summary {
	int places = 0, up_to_date = 0, applied = 0, union_views = 0;
	std::vector<Failure> failures;
	std::vector<Work> planned; // --dry-run
};

// Reads the places of tenant migrations, narrowed to the --tenant slugs.
std::vector<Place> tenant_places(Session &session, const MigrateArgs &args)
{
	std::vector<Place> places;
	pqxx::result rows = session.run("SELECT coalesce(tenant, ''), isolation::text FROM tenancy.migration_places()");
	if (args.tenants.empty()) {
		for (const pqxx::row &row : rows)
			places.push_back({"tenant", row[0].as<std::string>()});
		return places;
	}
	std::set<std::string> chosen;
	for (const std::string &slug : args.tenants) {
		// A row-mode tenant's place is the shared schemas.
		std::string isolation = session.value(
			"SELECT isolation::text FROM tenancy.tenant_list() WHERE slug = $1", slug);
		if (isolation.empty())
			throw Refusal("tenant \"" + slug + "\" does not exist", "", "tenantctl tenant list lists the tenants.");
		chosen.insert(isolation == "schema" ? slug : "");
	}
	for (const std::string &tenant : chosen)
		places.push_back({"tenant", tenant});
	return places;
}

// Finds the work of every place; places whose applied migrations changed
// are failures at once.
std::vector<Work> plan(const std::vector<Place> &places, const std::vector<Migration> &migrations,
					   const Ledger &ledger, Summary &summary)
{
	std::vector<Work> work;
	for (const Place &place : places) {
		summary.places++;
		std::optional<Failure> changed;
		std::vector<const Migration *> pending = pending_in(place, migrations, ledger, changed);
		if (changed)
			summary.failures.push_back(*changed);
		else if (pending.empty())
			summary.up_to_date++;
		else
			work.push_back({place, std::move(pending)});
	}
	return work;
}

// Applies the work of many places (of total places; the others needed
// nothing) over jobs connections, with a progress bar.
void apply_all(const std::string &conninfo, const std::vector<Work> &work, const MigrateArgs &args, int total,
			   Summary &summary)
{
	std::mutex lock;
	std::atomic<size_t> next{0};
	int done = total - static_cast<int>(work.size());
	ProgressBar bar("tenants");
	bar.update("migrating", done, total);
	auto worker = [&] {
		std::unique_ptr<pqxx::connection> connection;
		for (size_t index; (index = next++) < work.size();) {
			const Work &item = work[index];
			PlaceOutcome outcome;
			try {
				if (!connection)
					connection = std::make_unique<pqxx::connection>(conninfo);
				outcome = apply_to_place(*connection, item.place, item.pending, args.lock_timeout);
			} catch (const pqxx::failure &error) {
				outcome.failure = Failure{item.place, item.pending.front()->version, "08006", error.what()};
				connection.reset();
			}
			std::lock_guard<std::mutex> guard(lock);
			summary.applied += outcome.applied;
			if (outcome.failure)
				summary.failures.push_back(*outcome.failure);
			bar.update(item.place.name(), ++done, total);
		}
	};
	std::vector<std::thread> threads;
	for (int i = 0; i < std::min<int>(args.jobs, static_cast<int>(work.size())); i++)
		threads.emplace_back(worker);
	for (std::thread &thread : threads)
		thread.join();
	bar.finish();
}

// Brings the union views up to the tables' columns after migrations ran.
void refresh_union_views(pqxx::connection &connection, Summary &summary)
{
	try {
		pqxx::work transaction(connection);
		summary.union_views = static_cast<int>(transaction.exec("SELECT * FROM tenancy.refresh_union_views()").size());
		transaction.commit();
	} catch (const pqxx::sql_error &error) {
		summary.failures.push_back(failure_of(Place{"union views", ""}, "", error));
	}
}

// Returns the summary as JSON.
std::string summary_json(const Summary &summary, double seconds, bool dry_run)
{
	std::ostringstream out;
	out << "{\"places\":" << summary.places << ",\"up_to_date\":" << summary.up_to_date
		<< ",\"applied\":" << summary.applied << ",\"failed\":" << summary.failures.size()
		<< ",\"union_views_refreshed\":" << summary.union_views
		<< ",\"dry_run\":" << (dry_run ? "true" : "false") << ",\"seconds\":" << seconds << ",\"pending\":[";
	bool first = true;
	for (const Work &work : summary.planned)
		for (const Migration *migration : work.pending) {
			out << (first ? "" : ",") << "{\"scope\":" << json_string(work.place.scope) << ",\"tenant\":"
				<< (work.place.tenant.empty() ? "null" : json_string(work.place.tenant))
				<< ",\"version\":" << json_string(migration->version) << "}";
			first = false;
		}
	out << "],\"failures\":[";
	first = true;
	for (const Failure &failure : summary.failures) {
		out << (first ? "" : ",") << "{\"scope\":" << json_string(failure.place.scope) << ",\"tenant\":"
			<< (failure.place.tenant.empty() ? "null" : json_string(failure.place.tenant))
			<< ",\"version\":" << json_string(failure.version) << ",\"sqlstate\":" << json_string(failure.sqlstate)
			<< ",\"message\":" << json_string(failure.message) << "}";
		first = false;
	}
	out << "]}";
	return out.str();
}

// Prints the summary in words: failures on standard error.
void print_summary(const Summary &summary, double seconds, bool dry_run)
{
	for (const Work &work : summary.planned)
		for (const Migration *migration : work.pending)
			std::cout << "would apply " << migration->version << " to " << work.place.name() << '\n';
	for (const Failure &failure : summary.failures)
		std::cerr << "tenantctl: " << failure.place.name() << ": " << failure.version << ": " << failure.message
				  << (failure.sqlstate.empty() ? "" : " (SQLSTATE " + failure.sqlstate + ")") << '\n';
	std::ostringstream line;
	line.precision(3);
	line << (dry_run ? "dry run: " : "") << summary.places << " places, " << summary.up_to_date << " up to date, "
		 << summary.applied << " migrations applied, " << summary.failures.size() << " failed, in " << seconds
		 << " s";
	if (summary.union_views > 0)
		line << "; " << summary.union_views << " union views refreshed";
	std::cout << line.str() << '\n';
}

// Runs tenantctl migrate.
void migrate(Session &session, const Invocation &invocation, const MigrateArgs &args)
{
	auto started = std::chrono::steady_clock::now();
	MigrationSet set = read_migrations(args.dir);
	const bool run_shared = args.tenants.empty() || args.shared_only || args.all;
	const bool run_tenant = !args.shared_only || args.all || !args.tenants.empty();
	// Refused to all but platform admins, before anything else.
	session.run("SELECT count(*) FROM tenancy.migration_places()");
	pqxx::connection control(session.conninfo());
	Ledger ledger = read_ledger(control);
	Summary summary;

	if (run_shared) {
		std::vector<Work> shared = plan({{"shared", ""}}, set.shared, ledger, summary);
		if (args.dry_run)
			summary.planned.insert(summary.planned.end(), shared.begin(), shared.end());
		else if (!shared.empty()) {
			PlaceOutcome outcome = apply_to_place(control, shared[0].place, shared[0].pending, args.lock_timeout);
			summary.applied += outcome.applied;
			if (outcome.failure)
				summary.failures.push_back(*outcome.failure);
		}
	}
	// Tenant migrations may rely on the shared ones: none run after a failure.
	if (run_tenant && summary.failures.empty()) {
		std::vector<Place> places = tenant_places(session, args);
		std::vector<Work> work = plan(places, set.tenant, ledger, summary);
		if (args.dry_run)
			summary.planned.insert(summary.planned.end(), work.begin(), work.end());
		else
			apply_all(session.conninfo(), work, args, static_cast<int>(places.size()), summary);
	}
	if (!args.dry_run && summary.applied > 0)
		refresh_union_views(control, summary);
	double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
	if (invocation.json())
		std::cout << summary_json(summary, seconds, args.dry_run) << '\n';
	else
		print_summary(summary, seconds, args.dry_run);
	if (!summary.failures.empty())
		throw CheckFailed(std::to_string(summary.failures.size()) + " places failed to migrate");
}

} // namespace

// Registers tenantctl migrate.
void add_migrate_command(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<MigrateArgs>();
	CLI::App *command = app.add_subcommand(
		"migrate", "Apply DIR/shared/*.sql once and DIR/tenant/*.sql in every tenant's place (platform admins)");
	command->add_option("dir", args->dir, "Directory of the migrations (shared/ and tenant/)")->required();
	command->add_flag("--shared", args->shared_only, "Only the shared migrations");
	command->add_option("--tenant", args->tenants, "Only the tenant migrations of this tenant (repeatable)");
	command->add_flag("--all", args->all, "Shared migrations, then tenant migrations everywhere (the default)");
	command->add_option("-j,--jobs", args->jobs, "Places migrated at once, each on its own connection")
		->check(CLI::Range(1, 64));
	command->add_flag("--dry-run", args->dry_run, "Show what would run, run nothing");
	command->add_option("--lock-timeout", args->lock_timeout,
						"Give up a migration that waits longer than this for a lock (e.g. 5s)");
	command->callback([args, &invocation] {
		invocation.action = [args, &invocation](Session &session) { migrate(session, invocation, *args); };
	});
}

} // namespace tenantctl
