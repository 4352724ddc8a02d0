// What tenantctl prints.
#include "output.hpp"

#include <algorithm>
#include <iostream>
#include <vector>

namespace tenantctl {

namespace {

// Returns the text of a field as printed in tables.
std::string cell(const pqxx::field &field)
{
	return field.is_null() ? std::string() : std::string(field.c_str());
}

// Returns the display width of UTF-8 text (code points, not bytes).
size_t width(const std::string &text)
{
	return std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

// Prints text padded to a width.
void print_padded(const std::string &text, size_t columns)
{
	std::cout << text << std::string(columns > width(text) ? columns - width(text) : 0, ' ');
}

} // namespace

// Prints a result as an aligned table.
void print_table(const pqxx::result &result)
{
	if (result.empty()) {
		std::cout << "(none)\n";
		return;
	}
	const auto columns = static_cast<size_t>(result.columns());
	std::vector<size_t> widths(columns);
	for (size_t c = 0; c < columns; c++)
		widths[c] = width(result.column_name(static_cast<pqxx::row::size_type>(c)));
	for (const auto &row : result)
		for (size_t c = 0; c < columns; c++)
			widths[c] = std::max(widths[c], width(cell(row[static_cast<pqxx::row::size_type>(c)])));
	for (size_t c = 0; c < columns; c++) {
		print_padded(result.column_name(static_cast<pqxx::row::size_type>(c)), c + 1 < columns ? widths[c] + 2 : 0);
	}
	std::cout << '\n';
	for (size_t c = 0; c < columns; c++)
		std::cout << std::string(widths[c], '-') << (c + 1 < columns ? "  " : "");
	std::cout << '\n';
	for (const auto &row : result) {
		for (size_t c = 0; c < columns; c++)
			print_padded(cell(row[static_cast<pqxx::row::size_type>(c)]), c + 1 < columns ? widths[c] + 2 : 0);
		std::cout << '\n';
	}
}

// Prints JSON text built by the server.
void print_json(const std::string &json)
{
	std::cout << json << '\n';
}

// Prints a confirmation line.
void print_done(const std::string &message)
{
	std::cout << message << '\n';
}

} // namespace tenantctl
