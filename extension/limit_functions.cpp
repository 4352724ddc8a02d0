// SQL-callable checks of plan limits that PostgreSQL's own code judges best.
#include "boundary.hpp"
#include "datum.hpp"
#include "session_settings.hpp"
#include "sql_function.hpp"

using namespace tenancy;

// tenancy._setting_limit_problem(key, value) says what is wrong with a value
// of the statement_timeout or work_mem limit, or returns NULL.
TENANCY_SQL_FUNCTION(tenancy_setting_limit_problem)
{
	const text *key = PG_GETARG_TEXT_PP(0);
	const text *value = PG_GETARG_TEXT_PP(1);
	std::string problem = guarded([&] { return session_settings::limit_problem(text_of(key), text_of(value)); });
	if (problem.empty())
		PG_RETURN_NULL();
	return guarded([&] { return text_datum(problem); });
}
