// The name of a relation for messages.
#include "relation_name.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace tenancy {

// Returns the schema-qualified, quoted name of a relation.
const char *relation_name(Oid relid)
{
	char *name = get_rel_name(relid);
	char *schema = name ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
	return name && schema ? quote_qualified_identifier(schema, name) : "(dropped table)";
}

} // namespace tenancy
