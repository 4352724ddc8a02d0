// tenantctl protect --online: drives tenancy.protect_online_step() until the
// table is protected. Every step is one short transaction on the server,
// which records its progress, so this loop keeps no state of its own: killed
// at any point, it is simply run again.
#include "commands.hpp"
#include "protect_args.hpp"
#include "progress.hpp"
#include "report.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace tenantctl {

namespace {

using Clock = std::chrono::steady_clock;

// Where a job stands after a step.
struct StepResult {
	std::string step;
	std::string command; // to run outside a transaction block; empty when none
	long long rows_done = 0;
	long long rows_total = 0;
	bool done = false;
};

// Runs an action, again after a pause when it failed for want of a lock
// (lock_timeout) or in a deadlock, at most retries more times.
template <typename Action>
auto with_retries(int retries, const std::string &what, Action &&action)
{
	std::chrono::milliseconds pause(50);
	for (int attempt = 0;; ++attempt) {
		try {
			return action();
		} catch (const pqxx::failure &error) {
			bool lock_wait = sqlstate_of(error) == "55P03" || sqlstate_of(error) == "40P01";
			if (!lock_wait || attempt >= retries)
				throw;
			std::cerr << "tenantctl: " << what << ": waited too long for a lock, trying again in " << pause.count()
					  << " ms (" << attempt + 1 << " of " << retries << ")\n";
			std::this_thread::sleep_for(pause);
			pause = std::min(pause * 2, std::chrono::milliseconds(2000));
		}
	}
}

// Does the next step on the server.
StepResult next_step(Session &session, const ProtectArgs &args)
{
	pqxx::result rows = with_retries(args.retries, "step", [&] {
		return session.run("SELECT step, command, rows_done, rows_total, done "
						   "FROM tenancy.protect_online_step($1::regclass)",
						   args.table);
	});
	StepResult result;
	const pqxx::row row = rows.at(0);
	result.step = row[0].c_str();
	result.command = row[1].is_null() ? "" : row[1].c_str();
	result.rows_done = row[2].is_null() ? 0 : row[2].as<long long>();
	result.rows_total = row[3].is_null() ? 0 : row[3].as<long long>();
	result.done = row[4].as<bool>();
	return result;
}

// Runs a command the server handed back (CREATE INDEX CONCURRENTLY): it
// waits for nothing the application holds for long, so without lock_timeout.
void run_command(Session &session, const ProtectArgs &args, const std::string &command)
{
	std::cerr << "tenantctl: " << command << "\n";
	session.run("SELECT set_config('lock_timeout', '0', false)");
	session.run_outside_transaction(command);
	session.run("SELECT set_config('lock_timeout', $1, false)", args.lock_timeout);
}

} // namespace

// Protects a table online, step by step; returns the line that reports it done.
std::string protect_online(Session &session, const ProtectArgs &args)
{
	Clock::time_point started = Clock::now();
	session.run("SELECT set_config('lock_timeout', $1, false)", args.lock_timeout);
	std::string step = session.value(
		"SELECT tenancy.protect_online($1::regclass, $2::tenancy.role, $3::tenancy.role, $4::tenancy.role, "
		"$5::boolean, $6::boolean, $7, $8, $9, $10::integer)",
		args.table, or_null(args.read_role), or_null(args.write_role), or_null(args.delete_role),
		args.no_audit ? "false" : nullptr, args.strict ? "true" : nullptr, or_null(args.backfill),
		or_null(args.backfill_from), or_null(args.unassigned),
		args.batch_rows > 0 ? std::optional<std::string>(std::to_string(args.batch_rows)) : std::nullopt);
	std::cerr << "tenantctl: protecting " << args.table << " online, from step " << step << "\n";
	ProgressBar bar;
	long long rows_done = 0;
	for (;;) {
		StepResult state = next_step(session, args);
		if (state.done)
			break;
		rows_done = state.rows_done;
		if (state.step == "backfill")
			bar.update(state.step, state.rows_done, state.rows_total);
		else
			bar.finish();
		if (state.step != step)
			std::cerr << "tenantctl: step " << state.step << "\n";
		step = state.step;
		if (!state.command.empty())
			run_command(session, args, state.command);
	}
	bar.finish();
	double seconds = std::chrono::duration<double>(Clock::now() - started).count();
	return "protected " + args.table + " online: " + grouped(rows_done) + " rows backfilled in " + duration(seconds);
}

} // namespace tenantctl
