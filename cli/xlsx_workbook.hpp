// An xlsx workbook written with libxlsxwriter in constant memory: one sheet
// per table, a header row, then the rows as they arrive. Numbers that a
// spreadsheet holds exactly become numbers, booleans booleans, everything
// else text; a value a cell cannot hold is an error, never cut.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tenantctl {

// One xlsx file being written.
class XlsxWorkbook {
public:
	// Creates the file (its temporary parts go to tmpdir).
	XlsxWorkbook(const std::string &path, const std::string &tmpdir);
	~XlsxWorkbook();
	XlsxWorkbook(const XlsxWorkbook &) = delete;
	XlsxWorkbook &operator=(const XlsxWorkbook &) = delete;

	// Starts a sheet for a table, named after it, with a header row; returns
	// the sheet's name. A table of more rows than a sheet holds goes on
	// over further sheets ("name (2)").
	std::string start_table(const std::string &table, const std::vector<std::string> &columns);

	// Adds a row of the current table: values as text (nullopt: empty cell),
	// with their PostgreSQL type oids.
	void add_row(const std::vector<std::optional<std::string>> &values, const std::vector<unsigned> &types);

	// Writes the file out; throws when libxlsxwriter cannot.
	void close();

private:
	struct State;
	std::unique_ptr<State> state_;
};

} // namespace tenantctl
