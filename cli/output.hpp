// What tenantctl prints: results as an aligned table for people, CSV, or the
// server's JSON for programs; one-line confirmations.
#pragma once

#include "formats.hpp"

#include <pqxx/pqxx>

#include <string>

namespace tenantctl {

// The output formats of --output (--json is --output json).
enum class Format { table, json, csv };

// How results are printed, chosen once from the global options.
struct Output {
	Format format = Format::table;
	bool headers = true; // --no-headers clears it
	bool colour = false; // standard output is a terminal that takes colour
};

// Prints a result as a table or CSV (the caller prints JSON built by the
// server instead); cell_colour may colour cells on a terminal.
void print_result(const Output &output, const pqxx::result &result, const CellColour &cell_colour = {});

// Prints the rows of a result vertically, one "field value" line per column,
// as a table or CSV (like psql's expanded display).
void print_fields(const Output &output, const pqxx::result &result);

// Prints JSON text built by the server, followed by a newline.
void print_json(const std::string &json);

// Prints a confirmation line for people.
void print_done(const std::string &message);

// Prints a warning line for people on standard error (control characters
// escaped).
void print_warning(const std::string &message);

} // namespace tenantctl
