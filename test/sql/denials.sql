-- Refused attempts to use a tenant are recorded in tenancy.access_denials,
-- durably: the record survives the rollback of the transaction that failed.
-- Sessions queue them without waiting; a collector worker writes them and
-- aggregates repeated attempts (first and last time, number of attempts).
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Everything refused by the earlier tests, once the collector wrote it.
SELECT tenancy.wait_for_access_log() AS written;
SELECT reason, actor, db_role, requested_tenant, tenant_id IS NOT NULL AS known_tenant, attempts,
       last_at >= at AS ordered
  FROM tenancy.access_denials ORDER BY at, reason, actor;

-- The proof: denials inside transactions that are then rolled back, one of
-- them inside a savepoint. Earlier tests refused mallory in globex already
-- this hour, so these attempts add to that row: count the attempts.
SELECT coalesce(sum(attempts), 0) AS attempts_before, count(*) AS rows_before FROM tenancy.access_denials
 WHERE actor = 'mallory' AND reason = 'not_member' AND requested_tenant = 'globex' \gset
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
SELECT tenancy.wait_for_access_log() AS written;
SELECT sum(attempts) - :attempts_before AS recorded_despite_rollback, max(message) AS message,
       bool_and(at <= last_at) AS timed
  FROM tenancy.access_denials WHERE actor = 'mallory' AND reason = 'not_member' AND requested_tenant = 'globex';

-- Repeated attempts add to one row instead of filling the table (a second
-- row only if the hour turned meanwhile).
SET ROLE mallory;
SET tenancy.tenant = 'globex';
DO $$
BEGIN
    FOR i IN 1 .. 50 LOOP
        BEGIN
            PERFORM count(*) FROM app.invoices;
        EXCEPTION WHEN insufficient_privilege THEN NULL;
        END;
    END LOOP;
END
$$;
RESET tenancy.tenant;
RESET ROLE;
SELECT tenancy.wait_for_access_log() AS written;
SELECT sum(attempts) - :attempts_before AS recorded, count(*) - :rows_before <= 1 AS at_most_one_new_row
  FROM tenancy.access_denials WHERE actor = 'mallory' AND reason = 'not_member' AND requested_tenant = 'globex';

-- Only platform admins read the denials and the queue.
SET ROLE alice;
SELECT count(*) FROM tenancy.access_denials;
:sqlstate
SELECT tenancy.access_log_pending();
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT count(*) > 0 AS admin_reads, tenancy.access_log_pending() AS pending FROM tenancy.access_denials;
DELETE FROM tenancy.access_denials;
:sqlstate
RESET ROLE;
