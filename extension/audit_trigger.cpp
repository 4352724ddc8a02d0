// tenancy.audit_trigger(): the AFTER ROW trigger of protected tables (and of
// tenancy.memberships and tenancy.tenants). One audit row per changed row,
// with the tenant taken from the row itself, the actor and database role from
// the session, old and new values as jsonb, the transaction id, and whether a
// platform admin did it from outside the tenant.
#include "audit_columns.hpp"
#include "audit_writer.hpp"
#include "boundary.hpp"
#include "catalog_load.hpp"
#include "context.hpp"
#include "protected_tables.hpp"
#include "sql_function.hpp"
#include "trigger_call.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/rel.h"
}

using namespace tenancy;

namespace {

// Refuses to audit a table that is neither protected nor pg_tenancy's own
// tenants or memberships: attached to any other table (by a superuser; nobody
// else may use it), it would write rows of the writer's choosing into the log.
void require_audited_table(Oid relid)
{
	if (protected_tables::find(relid) != nullptr || catalog::audits_itself(relid))
		return;
	throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "tenancy.audit_trigger() audits only protected tables")
		.detail("The table it was fired for is not protected by pg_tenancy.")
		.hint("Protect the table with tenancy.protect(), which installs the audit trigger itself.");
}

// Describes the row change of a trigger call as an audit event.
void describe_change(TriggerData *trigger, audit::AuditEvent *event)
{
	Relation rel = trigger->tg_relation;
	TupleDesc desc = RelationGetDescr(rel);
	const char *tenant_column = trigger->tg_trigger->tgnargs > 0 ? trigger->tg_trigger->tgargs[0] : "tenant_id";
	const audit::AuditTable *table = audit::audit_table(rel, tenant_column);
	HeapTuple row = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;

	event->table_name = audit::qualified_name(table);
	event->relid = RelationGetRelid(rel);
	event->tenant = audit::row_tenant(table, row, desc, &event->tenant_null);
	if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event)) {
		event->operation = "INSERT";
		event->new_row = audit::row_to_jsonb(table, trigger->tg_trigtuple, desc);
	} else if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)) {
		event->operation = "UPDATE";
		event->old_row = audit::row_to_jsonb(table, trigger->tg_trigtuple, desc);
		event->new_row = audit::changed_columns_to_jsonb(table, trigger->tg_trigtuple, trigger->tg_newtuple, desc);
	} else {
		event->operation = "DELETE";
		event->old_row = audit::row_to_jsonb(table, trigger->tg_trigtuple, desc);
	}
}

// Says whether a platform admin changed a row of a tenant they are not an
// active member of.
bool is_support_access(const identity::Identity &who, const audit::AuditEvent &event)
{
	if (!who.platform_admin || event.tenant_null)
		return false;
	return context::role_in(*DatumGetUUIDP(event.tenant), who.actor) == catalog::Role::none;
}

} // namespace

// tenancy.audit_trigger() records one row change in tenancy.audit_log.
TENANCY_SQL_FUNCTION(tenancy_audit_trigger)
{
	return guarded([&] {
		TriggerData *trigger = after_row_trigger(fcinfo, "tenancy.audit_trigger()", on_insert | on_update | on_delete,
											  "INSERT, UPDATE or DELETE");
		require_audited_table(RelationGetRelid(trigger->tg_relation));
		// A restore's COPY into the catalog: the dump holds the audit rows.
		if (catalog_load::is_loading(RelationGetRelid(trigger->tg_relation)))
			return PointerGetDatum(nullptr);
		const identity::Identity &who = identity::current();
		audit::AuditEvent event;
		pg_call(describe_change, trigger, &event);
		event.support_access = is_support_access(who, event);
		audit::write_audit_row(event, who.actor, who.db_role);
		return PointerGetDatum(nullptr);
	});
}
