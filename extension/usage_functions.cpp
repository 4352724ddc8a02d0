// SQL-callable functions of usage metering: tenancy._flush_usage().
#include "boundary.hpp"
#include "sql_function.hpp"
#include "usage_meter.hpp"

using namespace tenancy;

// tenancy._flush_usage() queues this session's committed usage counts now
// and starts the collector.
TENANCY_SQL_FUNCTION(tenancy_flush_usage)
{
	return guarded([&] {
		usage_meter::flush();
		return PointerGetDatum(nullptr);
	});
}
