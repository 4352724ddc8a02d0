// tenantctl protect TABLE, unprotect TABLE, protected
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "protect_args.hpp"

#include <memory>

namespace tenantctl {

namespace {

// Prints the protection of one table after a change.
void print_protection(Session &session, const Invocation &invocation, const std::string &table,
					  const std::string &done)
{
	if (invocation.json())
		print_json(session.value(
			"SELECT coalesce((SELECT row_to_json(p) FROM tenancy.protected_list() p "
			"WHERE p.table_name = $1::regclass::text), json_build_object('table_name', $1::regclass::text, "
			"'protected', false))::text",
			table));
	else
		print_done(done);
}

} // namespace

// Registers protect, unprotect and protected.
void add_protect_commands(CLI::App &app, Invocation &invocation)
{
	auto args = std::make_shared<ProtectArgs>();
	const auto roles = CLI::IsMember({"viewer", "member", "admin", "owner"});

	CLI::App *protect = app.add_subcommand("protect", "Protect a table: tenant_id, forced row level security, audit");
	protect->add_option("table", args->table, "Table, optionally schema-qualified")->required();
	protect->add_option("--read-role", args->read_role, "Role needed to read rows (default viewer)")->check(roles);
	protect->add_option("--write-role", args->write_role, "Role needed to insert and update (default member)")
		->check(roles);
	protect->add_option("--delete-role", args->delete_role, "Role needed to delete (default admin)")->check(roles);
	protect->add_flag("--no-audit", args->no_audit, "Without the audit trigger (platform admins only)");
	protect->add_flag("--strict", args->strict,
					  "Hand the table to tenancy_table_owner: schema changes only by platform admins");
	protect->add_option("--backfill", args->backfill, "Give rows without a tenant this tenant (slug or uuid)");
	protect->add_option("--backfill-from", args->backfill_from,
						"Derive the tenant of rows without one: an SQL expression over the row yielding a tenant id");
	protect->add_flag("--online", args->online,
					  "Protect a live table in short steps (resumable; writers never wait long)");
	protect->add_option("--unassigned", args->unassigned,
						"--online: rows written without a tenant meanwhile are refused (default) or backfilled")
		->check(CLI::IsMember({"refuse", "backfill"}));
	protect->add_option("--batch-rows", args->batch_rows, "--online: rows per backfill transaction (default 10000)")
		->check(CLI::PositiveNumber);
	protect->add_option("--lock-timeout", args->lock_timeout,
						"--online: longest wait for a lock the application would queue behind (default 200ms)");
	protect->add_option("--retries", args->retries, "--online: attempts of a step that timed out on a lock (default 100)")
		->check(CLI::NonNegativeNumber);
	protect->callback([&invocation, args, protect] {
		bool online_options = protect->count("--unassigned") + protect->count("--batch-rows") +
							  protect->count("--lock-timeout") + protect->count("--retries") > 0;
		if (online_options && !args->online)
			throw CLI::ValidationError("--unassigned, --batch-rows, --lock-timeout and --retries",
									   "they apply to --online only");
		invocation.action = [&invocation, args](Session &session) {
			if (args->online) {
				std::string done = protect_online(session, *args);
				print_protection(session, invocation, args->table, done);
				return;
			}
			session.run("SELECT tenancy.protect($1::regclass, $2::tenancy.role, $3::tenancy.role, $4::tenancy.role, "
						"$5::boolean, $6::boolean, $7, $8)",
						args->table, or_null(args->read_role), or_null(args->write_role),
						or_null(args->delete_role), args->no_audit ? "false" : nullptr,
						args->strict ? "true" : nullptr, or_null(args->backfill), or_null(args->backfill_from));
			print_protection(session, invocation, args->table, "protected " + args->table);
		};
	});

	CLI::App *unprotect = app.add_subcommand("unprotect", "Remove a table's protection, keeping its data");
	unprotect->add_option("table", args->table, "Table, optionally schema-qualified")->required();
	unprotect->callback([&invocation, args] {
		invocation.action = [&invocation, args](Session &session) {
			session.run("SELECT tenancy.unprotect($1::regclass)", args->table);
			print_protection(session, invocation, args->table, "unprotected " + args->table);
		};
	});

	CLI::App *list = app.add_subcommand("protected", "List protected tables");
	list->callback([&invocation] {
		invocation.action = [&invocation](Session &session) {
			if (invocation.json())
				print_json(session.value("SELECT coalesce(json_agg(p), '[]')::text FROM tenancy.protected_list() p"));
			else
				print_result(invocation.output, session.run("SELECT * FROM tenancy.protected_list()"));
		};
	});
}

} // namespace tenantctl
