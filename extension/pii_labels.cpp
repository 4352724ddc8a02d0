// The label provider "pg_tenancy" of the PII registry (pii_labels.hpp).
// tenancy.mark_pii(), unmark_pii() and set_erasure_policy() write the labels;
// a table's owner may also write them with SECURITY LABEL, and pg_restore
// does, so the provider checks every label itself.
#include "pii_labels.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/pg_class.h"
#include "commands/seclabel.h"
#include "utils/lsyscache.h"
}

#include <cstring>

namespace tenancy::pii_labels {

namespace {

// Says whether text is a kind of personal data: a lowercase letter, then at
// most 62 lowercase letters, digits or underscores.
bool valid_kind(const char *text, size_t length) noexcept
{
	if (length < 1 || length > 63 || text[0] < 'a' || text[0] > 'z')
		return false;
	for (size_t i = 1; i < length; ++i) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

// Says whether a label is a column's: pii:KIND or pii:KIND:subject.
bool valid_column_label(const char *label) noexcept
{
	if (strncmp(label, "pii:", 4) != 0)
		return false;
	const char *kind = label + 4;
	const char *end = strchr(kind, ':');
	if (end == nullptr)
		return valid_kind(kind, strlen(kind));
	return valid_kind(kind, static_cast<size_t>(end - kind)) && strcmp(end, ":subject") == 0;
}

// Says whether a label is a table's: erasure:redact, erasure:null or
// erasure:delete.
bool valid_table_label(const char *label) noexcept
{
	return strcmp(label, "erasure:redact") == 0 || strcmp(label, "erasure:null") == 0 ||
		   strcmp(label, "erasure:delete") == 0;
}

// Checks a label before PostgreSQL stores it (plain C: raises).
void check_label(const ObjectAddress *object, const char *label) noexcept
{
	if (label == nullptr)
		return; // removing a label is always allowed
	char relkind = object->classId == RelationRelationId ? get_rel_relkind(object->objectId) : '\0';
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
						errmsg("pg_tenancy labels only tables and their columns"),
						errhint("Use tenancy.mark_pii() to mark a column of a protected table.")));
	bool valid = object->objectSubId == 0 ? valid_table_label(label) : valid_column_label(label);
	if (!valid)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid pg_tenancy label \"%s\"", label),
						errdetail(object->objectSubId == 0
									  ? "A table's label is erasure:redact, erasure:null or erasure:delete."
									  : "A column's label is pii:KIND or pii:KIND:subject, KIND being lowercase "
										"letters, digits and underscores."),
						errhint("Use tenancy.mark_pii() and tenancy.set_erasure_policy().")));
}

} // namespace

// Registers the label provider.
void register_provider()
{
	register_label_provider("pg_tenancy", check_label);
}

} // namespace tenancy::pii_labels
