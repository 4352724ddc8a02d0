// A libpq connection for the commands that move a tenant's rows in bulk
// (tenant export and import). libpqxx 6.4 runs COPY only on a table, with
// neither a query nor options (CSV, HEADER MATCH), so these commands use
// libpq's own COPY functions; its errors become the pqxx exceptions every
// other command reports, with the server's message, detail and hint.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tenantctl {

// The rows of a statement, as text (NULL is nullopt), with column types.
struct TextResult {
	std::vector<std::string> names;
	std::vector<Oid> types;
	std::vector<std::vector<std::optional<std::string>>> rows;

	// Returns a value that must not be NULL.
	const std::string &at(size_t row, size_t column) const;
};

// One connection, made at construction from -d/--dbname or libpq's PG*
// variables; closing it rolls back a transaction left open.
class BulkConnection {
public:
	// Connects; throws pqxx::broken_connection when it cannot.
	explicit BulkConnection(const std::string &conninfo);
	~BulkConnection();
	BulkConnection(const BulkConnection &) = delete;
	BulkConnection &operator=(const BulkConnection &) = delete;

	// Runs one statement with text parameters (nullopt: NULL).
	TextResult exec(const std::string &sql, const std::vector<std::optional<std::string>> &params = {});

	// Runs COPY ... TO STDOUT and calls on_row with each row's bytes;
	// returns the rows.
	long long copy_out(const std::string &sql, const std::function<void(const char *, size_t)> &on_row);

	// Runs COPY ... FROM STDIN with the bytes read returns (until it returns
	// 0); returns the rows the server took.
	long long copy_in(const std::string &sql, const std::function<size_t(char *, size_t)> &read);

	// The server's host (or socket directory) and port, as libpq connected.
	std::string host() const;
	std::string port() const;

private:
	// Throws the error of a failed result (consumed).
	[[noreturn]] void raise(PGresult *result, const std::string &sql);

	PGconn *connection_ = nullptr;
};

} // namespace tenantctl
