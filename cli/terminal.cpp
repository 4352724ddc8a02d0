// Talking to an operator at a terminal.
#include "terminal.hpp"
#include "errors.hpp"

#include <iostream>
#include <unistd.h>

namespace tenantctl {

// Says whether both standard input and output are terminals.
bool interactive()
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

// Prints a prompt and returns the answer or the default.
std::string ask(const std::string &prompt, const std::string &default_answer)
{
	std::cout << prompt;
	if (!default_answer.empty())
		std::cout << " [" << default_answer << "]";
	std::cout << ": " << std::flush;
	std::string answer;
	if (!std::getline(std::cin, answer))
		throw UsageError("input ended before the question was answered");
	size_t first = answer.find_first_not_of(" \t");
	size_t last = answer.find_last_not_of(" \t");
	answer = first == std::string::npos ? std::string() : answer.substr(first, last - first + 1);
	return answer.empty() ? default_answer : answer;
}

// Asks a yes/no question.
bool confirm(const std::string &question)
{
	std::string answer = ask(question + " (y/N)");
	return answer == "y" || answer == "Y" || answer == "yes";
}

} // namespace tenantctl
