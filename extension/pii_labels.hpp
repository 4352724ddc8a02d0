// The PII registry is kept as security labels of provider "pg_tenancy"
// (pg_seclabel), the way PostgreSQL keeps facts about a column: a label
// follows the column through renames, goes with it when it is dropped, and
// pg_dump writes it back with the table. A column's label is "pii:KIND" or
// "pii:KIND:subject"; a table's is "erasure:redact|null|delete".
#pragma once

namespace tenancy::pii_labels {

// Registers the label provider "pg_tenancy", which accepts only labels of
// the forms above on tables and their columns.
void register_provider();

} // namespace tenancy::pii_labels
