// Durable records of access decisions, at a bounded cost.
//
// A refused statement fails and its transaction rolls back, so its record
// cannot be written in that transaction. The session appends it to a queue
// file instead (access_log_queue.hpp: a few system calls, no waiting), and a
// collector worker of the database (denial_collector.cpp) writes the queue
// into tenancy.access_denials, aggregating repeated attempts, and the entries
// of platform admins into tenancy.audit_log. The session starts a collector
// when none runs; at most one runs per database, and it leaves when idle.
//
// On a standby nothing can be written: the record goes to the server log at
// once, and the user sees the refusal without delay.
#include "access_log.hpp"
#include "access_log_queue.hpp"
#include "boundary.hpp"
#include "denial_collector.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

#include <set>

namespace tenancy::access_log {

namespace {

using queue::Kind;
using queue::Record;

std::set<std::string> entered_tenants;
bool denials_muted = false; // while a MutedDenials is alive

// Copies text into a fixed field of a record, cut at a character boundary.
void put_text(char *field, size_t size, const std::string &text)
{
	int length = pg_mbcliplen(text.c_str(), static_cast<int>(text.size()), static_cast<int>(size) - 1);
	memcpy(field, text.data(), length);
	field[length] = '\0';
}

// Writes a record to the server log, when it cannot be queued.
void write_to_server_log(const Record *record)
{
	ereport(LOG,
			(errmsg("pg_tenancy %s recorded in the server log only",
					record->kind == Kind::denial ? "access denial" : "platform admin entry"),
			 errdetail("actor=\"%s\" db_role=\"%s\" requested_tenant=\"%s\" reason=%s message=\"%s\"",
					   record->actor, record->db_role, record->requested, record->reason, record->message),
			 errhint("%s", RecoveryInProgress() ? "A standby cannot write tenancy.access_denials."
												: "The queue of access events is full or cannot be written.")));
}

// Queues a record, or logs it; starts the collector if none runs.
void record(Record &record)
{
	record.at = GetCurrentTimestamp();
	queue::seal(record);
	bool standby = pg_call(RecoveryInProgress);
	if (!standby && queue::append(MyDatabaseId, record)) {
		pg_call(denial_collector::ensure_running);
		return;
	}
	pg_call(write_to_server_log, &record);
}

} // namespace

// Records a denial.
void record_denial(const Denial &denial)
{
	if (IsParallelWorker() || denials_muted)
		return; // the leader checks; a worker never refuses on its own
	Record record{};
	record.kind = Kind::denial;
	put_text(record.actor, sizeof(record.actor), denial.actor);
	put_text(record.db_role, sizeof(record.db_role), denial.db_role);
	put_text(record.requested, sizeof(record.requested), denial.requested_tenant);
	put_text(record.reason, sizeof(record.reason), denial.reason);
	put_text(record.message, sizeof(record.message), denial.message);
	record.has_tenant = denial.tenant_id != nullptr;
	if (record.has_tenant)
		record.tenant = *denial.tenant_id;
	access_log::record(record);
}

// Mutes record_denial() until destroyed.
MutedDenials::MutedDenials() : was_muted_(denials_muted)
{
	denials_muted = true;
}

// Restores recording as it was.
MutedDenials::~MutedDenials()
{
	denials_muted = was_muted_;
}

// Records, once per session, a platform admin entering a tenant.
void record_support_entry(const std::string &actor, const std::string &db_role, const pg_uuid_t &tenant)
{
	std::string key = actor + '\0' + std::string(reinterpret_cast<const char *>(tenant.data), UUID_LEN);
	if (entered_tenants.count(key) || IsParallelWorker())
		return;
	Record record{};
	record.kind = Kind::support_entry;
	put_text(record.actor, sizeof(record.actor), actor);
	put_text(record.db_role, sizeof(record.db_role), db_role);
	record.has_tenant = true;
	record.tenant = tenant;
	record.xid = GetTopFullTransactionIdIfAny();
	access_log::record(record);
	entered_tenants.insert(std::move(key));
}

} // namespace tenancy::access_log
