-- Adds to test/upgrade/fill.sql what a database that has run for a while
-- holds and a dump must carry: monthly audit partitions made by
-- prune_audit() (with the rows moved into them), audit rows written after
-- that, a removed member, and a table protected in strict mode.
\set ON_ERROR_STOP on
SELECT count(*) > 0 AS partitions_created FROM tenancy.prune_audit('365 days');
SET ROLE upgrade_alice;
SET tenancy.tenant = 'acme';
UPDATE shop.orders SET qty = qty * 2 WHERE id <= 3;
RESET tenancy.tenant;
RESET ROLE;
SELECT tenancy.remove_member('acme', 'carol@example.com');
SET ROLE upgrade_owner;
CREATE TABLE shop.invoices (id int PRIMARY KEY, total numeric NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.invoices TO PUBLIC;
SELECT tenancy.protect('shop.invoices', strict => true);
RESET ROLE;
SET ROLE upgrade_bob;
SET tenancy.tenant = 'globex';
INSERT INTO shop.invoices VALUES (1, 99.50), (2, 12.00);
RESET tenancy.tenant;
RESET ROLE;
-- Personal data: marks on a table with a dropped column (its columns'
-- numbers differ after a restore; the marks follow the names), a table's
-- erasure policy, and a request.
ALTER TABLE shop.invoices ADD COLUMN junk int;
ALTER TABLE shop.invoices DROP COLUMN junk;
ALTER TABLE shop.invoices ADD COLUMN buyer text;
SELECT tenancy.mark_pii('shop.invoices', 'buyer', 'email', subject => true);
SELECT tenancy.set_erasure_policy('shop.invoices', 'null');
SELECT tenancy.request_subject_export('zoe@example.com', 'globex') > 0 AS requested;
