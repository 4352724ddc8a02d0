// What tenantctl prints.
#include "output.hpp"

#include <iostream>

namespace tenantctl {

namespace {

// Prints a grid in the chosen text format.
void print_grid(const Output &output, const Grid &grid, const CellColour &cell_colour)
{
	if (output.format == Format::csv)
		write_csv(std::cout, grid, output.headers);
	else
		write_table(std::cout, grid, output.headers, output.colour, cell_colour);
}

} // namespace

// Prints a result as a table or CSV.
void print_result(const Output &output, const pqxx::result &result, const CellColour &cell_colour)
{
	print_grid(output, grid_of(result), cell_colour);
}

// Prints the rows of a result vertically.
void print_fields(const Output &output, const pqxx::result &result)
{
	print_grid(output, fields_of(grid_of(result)), {});
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

// Prints a warning line on standard error, control characters escaped.
void print_warning(const std::string &message)
{
	std::cerr << "warning: " << without_controls(message) << '\n';
}

} // namespace tenantctl
