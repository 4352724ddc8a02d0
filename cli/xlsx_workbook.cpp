// xlsx through libxlsxwriter (see xlsx_workbook.hpp).
#include "xlsx_workbook.hpp"

#include <xlsxwriter.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

namespace tenantctl {

namespace {

// PostgreSQL's type oids that a cell may hold as a number or a boolean.
constexpr unsigned bool_oid = 16, int8_oid = 20, int2_oid = 21, int4_oid = 23, oid_oid = 26, float4_oid = 700,
				   float8_oid = 701, numeric_oid = 1700;

// Returns the text as a number when a spreadsheet holds it exactly (at most
// 15 significant digits, finite), or nullopt.
std::optional<double> exact_number(const std::string &text)
{
	size_t digits = 0;
	bool significant = false;
	for (char c : text) {
		if (c == 'e' || c == 'E')
			break;
		if (c >= '1' && c <= '9')
			significant = true;
		if (c >= '0' && c <= '9' && significant)
			++digits;
	}
	if (digits > 15)
		return std::nullopt;
	char *end = nullptr;
	double value = std::strtod(text.c_str(), &end);
	if (end == text.c_str() || *end != '\0' || !std::isfinite(value))
		return std::nullopt;
	return value;
}

// Returns a sheet name for a table: at most 31 characters, none of []:*?/\,
// different from every name already taken (case aside).
std::string sheet_name(const std::string &table, std::set<std::string> &taken)
{
	std::string base;
	for (char c : table)
		base += std::string("[]:*?/\\").find(c) == std::string::npos ? c : '_';
	for (int n = 1;; ++n) {
		std::string suffix = n == 1 ? "" : " (" + std::to_string(n) + ")";
		std::string name = base.substr(0, LXW_SHEETNAME_MAX - suffix.size()) + suffix;
		std::string folded;
		for (char c : name)
			folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		if (taken.insert(folded).second)
			return name;
	}
}

} // namespace

// The workbook, its current sheet and where the next row goes.
struct XlsxWorkbook::State {
	lxw_workbook *workbook = nullptr;
	lxw_worksheet *sheet = nullptr;
	std::set<std::string> taken;
	std::string table;
	std::vector<std::string> columns;
	lxw_row_t next_row = 0;
	std::string tmpdir;
};

// Creates the file.
XlsxWorkbook::XlsxWorkbook(const std::string &path, const std::string &tmpdir) : state_(std::make_unique<State>())
{
	state_->tmpdir = tmpdir;
	lxw_workbook_options options = {};
	options.constant_memory = LXW_TRUE;
	options.tmpdir = state_->tmpdir.data();
	options.use_zip64 = LXW_TRUE;
	state_->workbook = workbook_new_opt(path.c_str(), &options);
	if (state_->workbook == nullptr)
		throw std::runtime_error("cannot create " + path);
}

// Frees the workbook when it was not closed (an error on the way).
XlsxWorkbook::~XlsxWorkbook()
{
	if (state_->workbook != nullptr)
		lxw_workbook_free(state_->workbook);
}

// Starts a sheet with a header row.
std::string XlsxWorkbook::start_table(const std::string &table, const std::vector<std::string> &columns)
{
	std::string name = sheet_name(table, state_->taken);
	state_->sheet = workbook_add_worksheet(state_->workbook, name.c_str());
	if (state_->sheet == nullptr)
		throw std::runtime_error("cannot add sheet " + name + " to the workbook");
	state_->table = table;
	state_->columns = columns;
	for (size_t c = 0; c < columns.size(); ++c)
		worksheet_write_string(state_->sheet, 0, static_cast<lxw_col_t>(c), columns[c].c_str(), nullptr);
	worksheet_freeze_panes(state_->sheet, 1, 0);
	state_->next_row = 1;
	return name;
}

// Adds a row, going on to a further sheet when this one is full.
void XlsxWorkbook::add_row(const std::vector<std::optional<std::string>> &values, const std::vector<unsigned> &types)
{
	if (state_->next_row >= LXW_ROW_MAX)
		start_table(state_->table, state_->columns);
	lxw_row_t row = state_->next_row++;
	for (size_t c = 0; c < values.size(); ++c) {
		if (!values[c])
			continue;
		const std::string &text = *values[c];
		lxw_col_t column = static_cast<lxw_col_t>(c);
		unsigned type = c < types.size() ? types[c] : 0;
		std::optional<double> number;
		if (type == int2_oid || type == int4_oid || type == int8_oid || type == oid_oid || type == float4_oid ||
			type == float8_oid || type == numeric_oid)
			number = exact_number(text);
		lxw_error status;
		if (type == bool_oid)
			status = worksheet_write_boolean(state_->sheet, row, column, text == "t", nullptr);
		else if (number)
			status = worksheet_write_number(state_->sheet, row, column, *number, nullptr);
		else
			status = worksheet_write_string(state_->sheet, row, column, text.c_str(), nullptr);
		if (status == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
			throw std::runtime_error("a value of column " + state_->columns.at(c) + " of " + state_->table + " has " +
									 std::to_string(text.size()) +
									 " bytes, more than an xlsx cell holds (32,767 characters): export with "
									 "--format csv or --format json instead");
		if (status != LXW_NO_ERROR)
			throw std::runtime_error(std::string("cannot write a cell of the workbook: ") + lxw_strerror(status));
	}
}

// Writes the file out.
void XlsxWorkbook::close()
{
	lxw_error status = workbook_close(state_->workbook);
	state_->workbook = nullptr;
	if (status != LXW_NO_ERROR)
		throw std::runtime_error(std::string("cannot write the workbook: ") + lxw_strerror(status));
}

} // namespace tenantctl
