// How tenantctl reports what went wrong.
#include "report.hpp"
#include "colour.hpp"
#include "formats.hpp"
#include "json.hpp"

#include <iostream>
#include <unistd.h>
#include <vector>

namespace tenantctl {

namespace {

// The labels libpq puts before the parts of an error after its first line.
const char *const section_labels[] = {"DETAIL:", "HINT:", "CONTEXT:", "QUERY:", "LOCATION:", "STATEMENT:", "LINE "};

// Returns text without the blanks and line ends at its ends.
std::string trimmed(const std::string &text)
{
	size_t first = text.find_first_not_of(" \t\r\n");
	size_t last = text.find_last_not_of(" \t\r\n");
	return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

// Returns the label a line of libpq's error text starts with, or "" when it
// continues the previous part.
std::string label_of(const std::string &line)
{
	for (const char *label : section_labels)
		if (line.rfind(label, 0) == 0)
			return label;
	return "";
}

// Returns the server's error text without the CONTEXT part (which PL/pgSQL
// function raised it: for developers, not operators) and trailing newlines.
std::string without_context(const std::string &text)
{
	std::string kept = text;
	size_t context = kept.find("\nCONTEXT:");
	if (context != std::string::npos)
		kept.erase(context);
	while (!kept.empty() && kept.back() == '\n')
		kept.pop_back();
	return kept;
}

// Returns text with the control characters of each line escaped, its line
// ends kept.
std::string without_controls_by_line(const std::string &text)
{
	std::string shown;
	size_t start = 0;
	while (start <= text.size()) {
		size_t end = text.find('\n', start);
		shown += without_controls(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
		if (end == std::string::npos)
			break;
		shown += '\n';
		start = end + 1;
	}
	return shown;
}

} // namespace

// Returns the SQLSTATE of an error of the database, or "" when unknown.
std::string sqlstate_of(const pqxx::failure &error)
{
	const auto *sql = dynamic_cast<const pqxx::sql_error *>(&error);
	if (sql != nullptr && !sql->sqlstate().empty())
		return sql->sqlstate();
	if (dynamic_cast<const pqxx::insufficient_privilege *>(&error) != nullptr)
		return "42501";
	if (dynamic_cast<const pqxx::deadlock_detected *>(&error) != nullptr)
		return "40P01";
	if (dynamic_cast<const pqxx::serialization_failure *>(&error) != nullptr)
		return "40001";
	if (dynamic_cast<const pqxx::statement_completion_unknown *>(&error) != nullptr)
		return "40003";
	if (dynamic_cast<const pqxx::transaction_rollback *>(&error) != nullptr)
		return "40000";
	return "";
}

// Returns a database error as a problem.
Problem database_problem(const pqxx::failure &error, int exit_code)
{
	Problem problem;
	problem.sqlstate = sqlstate_of(error);
	problem.exit_code = exit_code;
	std::string text = error.what();
	std::string section = "message";
	size_t start = 0;
	while (start < text.size()) {
		size_t end = text.find('\n', start);
		std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
		start = end == std::string::npos ? text.size() : end + 1;
		std::string label = section == "message" && problem.message.empty() ? "" : label_of(line);
		if (!label.empty()) {
			section = label;
			line.erase(0, label.size());
		} else if (section == "message" && problem.message.empty()) {
			// The first line starts with the severity: "ERROR:  ".
			size_t colon = line.find(":  ");
			if (colon != std::string::npos)
				line.erase(0, colon + 3);
		}
		std::string *target = section == "message" ? &problem.message
							  : section == "DETAIL:" ? &problem.detail
							  : section == "HINT:"   ? &problem.hint
													 : nullptr;
		if (target != nullptr) {
			line = trimmed(line);
			if (!line.empty())
				*target += (target->empty() ? "" : "\n") + line;
		}
	}
	if (problem.message.empty())
		problem.message = trimmed(text);
	return problem;
}

// Returns a problem as its one-line JSON report.
std::string problem_json(const Problem &problem)
{
	std::string json = "{\"error\":{\"message\":" + json_string(problem.message);
	if (!problem.sqlstate.empty())
		json += ",\"sqlstate\":" + json_string(problem.sqlstate);
	if (!problem.detail.empty())
		json += ",\"detail\":" + json_string(problem.detail);
	if (!problem.hint.empty())
		json += ",\"hint\":" + json_string(problem.hint);
	return json + "},\"exit_code\":" + std::to_string(problem.exit_code) + "}";
}

// Reports a database error in the server's words, or as JSON.
void report_database_error(const pqxx::failure &error, int exit_code, bool json)
{
	if (json) {
		std::cerr << problem_json(database_problem(error, exit_code)) << "\n";
		return;
	}
	std::string text = without_controls_by_line(without_context(error.what()));
	size_t colon = text.find(':');
	bool severity = colon != std::string::npos && colon < text.find('\n') && colon > 0 &&
					text.find_first_of(" \t") > colon;
	if (severity && colour_wanted(STDERR_FILENO))
		text = paint(text.substr(0, colon + 1), Colour::red) + text.substr(colon + 1);
	std::cerr << text << "\n";
}

// Reports a problem of tenantctl's own, or as JSON.
void report_problem(const Problem &problem, bool json)
{
	if (json) {
		std::cerr << problem_json(problem) << "\n";
		return;
	}
	std::cerr << "tenantctl: " << without_controls_by_line(problem.message) << "\n";
	if (!problem.detail.empty())
		std::cerr << without_controls_by_line(problem.detail) << "\n";
	if (!problem.hint.empty())
		std::cerr << without_controls_by_line(problem.hint) << "\n";
}

} // namespace tenantctl
