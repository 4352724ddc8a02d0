// tenantctl tenant import: a new tenant from an export directory, in one
// transaction. The server makes a temporary table per exported table
// (tenancy.import_stage()); each file streams into its table through COPY
// and is hashed on the way; a file that does not match its checksum in the
// manifest ends the import before anything is created. Then
// tenancy.import_tenant() creates the tenant and loads the rows. Killed at
// any point, the transaction rolls back and leaves nothing behind.
#include "bulk_connection.hpp"
#include "checksum.hpp"
#include "errors.hpp"
#include "portability.hpp"
#include "progress.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace tenantctl {

namespace fs = std::filesystem;

namespace {

// Returns a file of the export, refusing names that would leave its
// directory (a manifest is input like any other).
fs::path export_file(const fs::path &directory, const std::string &name)
{
	if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
		throw Refusal("the manifest names a file outside the export: \"" + name + "\"",
					  "The files of an export are plain names inside its directory.",
					  "Use a manifest.json written by tenantctl tenant export.");
	return directory / name;
}

// Refuses to import into a region whose server, as this database records it
// (tenancy.regions.server), is not the server this connection reached.
void require_region_server(BulkConnection &db, const std::string &manifest, const ImportArgs &args)
{
	// A move to another region is the server's to refuse (by name), and
	// --allow-cross-region allows both.
	TextResult region = db.exec("SELECT r.name::text, r.server FROM tenancy.regions r "
								"WHERE r.name = coalesce($2, $1::jsonb->'tenant'->>'region') "
								"AND r.name = coalesce($1::jsonb->'tenant'->>'region', 'default')",
								{manifest, args.region.empty() ? std::nullopt : std::optional<std::string>(args.region)});
	if (region.rows.empty() || !region.rows[0][1] || args.allow_cross_region)
		return;
	PQconninfoOption *options = PQconninfoParse(region.rows[0][1]->c_str(), nullptr);
	if (options == nullptr)
		return;
	std::string host, hostaddr, port, service;
	for (PQconninfoOption *option = options; option->keyword != nullptr; ++option) {
		if (option->val == nullptr)
			continue;
		std::string keyword = option->keyword;
		if (keyword == "host")
			host = option->val;
		else if (keyword == "hostaddr")
			hostaddr = option->val;
		else if (keyword == "port")
			port = option->val;
		else if (keyword == "service")
			service = option->val;
	}
	PQconninfoFree(options);
	if (host.empty())
		host = hostaddr;
	// A server named only through a service file cannot be compared: it is
	// not known to be this one.
	bool same_host = host.empty() ? service.empty() : host == db.host();
	bool same_port = port.empty() || port == db.port();
	if (same_host && same_port)
		return;
	throw Refusal("this server is not the server of region \"" + region.at(0, 0) + "\"",
				  "Region \"" + region.at(0, 0) + "\" lives on " + (host.empty() ? "(any host)" : host) + ":" +
					  (port.empty() ? "(any port)" : port) + " (tenancy.regions.server); this connection reached " +
					  db.host() + ":" + db.port() + ".",
				  "Import the tenant on its region's server, or pass --allow-cross-region if its data may move.");
}

// Copies one file into its staging table, hashing it; refuses a file whose
// checksum is not the manifest's (also when COPY fails on the way, since a
// changed file is the likelier cause then).
void copy_file(BulkConnection &db, const fs::path &path, const std::string &copy_sql, const std::string &expected,
			   ProgressBar &bar, long long &done, long long total)
{
	std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
	if (!file)
		throw Refusal("cannot read " + path.string(), "The manifest lists it as a file of the export.",
					  "Copy the whole export directory, then import again.");
	Sha256 digest;
	auto read = [&](char *buffer, size_t size) {
		size_t length = std::fread(buffer, 1, size, file.get());
		digest.add(buffer, length);
		done += static_cast<long long>(length);
		bar.update("import", done, total);
		return length;
	};
	auto refuse_if_changed = [&](const std::string &actual) {
		if (actual != expected)
			throw Refusal("file " + path.filename().string() + " does not match the manifest",
						  "Its SHA-256 is " + actual + "; the manifest says " +
							  (expected.empty() ? "nothing" : expected) + ".",
						  "The export is damaged or was changed; nothing was imported. Export the tenant again.");
	};
	try {
		db.copy_in(copy_sql, read);
	} catch (const pqxx::sql_error &) {
		char buffer[1 << 16];
		while (read(buffer, sizeof buffer) > 0) {
		}
		refuse_if_changed(digest.hex());
		throw;
	}
	refuse_if_changed(digest.hex());
}

} // namespace

// Creates a tenant from an export directory (see portability.hpp).
void import_tenant(Session &session, const Invocation &invocation, const ImportArgs &args)
{
	const fs::path directory(args.directory);
	const std::string manifest = read_small_file((directory / "manifest.json").string());
	auto optional = [](const std::string &text) {
		return text.empty() ? std::nullopt : std::optional<std::string>(text);
	};
	BulkConnection db(session.conninfo());
	db.exec("BEGIN");
	db.exec("SET LOCAL search_path = pg_catalog, pg_temp");
	if (db.exec("SELECT tenancy.is_platform_admin()").at(0, 0) != "t")
		db.exec("SELECT tenancy.import_tenant($1, $2::jsonb)", {args.slug, manifest}); // refuses, in its words
	require_region_server(db, manifest, args);
	TextResult stages = db.exec(
		"SELECT s.copy_sql, s.finish_sql, t->>'file', coalesce(t->>'sha256', ''), coalesce(t->>'bytes', '0') "
		"FROM tenancy.import_stage($1::jsonb) s "
		"JOIN pg_catalog.jsonb_array_elements($1::jsonb->'tables') WITH ORDINALITY a(t, n) ON a.n = s.position "
		"ORDER BY s.position",
		{manifest});
	long long total = 0, done = 0;
	for (size_t i = 0; i < stages.rows.size(); ++i)
		total += std::stoll(stages.at(i, 4));
	ProgressBar bar("bytes");
	for (size_t i = 0; i < stages.rows.size(); ++i) {
		if (!stages.rows[i][2])
			throw Refusal("the manifest lists a table without its file", "Each table of an export has a file.",
						  "Use a manifest.json written by tenantctl tenant export.");
		copy_file(db, export_file(directory, stages.at(i, 2)), stages.at(i, 0), stages.at(i, 3), bar, done, total);
		if (stages.rows[i][1])
			db.exec(*stages.rows[i][1]);
	}
	bar.update("import", done, done);
	bar.finish();
	std::string result = db.exec("SELECT tenancy.import_tenant($1, $2::jsonb, $3::tenancy.isolation, $4, $5::boolean)::text",
								 {args.slug, manifest, optional(args.isolation), optional(args.region),
								  std::string(args.allow_cross_region ? "true" : "false")})
							 .at(0, 0);
	db.exec("COMMIT");
	if (invocation.json()) {
		print_json(result);
		return;
	}
	pqxx::result left_out = session.run("SELECT d #>> '{}' FROM jsonb_array_elements($1::jsonb->'domains_left_out') d", result);
	for (const auto &row : left_out)
		print_warning(std::string("domain ") + row[0].c_str() + " belongs to another tenant and was not imported");
	pqxx::result rows = session.run(
		"SELECT r.key AS table, r.value::bigint AS rows FROM jsonb_each_text($1::jsonb->'rows') r ORDER BY r.key", result);
	print_result(invocation.output, rows);
	pqxx::result summary = session.run(
		"SELECT $1::jsonb->>'tenant', $1::jsonb->>'region', coalesce(sum(r.value::bigint), 0), count(*) "
		"FROM jsonb_each_text($1::jsonb->'rows') r",
		result);
	print_done("imported tenant " + std::string(summary[0][0].c_str()) + " into region " + summary[0][1].c_str() + ": " +
			   grouped(summary[0][2].as<long long>()) + " rows in " + summary[0][3].c_str() + " tables");
}

} // namespace tenantctl
