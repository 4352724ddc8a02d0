// How tenantctl reports what went wrong on standard error: in words for
// people, or as one line of JSON with --json/--output json:
//   {"error":{"message":...,"sqlstate":...,"detail":...,"hint":...},"exit_code":1}
// (sqlstate, detail and hint only when there are some).
#pragma once

#include <pqxx/pqxx>

#include <string>

namespace tenantctl {

// What went wrong, and the exit code it ends with.
struct Problem {
	std::string message, sqlstate, detail, hint;
	int exit_code = 1;
};

// Returns the SQLSTATE of an error of the database, or "" when unknown.
// libpqxx 6.4 throws some errors without it (insufficient_privilege, and the
// transaction_rollback family, which is not even an sql_error there): their
// class tells it.
std::string sqlstate_of(const pqxx::failure &error);

// Returns a database error as a problem: the server's message, detail and
// hint (read from the "DETAIL:" and "HINT:" lines) and its SQLSTATE.
Problem database_problem(const pqxx::failure &error, int exit_code);

// Returns a problem as its one-line JSON report.
std::string problem_json(const Problem &problem);

// Reports a database error: the server's own words without the CONTEXT
// lines (severity in red on a terminal), or JSON.
void report_database_error(const pqxx::failure &error, int exit_code, bool json);

// Reports a problem of tenantctl's own: "tenantctl: message", then the
// detail and hint lines as given, or JSON.
void report_problem(const Problem &problem, bool json);

} // namespace tenantctl
