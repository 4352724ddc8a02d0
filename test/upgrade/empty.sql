-- Empties a database filled by fill.sql and updated, through the product's
-- own functions and DDL, so that the regression suite can run on it as on a
-- fresh install: its tenants and protected table go; the audit rows of all
-- that stay, as they would in production.
\set ON_ERROR_STOP on
DROP SCHEMA shop CASCADE;
SELECT tenancy.drop_tenant('acme');
SELECT tenancy.drop_tenant('globex');
-- The plans the update brought in for its tenants ("basic", "pro").
SELECT tenancy.drop_plan(name) FROM tenancy.plan_list();
