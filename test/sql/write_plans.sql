-- Writes check their tenant once. PostgreSQL applies a table's read policy
-- to every write that reads the table's columns (WHERE, SET x = x + 1,
-- RETURNING, ON CONFLICT, MERGE) and to SELECT ... FOR UPDATE, besides the
-- write policy. pg_tenancy drops its read policy's clause there: the write
-- policy's clause compares tenant_id with the same tenant, and the statement
-- check requires the read role before such a statement runs. Plain reads
-- keep the read policy's initplan, and so does MERGE, whose write policies
-- are checked per action rather than in its scan. Nothing else about what a write may
-- touch changes, which the second half checks.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

CREATE SCHEMA plans AUTHORIZATION app_owner;
GRANT USAGE ON SCHEMA plans TO PUBLIC;
SET ROLE app_owner;
CREATE TABLE plans.notes (id int PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON plans.notes TO PUBLIC;
SELECT tenancy.protect('plans.notes');
-- Drafts: members write them blind, only admins read them.
CREATE TABLE plans.drafts (id int PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON plans.drafts TO PUBLIC;
SELECT tenancy.protect('plans.drafts', read_role => 'admin', write_role => 'member');
-- A policy of the owner's own that reads like a write policy's clause does
-- not take the read policy's initplan away from plain reads.
CREATE TABLE plans.odd (id int PRIMARY KEY, tenant_id uuid, body text NOT NULL);
CREATE POLICY odd_extra ON plans.odd AS RESTRICTIVE FOR SELECT
    USING (tenant_id = tenancy.tenant_for('viewer', 'update', 'plans.odd'::regclass));
GRANT SELECT ON plans.odd TO PUBLIC;
SELECT tenancy.protect('plans.odd');
RESET ROLE;
SELECT id AS globex_id FROM tenancy.tenants WHERE slug = 'globex' \gset
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO plans.notes (id, body) VALUES (101, 'globex note');
RESET ROLE;

-- carol (admin of acme): one tenant condition per write, no initplan; the
-- plain read keeps its initplan.
SET ROLE carol;
SET tenancy.tenant = 'acme';
INSERT INTO plans.notes (id, body) VALUES (1, 'acme note'), (2, 'another');
EXPLAIN (COSTS OFF) SELECT body FROM plans.notes WHERE id = 1;
EXPLAIN (COSTS OFF) SELECT body FROM plans.odd WHERE id = 1;
EXPLAIN (COSTS OFF) UPDATE plans.notes SET body = body || '!' WHERE id = 1;
EXPLAIN (COSTS OFF) DELETE FROM plans.notes WHERE id = 1;
EXPLAIN (COSTS OFF) SELECT body FROM plans.notes WHERE id = 1 FOR UPDATE;
EXPLAIN (COSTS OFF) INSERT INTO plans.notes (id, body) VALUES (3, 'x') RETURNING id;
EXPLAIN (COSTS OFF) INSERT INTO plans.notes (id, body) VALUES (1, 'x')
    ON CONFLICT (id) DO UPDATE SET body = plans.notes.body || excluded.body RETURNING id;
EXPLAIN (COSTS OFF) WITH changed AS (UPDATE plans.notes SET body = 'y' WHERE id = 2 RETURNING id)
SELECT id FROM changed;
EXPLAIN (COSTS OFF) MERGE INTO plans.notes n USING (VALUES (1)) s(id) ON n.id = s.id
    WHEN MATCHED THEN UPDATE SET body = n.body || '?';

-- The same writes, run: each reaches acme's rows only.
UPDATE plans.notes SET body = body || '!' WHERE id IN (1, 101) RETURNING id, body;
SELECT body FROM plans.notes WHERE id = 1 FOR UPDATE;
SELECT id FROM plans.notes WHERE id = 101 FOR UPDATE;
DELETE FROM plans.notes WHERE id = 101 RETURNING id;
WITH changed AS (UPDATE plans.notes SET body = 'y' WHERE id IN (2, 101) RETURNING id)
SELECT id FROM changed;
MERGE INTO plans.notes n USING (VALUES (1), (101)) s(id) ON n.id = s.id
    WHEN MATCHED THEN UPDATE SET body = n.body || '?';
SELECT id, body FROM plans.notes ORDER BY id;
-- Moving a row into another tenant stays refused, with RETURNING too.
UPDATE plans.notes SET tenant_id = :'globex_id' WHERE id = 1 RETURNING id;
:sqlstate
INSERT INTO plans.notes (id, body, tenant_id) VALUES (3, 'sneaky', :'globex_id') RETURNING id;
:sqlstate
MERGE INTO plans.notes n USING (VALUES (1)) s(id) ON n.id = s.id
    WHEN MATCHED THEN UPDATE SET tenant_id = :'globex_id';
:sqlstate
-- ON CONFLICT onto globex's key is refused, never applied.
INSERT INTO plans.notes (id, body) VALUES (101, 'take over')
    ON CONFLICT (id) DO UPDATE SET body = excluded.body RETURNING id;
:sqlstate
RESET ROLE;
SELECT id, body FROM plans.notes ORDER BY id;

-- dave, a member, writes drafts blind; whatever would read them needs the
-- admin role, as it did when the read policy was checked row by row.
SET ROLE dave;
SET tenancy.tenant = 'acme';
INSERT INTO plans.drafts (id, body) VALUES (1, 'draft');
UPDATE plans.drafts SET body = 'all drafts';
INSERT INTO plans.drafts (id, body) VALUES (2, 'draft') RETURNING id;
:sqlstate
UPDATE plans.drafts SET body = 'first' WHERE id = 1;
:sqlstate
UPDATE plans.drafts SET body = body || '!';
:sqlstate
SELECT id FROM plans.drafts FOR UPDATE;
:sqlstate
INSERT INTO plans.drafts (id, body) VALUES (1, 'again') ON CONFLICT (id) DO UPDATE SET body = excluded.body;
:sqlstate
MERGE INTO plans.drafts d USING (VALUES (1)) s(id) ON d.id = s.id WHEN MATCHED THEN UPDATE SET body = 'merged';
:sqlstate
RESET ROLE;
SET ROLE carol;
SET tenancy.tenant = 'acme';
SELECT id, body FROM plans.drafts ORDER BY id;
RESET ROLE;

DROP SCHEMA plans CASCADE;
