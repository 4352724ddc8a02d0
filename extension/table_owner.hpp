// Strict mode's owner, tenancy_table_owner: no role is its member, and a
// platform admin of the database acts as it only through
// tenancy.as_table_owner(), which runs a statement as that role. Code that
// runs as tenancy_table_owner anywhere else (an index expression during
// ANALYZE, say) is judged as tenancy_table_owner's own, not an admin's.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace tenancy::table_owner {

// Says whether a statement of tenancy.as_table_owner() is running.
bool acting_for_admin() noexcept;

} // namespace tenancy::table_owner
