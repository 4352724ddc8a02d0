-- Usage alerts: a tenant's usage crossing 80 % and 100 % of its members or
-- rows limit writes one row in tenancy.alerts per limit, threshold and
-- month (the NOTIFY tenancy_alerts that carries each is checked through
-- tenantctl alerts --follow, test/cli/run.sh); a rolled-back change alerts
-- nobody; platform admins and the tenant's owners and admins read
-- them, nobody else, and nobody edits them.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

SET ROLE app_owner;
CREATE TABLE app.alert_rows (id integer PRIMARY KEY);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.alert_rows TO PUBLIC;
SELECT tenancy.protect('app.alert_rows');
RESET ROLE;
SET ROLE ops;
SELECT tenancy.create_plan('alerting', limits => '{"members": 5, "rows": {"app.alert_rows": 10}}');
SELECT tenancy.create_tenant('alert-co', 'Alert Co', owner => 'alice', plan => 'alerting') IS NOT NULL AS created;
RESET ROLE;

-- Members: 3 of 5, then 4 (80 %), then 5 (100 %); the sixth is refused.
SET ROLE alice;
SELECT tenancy.add_member('alert-co', 'bob', 'viewer');
SELECT tenancy.add_member('alert-co', 'carol', 'viewer');
SELECT count(*) AS alerts FROM tenancy.alert_list('alert-co');
SELECT tenancy.add_member('alert-co', 'dave', 'viewer');
SELECT tenancy.add_member('alert-co', 'erin', 'viewer');
SELECT tenancy.add_member('alert-co', 'mallory', 'viewer');
:sqlstate
SELECT limit_key, threshold, usage, "limit", plan, period = date_trunc('month', now() AT TIME ZONE 'UTC')::date AS this_month
  FROM tenancy.alert_list('alert-co');
-- Below the threshold and over it again in the same month: no new alert.
SELECT tenancy.set_member_active('alert-co', 'erin', false);
SELECT tenancy.set_member_active('alert-co', 'erin', true);
SELECT count(*) AS alerts FROM tenancy.alert_list('alert-co') WHERE limit_key = 'members';

-- Rows: 7 of 10, then a rolled-back statement crossing both thresholds (no
-- alert), then 8 (80 %), then 10 (100 %) in one statement.
SET tenancy.tenant = 'alert-co';
INSERT INTO app.alert_rows SELECT g FROM generate_series(1, 7) g;
BEGIN;
INSERT INTO app.alert_rows SELECT g FROM generate_series(8, 10) g;
ROLLBACK;
SELECT count(*) AS alerts FROM tenancy.alert_list('alert-co') WHERE limit_key LIKE 'rows.%';
INSERT INTO app.alert_rows VALUES (8);
INSERT INTO app.alert_rows VALUES (9), (10);
INSERT INTO app.alert_rows VALUES (11);
:sqlstate
SELECT limit_key, threshold, usage, "limit" FROM tenancy.alert_list('alert-co') WHERE limit_key LIKE 'rows.%';
-- The owner reads them through the table too, for the current tenant only.
SELECT count(*) AS visible FROM tenancy.alerts;
RESET tenancy.tenant;
SELECT count(*) AS visible_without_tenant FROM tenancy.alerts;
:sqlstate
RESET ROLE;

-- A viewer and a stranger read nothing; nobody edits.
SET ROLE bob;
SELECT tenancy.alert_list('alert-co');
:sqlstate
SET tenancy.tenant = 'alert-co';
SELECT count(*) AS visible_to_a_viewer FROM tenancy.alerts;
RESET tenancy.tenant;
RESET ROLE;
SET ROLE mallory;
SELECT tenancy.alert_list('alert-co');
:sqlstate
SELECT tenancy.alert_list();
:sqlstate
RESET ROLE;
SET ROLE alice;
UPDATE tenancy.alerts SET threshold = 80;
:sqlstate
DELETE FROM tenancy.alerts;
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tenant, limit_key, threshold FROM tenancy.alert_list() WHERE tenant = 'alert-co' ORDER BY id;
SELECT count(*) AS since_tomorrow FROM tenancy.alert_list(since => now() + interval '1 day');

-- Clean up.
SELECT tenancy.drop_tenant('alert-co');
SELECT tenancy.drop_plan('alerting');
RESET ROLE;
SET ROLE app_owner;
DROP TABLE app.alert_rows;
RESET ROLE;
