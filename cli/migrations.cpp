// Reading migration files and applying them to one place.
#include "migrations.hpp"
#include "checksum.hpp"
#include "errors.hpp"
#include "report.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tenantctl {

namespace {

namespace fs = std::filesystem;

// Reads the *.sql files of one directory in file-name order (none when the
// directory does not exist).
std::vector<Migration> read_directory(const fs::path &dir)
{
	std::vector<Migration> migrations;
	if (!fs::is_directory(dir))
		return migrations;
	for (const fs::directory_entry &entry : fs::directory_iterator(dir)) {
		if (!entry.is_regular_file() || entry.path().extension() != ".sql")
			continue;
		std::ifstream file(entry.path(), std::ios::binary);
		std::ostringstream contents;
		contents << file.rdbuf();
		if (!file)
			throw Refusal("cannot read migration " + entry.path().string(), "", "Check the file's permissions.");
		Migration migration{entry.path().filename().string(), contents.str(), ""};
		Sha256 digest;
		digest.add(migration.body.data(), migration.body.size());
		migration.checksum = digest.hex();
		migrations.push_back(std::move(migration));
	}
	std::sort(migrations.begin(), migrations.end(),
			  [](const Migration &a, const Migration &b) { return a.version < b.version; });
	return migrations;
}

// Applies one migration in its own transaction; false when another run
// applied it meanwhile.
bool apply_one(pqxx::connection &connection, const Place &place, const Migration &migration,
			   const std::string &lock_timeout)
{
	pqxx::work transaction(connection);
	if (!lock_timeout.empty())
		transaction.exec_params("SELECT pg_catalog.set_config('lock_timeout', $1, true)", lock_timeout);
	if (place.tenant.empty())
		transaction.exec("SELECT pg_catalog.set_config('search_path', tenancy._shared_search_path(), true)");
	else
		transaction.exec_params("SELECT tenancy.enter($1)", place.tenant);
	const char *tenant = place.tenant.empty() ? nullptr : place.tenant.c_str();
	const char *body = place.scope == "tenant" ? migration.body.c_str() : nullptr;
	pqxx::result started = transaction.exec_params("SELECT tenancy.start_migration($1, $2, $3, $4, $5)",
												   place.scope, tenant, migration.version, migration.checksum,
												   body);
	if (!started[0][0].as<bool>())
		return false;
	transaction.exec(migration.body);
	transaction.exec_params("SELECT tenancy.finish_migration($1, $2, $3)", place.scope, tenant, migration.version);
	transaction.commit();
	return true;
}

} // namespace

// Returns a failure of a place with the server's words.
Failure failure_of(const Place &place, const std::string &version, const pqxx::failure &error)
{
	Problem problem = database_problem(error, 1);
	return {place, version, problem.sqlstate, problem.message};
}

// Reads both directories.
MigrationSet read_migrations(const std::string &dir)
{
	fs::path root(dir);
	if (!fs::is_directory(root / "shared") && !fs::is_directory(root / "tenant"))
		throw Refusal("no migrations in " + dir, "A migrations directory holds shared/*.sql, tenant/*.sql or both.",
					  "Name the directory that holds shared/ and tenant/.");
	return {read_directory(root / "shared"), read_directory(root / "tenant")};
}

// Returns how a place is named in reports.
std::string Place::name() const
{
	if (scope == "shared" || scope == "union views")
		return scope;
	return tenant.empty() ? "row-mode tenants (shared schemas)" : "tenant " + tenant;
}

// Returns the ledger key of a place.
std::string ledger_key(const Place &place)
{
	return place.scope + "/" + place.tenant;
}

// Reads the whole ledger.
Ledger read_ledger(pqxx::connection &connection)
{
	pqxx::read_transaction transaction(connection);
	Ledger ledger;
	for (const pqxx::row &row : transaction.exec("SELECT scope, coalesce(tenant, ''), version, checksum "
												 "FROM tenancy.migration_list()"))
		ledger[row[0].as<std::string>() + "/" + row[1].as<std::string>()][row[2].as<std::string>()] =
			row[3].as<std::string>();
	return ledger;
}

// Lists what is still to run in a place.
std::vector<const Migration *> pending_in(const Place &place, const std::vector<Migration> &migrations,
										  const Ledger &ledger, std::optional<Failure> &changed)
{
	std::vector<const Migration *> pending;
	auto applied = ledger.find(ledger_key(place));
	for (const Migration &migration : migrations) {
		if (applied != ledger.end()) {
			auto found = applied->second.find(migration.version);
			if (found != applied->second.end()) {
				if (found->second != migration.checksum) {
					changed = Failure{place, migration.version, "55000",
									  "migration " + migration.version + " was changed after it was applied (SHA-256 " +
										  found->second + ", now " + migration.checksum + ")"};
					return {};
				}
				continue;
			}
		}
		pending.push_back(&migration);
	}
	return pending;
}

// Applies a place's migrations until one fails.
PlaceOutcome apply_to_place(pqxx::connection &connection, const Place &place,
							const std::vector<const Migration *> &migrations, const std::string &lock_timeout)
{
	PlaceOutcome outcome;
	for (const Migration *migration : migrations) {
		try {
			if (apply_one(connection, place, *migration, lock_timeout))
				outcome.applied++;
		} catch (const pqxx::failure &error) {
			outcome.failure = failure_of(place, migration->version, error);
			break;
		}
	}
	return outcome;
}

} // namespace tenantctl
