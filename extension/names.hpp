// Validation of the names users type: tenant slugs and tenant uuids.
#pragma once

#include <cstddef>

namespace tenancy {

// Longest tenant slug: a PostgreSQL identifier's length.
constexpr std::size_t max_slug_length = 63;

// Says whether text is a valid slug: lowercase letter first, then lowercase
// letters, digits, '_' or '-', at most 63 characters.
bool is_valid_slug(const char *text);

// Says whether text is a uuid in its canonical 8-4-4-4-12 hexadecimal form.
bool is_uuid_text(const char *text);

} // namespace tenancy
