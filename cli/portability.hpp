// tenantctl tenant export|import|clone: a tenant out of the database into
// files, from files into a new tenant, or copied inside the database.
#pragma once

#include "commands.hpp"

#include <string>

namespace tenantctl {

// The arguments of tenant export.
struct ExportArgs {
	std::string tenant, out, format = "csv";
};

// The arguments of tenant import.
struct ImportArgs {
	std::string directory, slug, isolation, region;
	bool allow_cross_region = false;
};

// Writes a tenant's rows and description into a new directory: one file per
// protected table (CSV or JSON lines) or one xlsx workbook, and
// manifest.json with row counts and SHA-256 checksums. Reads everything in
// one REPEATABLE READ transaction, streaming; writes DIR.partial and renames
// it when complete.
void export_tenant(Session &session, const Invocation &invocation, const ExportArgs &args);

// Creates a tenant from an export directory in one transaction: checks
// every file against the manifest while copying it in, then creates the
// tenant and loads the rows (tenancy.import_tenant()).
void import_tenant(Session &session, const Invocation &invocation, const ImportArgs &args);

// Reads a whole small file (a manifest) into a string; throws Refusal when
// it cannot.
std::string read_small_file(const std::string &path);

// Prints the tables of a manifest (table, file, rows, bytes) in the
// invocation's output format; summary is the JSON printed with --json.
void print_manifest_tables(Session &session, const Invocation &invocation, const std::string &manifest,
						   const std::string &summary_json);

} // namespace tenantctl
