// Tenant locks (see tenant_lock.hpp).
//
// Writers take the tenant's tag in AccessShareLock, so that they never wait
// for each other; removal takes it in AccessExclusiveLock. A transaction that
// writes into many tenants (a bulk load by a superuser) does not fill the lock
// table: from the 17th tenant on it holds one tag for all tenants in
// ShareLock instead, which every removal takes in RowExclusiveLock first.
//
// The check after the lock is what makes it correct: a removal that committed
// before the lock was granted has sent its invalidation message by then
// (PostgreSQL sends them at commit, before it releases locks), so the cached
// answer is dropped and the tenant is looked up again in the latest committed
// state.
#include "tenant_lock.hpp"
#include "boundary.hpp"
#include "catalog.hpp"
#include "generation_cache.hpp"
#include "invalidation.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
}

#include <cstring>
#include <string>
#include <unordered_set>

namespace tenancy::tenant_lock {

namespace {

// Where a tenant keeps its rows, as far as writes into protected tables care.
enum class Placement { missing, tables, elsewhere };

// The lock space of pg_tenancy's tags: locktag_field4 of advisory tags, which
// pg_advisory_lock() sets to 1 or 2.
constexpr uint16 lock_space = 29812;

// Tenants a transaction locks one by one before it locks them all.
constexpr size_t tenants_locked_one_by_one = 16;

// The tenants this transaction holds for writing, as 16-byte keys.
std::unordered_set<std::string> held;
// The last tenant of held, to answer the common case without hashing.
pg_uuid_t last_held{};
bool has_last = false;
// Whether this transaction holds the tag of all tenants.
bool holds_all = false;

// Whether tenants exist and keep their rows in protected tables (row mode),
// until the catalog changes.
GenerationMap<Placement> known_tenants(100000);

// Returns the 16-byte key of a tenant.
std::string key_of(const pg_uuid_t &tenant)
{
	return std::string(reinterpret_cast<const char *>(tenant.data), UUID_LEN);
}

// The lock space of the tags that additions of members take turns on.
constexpr uint16 member_seats_space = lock_space + 1;

// Fills the lock tag of a tenant, or of all tenants when tenant is null.
void set_tag(LOCKTAG *tag, const pg_uuid_t *tenant, uint16 space = lock_space)
{
	uint32 high = 0, low = 0;
	if (tenant != nullptr) {
		uint32 words[4];
		memcpy(words, tenant->data, sizeof(words));
		high = words[0] ^ words[2];
		low = words[1] ^ words[3];
	}
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, high, low, space);
}

// Acquires a tag in a mode for the rest of the transaction.
void acquire(const pg_uuid_t *tenant, LOCKMODE mode)
{
	LOCKTAG tag;
	set_tag(&tag, tenant);
	(void) LockAcquire(&tag, mode, false, false);
}

// Says where the tenant keeps its rows in the latest committed state (this
// transaction's own changes included), from the cache when still valid.
Placement placement_of(const pg_uuid_t &tenant)
{
	invalidation::catch_up();
	return known_tenants.get(key_of(tenant), [&] {
		catalog::Tenant found = catalog::find_tenant_by_id(tenant);
		if (!found.found)
			return Placement::missing;
		return found.isolation == catalog::Isolation::row ? Placement::tables : Placement::elsewhere;
	});
}

// Returns the text of a uuid (palloc'd).
char *uuid_text(const pg_uuid_t *tenant)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(tenant)));
}

// Throws the error of a row whose tenant does not exist.
[[noreturn]] void throw_missing(const pg_uuid_t &tenant)
{
	std::string text = pg_call(uuid_text, &tenant);
	throw Error(ERRCODE_FOREIGN_KEY_VIOLATION, "tenant " + text + " does not exist")
		.detail("Every row of a protected table belongs to a tenant of tenancy.tenants; this one was never "
				"created, or was dropped.")
		.hint("Create the tenant with tenancy.create_tenant() first, or set tenant_id to an existing tenant.");
}

// Throws the error of a row of a tenant that keeps its rows elsewhere: in
// its schema (since tenancy.move_tenant() moved it, perhaps while the writer
// waited for the move) or its database.
[[noreturn]] void throw_elsewhere(const pg_uuid_t &tenant)
{
	catalog::Tenant found = catalog::find_tenant_by_id(tenant);
	const char *where = found.isolation == catalog::Isolation::database ? "database" : "schema";
	throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
				"tenant \"" + found.slug + "\" keeps its rows in its own " + where + ", not in protected tables")
		.detail("Protected tables hold the rows of row-mode tenants only; tenant \"" + found.slug + "\" is in " +
				where + " mode (created so, or moved by tenancy.move_tenant()).")
		.hint("Run SELECT tenancy.enter('" + found.slug + "') again: its search path finds the tenant's tables.");
}

// Forgets every tenant this transaction held.
void forget_all() noexcept
{
	held.clear();
	has_last = false;
	holds_all = false;
}

// Locks are released when the transaction ends, and those taken in a
// subtransaction when it rolls back: forget them too.
void on_transaction_end(XactEvent event, void *arg) noexcept
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		forget_all();
}

// Forgets the tenants held when a subtransaction rolls back.
void on_subtransaction_end(SubXactEvent event, SubTransactionId subxact, SubTransactionId parent,
						   void *arg) noexcept
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_all();
}

// Holds the tenant until the transaction ends, checking where it keeps its
// rows; a delete may remove rows of a tenant that no longer exists.
void hold(const pg_uuid_t &tenant, bool deleting)
{
	if (has_last && memcmp(last_held.data, tenant.data, UUID_LEN) == 0)
		return;
	std::string key = key_of(tenant);
	if (held.count(key) == 0) {
		if (!holds_all && held.size() >= tenants_locked_one_by_one) {
			pg_call(acquire, nullptr, ShareLock);
			holds_all = true;
		}
		if (!holds_all)
			pg_call(acquire, &tenant, AccessShareLock);
		Placement placement = placement_of(tenant);
		if (placement == Placement::elsewhere)
			throw_elsewhere(tenant);
		if (placement == Placement::missing) {
			if (deleting)
				return;
			throw_missing(tenant);
		}
		held.insert(key);
	}
	last_held = tenant;
	has_last = true;
}

} // namespace

// Holds the tenant for writing until the transaction ends.
void hold_for_write(const pg_uuid_t &tenant)
{
	hold(tenant, false);
}

// Holds the tenant for deleting its rows until the transaction ends.
void hold_for_delete(const pg_uuid_t &tenant)
{
	hold(tenant, true);
}

// Holds the tenant for its removal until the transaction ends.
void hold_for_removal(const pg_uuid_t &tenant)
{
	pg_call(acquire, nullptr, RowExclusiveLock);
	pg_call(acquire, &tenant, AccessExclusiveLock);
}

// Takes the tenant's member seats tag exclusively until the transaction
// ends: additions of members to one tenant take turns, and nobody outside
// pg_tenancy can hold the tag (pg_advisory_lock() cannot name it).
void hold_member_seats(const pg_uuid_t &tenant)
{
	pg_call([&] {
		LOCKTAG tag;
		set_tag(&tag, &tenant, member_seats_space);
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
	});
}

// Records where the tenant keeps its rows, as of generation stamp.
void known_to_exist(const catalog::Tenant &tenant, uint64 stamp)
{
	known_tenants.put(key_of(tenant.id), stamp,
					  tenant.isolation == catalog::Isolation::row ? Placement::tables : Placement::elsewhere);
}

// Forgets that this transaction checked the tenant.
void forget(const pg_uuid_t &tenant)
{
	std::string key = key_of(tenant);
	held.erase(key);
	known_tenants.forget(key);
	has_last = false;
}

// Registers the callbacks.
void register_callbacks()
{
	RegisterXactCallback(on_transaction_end, nullptr);
	RegisterSubXactCallback(on_subtransaction_end, nullptr);
}

} // namespace tenancy::tenant_lock
