// The statement trigger on tenancy.tenants and tenancy.memberships that makes
// a change reach every session: it queues a relcache invalidation of the
// table, which PostgreSQL delivers to all backends when the change commits
// (and to this backend at its next command).
#include "boundary.hpp"
#include "sql_function.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/rel.h"
}

using namespace tenancy;

namespace {

// Queues the invalidation of the trigger's table.
void queue_invalidation(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("tenancy.catalog_changed() must be called as a trigger")));
	TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigger->tg_relation));
}

} // namespace

// tenancy.catalog_changed() tells every session that the catalog changed.
TENANCY_SQL_FUNCTION(tenancy_catalog_changed)
{
	return guarded([&] {
		pg_call(queue_invalidation, fcinfo);
		return PointerGetDatum(nullptr);
	});
}
