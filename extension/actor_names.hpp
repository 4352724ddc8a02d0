// Actor names: the names of people and application users in memberships and
// in tenancy.actor. One checked, normalized form, so that two names that look
// the same are the same name or are refused.
#pragma once

#include <cstddef>
#include <string>

namespace tenancy::actor_names {

// Longest actor name, in bytes of its normalized (NFC, UTF-8) form.
constexpr std::size_t max_bytes = 256;

// What checking a name found: its normalized form, or what is wrong with it.
struct Checked {
	bool valid = false;
	std::string normalized; // NFC; set when valid
	const char *problem = nullptr; // a full sentence; set when not valid
};

// Checks and normalizes an actor name: valid UTF-8 (ASCII in databases of
// other encodings), 1 to 256 bytes once in Unicode normalization form C, only
// printable characters (no control, format, private-use or unassigned code
// points, nothing default-ignorable such as zero-width spaces), no space but
// U+0020 and none at either end, and no mix of scripts that look-alikes use
// (ICU's "highly restrictive" level: Latin with Cyrillic is refused, Latin
// with Han and Kana is not). Never throws; safe in GUC check hooks.
Checked check(const char *text, std::size_t length);

// Says, without allocating, whether text is a valid actor name in normal
// form made only of printable ASCII (the common case, for GUC check hooks).
bool plain_ascii_name(const char *text, std::size_t length) noexcept;

// Returns the Unicode confusable skeleton of a name's NFKC form (UTS #39):
// two names with the same skeleton look alike. Never throws; returns "" when
// ICU fails.
std::string skeleton(const char *text, std::size_t length);

// Longest user input echoed in a message, in bytes.
constexpr std::size_t shown_bytes = 64;

// Returns user input fit to be echoed in a message or the server log: every
// character that is not printable (control and format characters, a
// zero-width space, a private-use code point, an invalid byte) written as an
// escape such as \u200b or \x0a, and the whole cut to at most shown_bytes
// bytes, with "..." when it was cut.
std::string shown(const char *text);

// Writes shown(text) into a buffer of at least shown_bytes + 1 bytes; never
// throws, for GUC check hooks.
void shown_into(char *buffer, const char *text) noexcept;

} // namespace tenancy::actor_names
