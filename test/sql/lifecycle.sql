-- Termination with a grace period, restoration, purge, and the history of
-- each tenant (tenancy.tenant_events): who may do what, read-only while
-- terminating, purge at the end of the grace period with every row, other
-- tenants untouched, every bad input refused with nothing changed.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Two tenants with rows in a protected table: alice owns lc-one (dave is a
-- member there), bob owns lc-two.
SELECT tenancy.create_tenant('lc-one', 'Lifecycle One', owner => 'alice') IS NOT NULL AS created;
SELECT tenancy.create_tenant('lc-two', 'Lifecycle Two', owner => 'bob') IS NOT NULL AS created;
SELECT tenancy.add_member('lc-one', 'dave', 'member');
SET ROLE app_owner;
CREATE TABLE app.lc_items (id integer PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.lc_items TO PUBLIC;
SELECT tenancy.protect('app.lc_items');
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'lc-one';
INSERT INTO app.lc_items (id, body) VALUES (1, 'one-a'), (2, 'one-b');
SET ROLE bob;
SET tenancy.tenant = 'lc-two';
INSERT INTO app.lc_items (id, body) VALUES (3, 'two-a');
RESET tenancy.tenant;
RESET ROLE;

-- Only platform admins terminate, restore and purge: a tenant's own owner
-- cannot, and nothing changes.
SET ROLE alice;
SELECT tenancy.terminate_tenant('lc-one');
:sqlstate
SELECT tenancy.restore_tenant('lc-one');
:sqlstate
SELECT * FROM tenancy.purge_terminated();
:sqlstate
RESET ROLE;

-- Bad input, each refused with nothing changed: a negative or missing grace
-- period, an unknown or missing tenant, a missing moment for the purge.
SET ROLE ops;
SELECT tenancy.terminate_tenant('lc-one', '-1 day');
:sqlstate
SELECT tenancy.terminate_tenant('lc-one', '1 day - 2 days');
:sqlstate
SELECT tenancy.terminate_tenant('lc-one', NULL);
:sqlstate
SELECT tenancy.terminate_tenant('lc-nowhere');
:sqlstate
SELECT tenancy.terminate_tenant(NULL);
:sqlstate
SELECT * FROM tenancy.purge_terminated(NULL);
:sqlstate
SELECT * FROM tenancy.purge_terminated(lock_wait => '-1 s');
:sqlstate
SELECT tenancy.restore_tenant('lc-one');
:sqlstate
SELECT slug, status, status_reason, purge_after FROM tenancy.tenants WHERE slug LIKE 'lc-%' ORDER BY slug;

-- A platform admin terminates lc-one with a week of grace: the answer is
-- when the grace period ends.
SELECT tenancy.terminate_tenant('lc-one', '7 days', 'contract ended') = now() + interval '7 days' AS ends_in_a_week;
SELECT slug, status, status_reason, purge_after - updated_at AS grace
  FROM tenancy.tenants WHERE slug LIKE 'lc-%' ORDER BY slug;
-- Terminating again, or suspending, archiving or activating it, is refused:
-- the way back is restore_tenant(). (Terse: the details name the moment.)
\set VERBOSITY terse
SELECT tenancy.terminate_tenant('lc-one', '1 day');
:sqlstate
SELECT tenancy.suspend_tenant('lc-one');
:sqlstate
SELECT tenancy.archive_tenant('lc-one');
:sqlstate
SELECT tenancy.activate_tenant('lc-one');
:sqlstate
\set VERBOSITY default
RESET ROLE;

-- Members still read a terminating tenant (to take their data out), but no
-- write goes through, whatever their role.
SET ROLE alice;
SET tenancy.tenant = 'lc-one';
SELECT id, body FROM app.lc_items ORDER BY id;
INSERT INTO app.lc_items (id, body) VALUES (4, 'one-c');
:sqlstate
UPDATE app.lc_items SET body = 'changed' WHERE id = 1;
:sqlstate
DELETE FROM app.lc_items WHERE id = 2;
:sqlstate
-- Nor do changes of its members or settings by its owner.
SELECT tenancy.add_member('lc-one', 'erin', 'viewer');
:sqlstate
\set VERBOSITY terse
SELECT tenancy.set_tenant_setting('lc-one', 'theme', '"dark"');
:sqlstate
\set VERBOSITY default
SELECT id, body FROM app.lc_items ORDER BY id;
-- The other tenant is untouched and writable.
SET ROLE bob;
SET tenancy.tenant = 'lc-two';
INSERT INTO app.lc_items (id, body) VALUES (5, 'two-b');
SELECT id, body FROM app.lc_items ORDER BY id;
RESET tenancy.tenant;
RESET ROLE;

-- The history: owners and admins of the current tenant read its events,
-- members and other tenants' owners do not, and nobody edits them.
SET ROLE alice;
SET tenancy.tenant = 'lc-one';
-- (The actor is blank where it is the superuser running the tests.)
SELECT tenant, nullif(actor, session_user) AS actor, event, "from", "to", reason FROM tenancy.tenant_events ORDER BY id;
SELECT event, "from", "to" FROM tenancy.tenant_event_list('lc-one');
SELECT count(*) AS events_of_lc_two FROM tenancy.tenant_event_list('lc-two');
:sqlstate
UPDATE tenancy.tenant_events SET reason = 'forged';
:sqlstate
DELETE FROM tenancy.tenant_events;
:sqlstate
INSERT INTO tenancy.tenant_events (tenant_id, tenant, actor, event) SELECT tenant_id, tenant, 'alice', 'created'
  FROM tenancy.tenant_events LIMIT 1;
:sqlstate
SET ROLE dave;
SELECT count(*) AS seen_by_a_member FROM tenancy.tenant_events;
SELECT count(*) FROM tenancy.tenant_event_list('lc-one');
:sqlstate
SET ROLE bob;
SET tenancy.tenant = 'lc-two';
SELECT tenant, event, "from", "to" FROM tenancy.tenant_events ORDER BY id;
RESET tenancy.tenant;
SELECT count(*) AS seen_without_a_tenant FROM tenancy.tenant_events;
:sqlstate
RESET ROLE;

-- Owners coming and going are events too; a member who is not an owner is not.
SET ROLE ops;
SELECT tenancy.add_member('lc-two', 'carol', 'owner');
SELECT tenancy.set_member_role('lc-two', 'carol', 'admin');
SELECT tenancy.add_member('lc-two', 'erin', 'viewer');
SELECT tenancy.set_member_role('lc-two', 'erin', 'owner');
SELECT tenancy.set_member_active('lc-two', 'erin', false);
SELECT tenancy.remove_member('lc-two', 'erin');
SELECT nullif(actor, session_user) AS actor, event, "from", "to", details
  FROM tenancy.tenant_event_list('lc-two') WHERE event = 'owner' ORDER BY id;

-- Purge: nothing before the grace period ends, lc-one once it has; every
-- row of lc-one goes, lc-two keeps all of its own.
SELECT * FROM tenancy.purge_terminated();
SELECT * FROM tenancy.purge_terminated(now() + interval '6 days');
SELECT p.slug, p.tenant_id = e.tenant_id AS same_tenant, p.purge_after = (e.details->>'purge_after')::timestamptz AS its_grace_end,
       p.purged, p.problem
  FROM tenancy.purge_terminated(now() + interval '7 days') p
  JOIN tenancy.tenant_events e ON e.tenant = p.slug AND e.event = 'status';
SELECT slug, status FROM tenancy.tenants WHERE slug LIKE 'lc-%' ORDER BY slug;
RESET ROLE;
SET row_security = off;
SELECT id, body FROM app.lc_items ORDER BY id;
RESET row_security;
SELECT count(*) AS memberships_left FROM tenancy.memberships m
 WHERE NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.id = m.tenant_id);
-- A purged tenant is gone for its members; its history stays, for platform
-- admins, under its slug.
SET ROLE alice;
SET tenancy.tenant = 'lc-one';
SELECT count(*) FROM app.lc_items;
:sqlstate
RESET tenancy.tenant;
RESET ROLE;
SET ROLE ops;
SELECT nullif(actor, session_user) AS actor, nullif(db_role, session_user) AS db_role, event, "from", "to", reason
  FROM tenancy.tenant_event_list('lc-one') ORDER BY id;
SELECT tenancy.restore_tenant('lc-one');
:sqlstate
RESET ROLE;

-- Restore within the grace period: active and writable again, recorded.
SET ROLE ops;
SELECT tenancy.terminate_tenant('lc-two', '1 day') > now() AS terminating;
SELECT tenancy.restore_tenant('lc-two');
SELECT slug, status, status_reason, purge_after FROM tenancy.tenants WHERE slug = 'lc-two';
SELECT event, "from", "to" FROM tenancy.tenant_event_list('lc-two') WHERE event = 'status' ORDER BY id;
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'lc-two';
INSERT INTO app.lc_items (id, body) VALUES (6, 'two-c');
RESET tenancy.tenant;
RESET ROLE;

-- No grace at all: the grace period has ended at once, so it cannot be
-- restored, and the next purge (default: now) deletes it.
SET ROLE ops;
SELECT tenancy.terminate_tenant('lc-two', '0') = now() AS ends_now;
\set VERBOSITY terse
SELECT tenancy.restore_tenant('lc-two');
:sqlstate
\set VERBOSITY default
SELECT slug, purged FROM tenancy.purge_terminated();
SELECT count(*) AS lc_tenants_left FROM tenancy.tenants WHERE slug LIKE 'lc-%';
RESET ROLE;
SET row_security = off;
SELECT count(*) AS lc_rows_left FROM app.lc_items;
RESET row_security;

-- A superuser's direct change of a tenant's plan is an event too.
SELECT tenancy.create_tenant('lc-three', 'Lifecycle Three') IS NOT NULL AS created;
UPDATE tenancy.tenants SET plan = 'pro' WHERE slug = 'lc-three';
SELECT event, "from", "to" FROM tenancy.tenant_event_list('lc-three') ORDER BY id;
SELECT tenancy.drop_tenant('lc-three');

-- A tenant terminated while suspended goes back to suspended, with its
-- reason, when restored; a new reason for the same status is an event too.
SELECT tenancy.create_tenant('lc-four', 'Lifecycle Four', owner => 'dave') IS NOT NULL AS created;
SET ROLE ops;
SELECT tenancy.suspend_tenant('lc-four', 'invoice overdue');
SELECT tenancy.suspend_tenant('lc-four', 'invoice overdue twice');
SELECT tenancy.terminate_tenant('lc-four', '3 days', 'never paid') > now() AS terminating;
SELECT tenancy.restore_tenant('lc-four');
SELECT slug, status, status_reason, purge_after FROM tenancy.tenants WHERE slug = 'lc-four';
SELECT "from", "to", reason FROM tenancy.tenant_event_list('lc-four') WHERE event = 'status' ORDER BY id;
RESET ROLE;

-- A table owner's trigger that keeps a removed tenant's rows stops the
-- removal of that tenant (no row outlives its tenant): the purge reports it
-- and goes on with the next tenant; once the trigger is gone, the next purge
-- removes it with its rows.
SELECT tenancy.create_tenant('lc-five', 'Lifecycle Five', owner => 'alice') IS NOT NULL AS created;
SET ROLE alice;
SET tenancy.tenant = 'lc-five';
INSERT INTO app.lc_items (id, body) VALUES (10, 'five-a');
RESET tenancy.tenant;
RESET ROLE;
SET ROLE app_owner;
CREATE FUNCTION app.lc_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER lc_keep BEFORE DELETE ON app.lc_items FOR EACH ROW EXECUTE FUNCTION app.lc_keep();
RESET ROLE;
SET ROLE ops;
SELECT tenancy.terminate_tenant('lc-five', '0') = now() AS ends_now;
SELECT tenancy.terminate_tenant('lc-four', '0') = now() AS ends_now;
SELECT slug, purged, problem FROM tenancy.purge_terminated() ORDER BY slug;
SELECT slug, status FROM tenancy.tenants WHERE slug IN ('lc-four', 'lc-five') ORDER BY slug;
RESET ROLE;
SET ROLE app_owner;
DROP TRIGGER lc_keep ON app.lc_items;
DROP FUNCTION app.lc_keep();
RESET ROLE;
SET ROLE ops;
SELECT slug, purged, problem FROM tenancy.purge_terminated();
RESET ROLE;
SET row_security = off;
SELECT count(*) AS lc_rows_left FROM app.lc_items;
RESET row_security;

-- Rows reach no read-only tenant by the paths without policies either: a
-- backfill into a terminating tenant is refused, and so is a row written
-- into it while a table is being protected online.
SELECT tenancy.create_tenant('lc-six', 'Lifecycle Six', owner => 'alice') IS NOT NULL AS created;
SELECT tenancy.terminate_tenant('lc-six', '1 day') > now() AS terminating;
SET ROLE app_owner;
CREATE TABLE app.lc_legacy (id integer PRIMARY KEY, body text);
INSERT INTO app.lc_legacy VALUES (1, 'old');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.lc_legacy TO PUBLIC;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.protect('app.lc_legacy', backfill => 'lc-six');
:sqlstate
SELECT tenancy.protect_online('app.lc_legacy', backfill => 'lc-six');
:sqlstate
RESET ROLE;
SET ROLE app_owner;
DELETE FROM app.lc_legacy;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.protect_online('app.lc_legacy');
SELECT step FROM tenancy.protect_online_step('app.lc_legacy');
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'lc-six';
INSERT INTO app.lc_legacy (id, body) VALUES (2, 'late');
:sqlstate
RESET tenancy.tenant;
INSERT INTO app.lc_legacy (id, body, tenant_id) SELECT 3, 'named', tenant_id FROM tenancy.my_tenants() WHERE slug = 'lc-six';
:sqlstate
RESET ROLE;
SET row_security = off;
SELECT id, body, tenant_id IS NULL AS no_tenant_yet FROM app.lc_legacy ORDER BY id;
RESET row_security;
SELECT tenancy.protect_online_cancel('app.lc_legacy');
SET ROLE app_owner;
DROP TABLE app.lc_legacy;
RESET ROLE;
SELECT tenancy.drop_tenant('lc-six');

-- The constraint keeps a grace period only on terminating tenants.
\set VERBOSITY terse
UPDATE tenancy.tenants SET purge_after = now() WHERE slug = 'acme';
:sqlstate
\set VERBOSITY default

-- Clean up.
SELECT tenancy.unprotect('app.lc_items');
SET ROLE app_owner;
DROP TABLE app.lc_items;
RESET ROLE;
