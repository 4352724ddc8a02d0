// The queue between a session that records an access event and the
// collector that writes it into pg_tenancy's tables: a file per database in
// pg_stat_tmp/, appended to under an exclusive flock() and emptied by the
// collector under the same lock. Appending costs a few system calls and never
// waits for a transaction; the file survives the rollback of the statement
// that was refused, and a server crash. pg_basebackup leaves pg_stat_tmp/
// out, so a standby never inherits a primary's queue.
#pragma once

#include "actor_names.hpp"

extern "C" {
#include "postgres.h"
#include "access/transam.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace tenancy::access_log::queue {

// What happened. Usage records (usage_meter.hpp) use the fields so:
// usage_writes: tenant, at (the UTC day's midnight), requested (the table's
// oid, in decimal) and message ("inserted updated deleted"); usage_actor:
// tenant, at (likewise) and actor.
enum class Kind : uint8 { denial = 1, support_entry = 2, usage_writes = 3, usage_actor = 4 };

// One event, as stored in the queue (fixed size, written with one write()).
struct Record {
	uint32 magic;
	Kind kind;
	bool has_tenant;
	TimestampTz at;
	FullTransactionId xid; // support entries: the transaction that entered
	pg_uuid_t tenant;
	char actor[actor_names::max_bytes + 1];
	char db_role[NAMEDATALEN];
	char requested[64];
	char reason[32];
	char message[512];
	uint32 checksum; // CRC-32C of every byte before it
};

// Largest queue, in bytes: past it, events go to the server log instead.
constexpr off_t max_bytes = 64 * 1024 * 1024;

// Seals a record (magic and checksum) before it is appended.
void seal(Record &record);

// Says whether a record read back is whole and unchanged.
bool intact(const Record &record);

// Appends a record to the queue of a database; false when it could not (the
// queue is full or cannot be written), and the caller logs it instead.
bool append(Oid database, const Record &record);

// Reads up to capacity records from the front of the queue of a database,
// leaving them there. Returns how many were read, or -1 when the queue
// cannot be read.
int peek(Oid database, Record *records, int capacity);

// Removes the first count records from the queue of a database, once they
// are written: until then they count as pending, and a crash in between
// leaves them to be written again rather than lost.
bool consume(Oid database, int count);

// Returns how many records the queue of a database holds (-1 when it cannot
// be read).
int64 pending(Oid database);

// Runs leave() while the queue is locked and empty, so that no record can be
// appended between the check and leave(); returns whether it ran.
bool when_empty(Oid database, void (*leave)());

} // namespace tenancy::access_log::queue
