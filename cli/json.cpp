// JSON written by tenantctl itself.
#include "json.hpp"

#include <cstdio>

namespace tenantctl {

namespace {

// Returns the length of the well-formed UTF-8 sequence starting at text[i]
// (1 to 4), or 0 when the bytes there are not one.
size_t utf8_length(const std::string &text, size_t i)
{
	auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
	auto continuation = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
	unsigned lead = byte(i);
	if (lead < 0x80)
		return 1;
	if (lead >= 0xC2 && lead <= 0xDF)
		return continuation(i + 1) ? 2 : 0;
	if (lead >= 0xE0 && lead <= 0xEF) {
		unsigned second = byte(i + 1);
		bool valid = continuation(i + 1) && continuation(i + 2) && !(lead == 0xE0 && second < 0xA0) &&
					 !(lead == 0xED && second > 0x9F);
		return valid ? 3 : 0;
	}
	if (lead >= 0xF0 && lead <= 0xF4) {
		unsigned second = byte(i + 1);
		bool valid = continuation(i + 1) && continuation(i + 2) && continuation(i + 3) &&
					 !(lead == 0xF0 && second < 0x90) && !(lead == 0xF4 && second > 0x8F);
		return valid ? 4 : 0;
	}
	return 0;
}

} // namespace

// Returns text as a JSON string literal: quotes, backslashes and control
// characters escaped, UTF-8 as it is, and any byte that is not well-formed
// UTF-8 as U+FFFD, so that the result is always valid JSON.
std::string json_string(const std::string &text)
{
	std::string out = "\"";
	for (size_t i = 0; i < text.size(); i++) {
		char c = text[i];
		size_t length = utf8_length(text, i);
		if (length == 0) {
			out += "\\ufffd";
			continue;
		}
		if (length > 1) {
			out.append(text, i, length);
			i += length - 1;
			continue;
		}
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
