// The one C++/PostgreSQL error boundary of pg_tenancy.
//
// PostgreSQL reports errors with longjmp; C++ with exceptions. They must never
// cross: a longjmp over live C++ objects skips their destructors, and a C++
// exception thrown through PG_TRY leaves PostgreSQL's error stack dangling.
//
//  * tenancy::guarded() wraps the body of every SQL-callable function and of
//    every hook that runs C++. It catches every exception, leaves the catch
//    block, and only then reports the error with ereport()/ReThrowError().
//    A tripwire notices when an exception escaped a PG_TRY block (which would
//    leave PG_exception_stack pointing into a dead frame) and repairs the
//    stacks before reporting, so that the mistake is logged, not a crash.
//  * tenancy::pg_call() runs PostgreSQL code that may ereport while C++
//    objects are alive. It catches the PostgreSQL error with PG_TRY, leaves
//    PG_TRY, and throws it on as tenancy::PgError.
//  * tenancy::Error is the exception our own code throws: SQLSTATE, message,
//    detail and hint, as PostgreSQL's style guide wants them.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace tenancy {

// An error found by pg_tenancy itself, reported as a PostgreSQL ERROR.
class Error : public std::exception {
public:
	// Creates an error with a SQLSTATE (ERRCODE_*) and a lowercase message.
	Error(int sqlstate, std::string message)
		: sqlstate_(sqlstate), message_(std::move(message)) {}

	// Adds a full-sentence detail.
	Error &&detail(std::string text) && { detail_ = std::move(text); return std::move(*this); }

	// Adds a full-sentence hint that says what to do.
	Error &&hint(std::string text) && { hint_ = std::move(text); return std::move(*this); }

	// Returns the primary message.
	const char *what() const noexcept override { return message_.c_str(); }

	int sqlstate_;
	std::string message_;
	std::string detail_;
	std::string hint_;
};

// A PostgreSQL error caught by pg_call(), carried through C++ frames.
class PgError : public std::exception {
public:
	// Takes ownership of a copy of PostgreSQL's error data.
	explicit PgError(ErrorData *data) : data_(data) {}

	// Returns the primary message of the PostgreSQL error.
	const char *what() const noexcept override { return data_->message ? data_->message : "error"; }

	ErrorData *data_;
};

// Copies the current PostgreSQL error out of ErrorContext and clears it.
ErrorData *take_pg_error(MemoryContext where);

// Runs fn(args...), turning a PostgreSQL error it raises into a PgError.
// fn must be plain C-style code: no C++ object with a destructor may live in
// it, and it must not throw, because PG_TRY is not exception safe.
template <typename Fn, typename... Args>
auto pg_call(Fn &&fn, Args &&...args) -> std::invoke_result_t<Fn, Args...>
{
	using Result = std::invoke_result_t<Fn, Args...>;
	static_assert(std::is_void_v<Result> || std::is_trivially_copyable_v<Result>,
				  "pg_call returns only trivially copyable values");
	MemoryContext caller_context = CurrentMemoryContext;
	ErrorData *volatile error = nullptr;

	if constexpr (std::is_void_v<Result>) {
		PG_TRY();
		{
			fn(std::forward<Args>(args)...);
		}
		PG_CATCH();
		{
			error = take_pg_error(caller_context);
		}
		PG_END_TRY();
		if (error != nullptr)
			throw PgError(error);
	} else {
		Result result{};
		Result *volatile slot = &result;
		PG_TRY();
		{
			*slot = fn(std::forward<Args>(args)...);
		}
		PG_CATCH();
		{
			error = take_pg_error(caller_context);
		}
		PG_END_TRY();
		if (error != nullptr)
			throw PgError(error);
		return result;
	}
}

// PostgreSQL's error stacks as they were when guarded() was entered.
struct ErrorStacks {
	sigjmp_buf *exception_stack;
	ErrorContextCallback *context_stack;
};

// Reports an exception caught by guarded(); never returns. Restores the error
// stacks saved on entry first, if an exception left them changed.
[[noreturn]] void report_exception(std::exception_ptr caught, const ErrorStacks &entry);

// Runs a C++ body (of a SQL-callable function or a hook) and reports any
// exception as a PostgreSQL error, from outside every catch block.
template <typename Body>
auto guarded(Body &&body) -> std::invoke_result_t<Body>
{
	ErrorStacks entry{PG_exception_stack, error_context_stack};
	std::exception_ptr caught;
	try {
		return body();
	} catch (...) {
		caught = std::current_exception();
	}
	report_exception(std::move(caught), entry);
}

} // namespace tenancy
