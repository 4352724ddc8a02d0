// SQL-callable functions about the queue of access events:
// tenancy._access_log_pending().
#include "access_log_queue.hpp"
#include "boundary.hpp"
#include "sql_function.hpp"

extern "C" {
#include "miscadmin.h"
}

using namespace tenancy;

// tenancy._access_log_pending() returns how many access events of this
// database are queued and not yet written into pg_tenancy's tables.
TENANCY_SQL_FUNCTION(tenancy_access_log_pending)
{
	return guarded([&] {
		int64 pending = access_log::queue::pending(MyDatabaseId);
		if (pending < 0)
			throw Error(ERRCODE_IO_ERROR, "cannot read the queue of access events")
				.detail("The file pg_stat_tmp/pg_tenancy_access." + std::to_string(MyDatabaseId) +
						" of the data directory cannot be read.");
		return Int64GetDatum(pending);
	});
}
