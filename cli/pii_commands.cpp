// tenantctl pii mark|unmark|policy|list|request|requests|export|erase:
// personal data. The registry marks the columns of protected tables that
// hold it; a request asks for everything a tenant holds about a person
// (export, written to a file as it is read through a cursor) or for its
// erasure. Every action is a call of the extension's functions, under their
// rights.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "terminal.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

namespace tenantctl {

namespace {

// The arguments of the pii commands.
struct PiiArgs {
	std::string table, column, kind, policy, tenant, subject, request, out;
	bool subject_column = false, erasure = false, yes = false;
};

// Writes the subject's rows of an export request to out as one JSON
// document, {"request", "tenant", "subject", "exported_at", "tables": {table:
// [rows]}}, reading them in batches; header is the request's row (id,
// tenant, subject, time as JSON). Returns the rows and tables written.
std::pair<long, long> write_export(Session &session, const pqxx::row &header, std::ostream &out)
{
	out << "{\"request\": " << header[0].c_str() << ", \"tenant\": " << header[1].c_str()
		<< ", \"subject\": " << header[2].c_str() << ", \"exported_at\": " << header[3].c_str() << ", \"tables\": {";
	std::string current_table;
	long rows = 0, tables = 0;
	session.each_batch(
		"SELECT to_json(s.table_name)::text, s.table_name, s.row_data::text "
		"FROM tenancy.subject_rows($1::bigint) WITH ORDINALITY s ORDER BY s.table_name, s.ordinality",
		1000,
		[&](const pqxx::result &batch) {
			for (const auto &row : batch) {
				std::string table = row[1].c_str();
				if (tables == 0 || table != current_table) {
					out << (tables == 0 ? "\n  " : "],\n  ") << row[0].c_str() << ": [";
					current_table = table;
					++tables;
				} else {
					out << ",";
				}
				out << "\n    " << row[2].c_str();
				++rows;
			}
		},
		std::string(header[0].c_str()));
	out << (tables == 0 ? "}}\n" : "]\n}}\n");
	return {rows, tables};
}

// Exports a request's rows to a file (- for standard output). The file is
// written under FILE.partial and renamed when complete, so that FILE is
// never half an export.
void export_request(Session &session, const Invocation &invocation, const PiiArgs &args)
{
	pqxx::result header = session.run(
		"SELECT r.id::text, to_json(r.tenant)::text, to_json(r.subject)::text, to_json(now())::text "
		"FROM tenancy.subject_request($1::bigint) r",
		args.request);
	if (args.out == "-") {
		write_export(session, header[0], std::cout);
		return;
	}
	const std::string partial = args.out + ".partial";
	std::ofstream file(partial, std::ios::out | std::ios::trunc);
	if (!file)
		throw UsageError("cannot write " + partial + ": check that its directory exists and is writable");
	std::pair<long, long> written;
	try {
		written = write_export(session, header[0], file);
		file.close();
		if (!file)
			throw CheckFailed("writing " + partial + " failed: check the free space of its file system");
		if (std::rename(partial.c_str(), args.out.c_str()) != 0)
			throw CheckFailed("cannot rename " + partial + " to " + args.out + ": " + std::strerror(errno));
	} catch (...) {
		std::remove(partial.c_str());
		throw;
	}
	if (invocation.json())
		print_json(session.value("SELECT json_build_object('request', $1::bigint, 'file', $2::text, 'rows', "
								 "$3::bigint, 'tables', $4::bigint)::text",
								 args.request, args.out, std::to_string(written.first),
								 std::to_string(written.second)));
	else
		print_done("wrote " + std::to_string(written.first) + " rows of " + std::to_string(written.second) +
				   " tables about the subject of request " + args.request + " to " + args.out);
}

// Erases what a request's tenant holds about its subject, after the request
// number was typed again on a terminal (or --yes).
void erase_request(Session &session, const Invocation &invocation, const PiiArgs &args)
{
	if (!args.yes) {
		if (!interactive())
			throw UsageError("pii erase cannot be undone; pass --yes to confirm without a terminal");
		if (ask("Erasing cannot be undone. Type the request number again to confirm") != args.request)
			throw UsageError("the number typed differs; nothing was erased");
	}
	std::string result = session.value("SELECT tenancy.erase_subject($1::bigint)::text", args.request);
	if (invocation.json())
		print_json(result);
	else
		print_result(invocation.output,
					 session.run("SELECT t.key AS table_name, t.value->>'action' AS action, "
								 "(t.value->>'found')::bigint AS rows_found, (t.value->>'changed')::bigint AS rows_erased "
								 "FROM jsonb_each(($1::jsonb)->'tables') t ORDER BY 1",
								 result));
}

} // namespace

// Registers the pii command group.
void add_pii_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<PiiArgs>();
	CLI::App *pii = app.add_subcommand("pii", "Personal data: the registry, subject export and erasure requests");
	pii->require_subcommand(1);

	CLI::App *mark = pii->add_subcommand("mark", "Mark a column of a protected table as personal data");
	mark->add_option("table", args->table, "Table (schema-qualified)")->required();
	mark->add_option("column", args->column, "Column")->required();
	mark->add_option("kind", args->kind, "Kind of data: email, name, phone, address, birth_date, free_text ...")
		->required();
	mark->add_flag("--subject", args->subject_column, "The column identifies the person (customers.email)");
	mark->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.mark_pii($1::regclass, $2, $3, $4)", args->table, args->column, args->kind,
						args->subject_column);
			print_done("marked " + args->table + "." + args->column + " as " + args->kind +
					   (args->subject_column ? " (subject)" : ""));
		};
	});

	CLI::App *unmark = pii->add_subcommand("unmark", "Remove a column's personal data mark");
	unmark->add_option("table", args->table, "Table (schema-qualified)")->required();
	unmark->add_option("column", args->column, "Column")->required();
	unmark->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.unmark_pii($1::regclass, $2)", args->table, args->column);
			print_done("unmarked " + args->table + "." + args->column);
		};
	});

	CLI::App *policy = pii->add_subcommand("policy", "Set what an erasure does to a table's rows");
	policy->add_option("table", args->table, "Table (schema-qualified)")->required();
	policy->add_option("policy", args->policy, "redact (default), null or delete")
		->required()
		->check(CLI::IsMember({"redact", "null", "delete"}));
	policy->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.set_erasure_policy($1::regclass, $2)", args->table, args->policy);
			print_done("erasure policy of " + args->table + ": " + args->policy);
		};
	});

	CLI::App *list = pii->add_subcommand("list", "List the columns marked as personal data");
	list->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(p), '[]')::text FROM tenancy.pii_columns() p"));
			else
				print_result(invocation.output, session.run("SELECT * FROM tenancy.pii_columns()"));
		};
	});

	CLI::App *request = pii->add_subcommand("request", "Record a request to export (default) or erase a person's data");
	request->add_option("slug", args->tenant, "Tenant slug or uuid")->required();
	request->add_option("subject", args->subject, "The value of the person's subject columns (an email ...)")
		->required();
	request->add_flag("--erasure", args->erasure, "Ask for erasure instead of export");
	request->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			std::string id = session.value(args->erasure ? "SELECT tenancy.request_erasure($1, $2)::text"
														 : "SELECT tenancy.request_subject_export($1, $2)::text",
										   args->subject, args->tenant);
			if (invocation.json())
				print_json("{\"request\": " + id + "}");
			else
				print_done("recorded " + std::string(args->erasure ? "erasure" : "export") + " request " + id);
		};
	});

	CLI::App *requests = pii->add_subcommand("requests", "List requests about persons (all tenants, or one)");
	requests->add_option("slug", args->tenant, "Only this tenant's requests (its owners and admins may read them)");
	requests->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			const char *source = " FROM tenancy.subject_request_list(nullif($1, '')) r";
			if (invocation.json())
				print_json(session.value(std::string("SELECT coalesce(json_agg(r), '[]')::text") + source,
										 args->tenant));
			else
				print_result(invocation.output,
							 session.run(std::string("SELECT r.id, r.tenant, r.kind, r.subject, r.status, "
													 "r.requested_by, r.requested_at::timestamptz(0), "
													 "r.completed_by, r.completed_at::timestamptz(0)") +
											 source,
										 args->tenant));
		};
	});

	CLI::App *export_command =
		pii->add_subcommand("export", "Write everything a tenant holds about a request's subject to a JSON file");
	export_command->add_option("request", args->request, "Request number")->required();
	export_command->add_option("--out", args->out, "File to write (- for standard output)")->required();
	export_command->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { export_request(session, invocation, *args); };
	});

	CLI::App *erase = pii->add_subcommand("erase", "Erase what a tenant holds about a request's subject");
	erase->add_option("request", args->request, "Request number")->required();
	erase->add_flag("--yes", args->yes, "Do not ask to type the request number again");
	erase->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) { erase_request(session, invocation, *args); };
	});
}

} // namespace tenantctl
