// Checking how a trigger function was called (see trigger_call.hpp).
#include "trigger_call.hpp"
#include "boundary.hpp"

#include <string>

namespace tenancy {

// Returns the trigger data of a row trigger fired after one of operations.
TriggerData *after_row_trigger(FunctionCallInfo fcinfo, const char *function, int operations, const char *expected)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, std::string(function) + " must be called as a trigger");
	auto *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
	int operation = TRIGGER_FIRED_BY_INSERT(trigger->tg_event)   ? on_insert
					: TRIGGER_FIRED_BY_DELETE(trigger->tg_event) ? on_delete
					: TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? on_update
																 : 0;
	if (!TRIGGER_FIRED_AFTER(trigger->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ||
		(operation & operations) == 0)
		throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
					std::string(function) + " must fire after " + expected + " for each row");
	return trigger;
}

} // namespace tenancy
