// Shell completion scripts, generated from the command tree of the CLI11
// application itself, so that they list exactly the commands and options
// tenantctl has.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tenantctl {

// Returns the bash completion script of the application (for source, or
// bash-completion's completions directory).
std::string bash_completion(const CLI::App &app);

// Returns the zsh completion script of the application (#compdef; for a
// directory in $fpath, or source after compinit).
std::string zsh_completion(const CLI::App &app);

} // namespace tenantctl
