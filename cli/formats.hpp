// The text formats of results: an aligned table for people and CSV (RFC
// 4180) for programs. JSON is not here: the server builds it.
#pragma once

#include "colour.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tenantctl {

// A result as text: column names, and rows of cells (nullopt for NULL).
struct Grid {
	std::vector<std::string> columns;
	std::vector<std::vector<std::optional<std::string>>> rows;
};

// Chooses the colour of a cell from its column name and text.
using CellColour = std::function<Colour(const std::string &column, const std::string &text)>;

// Returns the text of a field as tenantctl shows it: timestamps (by column
// type) to the second, everything else as the server sent it.
std::string cell_text(const pqxx::field &field, pqxx::oid type);

// Returns a result as a grid of display texts.
Grid grid_of(const pqxx::result &result);

// Returns the rows of a grid turned into "field, value" pairs, one per column.
Grid fields_of(const Grid &grid);

// Writes a grid as an aligned table; without headers, the header and the
// dashes line are left out; with colour, headers are bold.
void write_table(std::ostream &out, const Grid &grid, bool headers, bool colour, const CellColour &cell_colour);

// Writes a grid as CSV: a header line unless told not to, NULL as an empty
// field, the empty string as "".
void write_csv(std::ostream &out, const Grid &grid, bool headers);

// Returns text with its control characters (C0 but for tab, DEL and C1) as
// \xHH, as psql shows them, so that text from the database (a tenant's name,
// a table's name) cannot send escape sequences to the operator's terminal.
std::string without_controls(const std::string &text);

// Returns one CSV field, quoted when it must be.
std::string csv_field(const std::optional<std::string> &value);

} // namespace tenantctl
