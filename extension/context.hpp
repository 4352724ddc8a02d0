// The tenant context: which tenant the statement works in, validated against
// the tenant's status and the actor's membership at every use.
#pragma once

#include "catalog.hpp"
#include "identity.hpp"
#include "statement.hpp"

namespace tenancy::context {

// A validated tenant context.
struct Context {
	pg_uuid_t tenant_id{};
	std::string slug;
	catalog::Status status = catalog::Status::active;
	catalog::Role role = catalog::Role::none;
	bool support = false; // a platform admin who is not a member of the tenant
	std::string actor;
	std::string db_role;
};

// Returns the validated context of the current statement. Throws (after
// recording the denial) when no tenant is selected, the tenant does not
// exist, the actor is not an active member, the tenant is suspended, or a
// service role's tenant was set for the session instead of the transaction.
const Context &current();

// Returns the validated context of the current statement, or nullptr where
// current() would refuse; records no denial. For the planner's estimates,
// which must neither fail nor log anything.
const Context *current_quietly();

// Returns the validated context of other inputs than the statement's (see
// statement::peek()), or nullptr where it would be refused; records
// nothing.
const Context *quietly_for(const statement::Inputs &inputs);

// Returns the active role of actor in tenant (Role::none if not an active
// member), from the same cache as the context.
catalog::Role role_in(const pg_uuid_t &tenant, const std::string &actor);

} // namespace tenancy::context
