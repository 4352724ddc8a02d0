// tenancy._run_as_table_owner(statement): see table_owner.hpp. Called only by
// tenancy.as_table_owner(), which checks that the session's outer role is a
// platform admin of this database.
#include "table_owner.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "sql_function.hpp"

extern "C" {
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace tenancy::table_owner {

namespace {

int depth = 0; // statements of tenancy.as_table_owner() running now

// Runs SQL as the role with SPI; restores the caller's role and the depth
// however it ends.
void run_as(Oid role, const char *sql)
{
	Oid saved_user;
	int saved_context;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	depth++;
	SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		SPI_connect();
		int result = SPI_execute(sql, false, 0);
		if (result < 0)
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("SPI_execute failed: %s",
																	 SPI_result_code_string(result))));
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
		depth--;
	}
	PG_END_TRY();
}

} // namespace

// Says whether tenancy.as_table_owner() is running a statement.
bool acting_for_admin() noexcept
{
	return depth > 0;
}

} // namespace tenancy::table_owner

using namespace tenancy;

// tenancy._run_as_table_owner(statement) runs a statement as tenancy_table_owner.
TENANCY_SQL_FUNCTION(tenancy_run_as_table_owner)
{
	return guarded([&] {
		Oid role = catalog::table_owner_role();
		if (!OidIsValid(role))
			throw Error(ERRCODE_UNDEFINED_OBJECT, "role \"tenancy_table_owner\" does not exist")
				.hint("Reinstall the extension with DROP EXTENSION pg_tenancy; CREATE EXTENSION pg_tenancy.");
		const char *sql = pg_call([&] { return static_cast<const char *>(text_to_cstring(PG_GETARG_TEXT_PP(0))); });
		pg_call(table_owner::run_as, role, sql);
		return PointerGetDatum(nullptr);
	});
}
