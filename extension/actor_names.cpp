// Checking, normalizing and comparing actor names with ICU, the library
// PostgreSQL itself links for collations: Unicode character properties,
// normalization form C, and the confusable skeletons of UTS #39.
//
// ICU's C API reports errors through UErrorCode and never throws, so every
// function here is safe to call from a GUC check hook.
#include "actor_names.hpp"

extern "C" {
#include "postgres.h"
#include "mb/pg_wchar.h"
}

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include <vector>

namespace tenancy::actor_names {

namespace {

const char *const not_printable =
	"An actor name has only printable characters: no control or format characters (such as zero-width "
	"spaces), no private-use or unassigned code points, and no space other than U+0020.";
const char *const bad_length = "An actor name has 1 to 256 bytes once normalized.";
const char *const spaced = "An actor name neither starts nor ends with a space.";
const char *const bad_encoding = "An actor name must be valid UTF-8.";
const char *const not_ascii =
	"In a database whose encoding is not UTF-8, an actor name has only printable ASCII characters.";
const char *const mixed_scripts =
	"An actor name does not mix scripts the way look-alike names do (such as Latin with Cyrillic or Greek), "
	"nor hide characters with repeated combining marks.";

// Says whether a code point may appear in an actor name.
bool printable(UChar32 c)
{
	if (c == ' ')
		return true;
	switch (u_charType(c)) {
	case U_CONTROL_CHAR:
	case U_FORMAT_CHAR:
	case U_PRIVATE_USE_CHAR:
	case U_SURROGATE:
	case U_UNASSIGNED:
	case U_LINE_SEPARATOR:
	case U_PARAGRAPH_SEPARATOR:
	case U_SPACE_SEPARATOR:
		return false;
	default:
		return !u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
	}
}

// Says whether text is printable ASCII (the common case, checked without ICU).
bool printable_ascii(const char *text, std::size_t length)
{
	for (std::size_t i = 0; i < length; i++)
		if (text[i] < 0x20 || text[i] >= 0x7f)
			return false;
	return true;
}

// Returns a failed check with a problem.
Checked failed(const char *problem)
{
	Checked checked;
	checked.problem = problem;
	return checked;
}

// Checks the length and the spaces at either end of a normalized name.
Checked finish(std::string normalized)
{
	if (normalized.empty() || normalized.size() > max_bytes)
		return failed(bad_length);
	if (normalized.front() == ' ' || normalized.back() == ' ')
		return failed(spaced);
	Checked checked;
	checked.valid = true;
	checked.normalized = std::move(normalized);
	return checked;
}

// Converts UTF-8 to UTF-16; false when the text is not valid UTF-8.
bool to_utf16(const char *text, std::size_t length, std::vector<UChar> &out)
{
	UErrorCode status = U_ZERO_ERROR;
	int32_t needed = 0;
	u_strFromUTF8(nullptr, 0, &needed, text, static_cast<int32_t>(length), &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		return false;
	out.resize(needed + 1);
	status = U_ZERO_ERROR;
	u_strFromUTF8(out.data(), needed + 1, &needed, text, static_cast<int32_t>(length), &status);
	out.resize(needed);
	return U_SUCCESS(status);
}

// Converts UTF-16 to UTF-8.
bool to_utf8(const std::vector<UChar> &text, std::string &out)
{
	UErrorCode status = U_ZERO_ERROR;
	int32_t needed = 0;
	u_strToUTF8(nullptr, 0, &needed, text.data(), static_cast<int32_t>(text.size()), &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		return false;
	out.resize(needed + 1);
	status = U_ZERO_ERROR;
	u_strToUTF8(out.data(), needed + 1, &needed, text.data(), static_cast<int32_t>(text.size()), &status);
	out.resize(needed);
	return U_SUCCESS(status);
}

// Returns the NFC (or NFKC) form of UTF-16 text, or false.
bool normalize(const std::vector<UChar> &text, std::vector<UChar> &out, bool compatibility = false)
{
	UErrorCode status = U_ZERO_ERROR;
	const UNormalizer2 *nfc = compatibility ? unorm2_getNFKCInstance(&status) : unorm2_getNFCInstance(&status);
	if (U_FAILURE(status))
		return false;
	int32_t needed = unorm2_normalize(nfc, text.data(), static_cast<int32_t>(text.size()), nullptr, 0, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		return false;
	out.resize(needed + 1);
	status = U_ZERO_ERROR;
	needed = unorm2_normalize(nfc, text.data(), static_cast<int32_t>(text.size()), out.data(), needed + 1, &status);
	out.resize(needed);
	return U_SUCCESS(status);
}

// Returns the spoof checker of this backend, opened once: skeletons, and the
// checks of a single name (ICU's "highly restrictive" mix of scripts, no
// invisible repeated combining marks).
const USpoofChecker *spoof_checker()
{
	static USpoofChecker *checker = nullptr;
	static bool tried = false;
	if (!tried) {
		tried = true;
		UErrorCode status = U_ZERO_ERROR;
		checker = uspoof_open(&status);
		uspoof_setRestrictionLevel(checker, USPOOF_HIGHLY_RESTRICTIVE);
		uspoof_setChecks(checker, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS, &status);
		if (U_FAILURE(status)) {
			if (checker != nullptr)
				uspoof_close(checker);
			checker = nullptr;
		}
	}
	return checker;
}

// Says whether a name passes the spoof checks (or cannot be checked).
bool passes_spoof_checks(const std::string &name)
{
	const USpoofChecker *checker = spoof_checker();
	if (checker == nullptr)
		return true;
	UErrorCode status = U_ZERO_ERROR;
	int32_t failed = uspoof_check2UTF8(checker, name.data(), static_cast<int32_t>(name.size()), nullptr, &status);
	return U_FAILURE(status) || failed == 0;
}

} // namespace

// Says whether text is a printable ASCII actor name in normal form.
bool plain_ascii_name(const char *text, std::size_t length) noexcept
{
	return length > 0 && length <= max_bytes && text[0] != ' ' && text[length - 1] != ' ' &&
		   printable_ascii(text, length);
}

// Checks and normalizes an actor name.
Checked check(const char *text, std::size_t length)
{
	if (length == 0)
		return failed(bad_length);
	if (length > 4 * max_bytes)
		return failed(bad_length);
	if (printable_ascii(text, length))
		return finish(std::string(text, length));
	if (GetDatabaseEncoding() != PG_UTF8)
		return failed(not_ascii);

	std::vector<UChar> utf16;
	if (!to_utf16(text, length, utf16))
		return failed(bad_encoding);
	for (int32_t i = 0; i < static_cast<int32_t>(utf16.size());) {
		UChar32 c;
		U16_NEXT(utf16.data(), i, static_cast<int32_t>(utf16.size()), c);
		if (!printable(c))
			return failed(not_printable);
	}
	std::vector<UChar> nfc;
	std::string normalized;
	if (!normalize(utf16, nfc) || !to_utf8(nfc, normalized))
		return failed(bad_encoding);
	if (!passes_spoof_checks(normalized))
		return failed(mixed_scripts);
	return finish(std::move(normalized));
}

// Returns the confusable skeleton of a name, taken of its NFKC form so that
// compatibility variants (full-width letters, ligatures) count as the
// letters they stand for.
std::string skeleton(const char *text, std::size_t length)
{
	const USpoofChecker *checker = spoof_checker();
	if (checker == nullptr)
		return "";
	std::string folded(text, length);
	std::vector<UChar> utf16, nfkc;
	if (!printable_ascii(text, length) &&
		(!to_utf16(text, length, utf16) || !normalize(utf16, nfkc, true) || !to_utf8(nfkc, folded)))
		folded.assign(text, length);
	UErrorCode status = U_ZERO_ERROR;
	int32_t size = static_cast<int32_t>(folded.size());
	int32_t needed = uspoof_getSkeletonUTF8(checker, 0, folded.data(), size, nullptr, 0, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		return "";
	std::string out(needed + 1, '\0');
	status = U_ZERO_ERROR;
	needed = uspoof_getSkeletonUTF8(checker, 0, folded.data(), size, out.data(), needed + 1, &status);
	if (U_FAILURE(status))
		return "";
	out.resize(needed);
	return out;
}

// Writes text fit for a message into buffer: non-printable characters
// escaped, cut to shown_bytes.
void shown_into(char *buffer, const char *text) noexcept
{
	std::size_t length = strlen(text);
	std::size_t out = 0;
	std::size_t room_for_dots = 0; // where "..." would go, should the text not fit
	bool cut = false;
	for (std::size_t i = 0; i < length;) {
		char piece[16];
		std::size_t piece_length;
		int32_t next = static_cast<int32_t>(i);
		UChar32 c;
		U8_NEXT(reinterpret_cast<const uint8_t *>(text), next, static_cast<int32_t>(length), c);
		if (c < 0)
			piece_length = snprintf(piece, sizeof(piece), "\\x%02x", static_cast<unsigned char>(text[i]));
		else if (c != ' ' && !printable(c))
			piece_length = snprintf(piece, sizeof(piece), c > 0xFFFF ? "\\U%08x" : "\\u%04x", static_cast<unsigned>(c));
		else {
			piece_length = static_cast<std::size_t>(next) - i;
			memcpy(piece, text + i, piece_length);
		}
		if (out + piece_length > shown_bytes) {
			cut = true;
			break;
		}
		memcpy(buffer + out, piece, piece_length);
		out += piece_length;
		if (out <= shown_bytes - 3)
			room_for_dots = out;
		i = static_cast<std::size_t>(next);
	}
	if (cut) {
		out = room_for_dots;
		memcpy(buffer + out, "...", 3);
		out += 3;
	}
	buffer[out] = '\0';
}

// Returns text cut to shown_bytes at a character boundary.
std::string shown(const char *text)
{
	char buffer[shown_bytes + 1];
	shown_into(buffer, text);
	return buffer;
}

} // namespace tenancy::actor_names
