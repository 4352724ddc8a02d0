// What tenantctl prints: aligned tables for people, the server's JSON for
// programs, one-line confirmations.
#pragma once

#include <pqxx/pqxx>

#include <string>

namespace tenantctl {

// Prints a result as an aligned table with a header (or "(none)").
void print_table(const pqxx::result &result);

// Prints JSON text built by the server, followed by a newline.
void print_json(const std::string &json);

// Prints a confirmation line for people.
void print_done(const std::string &message);

} // namespace tenantctl
