// Colour on a terminal, sparingly.
#include "colour.hpp"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace tenantctl {

// Says whether text written to the file descriptor may be coloured: it is a
// terminal, TERM is not "dumb", and NO_COLOR is unset or empty.
bool colour_wanted(int fd)
{
	const char *no_colour = std::getenv("NO_COLOR");
	if (no_colour != nullptr && no_colour[0] != '\0')
		return false;
	const char *term = std::getenv("TERM");
	if (term != nullptr && std::strcmp(term, "dumb") == 0)
		return false;
	return isatty(fd) == 1;
}

// Returns text wrapped in the escape sequences of a colour.
std::string paint(const std::string &text, Colour colour)
{
	switch (colour) {
	case Colour::bold:
		return "\033[1m" + text + "\033[0m";
	case Colour::red:
		return "\033[31m" + text + "\033[0m";
	case Colour::yellow:
		return "\033[33m" + text + "\033[0m";
	case Colour::none:
		break;
	}
	return text;
}

} // namespace tenantctl
