// libpq for bulk COPY (see bulk_connection.hpp).
#include "bulk_connection.hpp"

#include <pqxx/pqxx>

#include <cstdlib>
#include <memory>

namespace tenantctl {

namespace {

// Owns a PGresult.
using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Wraps a PGresult so that it is cleared on every way out.
ResultPtr own(PGresult *result)
{
	return ResultPtr(result, &PQclear);
}

} // namespace

// Returns a value that must not be NULL.
const std::string &TextResult::at(size_t row, size_t column) const
{
	const std::optional<std::string> &value = rows.at(row).at(column);
	if (!value)
		throw pqxx::unexpected_rows("unexpected NULL in a result");
	return *value;
}

// Connects; throws pqxx::broken_connection when it cannot.
BulkConnection::BulkConnection(const std::string &conninfo)
{
	connection_ = PQconnectdb(conninfo.c_str());
	if (PQstatus(connection_) != CONNECTION_OK) {
		std::string message = PQerrorMessage(connection_);
		PQfinish(connection_);
		connection_ = nullptr;
		throw pqxx::broken_connection(message);
	}
}

// Closes the connection; the server rolls back what was not committed.
BulkConnection::~BulkConnection()
{
	if (connection_ != nullptr)
		PQfinish(connection_);
}

// Throws the error of a failed result: an sql_error with the server's full
// message (severity, detail, hint) and SQLSTATE, as libpqxx would.
void BulkConnection::raise(PGresult *result, const std::string &sql)
{
	ResultPtr owned = own(result);
	std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection_);
	const char *state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
	if (PQstatus(connection_) != CONNECTION_OK)
		throw pqxx::broken_connection(message);
	throw pqxx::sql_error(message, sql, state);
}

// Runs one statement with text parameters (nullopt: NULL).
TextResult BulkConnection::exec(const std::string &sql, const std::vector<std::optional<std::string>> &params)
{
	std::vector<const char *> values;
	for (const auto &param : params)
		values.push_back(param ? param->c_str() : nullptr);
	PGresult *raw = PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
								 nullptr, nullptr, 0);
	ExecStatusType status = PQresultStatus(raw);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
		raise(raw, sql);
	ResultPtr result = own(raw);
	TextResult text;
	int columns = PQnfields(raw);
	for (int c = 0; c < columns; ++c) {
		text.names.emplace_back(PQfname(raw, c));
		text.types.push_back(PQftype(raw, c));
	}
	for (int r = 0; r < PQntuples(raw); ++r) {
		std::vector<std::optional<std::string>> row;
		for (int c = 0; c < columns; ++c) {
			if (PQgetisnull(raw, r, c))
				row.emplace_back(std::nullopt);
			else
				row.emplace_back(std::string(PQgetvalue(raw, r, c), PQgetlength(raw, r, c)));
		}
		text.rows.push_back(std::move(row));
	}
	return text;
}

// Runs COPY ... TO STDOUT and calls on_row with each row's bytes.
long long BulkConnection::copy_out(const std::string &sql, const std::function<void(const char *, size_t)> &on_row)
{
	PGresult *started = PQexec(connection_, sql.c_str());
	if (PQresultStatus(started) != PGRES_COPY_OUT)
		raise(started, sql);
	PQclear(started);
	long long rows = 0;
	for (;;) {
		char *buffer = nullptr;
		int length = PQgetCopyData(connection_, &buffer, 0);
		if (length == -1)
			break;
		if (length < 0)
			raise(nullptr, sql);
		std::unique_ptr<char, decltype(&PQfreemem)> owned(buffer, &PQfreemem);
		on_row(buffer, static_cast<size_t>(length));
		++rows;
	}
	PGresult *finished = PQgetResult(connection_);
	if (PQresultStatus(finished) != PGRES_COMMAND_OK)
		raise(finished, sql);
	PQclear(finished);
	while (PGresult *extra = PQgetResult(connection_))
		PQclear(extra);
	return rows;
}

// Runs COPY ... FROM STDIN with the bytes read returns. An exception thrown
// by read (a checksum that does not match, a file that cannot be read) ends
// the COPY with an error on the server before it leaves.
long long BulkConnection::copy_in(const std::string &sql, const std::function<size_t(char *, size_t)> &read)
{
	PGresult *started = PQexec(connection_, sql.c_str());
	if (PQresultStatus(started) != PGRES_COPY_IN)
		raise(started, sql);
	PQclear(started);
	std::vector<char> buffer(1 << 16);
	try {
		for (;;) {
			size_t length = read(buffer.data(), buffer.size());
			if (length == 0)
				break;
			if (PQputCopyData(connection_, buffer.data(), static_cast<int>(length)) != 1)
				raise(nullptr, sql);
		}
	} catch (...) {
		PQputCopyEnd(connection_, "tenantctl stopped the copy");
		while (PGresult *result = PQgetResult(connection_))
			PQclear(result);
		throw;
	}
	if (PQputCopyEnd(connection_, nullptr) != 1)
		raise(nullptr, sql);
	PGresult *finished = PQgetResult(connection_);
	if (PQresultStatus(finished) != PGRES_COMMAND_OK)
		raise(finished, sql);
	long long rows = std::atoll(PQcmdTuples(finished));
	PQclear(finished);
	while (PGresult *extra = PQgetResult(connection_))
		PQclear(extra);
	return rows;
}

// The server's host (or socket directory), as libpq connected.
std::string BulkConnection::host() const
{
	const char *host = PQhost(connection_);
	return host != nullptr ? host : "";
}

// The server's port, as libpq connected.
std::string BulkConnection::port() const
{
	const char *port = PQport(connection_);
	return port != nullptr ? port : "";
}

} // namespace tenantctl
