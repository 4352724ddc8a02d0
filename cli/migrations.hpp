// The migrations of tenantctl migrate: files read from DIR/shared and
// DIR/tenant, and their application to one place on one connection, each
// file in a transaction that commits with its ledger row (tenancy.migrations).
#pragma once

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tenantctl {

// One migration file.
struct Migration {
	std::string version; // the file name
	std::string body;
	std::string checksum; // SHA-256 of the file, lowercase hex
};

// The migrations of a directory, each list ordered by file name.
struct MigrationSet {
	std::vector<Migration> shared, tenant;
};

// Reads DIR/shared/*.sql and DIR/tenant/*.sql; throws a Refusal when neither
// exists or a file cannot be read.
MigrationSet read_migrations(const std::string &dir);

// Where migrations run: the shared schemas (tenant empty) or the schema of a
// schema-mode tenant.
struct Place {
	std::string scope;  // "shared" or "tenant" ("union views" in failures)
	std::string tenant; // slug; empty for the shared schemas
	// Returns how a place is named in reports.
	std::string name() const;
};

// What the ledger says ran in each place: version -> checksum.
using Ledger = std::map<std::string, std::map<std::string, std::string>>;

// Returns the ledger key of a place.
std::string ledger_key(const Place &place);

// Reads the ledger (tenancy.migration_list()).
Ledger read_ledger(pqxx::connection &connection);

// A migration that failed in a place, with the server's words.
struct Failure {
	Place place;
	std::string version, sqlstate, message;
};

// Returns a failure of a place with the server's words.
Failure failure_of(const Place &place, const std::string &version, const pqxx::failure &error);

// The migrations of a list still to run in a place, in order; a failure
// when an applied one has changed since (nothing runs there then).
std::vector<const Migration *> pending_in(const Place &place, const std::vector<Migration> &migrations,
										  const Ledger &ledger, std::optional<Failure> &changed);

// What applying a place's migrations did.
struct PlaceOutcome {
	int applied = 0;
	std::optional<Failure> failure;
};

// Applies migrations to a place, in order, each in its own transaction with
// lock_timeout (empty: the server's), until one fails.
PlaceOutcome apply_to_place(pqxx::connection &connection, const Place &place,
							const std::vector<const Migration *> &migrations, const std::string &lock_timeout);

} // namespace tenantctl
