// tenantctl protect --online: drives tenancy.protect_online_step() until the
// table is protected. Every step is one short transaction on the server,
// which records its progress, so this loop keeps no state of its own: killed
// at any point, it is simply run again.
#include "commands.hpp"
#include "protect_args.hpp"
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

// Formats a count with thousands separators.
std::string grouped(long long value)
{
	std::string digits = std::to_string(value < 0 ? -value : value), out;
	for (size_t i = 0; i < digits.size(); ++i) {
		if (i > 0 && (digits.size() - i) % 3 == 0)
			out += ',';
		out += digits[i];
	}
	return value < 0 ? "-" + out : out;
}

// Formats seconds as 1h02m03s, 2m03s or 3s.
std::string duration(double seconds)
{
	long long total = static_cast<long long>(seconds + 0.5);
	std::ostringstream out;
	if (total >= 3600)
		out << total / 3600 << "h";
	if (total >= 60)
		out << (total % 3600) / 60 << "m";
	out << total % 60 << "s";
	return out.str();
}

// The progress line of the backfill on a terminal: bar, rows, rate, ETA.
class ProgressBar {
public:
	// Draws only when standard error is a terminal.
	ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1), started_(Clock::now()) {}

	// Redraws the line for the rows done so far.
	void update(const StepResult &state)
	{
		if (!enabled_)
			return;
		if (first_rows_ < 0)
			first_rows_ = state.rows_done;
		double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
		long long total = std::max(state.rows_total, state.rows_done);
		double share = total > 0 ? static_cast<double>(state.rows_done) / total : 1.0;
		double rate = elapsed > 0.5 ? (state.rows_done - first_rows_) / elapsed : 0.0;
		const int width = 30;
		int filled = static_cast<int>(share * width);
		std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
		std::fprintf(stderr, "\r%-8s [%s] %3d%%  %s/%s rows  %s rows/s  ETA %s   ", state.step.c_str(), bar.c_str(),
					 static_cast<int>(share * 100), grouped(state.rows_done).c_str(), grouped(total).c_str(),
					 grouped(static_cast<long long>(rate)).c_str(),
					 rate > 0 ? duration((total - state.rows_done) / rate).c_str() : "?");
		drawn_ = true;
	}

	// Ends the line so that what follows starts on a fresh one.
	void finish()
	{
		if (drawn_)
			std::fputc('\n', stderr);
		drawn_ = false;
	}

private:
	bool enabled_;
	bool drawn_ = false;
	Clock::time_point started_;
	long long first_rows_ = -1;
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
			bar.update(state);
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
