// The command groups of tenantctl. Each registers its subcommands on the
// application; the one the operator chose leaves its action in the
// Invocation, which main() runs once parsing is done.
#pragma once

#include "output.hpp"
#include "session.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace tenantctl {

// What the command line asked for.
struct Invocation {
	std::string conninfo;                  // -d/--dbname
	Output output;                         // --output, --json, --no-headers
	std::function<void(Session &)> action; // the chosen command

	// Says whether results are printed as the server's JSON.
	bool json() const { return output.format == Format::json; }
};

// tenant create|list|show|suspend|activate|archive|drop
void add_tenant_commands(CLI::App &app, Invocation &invocation);
// tenant terminate|restore|purge|events, registered on the tenant group
void add_tenant_lifecycle_commands(CLI::App &tenant, Invocation &invocation);
// member add|set-role|remove|list
void add_member_commands(CLI::App &app, Invocation &invocation);
// admin grant|revoke|list|service
void add_admin_commands(CLI::App &app, Invocation &invocation);
// protect, unprotect, protected
void add_protect_commands(CLI::App &app, Invocation &invocation);
// domain add|remove|list
void add_domain_commands(CLI::App &app, Invocation &invocation);
// settings get|set|unset
void add_settings_commands(CLI::App &app, Invocation &invocation);
// plan create|list|show|set|drop
void add_plan_commands(CLI::App &app, Invocation &invocation);
// tenant limits, registered on the tenant group
void add_tenant_limits_command(CLI::App &tenant, Invocation &invocation);
// region define|list|drop
void add_region_commands(CLI::App &app, Invocation &invocation);
// alerts
void add_alert_commands(CLI::App &app, Invocation &invocation);
// usage
void add_usage_commands(CLI::App &app, Invocation &invocation);
// report --html
void add_report_command(CLI::App &app, Invocation &invocation);
// tenant set-region, registered on the tenant group
void add_tenant_region_command(CLI::App &tenant, Invocation &invocation);
// tenant export|import|clone, registered on the tenant group
void add_tenant_portability_commands(CLI::App &tenant, Invocation &invocation);
// tenant move, registered on the tenant group
void add_tenant_move_command(CLI::App &tenant, Invocation &invocation);
// pii mark|unmark|policy|list|request|requests|export|erase
void add_pii_commands(CLI::App &app, Invocation &invocation);
// migrate DIR
void add_migrate_command(CLI::App &app, Invocation &invocation);
// health
void add_health_command(CLI::App &app, Invocation &invocation);
// psql
void add_psql_command(CLI::App &app, Invocation &invocation);
// completion bash|zsh
void add_completion_command(CLI::App &app, Invocation &invocation);

// The step-by-step creation of a tenant on a terminal; fills what is missing.
struct TenantDraft {
	std::string slug, name, owner, plan, isolation, region;
};
void complete_with_wizard(Session &session, TenantDraft &draft);

// Returns a pointer to the text, or nullptr (SQL NULL) when it is empty.
inline const char *or_null(const std::string &text)
{
	return text.empty() ? nullptr : text.c_str();
}

} // namespace tenantctl
