-- Refused attempts to use a tenant are recorded in tenancy.access_denials,
-- durably: the record survives the rollback of the transaction that failed.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Everything refused by the earlier tests, by reason.
SELECT reason, actor, db_role, requested_tenant, tenant_id IS NOT NULL AS known_tenant
  FROM tenancy.access_denials ORDER BY id;

-- The proof: a denial inside a transaction that is then rolled back.
SELECT coalesce(max(id), 0) AS mark FROM tenancy.access_denials \gset
SET ROLE mallory;
BEGIN;
SET LOCAL tenancy.tenant = 'globex';
SELECT count(*) FROM app.invoices;
:sqlstate
ROLLBACK;
BEGIN;
SET LOCAL tenancy.tenant = 'globex';
SAVEPOINT s;
SELECT count(*) FROM app.invoices;
:sqlstate
ROLLBACK TO SAVEPOINT s;
ROLLBACK;
RESET ROLE;
SELECT reason, actor, db_role, requested_tenant, message, at <= now() AS timed
  FROM tenancy.access_denials WHERE id > :mark ORDER BY id;

-- Only platform admins read the denials.
SET ROLE alice;
SELECT count(*) FROM tenancy.access_denials;
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT count(*) > 0 AS admin_reads FROM tenancy.access_denials;
DELETE FROM tenancy.access_denials;
:sqlstate
RESET ROLE;
