-- Nobody but a protected table's owner may create triggers on it or
-- reference it (TRIGGER and REFERENCES privileges), nobody but pg_tenancy
-- attaches its audit trigger, and no tenant member may lock every other
-- tenant out of a protected table.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- TRIGGER and REFERENCES on a protected table are refused, however granted;
-- the privileges tenants need are not.
SET ROLE app_owner;
GRANT TRIGGER ON app.invoices TO mallory;
:sqlstate
GRANT ALL ON app.invoices TO mallory;
:sqlstate
GRANT REFERENCES (id) ON app.invoices TO mallory;
:sqlstate
GRANT ALL ON ALL TABLES IN SCHEMA app TO mallory;
:sqlstate
GRANT SELECT, INSERT, UPDATE, DELETE ON app.invoices TO mallory;
RESET ROLE;
-- A superuser's grant too.
GRANT TRIGGER ON app.invoices TO mallory;
:sqlstate
SELECT privilege_type FROM information_schema.table_privileges
 WHERE table_schema = 'app' AND table_name = 'invoices' AND grantee = 'mallory' ORDER BY 1;

-- So the attack needs a privilege nobody has: a trigger that sends every
-- tenant's new rows to its author.
SET ROLE mallory;
CREATE FUNCTION pg_temp.leak() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leak', row_to_json(NEW)::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER leak AFTER INSERT ON app.invoices FOR EACH ROW EXECUTE FUNCTION pg_temp.leak();
:sqlstate
RESET ROLE;

-- Privileges granted before a table is protected are revoked by protect(),
-- which says so.
SET ROLE app_owner;
CREATE TABLE app.notes (id int PRIMARY KEY, body text);
GRANT ALL ON app.notes TO mallory;
GRANT REFERENCES (id) ON app.notes TO bob;
SELECT tenancy.protect('app.notes');
RESET ROLE;
SELECT grantee, privilege_type FROM information_schema.table_privileges
 WHERE table_schema = 'app' AND table_name = 'notes' AND grantee IN ('mallory', 'bob') ORDER BY 1, 2;
SELECT count(*) AS column_grants FROM information_schema.column_privileges
 WHERE table_schema = 'app' AND table_name = 'notes' AND grantee = 'bob';
-- With the guard switched off by a superuser, such a grant is an error in the
-- health check.
ALTER EVENT TRIGGER tenancy_guard_grants DISABLE;
GRANT TRIGGER ON app.notes TO mallory;
ALTER EVENT TRIGGER tenancy_guard_grants ENABLE;
SELECT severity, object, problem, hint FROM tenancy.health_check() WHERE object LIKE 'app.notes%';
REVOKE TRIGGER ON app.notes FROM mallory;

-- The audit trigger is attached by pg_tenancy only: nobody else may use it
-- to write rows of her choosing into her tenant's audit log...
SET ROLE erin;
CREATE TEMP TABLE forged (tenant_id uuid, note text);
CREATE TRIGGER forge AFTER INSERT ON forged FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger();
:sqlstate
RESET ROLE;
-- ...and attached to an unprotected table by a superuser, it refuses to run.
CREATE TABLE public.unprotected (tenant_id uuid, note text);
CREATE TRIGGER forge AFTER INSERT ON public.unprotected FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger();
INSERT INTO public.unprotected VALUES ((SELECT id FROM tenancy.tenants WHERE slug = 'acme'), 'forged');
:sqlstate
DROP TABLE public.unprotected;

-- LOCK TABLE in a mode stronger than ROW EXCLUSIVE would block every
-- tenant: a member is refused before the lock is even asked for.
SET ROLE dave;
SET tenancy.tenant = 'acme';
BEGIN;
LOCK TABLE app.invoices IN ACCESS EXCLUSIVE MODE;
:sqlstate
ROLLBACK;
BEGIN;
LOCK TABLE app.invoices IN SHARE MODE;
:sqlstate
ROLLBACK;
BEGIN;
LOCK TABLE app.invoices IN ROW EXCLUSIVE MODE;
SELECT count(*) > 0 AS works FROM app.invoices;
COMMIT;
-- TRUNCATE is refused before its lock too.
TRUNCATE app.invoices;
:sqlstate
RESET ROLE;
-- A view leads LOCK to its tables: what was locked is checked afterwards.
CREATE VIEW public.invoice_view AS SELECT * FROM app.invoices;
ALTER VIEW public.invoice_view OWNER TO dave;
SET ROLE dave;
BEGIN;
LOCK TABLE public.invoice_view IN ACCESS EXCLUSIVE MODE;
:sqlstate
ROLLBACK;
RESET ROLE;
DROP VIEW public.invoice_view;
-- The owner and platform admins may lock.
SET ROLE app_owner;
BEGIN;
LOCK TABLE app.invoices IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
RESET ROLE;
SET ROLE ops;
BEGIN;
LOCK TABLE app.invoices IN EXCLUSIVE MODE;
ROLLBACK;
RESET ROLE;

SET ROLE app_owner;
REVOKE ALL ON app.invoices FROM mallory;
DROP TABLE app.notes;
RESET ROLE;
