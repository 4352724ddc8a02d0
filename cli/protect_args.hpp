// The arguments of tenantctl protect, shared by its offline and online ways.
#pragma once

#include <string>

namespace tenantctl {

// What tenantctl protect was asked.
struct ProtectArgs {
	std::string table, read_role, write_role, delete_role;
	bool no_audit = false;
	bool strict = false;
	std::string backfill, backfill_from; // the tenant, or the expression, of rows without one
	bool online = false;
	std::string unassigned;              // --online: refuse | backfill
	int batch_rows = 0;                  // --online: rows per backfill transaction (0: the job's, or 10000)
	std::string lock_timeout = "200ms";  // --online: the longest wait for a lock that blocks the application
	int retries = 100;                   // --online: attempts of a step that timed out on a lock
};

class Session;

// Protects a table online: starts or resumes tenancy.protect_online() and
// runs its steps until the table is protected, retrying the steps that time
// out on a lock; on a terminal, shows a progress bar on standard error.
// Returns the line that reports it done.
std::string protect_online(Session &session, const ProtectArgs &args);

} // namespace tenantctl
