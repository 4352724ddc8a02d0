// Checking that a trigger function was called the way it is written for.
#pragma once

extern "C" {
#include "postgres.h"
#include "commands/trigger.h"
}

namespace tenancy {

// The row operations a trigger function handles, as bits of a mask.
enum RowOperation : int { on_insert = 1, on_delete = 2, on_update = 4 };

// Returns the trigger data of a call of function (its SQL name) as a row
// trigger fired after one of the operations in the mask; throws a
// trigger_protocol_violated error naming them (expected) otherwise.
TriggerData *after_row_trigger(FunctionCallInfo fcinfo, const char *function, int operations, const char *expected);

} // namespace tenancy
