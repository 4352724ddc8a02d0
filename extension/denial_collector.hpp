// The collector of access events: a background worker per database that
// writes the queued denials and platform admin entries into pg_tenancy's
// tables (see access_log.cpp).
#pragma once

namespace tenancy::denial_collector {

// Starts this database's collector unless one runs (or is starting on this
// session's request). Plain PostgreSQL code: call it through pg_call().
void ensure_running();

} // namespace tenancy::denial_collector
