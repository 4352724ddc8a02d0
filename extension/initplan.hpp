// Turning a function call into an initplan: computed once per execution of
// a statement, before its first row, and passed to parallel workers.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pathnodes.h"
#include "nodes/primnodes.h"
}

namespace tenancy::initplan {

// Returns a Param that a new initplan of root sets to the value of call (a
// call whose arguments are constants). Plain C-style code: PostgreSQL may
// raise errors through it.
Param *evaluate_once(PlannerInfo *root, const FuncExpr *call);

} // namespace tenancy::initplan
