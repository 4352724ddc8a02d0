-- Role rights on protected tables: refusals name the role needed, before any
-- row is read, so that even a statement matching no row is refused.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- erin is a viewer of acme: reads, never writes.
SET ROLE erin;
SET tenancy.tenant = 'acme';
SELECT count(*) FROM app.invoices;
INSERT INTO app.invoices (id, customer, amount) VALUES (10, 'By a viewer', 1);
:sqlstate
UPDATE app.invoices SET amount = amount + 1 WHERE id = 1;
:sqlstate
UPDATE app.invoices SET amount = amount + 1 WHERE id = 424242;
:sqlstate
DELETE FROM app.invoices WHERE id = 424242;
:sqlstate
SELECT id FROM app.invoices WHERE id = 1 FOR UPDATE;
:sqlstate
RESET ROLE;

-- dave is a member: reads and writes, but deleting needs admin.
SET ROLE dave;
SET tenancy.tenant = 'acme';
INSERT INTO app.invoices (id, customer, amount) VALUES (10, 'By a member', 1);
UPDATE app.invoices SET amount = 2 WHERE id = 10;
DELETE FROM app.invoices WHERE id = 10;
:sqlstate
DELETE FROM app.invoices WHERE false;
:sqlstate
INSERT INTO app.invoices (id, customer, amount) VALUES (11, 'Upserted', 1)
    ON CONFLICT (id) DO UPDATE SET amount = excluded.amount;
SELECT id, customer, amount FROM app.invoices WHERE id IN (10, 11) ORDER BY id;
RESET ROLE;

-- carol is an admin: deletes.
SET ROLE carol;
SET tenancy.tenant = 'acme';
DELETE FROM app.invoices WHERE id IN (10, 11);
SELECT id FROM app.invoices ORDER BY id;
RESET ROLE;

-- Per-table roles: app.projects is read by members, written by admins and
-- deleted by owners.
GRANT SELECT, INSERT, UPDATE, DELETE ON app.projects TO PUBLIC;
SET ROLE erin;
SET tenancy.tenant = 'acme';
SELECT count(*) FROM app.projects;
:sqlstate
RESET ROLE;
SET ROLE dave;
SET tenancy.tenant = 'acme';
SELECT count(*) FROM app.projects;
UPDATE app.projects SET name = 'renamed' WHERE id = 1;
:sqlstate
RESET ROLE;
SET ROLE carol;
SET tenancy.tenant = 'acme';
UPDATE app.projects SET name = 'renamed' WHERE id = 1;
DELETE FROM app.projects WHERE id = 1;
:sqlstate
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
DELETE FROM app.projects WHERE id = 1;
SELECT count(*) AS projects_left FROM app.projects;
RESET ROLE;

-- No tenant selected: any touch of a protected table is an error, even on
-- an empty result, and never returns or writes rows.
SET ROLE dave;
RESET tenancy.tenant;
SELECT count(*) FROM app.projects;
:sqlstate
SELECT id FROM app.invoices WHERE id = 424242;
:sqlstate
INSERT INTO app.invoices (id, customer, amount) VALUES (12, 'No tenant', 1);
:sqlstate
RESET ROLE;

-- An archived tenant is read-only for everyone, platform admins included.
SELECT tenancy.archive_tenant('acme', 'read-only for the audit');
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT count(*) FROM app.invoices;
UPDATE app.invoices SET amount = 1 WHERE id = 1;
:sqlstate
INSERT INTO app.invoices (id, customer, amount) VALUES (13, 'Archived', 1);
:sqlstate
RESET ROLE;
SET ROLE ops;
SET tenancy.tenant = 'acme';
DELETE FROM app.invoices WHERE id = 1;
:sqlstate
RESET ROLE;
SELECT tenancy.activate_tenant('acme');

-- A suspended tenant refuses its members' reads and writes.
SELECT tenancy.suspend_tenant('acme', 'security review');
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT count(*) FROM app.invoices;
:sqlstate
RESET ROLE;
SELECT tenancy.activate_tenant('acme');
RESET tenancy.tenant;
