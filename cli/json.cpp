// JSON written by tenantctl itself.
#include "json.hpp"

#include <cstdio>

namespace tenantctl {

// Returns text as a JSON string literal: quotes, backslashes and control
// characters escaped; other bytes (UTF-8) as they are.
std::string json_string(const std::string &text)
{
	std::string out = "\"";
	for (char c : text) {
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\r':
			out += "\\r";
			break;
		case '\t':
			out += "\\t";
			break;
		case '\b':
			out += "\\b";
			break;
		case '\f':
			out += "\\f";
			break;
		default:
			if (static_cast<unsigned char>(c) < 0x20) {
				char escaped[8];
				std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
				out += escaped;
			} else {
				out += c;
			}
		}
	}
	return out + "\"";
}

} // namespace tenantctl
