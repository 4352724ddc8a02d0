// tenantctl tenant export: a tenant's rows and description into a new
// directory. One REPEATABLE READ, READ ONLY transaction reads everything, so
// the files agree with each other; each table's rows stream from COPY (or a
// cursor, for xlsx) into its file, hashed on the way, so memory stays
// constant whatever the tenant's size. The directory is written as
// DIR.partial and renamed when complete: a killed export leaves no DIR, and
// the next run starts afresh.
#include "bulk_connection.hpp"
#include "checksum.hpp"
#include "errors.hpp"
#include "json.hpp"
#include "portability.hpp"
#include "progress.hpp"
#include "xlsx_workbook.hpp"

#include <cstdio>
#include <filesystem>
#include <regex>
#include <unistd.h>

namespace tenantctl {

namespace fs = std::filesystem;

namespace {

// A file being written, flushed to disk before it counts as written.
class OutputFile {
public:
	// Creates the file.
	explicit OutputFile(const fs::path &path) : path_(path), file_(std::fopen(path.c_str(), "wb"))
	{
		if (file_ == nullptr)
			throw Refusal("cannot write " + path.string(), "The export's directory must be writable.",
						  "Choose a directory you can write to.");
		std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
	}
	~OutputFile()
	{
		if (file_ != nullptr)
			std::fclose(file_);
	}
	OutputFile(const OutputFile &) = delete;
	OutputFile &operator=(const OutputFile &) = delete;

	// Appends bytes, adding them to the checksum.
	void write(const char *data, size_t length)
	{
		if (std::fwrite(data, 1, length, file_) != length)
			throw Refusal("cannot write " + path_.string(), "The disk may be full.", "Free some space and export again.");
		digest_.add(data, length);
		bytes_ += static_cast<long long>(length);
	}

	// Flushes the file to disk and closes it.
	void close()
	{
		if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0 || std::fclose(file_) != 0) {
			file_ = nullptr;
			throw Refusal("cannot write " + path_.string(), "The disk may be full.", "Free some space and export again.");
		}
		file_ = nullptr;
	}

	long long bytes() const { return bytes_; }
	std::string sha256() { return digest_.hex(); }

private:
	fs::path path_;
	std::FILE *file_;
	Sha256 digest_;
	long long bytes_ = 0;
};

// What was written for one table.
struct TableOutput {
	std::string file, sheet, sha256;
	long long rows = 0, bytes = 0;
};

// Returns the planner's estimate of a query's rows, for the progress bar.
long long estimated_rows(BulkConnection &db, const std::string &query)
{
	TextResult plan = db.exec("EXPLAIN (FORMAT JSON) " + query);
	std::smatch match;
	const std::string &text = plan.at(0, 0);
	static const std::regex plan_rows("\"Plan Rows\": ([0-9]+)");
	return std::regex_search(text, match, plan_rows) ? std::stoll(match[1]) : 0;
}

// Returns a file name for the n-th table: its position, then its name with
// anything but letters, digits, "_", "." and "-" replaced.
std::string file_name(long n, const std::string &table, const std::string &extension)
{
	char position[16];
	std::snprintf(position, sizeof position, "%03ld-", n);
	std::string name = position;
	for (char c : table)
		name += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ? c : '_';
	return name + "." + extension;
}

// Streams one table into a CSV or JSON-lines file.
TableOutput export_to_file(BulkConnection &db, const fs::path &directory, long n, const std::string &table,
						   const std::string &query, const std::string &format, ProgressBar &bar, long long &done,
						   long long total)
{
	TableOutput output;
	output.file = file_name(n, table, format == "json" ? "jsonl" : "csv");
	OutputFile file(directory / output.file);
	std::string copy = format == "json"
						   // One JSON object per line; CSV with a quote and a delimiter that JSON text
						   // never holds unescaped leaves it as it is.
						   ? "COPY (SELECT pg_catalog.row_to_json(r)::text FROM (" + query +
								 ") r) TO STDOUT (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
						   : "COPY (" + query + ") TO STDOUT (FORMAT csv, HEADER)";
	long long messages = db.copy_out(copy, [&](const char *data, size_t length) {
		file.write(data, length);
		bar.update("export", ++done, total);
	});
	output.rows = format == "json" ? messages : messages - 1;
	if (format != "json")
		--done;
	file.close();
	output.bytes = file.bytes();
	output.sha256 = file.sha256();
	return output;
}

// Streams one table into a sheet of the workbook, through a cursor.
TableOutput export_to_sheet(BulkConnection &db, XlsxWorkbook &workbook, const std::string &table,
							const std::string &query, ProgressBar &bar, long long &done, long long total)
{
	TableOutput output;
	output.file = "tenant.xlsx";
	db.exec("DECLARE tenantctl_export NO SCROLL CURSOR FOR " + query);
	bool started = false;
	for (;;) {
		TextResult batch = db.exec("FETCH FORWARD 1000 FROM tenantctl_export");
		if (!started) {
			output.sheet = workbook.start_table(table, batch.names);
			started = true;
		}
		if (batch.rows.empty())
			break;
		std::vector<unsigned> types(batch.types.begin(), batch.types.end());
		for (const auto &row : batch.rows) {
			workbook.add_row(row, types);
			++output.rows;
			bar.update("export", ++done, total);
		}
	}
	db.exec("CLOSE tenantctl_export");
	return output;
}

// Returns the size and SHA-256 of a file written whole (the workbook).
TableOutput hashed_file(const fs::path &path)
{
	TableOutput whole;
	whole.file = path.filename().string();
	std::FILE *file = std::fopen(path.c_str(), "rb");
	if (file == nullptr)
		throw Refusal("cannot read " + path.string(), "The workbook was just written there.", "Export again.");
	Sha256 digest;
	char buffer[1 << 16];
	size_t length;
	while ((length = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
		digest.add(buffer, length);
		whole.bytes += static_cast<long long>(length);
	}
	fsync(fileno(file));
	std::fclose(file);
	whole.sha256 = digest.hex();
	return whole;
}

// The JSON of what was written for one table (merged into its manifest entry).
std::string table_json(const TableOutput &output, bool with_checksum)
{
	std::string json = "{\"file\": " + json_string(output.file) + ", \"rows\": " + std::to_string(output.rows);
	if (!output.sheet.empty())
		json += ", \"sheet\": " + json_string(output.sheet);
	if (with_checksum)
		json += ", \"bytes\": " + std::to_string(output.bytes) + ", \"sha256\": " + json_string(output.sha256);
	return json + "}";
}

// Returns the directory name without trailing slashes.
std::string without_trailing_slashes(std::string path)
{
	while (path.size() > 1 && path.back() == '/')
		path.pop_back();
	return path;
}

} // namespace

// Writes a tenant into a new directory (see portability.hpp).
void export_tenant(Session &session, const Invocation &invocation, const ExportArgs &args)
{
	const fs::path target(without_trailing_slashes(args.out));
	std::error_code ignored;
	if (fs::exists(target) && !(fs::is_directory(target) && fs::is_empty(target, ignored)))
		throw Refusal(target.string() + " already exists and is not empty",
					  "An export goes into a new or empty directory, so that no other file is mixed in.",
					  "Name another directory, or remove this one first.");
	const fs::path partial(target.string() + ".partial");
	fs::remove_all(partial); // left by an export that was killed
	fs::create_directories(partial);
	std::string manifest;
	try {
		BulkConnection db(session.conninfo());
		db.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		db.exec("SET LOCAL search_path = pg_catalog, pg_temp");
		manifest = db.exec("SELECT tenancy.export_manifest($1)::text", {args.tenant}).at(0, 0);
		db.exec("SELECT pg_catalog.set_config('tenancy.tenant', $1::jsonb->'tenant'->>'slug', true)", {manifest});
		TextResult tables = db.exec("SELECT t->>'table', t->>'query' FROM pg_catalog.jsonb_array_elements("
									"$1::jsonb->'tables') WITH ORDINALITY a(t, n) ORDER BY n",
									{manifest});
		long long total = 0, done = 0;
		for (size_t i = 0; i < tables.rows.size(); ++i)
			total += estimated_rows(db, tables.at(i, 1));
		ProgressBar bar("rows");
		std::unique_ptr<XlsxWorkbook> workbook;
		if (args.format == "xlsx")
			workbook = std::make_unique<XlsxWorkbook>((partial / "tenant.xlsx").string(), partial.string());
		std::string per_table = "[", files = "[";
		for (size_t i = 0; i < tables.rows.size(); ++i) {
			TableOutput output =
				workbook ? export_to_sheet(db, *workbook, tables.at(i, 0), tables.at(i, 1), bar, done, total)
						 : export_to_file(db, partial, static_cast<long>(i + 1), tables.at(i, 0), tables.at(i, 1),
										  args.format, bar, done, total);
			per_table += (i > 0 ? ", " : "") + table_json(output, !workbook);
			if (!workbook)
				files += (i > 0 ? ", " : "") + table_json(output, true);
		}
		if (workbook) {
			workbook->close();
			TableOutput whole = hashed_file(partial / "tenant.xlsx");
			files += "{\"file\": \"tenant.xlsx\", \"bytes\": " + std::to_string(whole.bytes) +
					 ", \"sha256\": " + json_string(whole.sha256) + "}";
		}
		bar.update("export", done, done);
		bar.finish();
		manifest = db.exec("SELECT pg_catalog.jsonb_pretty(m || pg_catalog.jsonb_build_object('file_format', $2::text, "
						   "'files', $4::jsonb, 'tables', (SELECT coalesce(pg_catalog.jsonb_agg(t.value || f.value "
						   "ORDER BY n), '[]') FROM pg_catalog.jsonb_array_elements(m->'tables') WITH ORDINALITY "
						   "t(value, n) JOIN pg_catalog.jsonb_array_elements($3::jsonb) WITH ORDINALITY f(value, n) "
						   "USING (n)))) FROM (SELECT $1::jsonb AS m) x",
						   {manifest, args.format, per_table + "]", files + "]"})
					   .at(0, 0);
		OutputFile written(partial / "manifest.json");
		written.write(manifest.data(), manifest.size());
		written.write("\n", 1);
		written.close();
		db.exec("COMMIT");
	} catch (...) {
		fs::remove_all(partial, ignored);
		throw;
	}
	if (fs::exists(target))
		fs::remove(target); // empty, checked above
	fs::rename(partial, target);
	print_manifest_tables(session, invocation, manifest, target.string());
}

// Prints the tables of a manifest after an export.
void print_manifest_tables(Session &session, const Invocation &invocation, const std::string &manifest,
						   const std::string &directory)
{
	if (invocation.json()) {
		print_json(session.value(
			"SELECT jsonb_build_object('tenant', m->'tenant'->>'slug', 'directory', $2::text, 'format', m->>'file_format', "
			"'tables', (SELECT jsonb_agg(jsonb_build_object('table', t->>'table', 'file', t->>'file', 'rows', "
			"(t->>'rows')::bigint, 'bytes', (t->>'bytes')::bigint) ORDER BY n) "
			"FROM jsonb_array_elements(m->'tables') WITH ORDINALITY a(t, n)), "
			"'rows', (SELECT coalesce(sum((t->>'rows')::bigint), 0) FROM jsonb_array_elements(m->'tables') t), "
			"'bytes', (SELECT coalesce(sum((f->>'bytes')::bigint), 0) FROM jsonb_array_elements(m->'files') f))::text "
			"FROM (SELECT $1::jsonb AS m) x",
			manifest, directory));
		return;
	}
	pqxx::result tables = session.run("SELECT t->>'table' AS table, coalesce(t->>'sheet', t->>'file') AS file, "
									  "(t->>'rows')::bigint AS rows, (t->>'bytes')::bigint AS bytes "
									  "FROM jsonb_array_elements($1::jsonb->'tables') WITH ORDINALITY a(t, n) ORDER BY n",
									  manifest);
	print_result(invocation.output, tables);
	pqxx::result summary = session.run(
		"SELECT m->'tenant'->>'slug', (SELECT coalesce(sum((t->>'rows')::bigint), 0) FROM jsonb_array_elements(m->'tables') t), "
		"jsonb_array_length(m->'tables'), (SELECT coalesce(sum((f->>'bytes')::bigint), 0) FROM jsonb_array_elements(m->'files') f) "
		"FROM (SELECT $1::jsonb AS m) x",
		manifest);
	print_done("exported tenant " + std::string(summary[0][0].c_str()) + " to " + directory + ": " +
			   grouped(summary[0][1].as<long long>()) + " rows in " + summary[0][2].c_str() + " tables, " +
			   grouped(summary[0][3].as<long long>()) + " bytes");
}

} // namespace tenantctl
