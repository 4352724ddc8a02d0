-- Retention of the audit log: monthly partitions, dropped whole when old,
-- created ahead; and the arguments prune_audit() refuses.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Bad arguments and callers.
SELECT * FROM tenancy.prune_audit(NULL);
:sqlstate
SELECT * FROM tenancy.prune_audit('0 days');
:sqlstate
SELECT * FROM tenancy.prune_audit('-1 day');
:sqlstate
SET ROLE alice;
SELECT * FROM tenancy.prune_audit('90 days');
:sqlstate
RESET ROLE;

-- Until the first prune, every row is in the default partition.
SELECT count(*) AS total FROM tenancy.audit_log \gset
SELECT count(*) = :total AS all_in_default FROM tenancy.audit_log_default;

-- The first prune creates this month and the next two, moving this month's
-- rows out of the default partition; nothing is lost. It runs in the
-- transaction that has just written an audit row, whose partition the
-- writer keeps open: attaching the new partitions works all the same.
BEGIN;
SET LOCAL ROLE dave;
SET LOCAL tenancy.tenant = 'acme';
UPDATE app.invoices SET amount = amount WHERE id = 21;
RESET ROLE;
SELECT count(*) AS total FROM tenancy.audit_log \gset
SELECT action, rows > 0 AS moved_rows FROM tenancy.prune_audit('10 years') ORDER BY partition_name;
COMMIT;
SELECT count(*) = :total AS nothing_lost FROM tenancy.audit_log;
SELECT count(*) AS left_in_default FROM tenancy.audit_log_default;
SELECT count(*) AS monthly_partitions FROM pg_inherits
 WHERE inhparent = 'tenancy.audit_log'::regclass AND inhrelid <> 'tenancy.audit_log_default'::regclass;
-- A second prune has nothing to do.
SELECT count(*) AS actions FROM tenancy.prune_audit('10 years');

-- Old entries: a partition of January 2020, and a stray row in the default.
CREATE TABLE tenancy.audit_log_2020_01 PARTITION OF tenancy.audit_log
    FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2020-02-01 00:00+00');
INSERT INTO tenancy.audit_log (at, actor, db_role, operation)
SELECT '2020-01-15 12:00+00', 'old', 'old', 'INSERT' FROM generate_series(1, 3);
INSERT INTO tenancy.audit_log (at, actor, db_role, operation) VALUES ('2019-06-01 00:00+00', 'older', 'older', 'DELETE');
SELECT count(*) AS old_rows FROM tenancy.audit_log WHERE at < '2021-01-01';

-- Keeping one year drops the old partition whole and the stray row, and
-- keeps every recent row.
SELECT action, partition_name, rows FROM tenancy.prune_audit('1 year') ORDER BY partition_name;
SELECT to_regclass('tenancy.audit_log_2020_01') AS old_partition;
SELECT count(*) AS old_rows FROM tenancy.audit_log WHERE at < '2021-01-01';
SELECT count(*) = :total AS recent_rows_kept FROM tenancy.audit_log;

-- New audit rows land in this month's partition.
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SET ROLE dave;
SET tenancy.tenant = 'acme';
UPDATE app.invoices SET amount = amount WHERE id = 21;
RESET ROLE;
SELECT count(*) AS new_rows, bool_and(tableoid::regclass::text ~ '^tenancy\.audit_log_\d{4}_\d{2}$') AS monthly
  FROM tenancy.audit_log WHERE id > :mark;
RESET tenancy.tenant;

-- An index made on this month's partition in a subtransaction that rolls
-- back, with an audit row written in between: the rollback takes both, and
-- the next audit row is written without the vanished index.
SELECT coalesce(max(id), 0) AS mark FROM tenancy.audit_log \gset
SELECT format('tenancy.audit_log_%s', to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')) AS this_month \gset
BEGIN;
SET LOCAL ROLE dave;
SET LOCAL tenancy.tenant = 'acme';
UPDATE app.invoices SET amount = amount WHERE id = 21;
SAVEPOINT before_index;
RESET ROLE;
CREATE INDEX audit_actor_idx ON :this_month (actor);
SET LOCAL ROLE dave;
UPDATE app.invoices SET amount = amount WHERE id = 21;
ROLLBACK TO before_index;
UPDATE app.invoices SET amount = amount WHERE id = 21;
COMMIT;
SELECT count(*) AS new_rows FROM tenancy.audit_log WHERE id > :mark;
SELECT to_regclass('tenancy.audit_actor_idx') AS rolled_back_index;
RESET tenancy.tenant;
