// The rights a membership role gives on a protected table, and the errors
// that say which role an action needs.
#include "rights.hpp"
#include "boundary.hpp"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace tenancy::rights {

namespace {

// How an action is named in messages.
struct ActionNames {
	const char *verb;
	const char *gerund;
	bool writes;
};

const ActionNames names[] = {
	{"select", "Reading", false},
	{"insert", "Inserting", true},
	{"update", "Updating", true},
	{"delete", "Deleting", true},
};

// Returns the schema-qualified, quoted name of a relation.
const char *qualified_name(Oid relid)
{
	char *name = get_rel_name(relid);
	char *schema = name ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
	if (name == nullptr || schema == nullptr)
		return "(dropped table)";
	return quote_qualified_identifier(schema, name);
}

// Throws when the tenant's status makes it read-only: archived, or
// terminating (until it is deleted).
void require_writable(const context::Context &context, Oid relid)
{
	const char *state, *detail, *hint;
	switch (context.status) {
	case catalog::Status::archived:
		state = "archived";
		detail = "Archived tenants are read-only";
		hint = "A platform admin can make it writable again with tenancy.activate_tenant().";
		break;
	case catalog::Status::terminating:
		state = "terminating";
		detail = "A terminating tenant is read-only until it is deleted";
		hint = "A platform admin can restore it with tenancy.restore_tenant() within its grace period.";
		break;
	default:
		return;
	}
	std::string table = pg_call(qualified_name, relid);
	throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "tenant \"" + context.slug + "\" is " + state)
		.detail(std::string(detail) + "; rows of " + table + " cannot be changed.")
		.hint(hint);
}

} // namespace

// Parses the name of an action.
Action action_named(const char *verb, size_t length)
{
	for (int i = 0; i < 4; i++)
		if (length == strlen(names[i].verb) && memcmp(verb, names[i].verb, length) == 0)
			return static_cast<Action>(i);
	throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown action \"" + std::string(verb, length) + "\"")
		.detail("An action is one of select, insert, update, delete.");
}

// Throws unless the context allows the action on the table.
void require(const context::Context &context, catalog::Role required, Action action, Oid relid)
{
	const ActionNames &name = names[static_cast<int>(action)];
	if (name.writes)
		require_writable(context, relid);
	if (context.role < required) {
		std::string table = pg_call(qualified_name, relid);
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					std::string("permission denied to ") + name.verb + " rows of " + table)
			.detail(std::string(name.gerund) + " rows of " + table + " requires the \"" +
					catalog::role_name(required) + "\" role or higher in tenant \"" + context.slug +
					"\"; actor \"" + context.actor + "\" has the \"" + catalog::role_name(context.role) +
					"\" role.")
			.hint("An owner or admin of the tenant can change the role with tenancy.set_member_role().");
	}
}

} // namespace tenancy::rights
