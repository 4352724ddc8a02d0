// Building result Datums from C++ values.
#include "datum.hpp"
#include "boundary.hpp"

extern "C" {
#include "utils/builtins.h"
}

namespace tenancy {

namespace {

// Copies bytes into a new text value.
Datum make_text(const char *data, int length)
{
	return PointerGetDatum(cstring_to_text_with_len(data, length));
}

// Copies a uuid into a new palloc'd value.
Datum make_uuid(const pg_uuid_t *value)
{
	pg_uuid_t *copy = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	memcpy(copy, value, sizeof(pg_uuid_t));
	return UUIDPGetDatum(copy);
}

} // namespace

// Returns a text Datum holding a copy of value.
Datum text_datum(const std::string &value)
{
	return pg_call(make_text, value.data(), static_cast<int>(value.size()));
}

// Returns a uuid Datum holding a copy of value.
Datum uuid_datum(const pg_uuid_t &value)
{
	return pg_call(make_uuid, &value);
}

// Returns the bytes of a (detoasted) text value.
std::string text_of(const text *value)
{
	return std::string(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

} // namespace tenancy
