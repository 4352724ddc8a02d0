// The step-by-step creation of a tenant on a terminal: welcome, name, slug
// (with a suggestion, checked by the server on the spot), plan (checked on
// the spot too), first owner, and a confirmation. Every rule is the server's; the wizard only asks.
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

} // namespace

// Fills in what is missing from the draft by asking the operator.
void complete_with_wizard(Session &session, TenantDraft &draft)
{
	std::cout << "Welcome to pg_tenancy. Let's create a tenant: its name, slug, plan and first owner.\n"
			  << "Press Enter to accept the value in brackets.\n\n";
	while (draft.name.empty()) {
		draft.name = ask("Tenant name");
		if (draft.name.empty())
			std::cout << "  a name is needed\n";
	}
	draft.slug = ask_slug(session, draft.name, draft.slug);
	if (draft.plan.empty())
		draft.plan = ask_plan(session);
	if (draft.owner.empty())
		draft.owner = ask("First owner: the actor (login role or application user) who owns it, Enter for none");

	std::cout << "\nTenant \"" << draft.name << "\" with slug " << draft.slug << ", plan "
			  << (draft.plan.empty() ? "(default)" : draft.plan) << ", owner "
			  << (draft.owner.empty() ? "(none)" : draft.owner) << ".\n";
	if (!confirm("Create it?"))
		throw UsageError("cancelled; nothing was created");
}

} // namespace tenantctl
