// SQL-callable functions of usage metering: tenancy._flush_usage().
#include "boundary.hpp"
#include "sql_function.hpp"
#include "usage_meter.hpp"

using namespace tenancy;

// tenancy._flush_usage() queues this session's committed usage counts now
// and starts the collector, once per transaction; false when this
// transaction did so already.
TENANCY_SQL_FUNCTION(tenancy_flush_usage)
{
	return guarded([&] { return BoolGetDatum(usage_meter::flush()); });
}
