-- A tenant's statement_timeout and work_mem (from its plan, or its own
-- limits) and its timezone setting apply to every statement of a session
-- while the tenant is selected; the session cannot SET its way out, and gets
-- its own values back when it selects no tenant or another one.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

-- Acme's plan gives 200ms and 3MB; Globex has no such limits.
SET ROLE ops;
SELECT tenancy.create_plan('timed', limits => '{"statement_timeout": "200ms", "work_mem": "3MB"}');
SELECT tenancy.set_plan('acme', 'timed');
RESET ROLE;

SET ROLE alice;
SHOW statement_timeout;
SHOW work_mem;
SET tenancy.tenant = 'acme';
SHOW statement_timeout;
SHOW work_mem;
-- The timeout cancels a statement that runs longer.
SELECT pg_sleep(1);
:sqlstate
-- Setting the session's own values does not lift the tenant's.
SET statement_timeout = 0;
SET work_mem = '64MB';
SHOW statement_timeout;
SHOW work_mem;
SELECT pg_sleep(1);
:sqlstate
-- Nor does a transaction's, nor several statements in one message.
BEGIN;
SET LOCAL statement_timeout = '1h';
SELECT pg_sleep(1);
:sqlstate
ROLLBACK;
SET statement_timeout = 0 \; SELECT pg_sleep(1);
:sqlstate
-- No tenant selected: the session's own values are back.
RESET tenancy.tenant;
SHOW statement_timeout;
SHOW work_mem;
SELECT pg_sleep(0.3) AS slept_without_a_timeout;
RESET statement_timeout;
RESET work_mem;
RESET ROLE;

-- Behind a pooler: SET LOCAL in a transaction; nothing stays after it.
SET ROLE alice;
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SHOW statement_timeout;
COMMIT;
SHOW statement_timeout;
-- Another tenant selected in the same transaction: the values it had
-- before come back.
SET ROLE bob;
SET tenancy.tenant = 'globex';
SHOW statement_timeout;
RESET ROLE;
SET ROLE alice;
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SELECT 1 AS in_acme;
SHOW statement_timeout;
RESET ROLE;
SET ROLE bob;
SET LOCAL tenancy.tenant = 'globex';
SHOW statement_timeout;
COMMIT;
RESET tenancy.tenant;
RESET ROLE;

-- A cursor runs with its own tenant's settings, whatever the session
-- selects when it fetches; the statement after gets the session's back.
SET ROLE alice;
SET tenancy.tenant = 'acme';
BEGIN;
DECLARE settings_seen CURSOR FOR
    SELECT current_setting('statement_timeout') AS timeout, current_setting('work_mem') AS memory;
DECLARE slow_rows CURSOR FOR SELECT pg_sleep(0.3) FROM generate_series(1, 3);
SET LOCAL tenancy.tenant = '';
FETCH ALL settings_seen;
SHOW work_mem;
FETCH ALL slow_rows;
:sqlstate
ROLLBACK;
RESET tenancy.tenant;
-- A cursor read by code inside another statement leaves that statement's
-- settings alone: the statement stays timed.
CREATE FUNCTION pg_temp.fetch_one(c refcursor) RETURNS int LANGUAGE plpgsql
    AS $$DECLARE x int; BEGIN FETCH c INTO x; RETURN x; END$$;
BEGIN;
DECLARE untenanted CURSOR FOR SELECT 1;
SET LOCAL tenancy.tenant = 'acme';
SELECT pg_temp.fetch_one('untenanted') AS fetched, current_setting('statement_timeout') AS timeout, pg_sleep(1);
:sqlstate
ROLLBACK;
-- What runs at COMMIT (a deferred foreign key check) arms no timer for the
-- statements after it.
CREATE TEMP TABLE parents (id int PRIMARY KEY);
CREATE TEMP TABLE children (parent int REFERENCES parents DEFERRABLE INITIALLY DEFERRED);
INSERT INTO parents VALUES (1);
BEGIN \; INSERT INTO children VALUES (1) \; SET LOCAL tenancy.tenant = 'acme' \; COMMIT \; SELECT pg_sleep(0.4) AS not_cancelled;
DROP TABLE children, parents;
-- Planning runs with them too (constant folding can run a member's code).
CREATE FUNCTION pg_temp.slow_constant(seconds float8) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$BEGIN PERFORM pg_sleep(seconds); RETURN 1; END$$;
SET tenancy.tenant = 'acme';
SELECT pg_temp.slow_constant(1);
:sqlstate
RESET tenancy.tenant;
RESET ROLE;

-- Reading the settings takes no snapshot of the transaction: SET TRANSACTION
-- still works after the tenant is selected, also when the settings are read
-- anew (a change of limits just before).
SET ROLE ops;
SELECT tenancy.set_limit('acme', 'work_mem', '"5MB"');
RESET ROLE;
SET ROLE alice;
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SHOW transaction_isolation;
SHOW work_mem;
COMMIT;
RESET ROLE;

-- Limits are read as PostgreSQL reads the settings: a timeout that would
-- round to none, and values out of range, are refused.
SET ROLE ops;
SELECT tenancy.set_limit('acme', 'statement_timeout', '"400us"');
:sqlstate
SELECT tenancy.set_limit('acme', 'statement_timeout', '"99999999999"');
:sqlstate
SELECT tenancy.set_limit('acme', 'statement_timeout', '"-5s"');
:sqlstate
SELECT tenancy.set_limit('acme', 'work_mem', '"3000000GB"');
:sqlstate
SELECT tenancy.set_limit('acme', 'work_mem', '"12"');
:sqlstate
SELECT tenancy.set_limit('acme', 'statement_timeout', '"1.5s"');
SELECT tenancy.set_limit('acme', 'statement_timeout', NULL);
SELECT tenancy.set_limit('acme', 'work_mem', NULL);
RESET ROLE;

-- A session that may not use the tenant gets none of its settings: whether
-- a tenant exists, or what its plan allows, shows nowhere.
SET ROLE mallory;
SET tenancy.tenant = 'acme';
SHOW statement_timeout;
SHOW work_mem;
RESET tenancy.tenant;
RESET ROLE;

-- Tenant limits override the plan's, and changes apply from the next
-- statement.
SET ROLE alice;
SET tenancy.tenant = 'acme';
SHOW statement_timeout;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.set_limit('acme', 'statement_timeout', '"5s"');
SET ROLE alice;
SHOW statement_timeout;
SHOW work_mem;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.alter_plan('timed', limits => '{"work_mem": "2MB"}');
SET ROLE alice;
SHOW statement_timeout;
SHOW work_mem;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.set_limit('acme', 'statement_timeout', NULL);
SET ROLE alice;
SHOW statement_timeout;
RESET tenancy.tenant;
RESET ROLE;

-- The tenant's timezone setting, when a setting "timezone" of type timezone
-- is defined: the tenant's value, or else the default; switchable with
-- tenancy.apply_timezone.
SET ROLE ops;
SELECT tenancy.define_setting('timezone', 'timezone', '"Asia/Tokyo"');
RESET ROLE;
SET ROLE alice;
SELECT tenancy.set_tenant_setting('acme', 'timezone', '"Europe/Paris"') ->> 'timezone' AS acme_timezone;
SHOW TimeZone;
SET tenancy.tenant = 'acme';
SHOW TimeZone;
SELECT to_char(timestamptz '2026-07-01 12:00:00+00', 'HH24:MI TZ') AS noon_utc_in_acme;
SET tenancy.apply_timezone = off;
SHOW TimeZone;
RESET tenancy.apply_timezone;
SHOW TimeZone;
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SHOW TimeZone;
RESET tenancy.tenant;
SHOW TimeZone;
RESET ROLE;
SET ROLE ops;
SELECT tenancy.undefine_setting('timezone');
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
SHOW TimeZone;
SELECT tenancy.set_tenant_setting('acme', 'timezone', NULL) ? 'timezone' AS still_set;
RESET tenancy.tenant;
RESET ROLE;

-- Clean up.
SET ROLE ops;
SELECT tenancy.set_plan('acme', 'basic');
SELECT tenancy.drop_plan('timed');
RESET ROLE;
