// The step-by-step creation of a tenant on a terminal: welcome, name, slug
// (with a suggestion, checked by the server on the spot), plan, region and
// isolation (each checked on the spot too), first owner, and a
// confirmation. Every rule is the server's; the wizard only asks.
#include "commands.hpp"
#include "errors.hpp"
#include "terminal.hpp"

#include <iostream>

namespace tenantctl {

namespace {

// Asks for a slug until the server accepts it. The server's suggestion for
// the name is offered as long as the server would accept it.
std::string ask_slug(Session &session, const std::string &name, std::string slug)
{
	std::string suggestion = session.value(
		"SELECT s FROM tenancy.suggest_slug($1) AS s WHERE tenancy.slug_problem(s) IS NULL", name);
	std::string offered = slug.empty() ? suggestion : slug;
	for (;;) {
		slug = ask("Slug (used in SET tenancy.tenant)", offered);
		std::string problem = session.value("SELECT tenancy.slug_problem($1)", slug);
		if (!slug.empty() && problem.empty())
			return slug;
		std::cout << "  " << (slug.empty() ? "a slug is needed" : problem) << "\n";
		offered = suggestion;
	}
}

// Asks for a plan until it is empty (the default) or one the server has;
// a wrong answer is told the plans there are.
std::string ask_plan(Session &session)
{
	for (;;) {
		std::string plan = ask("Plan (Enter for the default plan)");
		if (plan.empty() || session.value("SELECT count(*) FROM tenancy.plan_list() WHERE name = $1", plan) != "0")
			return plan;
		std::cout << "  plan \"" << plan << "\" does not exist; the plans are: "
				  << session.value("SELECT coalesce(string_agg(name, ', ' ORDER BY name), 'none yet') "
								   "FROM tenancy.plan_list()")
				  << "\n";
	}
}

// Asks for a region until it is empty (the default) or one the server has;
// a wrong answer is told the regions there are.
std::string ask_region(Session &session)
{
	std::string fallback = session.value(
		"SELECT coalesce(nullif(current_setting('tenancy.default_region', true), ''), 'default')");
	for (;;) {
		std::string region = ask("Region where its data lives (Enter for " + fallback + ")");
		if (region.empty() || session.value("SELECT count(*) FROM tenancy.region_list() WHERE name = $1", region) != "0")
			return region;
		std::cout << "  region \"" << region << "\" does not exist; the regions are: "
				  << session.value("SELECT coalesce(string_agg(name, ', ' ORDER BY name), 'none yet') "
								   "FROM tenancy.region_list()")
				  << "\n";
	}
}

// Asks for an isolation mode until it is empty (row) or one the server
// supports; a wrong answer is told why.
std::string ask_isolation(Session &session)
{
	for (;;) {
		std::string isolation = ask("Isolation: row, schema or database (Enter for row)");
		if (isolation.empty())
			return isolation;
		std::string problem = session.value("SELECT tenancy.isolation_problem($1)", isolation);
		if (problem.empty())
			return isolation;
		std::cout << "  " << problem << "\n";
	}
}

} // namespace

// Fills in what is missing from the draft by asking the operator.
void complete_with_wizard(Session &session, TenantDraft &draft)
{
	std::cout << "Welcome to pg_tenancy. Let's create a tenant: its name, slug, plan, region, isolation and first "
				 "owner.\n"
			  << "Press Enter to accept the value in brackets.\n\n";
	while (draft.name.empty()) {
		draft.name = ask("Tenant name");
		if (draft.name.empty())
			std::cout << "  a name is needed\n";
	}
	draft.slug = ask_slug(session, draft.name, draft.slug);
	if (draft.plan.empty())
		draft.plan = ask_plan(session);
	if (draft.region.empty())
		draft.region = ask_region(session);
	if (draft.isolation.empty())
		draft.isolation = ask_isolation(session);
	if (draft.owner.empty())
		draft.owner = ask("First owner: the actor (login role or application user) who owns it, Enter for none");

	std::cout << "\nTenant \"" << draft.name << "\" with slug " << draft.slug << ", plan "
			  << (draft.plan.empty() ? "(default)" : draft.plan) << ", region "
			  << (draft.region.empty() ? "(default)" : draft.region) << ", isolation "
			  << (draft.isolation.empty() ? "row" : draft.isolation) << ", owner "
			  << (draft.owner.empty() ? "(none)" : draft.owner) << ".\n";
	if (!confirm("Create it?"))
		throw UsageError("cancelled; nothing was created");
}

} // namespace tenantctl
