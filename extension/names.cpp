// Validation of the names users type: tenant slugs and tenant uuids (actor
// names: actor_names.cpp).
// Plain byte checks, safe to call from GUC check hooks.
#include "names.hpp"

#include <cstring>

namespace tenancy {

namespace {

// Says whether c is an ASCII lowercase letter.
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

// Says whether c is an ASCII digit.
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Says whether c is a hexadecimal digit of either case.
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

} // namespace

// Says whether text is a valid tenant slug.
bool is_valid_slug(const char *text)
{
	std::size_t length = std::strlen(text);
	if (length == 0 || length > max_slug_length || !is_lower(text[0]))
		return false;
	if (length == 36 && is_uuid_text(text))
		return false;
	for (std::size_t i = 1; i < length; i++) {
		char c = text[i];
		if (!is_lower(c) && !is_digit(c) && c != '_' && c != '-')
			return false;
	}
	return true;
}

// Says whether text is a uuid in canonical form.
bool is_uuid_text(const char *text)
{
	if (std::strlen(text) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash_position = (i == 8 || i == 13 || i == 18 || i == 23);
		if (dash_position ? text[i] != '-' : !is_hex(text[i]))
			return false;
	}
	return true;
}

} // namespace tenancy
