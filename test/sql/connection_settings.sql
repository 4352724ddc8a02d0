-- The tenant chosen outside SQL: connection options (PGOPTIONS) and
-- ALTER ROLE ... SET. The setting is judged at use, like SET.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
\getenv superuser_password PGPASSWORD
\setenv PGPASSWORD tenancy-test

-- A member who selects her tenant through PGOPTIONS works as usual.
\setenv PGOPTIONS '-c tenancy.tenant=acme'
\c "dbname=contrib_regression user=dave"
SHOW tenancy.tenant;
SELECT tenancy.actor(), tenancy.current_tenant(), count(*) AS invoices FROM app.invoices;

-- A non-member who does the same is refused, and reads nothing.
\c "dbname=contrib_regression user=mallory"
SHOW tenancy.tenant;
SELECT tenancy.current_tenant();
:sqlstate
SELECT count(*) FROM app.invoices;
:sqlstate

-- A malformed tenant in the options is refused when the session starts using
-- it: the check hook turns it into no tenant at all.
\setenv PGOPTIONS '-c tenancy.tenant=ACME'
\c "dbname=contrib_regression user=dave"
SELECT count(*) FROM app.invoices;
:sqlstate
\setenv PGOPTIONS

-- ALTER ROLE ... SET tenancy.tenant is judged the same way.
\setenv PGPASSWORD :superuser_password
\c "dbname=contrib_regression user=postgres"
ALTER ROLE mallory SET tenancy.tenant = 'acme';
ALTER ROLE dave SET tenancy.tenant = 'acme';
\setenv PGPASSWORD tenancy-test
\c "dbname=contrib_regression user=mallory"
SHOW tenancy.tenant;
SELECT count(*) FROM app.invoices;
:sqlstate
\c "dbname=contrib_regression user=dave"
SELECT tenancy.current_tenant(), count(*) AS invoices FROM app.invoices;
\setenv PGPASSWORD :superuser_password
\c "dbname=contrib_regression user=postgres"
ALTER ROLE mallory RESET tenancy.tenant;
ALTER ROLE dave RESET tenancy.tenant;

-- tenancy.actor set through the options by a role that is no service.
\setenv PGPASSWORD tenancy-test
\setenv PGOPTIONS '-c tenancy.actor=alice -c tenancy.tenant=acme'
\c "dbname=contrib_regression user=mallory"
SELECT count(*) FROM app.invoices;
:sqlstate

-- A service role's tenant or actor from the connection options, or from
-- ALTER ROLE ... SET, is a session-level value: it would stay on a pooled
-- connection, so it is refused when used, with a hint that says SET LOCAL.
\setenv PGOPTIONS '-c tenancy.tenant=acme'
\c "dbname=contrib_regression user=app_server"
SHOW tenancy.tenant;
SELECT count(*) FROM app.invoices;
:sqlstate
BEGIN;
SET LOCAL tenancy.actor = 'alice@example.com';
SET LOCAL tenancy.tenant = 'acme';
SELECT tenancy.actor(), count(*) AS invoices FROM app.invoices;
COMMIT;
\setenv PGOPTIONS '-c tenancy.actor=alice@example.com'
\c "dbname=contrib_regression user=app_server"
BEGIN;
SET LOCAL tenancy.tenant = 'acme';
SELECT count(*) FROM app.invoices;
:sqlstate
ROLLBACK;
\setenv PGOPTIONS
\setenv PGPASSWORD :superuser_password
\c "dbname=contrib_regression user=postgres"
ALTER ROLE app_server SET tenancy.tenant = 'acme';
\setenv PGPASSWORD tenancy-test
\c "dbname=contrib_regression user=app_server"
SELECT tenancy.current_tenant();
:sqlstate
\setenv PGPASSWORD :superuser_password
\c "dbname=contrib_regression user=postgres"
ALTER ROLE app_server RESET tenancy.tenant;
