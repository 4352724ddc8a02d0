// The progress line of long commands (protect --online, tenant export and
// import).
#include "progress.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <unistd.h>

namespace tenantctl {

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

// Draws only when standard error is a terminal.
ProgressBar::ProgressBar(std::string unit)
	: unit_(std::move(unit)), enabled_(isatty(STDERR_FILENO) == 1), started_(Clock::now())
{
}

// Redraws the line, at most ten times a second.
void ProgressBar::update(const std::string &step, long long done, long long total)
{
	if (!enabled_)
		return;
	step_ = step;
	done_ = done;
	total_ = total;
	Clock::time_point now = Clock::now();
	if (drawn_ && done < total && now - last_drawn_ < std::chrono::milliseconds(100))
		return;
	draw();
}

// Draws the line for the last update.
void ProgressBar::draw()
{
	Clock::time_point now = Clock::now();
	last_drawn_ = now;
	if (first_done_ < 0)
		first_done_ = done_;
	double elapsed = std::chrono::duration<double>(now - started_).count();
	long long total = std::max(total_, done_);
	double share = total > 0 ? static_cast<double>(done_) / total : 1.0;
	double rate = elapsed > 0.5 ? (done_ - first_done_) / elapsed : 0.0;
	const int width = 30;
	int filled = static_cast<int>(share * width);
	std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
	std::fprintf(stderr, "\r%-8s [%s] %3d%%  %s/%s %s  %s %s/s  ETA %s   ", step_.c_str(), bar.c_str(),
				 static_cast<int>(share * 100), grouped(done_).c_str(), grouped(total).c_str(), unit_.c_str(),
				 grouped(static_cast<long long>(rate)).c_str(), unit_.c_str(),
				 rate > 0 ? duration((total - done_) / rate).c_str() : "?");
	drawn_ = true;
}

// Draws the last state, then ends the line so that what follows starts on
// a fresh one.
void ProgressBar::finish()
{
	if (drawn_) {
		draw();
		std::fputc('\n', stderr);
	}
	drawn_ = false;
}

} // namespace tenantctl
