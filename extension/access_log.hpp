// Durable records of access decisions: refused attempts to use a tenant
// (tenancy.access_denials) and platform admins entering a tenant they are not
// a member of (tenancy.audit_log, operation ENTER). Both must survive the
// rollback of the transaction that caused them.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/uuid.h"
}

#include <string>

namespace tenancy::access_log {

// A refused attempt to use a tenant.
struct Denial {
	std::string actor;            // who tried
	std::string db_role;          // the outer database role
	std::string requested_tenant; // tenancy.tenant as typed
	const pg_uuid_t *tenant_id;   // the tenant, when it exists
	std::string reason;           // unknown_tenant, not_member, ...
	std::string message;          // what the user was told
};

// Records a denial outside the current transaction (it survives its
// rollback), without waiting; falls back to the server log when that is
// impossible (a standby, a full queue), so that no denial is silently lost.
void record_denial(const Denial &denial);

// While one is alive, record_denial() records nothing: for checks whose
// refusal is not shown to anyone (the planner's estimates).
class MutedDenials {
public:
	MutedDenials();
	~MutedDenials();
	MutedDenials(const MutedDenials &) = delete;
	MutedDenials &operator=(const MutedDenials &) = delete;

private:
	bool was_muted_;
};

// Records, once per session, that a platform admin entered a tenant.
void record_support_entry(const std::string &actor, const std::string &db_role,
						  const pg_uuid_t &tenant);

} // namespace tenancy::access_log
