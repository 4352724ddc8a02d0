// The progress line of a long command on a terminal: bar, amount done,
// rate and time left. Drawn on standard error, and only when it is a
// terminal, so that output piped or redirected stays clean.
#pragma once

#include <chrono>
#include <string>

namespace tenantctl {

// Formats a count with thousands separators.
std::string grouped(long long value);

// Formats seconds as 1h02m03s, 2m03s or 3s.
std::string duration(double seconds);

// A progress line, redrawn in place.
class ProgressBar {
public:
	// Draws only when standard error is a terminal; unit names what is
	// counted ("rows", "bytes").
	explicit ProgressBar(std::string unit = "rows");

	// Redraws the line: step is what is being done, done of total so far.
	void update(const std::string &step, long long done, long long total);

	// Draws the last state, then ends the line so that what follows starts
	// on a fresh one.
	void finish();

private:
	// Draws the line for the last update.
	void draw();

	using Clock = std::chrono::steady_clock;
	std::string unit_;
	bool enabled_;
	bool drawn_ = false;
	Clock::time_point started_;
	Clock::time_point last_drawn_;
	long long first_done_ = -1;
	std::string step_;
	long long done_ = 0, total_ = 0;
};

} // namespace tenantctl
