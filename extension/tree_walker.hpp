// PostgreSQL 15's tree walkers (expression_tree_walker, query_tree_walker)
// take their callback as an untyped function pointer.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
}

namespace tenancy {

// The callback type PostgreSQL 15's tree walkers take.
using TreeWalker = bool (*)();

// Returns a typed walker function as the tree walkers take it.
inline TreeWalker as_tree_walker(bool (*walker)(Node *, void *))
{
	return reinterpret_cast<TreeWalker>(reinterpret_cast<void (*)()>(walker));
}

} // namespace tenancy
