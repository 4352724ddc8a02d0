// The text formats of results: aligned tables and CSV.
#include "formats.hpp"

#include <algorithm>
#include <cctype>

namespace tenantctl {

namespace {

// The type OIDs of timestamp and timestamptz (pg_type.dat).
constexpr pqxx::oid timestamp_oid = 1114;
constexpr pqxx::oid timestamptz_oid = 1184;

// Returns a timestamp's text without fractional seconds, whatever the
// DateStyle: the fraction is the dot and digits after "hh:mm:ss".
std::string to_the_second(std::string text)
{
	for (size_t dot = text.find('.'); dot != std::string::npos; dot = text.find('.', dot + 1)) {
		if (dot < 8 || text[dot - 3] != ':' || !std::isdigit(static_cast<unsigned char>(text[dot - 1])))
			continue;
		size_t end = dot + 1;
		while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
			end++;
		text.erase(dot, end - dot);
		break;
	}
	return text;
}

// Returns the display width of UTF-8 text (code points, not bytes).
size_t width(const std::string &text)
{
	return std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

// Writes text (painted) padded with spaces to a width.
void write_padded(std::ostream &out, const std::string &text, Colour colour, size_t columns)
{
	out << paint(text, colour) << std::string(columns > width(text) ? columns - width(text) : 0, ' ');
}

// Returns "\xHH" for one byte or code point.
std::string hex_escape(unsigned value)
{
	static const char digits[] = "0123456789ABCDEF";
	return std::string("\\x") + digits[(value >> 4) & 0xF] + digits[value & 0xF];
}

} // namespace

// Returns text with its control characters escaped.
std::string without_controls(const std::string &text)
{
	std::string shown;
	for (size_t i = 0; i < text.size(); i++) {
		auto byte = static_cast<unsigned char>(text[i]);
		auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0u;
		if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
			shown += hex_escape(byte);
		} else if (byte == 0xC2 && next >= 0x80 && next <= 0x9F) { // C1, as UTF-8
			shown += hex_escape(next);
			i++;
		} else {
			shown += text[i];
		}
	}
	return shown;
}

// Returns the text of a field as tenantctl shows it.
std::string cell_text(const pqxx::field &field, pqxx::oid type)
{
	std::string text = field.c_str();
	if (type == timestamp_oid || type == timestamptz_oid)
		return to_the_second(text);
	return text;
}

// Returns a result as a grid of display texts.
Grid grid_of(const pqxx::result &result)
{
	Grid grid;
	const auto columns = result.columns();
	std::vector<pqxx::oid> types;
	for (pqxx::row::size_type c = 0; c < columns; c++) {
		grid.columns.push_back(result.column_name(c));
		types.push_back(result.column_type(c));
	}
	for (const auto &row : result) {
		std::vector<std::optional<std::string>> cells;
		for (pqxx::row::size_type c = 0; c < columns; c++) {
			const pqxx::field field = row[c];
			cells.push_back(field.is_null() ? std::nullopt : std::optional<std::string>(cell_text(field, types[c])));
		}
		grid.rows.push_back(std::move(cells));
	}
	return grid;
}

// Returns the rows of a grid turned into "field, value" pairs.
Grid fields_of(const Grid &grid)
{
	Grid fields{{"field", "value"}, {}};
	for (const auto &row : grid.rows)
		for (size_t c = 0; c < grid.columns.size(); c++)
			fields.rows.push_back({grid.columns[c], row[c]});
	return fields;
}

// Writes a grid as an aligned table, control characters escaped.
void write_table(std::ostream &out, const Grid &raw, bool headers, bool colour, const CellColour &cell_colour)
{
	if (raw.rows.empty()) {
		if (headers)
			out << "(none)\n";
		return;
	}
	Grid grid = raw;
	for (auto &column : grid.columns)
		column = without_controls(column);
	for (auto &row : grid.rows)
		for (auto &cell : row)
			if (cell)
				cell = without_controls(*cell);
	const size_t columns = grid.columns.size();
	std::vector<size_t> widths(columns);
	for (size_t c = 0; c < columns; c++)
		widths[c] = headers ? width(grid.columns[c]) : 0;
	for (const auto &row : grid.rows)
		for (size_t c = 0; c < columns; c++)
			widths[c] = std::max(widths[c], width(row[c].value_or("")));
	// The last column is not padded, so that lines carry no trailing spaces.
	auto pad = [&](size_t c) { return c + 1 < columns ? widths[c] + 2 : 0; };
	if (headers) {
		for (size_t c = 0; c < columns; c++)
			write_padded(out, grid.columns[c], colour ? Colour::bold : Colour::none, pad(c));
		out << '\n';
		for (size_t c = 0; c < columns; c++)
			out << std::string(widths[c], '-') << (c + 1 < columns ? "  " : "");
		out << '\n';
	}
	for (const auto &row : grid.rows) {
		for (size_t c = 0; c < columns; c++) {
			const std::string text = row[c].value_or("");
			Colour paint_as = colour && cell_colour ? cell_colour(grid.columns[c], text) : Colour::none;
			write_padded(out, text, paint_as, pad(c));
		}
		out << '\n';
	}
}

// Returns one CSV field, quoted when it holds a comma, a quote, CR or LF
// (quotes doubled), and "" for the empty string so that it differs from NULL.
std::string csv_field(const std::optional<std::string> &value)
{
	if (!value)
		return "";
	if (!value->empty() && value->find_first_of(",\"\r\n") == std::string::npos)
		return *value;
	std::string quoted = "\"";
	for (char c : *value)
		quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
	return quoted + "\"";
}

// Writes a grid as CSV.
void write_csv(std::ostream &out, const Grid &grid, bool headers)
{
	auto write_line = [&out](const std::vector<std::optional<std::string>> &fields) {
		for (size_t c = 0; c < fields.size(); c++)
			out << (c > 0 ? "," : "") << csv_field(fields[c]);
		out << '\n';
	};
	if (headers)
		write_line(std::vector<std::optional<std::string>>(grid.columns.begin(), grid.columns.end()));
	for (const auto &row : grid.rows)
		write_line(row);
}

} // namespace tenantctl
