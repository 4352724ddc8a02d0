-- The audit trail: one row per change with tenant, actor, role, values; who
-- may read it; nobody may change it; set_audit.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset

-- One audit row per INSERT, UPDATE and DELETE, with the row's own tenant.
SET ROLE dave;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices (id, customer, amount) VALUES (20, 'Audited', 5);
UPDATE app.invoices SET amount = 6 WHERE id = 20;
UPDATE app.invoices SET amount = 6 WHERE id = 20;
RESET ROLE;
SET ROLE carol;
DELETE FROM app.invoices WHERE id = 20;
RESET ROLE;
SELECT a.operation, t.slug AS tenant, a.actor, a.db_role, a.table_name, a.relid::regclass,
       a.old_row - 'tenant_id' AS old_row, a.new_row - 'tenant_id' AS new_row,
       a.old_row->>'tenant_id' = t.id::text OR a.new_row->>'tenant_id' = t.id::text AS row_tenant,
       a.xid IS NOT NULL AS has_xid, a.support_access, a.at <= now() AS timed
  FROM tenancy.audit_log a JOIN tenancy.tenants t ON t.id = a.tenant_id
 WHERE a.id > :mark ORDER BY a.id;

-- A trusted service writes on behalf of an application user: the actor is
-- the application user, the database role the service.
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE app_server;
BEGIN;
SET LOCAL tenancy.actor = 'alice@example.com';
SET LOCAL tenancy.tenant = 'acme';
INSERT INTO app.invoices (id, customer, amount) VALUES (21, 'Via the app', 7);
COMMIT;
RESET ROLE;
SELECT operation, actor, db_role, new_row->>'customer' AS customer FROM tenancy.audit_log WHERE id > :mark;

-- A rolled back change leaves no audit row: the audit is transactional.
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE dave;
BEGIN;
UPDATE app.invoices SET amount = 8 WHERE id = 21;
ROLLBACK;
RESET ROLE;
SELECT count(*) AS rows_after_rollback FROM tenancy.audit_log WHERE id > :mark;

-- Values are recorded exactly as to_jsonb() would: every common type.
CREATE TYPE app.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
SET ROLE app_owner;
CREATE TABLE app.typed (
    id int PRIMARY KEY, small int2, big int8, ratio float8, nan float8, price numeric, flag bool,
    label text, code varchar(10), padded char(5), day date, stamp timestamp, moment timestamptz,
    ident uuid, doc jsonb, raw json, tags text[], span interval, host inet, feeling app.mood,
    counted app.positive, nothing text
);
SELECT tenancy.protect('app.typed');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.typed TO PUBLIC;
RESET ROLE;
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE dave;
SET timezone = 'UTC';
INSERT INTO app.typed VALUES (1, -3, 9007199254740993, 0.1, 'NaN', 12345.678900, true, 'wörd "quoted"',
    'code', 'ab', '2026-11-22', '2026-11-22 10:11:12.5', '2026-11-22 10:11:12+02',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2, {"b": null}]}', '{"x" : 1}',
    ARRAY['a', NULL, 'c'], '1 day 2 hours', '10.0.0.1/8', 'happy', 42, NULL);
RESET ROLE;
SELECT a.new_row = to_jsonb(t) AS same_as_to_jsonb FROM tenancy.audit_log a, app.typed t
 WHERE a.id > :mark AND t.id = 1;
SELECT new_row - 'tenant_id' FROM tenancy.audit_log WHERE id > :mark;
-- UPDATE records the old row and the new values of the changed columns only.
SET ROLE dave;
UPDATE app.typed SET label = 'changed', tags = NULL, day = day WHERE id = 1;
RESET ROLE;
SELECT u.new_row AS changed, u.old_row = i.new_row AS old_row_is_inserted_row
  FROM tenancy.audit_log u, tenancy.audit_log i
 WHERE u.id > :mark AND u.operation = 'UPDATE' AND i.id > :mark AND i.operation = 'INSERT';
RESET timezone;

-- A table of scalar columns only is converted without building nested
-- containers: the result must still be exactly to_jsonb()'s.
SET ROLE app_owner;
CREATE TABLE app.scalars (
    id int PRIMARY KEY, small int2, big int8, ratio float8, nan float8, price numeric, flag bool, label text,
    code varchar(10), padded char(5), day date, stamp timestamp, moment timestamptz, ident uuid,
    counted app.positive, nothing text, "a longer column name" text, b text
);
SELECT tenancy.protect('app.scalars');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.scalars TO PUBLIC;
RESET ROLE;
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE dave;
SET timezone = 'America/New_York';
INSERT INTO app.scalars VALUES (1, 7, -9007199254740993, 1.5e300, '-Infinity', -0.000100, false, 'üñí "x"',
    'c', 'abc', '2026-02-28', '2026-11-22 23:59:59.999999', '2026-11-22 10:11:12.25+00',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 1, NULL, 'long', 'short');
UPDATE app.scalars SET flag = true, moment = moment + interval '1 day', nothing = 'now set', b = b WHERE id = 1;
RESET ROLE;
SELECT i.new_row = to_jsonb(s) - 'flag' - 'moment' - 'nothing' || jsonb_build_object('flag', false,
           'moment', '2026-11-22T05:11:12.25-05:00', 'nothing', NULL) AS insert_same_as_to_jsonb,
       u.old_row = i.new_row AS old_row_is_inserted_row,
       u.new_row = jsonb_build_object('flag', true, 'moment', to_jsonb(s.moment), 'nothing', 'now set') AS changed_only,
       u.new_row
  FROM tenancy.audit_log i, tenancy.audit_log u, app.scalars s
 WHERE i.id > :mark AND i.operation = 'INSERT' AND u.id > :mark AND u.operation = 'UPDATE';
RESET timezone;

-- Readers: a tenant's owners and admins read its entries; members and
-- viewers none; other tenants' owners none of it; platform admins all.
SET ROLE carol;
SELECT count(*) > 0 AS sees_acme,
       count(*) FILTER (WHERE tenant_id <> tenancy.current_tenant_id()) AS sees_others
  FROM tenancy.audit_log;
RESET ROLE;
SET ROLE dave;
SELECT count(*) AS member_sees FROM tenancy.audit_log;
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT count(*) > 0 AS sees_globex,
       count(*) FILTER (WHERE tenant_id <> tenancy.current_tenant_id()) AS sees_others
  FROM tenancy.audit_log;
RESET ROLE;
SET ROLE ops;
RESET tenancy.tenant;
SELECT count(DISTINCT tenant_id) >= 2 AS admin_sees_all FROM tenancy.audit_log;
RESET ROLE;
-- Without a tenant, a tenant admin reads nothing: the query is refused.
SET ROLE carol;
SELECT count(*) FROM tenancy.audit_log;
:sqlstate
RESET ROLE;
-- Membership changes are audited too, so tenant admins see who added whom.
SELECT tenancy.add_member('acme', 'henry', 'viewer');
SET ROLE carol;
SET tenancy.tenant = 'acme';
SELECT operation, table_name, new_row->>'actor' AS member, new_row->>'role' AS role
  FROM tenancy.audit_log WHERE table_name = 'tenancy.memberships' ORDER BY id DESC LIMIT 1;
RESET ROLE;
SELECT tenancy.remove_member('acme', 'henry');

-- Nobody edits or deletes entries, not even the tenant's owner or the table owner.
SET ROLE alice;
UPDATE tenancy.audit_log SET actor = 'someone else';
:sqlstate
DELETE FROM tenancy.audit_log;
:sqlstate
TRUNCATE tenancy.audit_log;
:sqlstate
INSERT INTO tenancy.audit_log (actor, db_role, operation) VALUES ('forged', 'forged', 'INSERT');
:sqlstate
RESET ROLE;
SET ROLE app_owner;
DELETE FROM tenancy.audit_log;
:sqlstate
RESET ROLE;

-- A platform admin working in a tenant she is not a member of is flagged,
-- and her entry into the tenant is recorded (durably, once per session:
-- one ENTER row for the two statements, written by the collector worker).
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE ops;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices (id, customer, amount) VALUES (22, 'Support fix', 1);
UPDATE app.invoices SET amount = 2 WHERE id = 22;
RESET ROLE;
SELECT tenancy.wait_for_access_log() AS written;
SELECT operation, actor, support_access, table_name FROM tenancy.audit_log WHERE id > :mark ORDER BY id;

-- set_audit: only platform admins switch it off; bad arguments.
SET ROLE app_owner;
SELECT tenancy.set_audit('app.typed', false);
:sqlstate
RESET ROLE;
SELECT tenancy.set_audit('app.typed', false);
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE dave;
UPDATE app.typed SET label = 'unaudited' WHERE id = 1;
RESET ROLE;
SELECT count(*) AS audited_while_off FROM tenancy.audit_log WHERE id > :mark;
SET ROLE app_owner;
SELECT tenancy.set_audit('app.typed', true);
RESET ROLE;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.typed'::regclass AND tgname = 'tenancy_audit';
SELECT tenancy.set_audit('app.typed', NULL);
:sqlstate
SELECT tenancy.set_audit('app.no_such_table', true);
:sqlstate
CREATE TABLE app.unprotected (id int);
SELECT tenancy.set_audit('app.unprotected', true);
:sqlstate
DROP TABLE app.unprotected;

-- TRUNCATE by a platform admin is allowed, and audited.
SET ROLE app_owner;
CREATE TABLE app.scratch (id int);
SELECT tenancy.protect('app.scratch');
GRANT TRUNCATE ON app.scratch TO ops;
RESET ROLE;
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE ops;
TRUNCATE app.scratch;
RESET ROLE;
SELECT operation, actor, table_name, tenant_id FROM tenancy.audit_log WHERE id > :mark;
DROP TABLE app.scratch;
RESET tenancy.tenant;

-- Transactions committed and rolled back inside a DO block (or procedure):
-- each committed change is audited once, the rolled-back one not at all.
SET ROLE app_owner;
CREATE TABLE app.in_procedure (id int PRIMARY KEY, note text);
SELECT tenancy.protect('app.in_procedure');
GRANT SELECT, INSERT ON app.in_procedure TO PUBLIC;
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
DO $$
BEGIN
    INSERT INTO app.in_procedure VALUES (1, 'committed');
    COMMIT;
    INSERT INTO app.in_procedure VALUES (2, 'rolled back');
    ROLLBACK;
    INSERT INTO app.in_procedure VALUES (3, 'committed too');
    COMMIT;
END
$$;
SELECT id, note FROM app.in_procedure ORDER BY id;
SELECT operation, new_row->>'note' AS note FROM tenancy.audit_log
 WHERE table_name = 'app.in_procedure' ORDER BY id;
RESET tenancy.tenant;
RESET ROLE;
SELECT tenancy.unprotect('app.in_procedure');
DROP TABLE app.in_procedure;
