// Colour on a terminal, sparingly: only when the stream is a terminal that is
// not "dumb" and the user has not asked for none with NO_COLOR (no-color.org).
#pragma once

#include <string>

namespace tenantctl {

// The few colours tenantctl uses.
enum class Colour { none, bold, red, yellow };

// Says whether text written to the file descriptor may be coloured.
bool colour_wanted(int fd);

// Returns text wrapped in the escape sequences of a colour (unchanged for none).
std::string paint(const std::string &text, Colour colour);

} // namespace tenantctl
