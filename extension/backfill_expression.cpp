// tenancy._check_backfill_expression(text): the backfill_from of
// tenancy.protect() and tenancy.protect_online() is pasted into the
// statements that place rows (and into the trigger that places the rows an
// application writes meanwhile), so it must be exactly one value expression:
// never a second statement, a set operation or a clause that would change the
// statement around it. It is parsed here, never run.
#include "boundary.hpp"
#include "datum.hpp"
#include "sql_function.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "parser/parser.h"
}

#include <string>

using namespace tenancy;

namespace {

// Says whether a parse tree is "SELECT (expression)" and nothing more.
bool is_single_expression(List *statements)
{
	if (list_length(statements) != 1)
		return false;
	Node *statement = linitial_node(RawStmt, statements)->stmt;
	if (!IsA(statement, SelectStmt))
		return false;
	auto *select = reinterpret_cast<SelectStmt *>(statement);
	return select->op == SETOP_NONE && select->fromClause == NIL && select->whereClause == NULL &&
		   select->groupClause == NIL && select->havingClause == NULL && select->windowClause == NIL &&
		   select->valuesLists == NIL && select->sortClause == NIL && select->limitCount == NULL &&
		   select->limitOffset == NULL && select->lockingClause == NIL && select->withClause == NULL &&
		   select->distinctClause == NIL && select->intoClause == NULL && list_length(select->targetList) == 1 &&
		   linitial_node(ResTarget, select->targetList)->name == nullptr;
}

} // namespace

// Raises unless the text is one SQL value expression.
TENANCY_SQL_FUNCTION(tenancy_check_backfill_expression)
{
	const text *value = PG_GETARG_TEXT_PP(0);
	guarded([&] {
		std::string expression = text_of(value);
		bool blank = expression.find_first_not_of(" \t\r\n") == std::string::npos;
		// Wrapped as it is pasted, on one line: a trailing comment swallows the
		// closing parenthesis here as it would there.
		if (blank || !is_single_expression(pg_call(raw_parser, ("SELECT (" + expression + ")").c_str(),
												   RAW_PARSE_DEFAULT)))
			throw Error(ERRCODE_SYNTAX_ERROR, "backfill_from must be one SQL expression")
				.detail("It is evaluated for each row without a tenant and yields the row's tenant: its uuid or its "
						"slug.")
				.hint("Write an expression over the row's columns, such as (SELECT o.slug FROM orgs o WHERE o.id = "
					  "org_id).");
		return 0;
	});
	PG_RETURN_VOID();
}
