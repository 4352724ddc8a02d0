// Talking to an operator at a terminal: prompts and confirmations.
#pragma once

#include <string>

namespace tenantctl {

// Says whether both standard input and output are terminals.
bool interactive();

// Prints a prompt (with the default in brackets) and returns the answer, or
// the default when the answer is empty. Throws UsageError at end of input.
std::string ask(const std::string &prompt, const std::string &default_answer = "");

// Asks a yes/no question; only "y" or "yes" is yes.
bool confirm(const std::string &question);

} // namespace tenantctl
