// Mistyped and missing commands: when CLI11 refuses a command line, tenantctl
// walks it over the command tree itself to say which command word was wrong
// and what was probably meant ("did you mean "tenant list"?"), or which
// commands a group offers when none was given. The names come from the CLI11
// application, so they never go stale.
#pragma once

#include "report.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tenantctl {

// What a walk of the command line over the command tree found.
struct CommandLine {
	std::vector<const CLI::App *> path; // the commands recognised, from the root
	std::string unknown;                // the first word that names no command of a group
	bool unknown_option_before = false; // an unknown option came just before it (its value?)
	bool missing_value = false;         // an option's value is missing at the end
	bool json = false;                  // --json or --output json was given
};

// Walks the arguments over the command tree: global and command options
// (which may come after the command, as CLI11's fallthrough allows), command
// words, and arguments, up to "--".
CommandLine walk_command_line(const CLI::App &app, const std::vector<std::string> &args);

// Returns the optimal string alignment distance of two words (insertions,
// deletions, substitutions and transpositions of adjacent letters).
size_t edit_distance(const std::string &a, const std::string &b);

// Returns the names among candidates that the typed word probably meant:
// close in spelling, or starting with it; the closest first, at most three.
std::vector<std::string> suggestions(const std::string &typed, const std::vector<std::string> &candidates);

// Explains a command line that CLI11 refused, when the cause is a mistyped
// command word or a group given no command; nullopt otherwise (CLI11's own
// message then says what is wrong).
std::optional<Problem> explain_command_error(const CLI::App &app, const CommandLine &line);

} // namespace tenantctl
