// The C++/PostgreSQL error boundary: turning exceptions into ereport() and
// PostgreSQL errors into exceptions. See boundary.hpp for the rules.
#include "boundary.hpp"

extern "C" {
#include "utils/memutils.h"
}

#include <cstdio>
#include <new>

namespace tenancy {

// Copies the current PostgreSQL error out of ErrorContext and clears it.
ErrorData *take_pg_error(MemoryContext where)
{
	MemoryContextSwitchTo(where);
	ErrorData *data = CopyErrorData();
	FlushErrorState();
	return data;
}

namespace {

// The parts of an exception kept in fixed buffers, so that copying them can
// neither allocate nor fail inside a catch block.
struct Report {
	int sqlstate = ERRCODE_INTERNAL_ERROR;
	char message[1024] = "";
	char detail[2048] = "";
	char hint[1024] = "";
	ErrorData *pg_error = nullptr;
};

// Copies text into a fixed buffer, truncating it if needed.
void copy_text(char *into, size_t size, const char *text)
{
	std::snprintf(into, size, "%s", text);
}

// Fills a Report from an exception; never throws.
void describe(std::exception_ptr caught, Report &report) noexcept
{
	try {
		std::rethrow_exception(caught);
	} catch (const PgError &e) {
		report.pg_error = e.data_;
	} catch (const Error &e) {
		report.sqlstate = e.sqlstate_;
		copy_text(report.message, sizeof(report.message), e.message_.c_str());
		copy_text(report.detail, sizeof(report.detail), e.detail_.c_str());
		copy_text(report.hint, sizeof(report.hint), e.hint_.c_str());
	} catch (const std::bad_alloc &) {
		report.sqlstate = ERRCODE_OUT_OF_MEMORY;
		copy_text(report.message, sizeof(report.message), "out of memory in pg_tenancy");
	} catch (const std::exception &e) {
		copy_text(report.message, sizeof(report.message), "internal error in pg_tenancy");
		copy_text(report.detail, sizeof(report.detail), e.what());
	} catch (...) {
		copy_text(report.message, sizeof(report.message), "internal error in pg_tenancy");
	}
}

} // namespace

// Reports an exception caught by guarded(); never returns.
void report_exception(std::exception_ptr caught, const ErrorStacks &entry)
{
	Report report;
	describe(caught, report);
	caught = nullptr; // frees the exception object before we longjmp

	// An exception thrown inside PG_TRY skips PG_END_TRY, which would have
	// restored PG_exception_stack; longjmp-ing to that dead frame would crash.
	if (PG_exception_stack != entry.exception_stack || error_context_stack != entry.context_stack) {
		PG_exception_stack = entry.exception_stack;
		error_context_stack = entry.context_stack;
		elog(WARNING, "pg_tenancy: an exception left a PG_TRY block; error stacks restored (please report this)");
	}

	if (report.pg_error != nullptr)
		ReThrowError(report.pg_error);

	ereport(ERROR,
			(errcode(report.sqlstate),
			 errmsg_internal("%s", report.message),
			 report.detail[0] ? errdetail_internal("%s", report.detail) : 0,
			 report.hint[0] ? errhint("%s", report.hint) : 0));
	pg_unreachable();
}

} // namespace tenancy
