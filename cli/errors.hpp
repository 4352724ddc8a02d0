// The ways a tenantctl command ends, and their exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace tenantctl {

// Exit codes: 0 ok, 1 the database refused or a check failed, 2 usage error,
// 3 cannot connect.
enum ExitCode { exit_ok = 0, exit_refused = 1, exit_usage = 2, exit_no_connection = 3 };

// A command used the wrong way: missing arguments without a terminal, a
// confirmation not given.
class UsageError : public std::runtime_error {
public:
	// Creates a usage error with the message shown to the operator.
	explicit UsageError(const std::string &message) : std::runtime_error(message) {}
};

// A check that ran and found a problem (its findings are already printed).
class CheckFailed : public std::runtime_error {
public:
	// Creates a failed check with a one-line summary.
	explicit CheckFailed(const std::string &summary) : std::runtime_error(summary) {}
};

// Something tenantctl itself refuses to go on with (a damaged export, a
// directory in the way), with what to do about it.
class Refusal : public std::runtime_error {
public:
	// Creates a refusal: message, then detail and hint as full sentences.
	Refusal(const std::string &message, std::string detail, std::string hint)
		: std::runtime_error(message), detail(std::move(detail)), hint(std::move(hint))
	{
	}
	std::string detail, hint;
};

} // namespace tenantctl
