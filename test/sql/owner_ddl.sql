-- The owner of a protected table evolves its schema, but cannot read, copy,
-- move or rewrite other tenants' rows through DDL. Every refusal below must
-- come before any row is read: no "leak:" notice may appear in this file.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'
SET ROLE app_owner;
CREATE TABLE app.ledger (id int NOT NULL, secret text, category int);
SELECT tenancy.protect('app.ledger');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.ledger TO PUBLIC;
CREATE TABLE app.stash (secret text);
GRANT INSERT ON app.stash TO PUBLIC;
-- Owner's code that tells whatever it sees.
CREATE FUNCTION app.leak(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RAISE NOTICE 'leak: %', $1;
    RETURN $1;
END
$$;
CREATE FUNCTION app.leak_eq(text, text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RAISE NOTICE 'leak: %', $1;
    RETURN $1 = $2;
END
$$;
CREATE OPERATOR app.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = app.leak_eq);
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.ledger (id, secret, category) VALUES (1, 'acme secret', 1);
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
INSERT INTO app.ledger (id, secret, category) VALUES (2, 'globex secret', 1);
RESET ROLE;
RESET tenancy.tenant;

-- 1. Inheritance: neither a child nor a parent nor a partitioned parent may
-- sit across the protection boundary.
SET ROLE app_owner;
CREATE TABLE app.peek () INHERITS (app.ledger);
:sqlstate
CREATE TABLE app.parent_peek (id int, secret text);
ALTER TABLE app.ledger INHERIT app.parent_peek;
:sqlstate
SELECT count(*) AS rows_seen_through_parent FROM app.parent_peek;
CREATE TABLE app.ledger_all (LIKE app.ledger) PARTITION BY LIST (id);
ALTER TABLE app.ledger_all ATTACH PARTITION app.ledger DEFAULT;
:sqlstate
SELECT count(*) AS rows_seen_through_partitioned_parent FROM app.ledger_all;
SELECT count(*) AS inheritance_links FROM pg_inherits
 WHERE inhrelid = 'app.ledger'::regclass OR inhparent = 'app.ledger'::regclass;

-- 2. DDL that runs the owner's code on every row: refused before any row is read.
CREATE INDEX ledger_leak_idx ON app.ledger (app.leak(secret));
:sqlstate
CREATE INDEX ledger_partial_idx ON app.ledger (id) WHERE app.leak(secret) IS NOT NULL;
:sqlstate
CREATE INDEX ledger_operator_idx ON app.ledger ((secret OPERATOR(app.===) 'x'));
:sqlstate
ALTER TABLE app.ledger ADD CONSTRAINT ledger_leak_check CHECK (app.leak(secret) IS NOT NULL);
:sqlstate
ALTER TABLE app.ledger ADD CONSTRAINT ledger_leak_check CHECK (app.leak(secret) IS NOT NULL) NOT VALID;
:sqlstate
ALTER TABLE app.ledger ADD COLUMN shadow text GENERATED ALWAYS AS (app.leak(secret)) STORED;
:sqlstate
ALTER TABLE app.ledger ALTER COLUMN secret TYPE text
    USING (CASE WHEN secret LIKE 'globex%' THEN 'rewritten' ELSE secret END);
:sqlstate
-- A domain constraint is validated on every row of every column of the domain.
CREATE DOMAIN app.note AS text;
ALTER TABLE app.ledger ALTER COLUMN secret TYPE app.note;
ALTER DOMAIN app.note ADD CONSTRAINT note_leak CHECK (app.leak(VALUE) IS NOT NULL);
:sqlstate
-- Nothing was rewritten.
RESET ROLE;
SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT id, secret FROM app.ledger;
RESET ROLE;
RESET tenancy.tenant;

-- What only runs trusted code stays allowed: ordinary migrations.
SET ROLE app_owner;
CREATE INDEX ledger_lower_idx ON app.ledger (tenant_id, lower(secret));
ALTER TABLE app.ledger ADD CONSTRAINT ledger_secret_length CHECK (length(secret) < 100);
ALTER TABLE app.ledger ADD COLUMN secret_length int GENERATED ALWAYS AS (length(secret)) STORED;
ALTER TABLE app.ledger ALTER COLUMN id TYPE bigint;
ALTER TABLE app.ledger ADD COLUMN updated_at timestamptz;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_touch BEFORE UPDATE ON app.ledger FOR EACH ROW EXECUTE FUNCTION app.touch();

-- 3. A rule, or a trigger that runs with its owner's rights, would copy every
-- tenant's writes into the owner's table.
CREATE RULE ledger_copy AS ON INSERT TO app.ledger DO ALSO INSERT INTO app.stash VALUES (NEW.secret);
:sqlstate
CREATE FUNCTION app.copy_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO app.stash VALUES (NEW.secret);
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_copy AFTER INSERT ON app.ledger FOR EACH ROW EXECUTE FUNCTION app.copy_row();
:sqlstate
-- Nor may an allowed trigger's function turn SECURITY DEFINER afterwards.
ALTER FUNCTION app.touch() SECURITY DEFINER;
:sqlstate
CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO app.stash VALUES (NEW.secret);
    RETURN NEW;
END
$$;
:sqlstate
SELECT prosecdef AS touch_is_security_definer FROM pg_proc WHERE oid = 'app.touch()'::regprocedure;

-- 4. A foreign key whose action writes tenant_id would move rows between
-- tenants when the referenced row goes. (NOT VALID throughout: validating
-- the rows would need a tenant, which the owner has not.)
CREATE TABLE app.categories (tenant_id uuid NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE app.lines (id int NOT NULL, category int);
SELECT tenancy.protect('app.lines');
ALTER TABLE app.lines ADD CONSTRAINT lines_category_fkey FOREIGN KEY (tenant_id, category)
    REFERENCES app.categories (tenant_id, id) ON DELETE SET DEFAULT NOT VALID;
:sqlstate
ALTER TABLE app.lines ADD CONSTRAINT lines_category_fkey FOREIGN KEY (tenant_id, category)
    REFERENCES app.categories (tenant_id, id) ON DELETE SET NULL (tenant_id) NOT VALID;
:sqlstate
ALTER TABLE app.lines ADD CONSTRAINT lines_category_fkey FOREIGN KEY (tenant_id, category)
    REFERENCES app.categories (tenant_id, id) ON UPDATE SET DEFAULT NOT VALID;
:sqlstate
-- Setting only the other column still changes every tenant's rows when the
-- owner deletes a category: no action from a table that is not protected.
ALTER TABLE app.lines ADD CONSTRAINT lines_category_fkey FOREIGN KEY (tenant_id, category)
    REFERENCES app.categories (tenant_id, id) ON DELETE SET NULL (category) NOT VALID;
:sqlstate
-- A plain foreign key is fine.
ALTER TABLE app.lines ADD CONSTRAINT lines_category_fkey FOREIGN KEY (tenant_id, category)
    REFERENCES app.categories (tenant_id, id) NOT VALID;
SELECT conname, confdeltype FROM pg_constraint WHERE conrelid = 'app.lines'::regclass AND contype = 'f'
 ORDER BY conname;

-- 5. The tables a statement changed are judged after it ran, by oid: renaming
-- the protected table does not lead the guards astray.
ALTER TABLE app.ledger RENAME TO ledger_renamed;
ALTER TABLE app.ledger_renamed NO FORCE ROW LEVEL SECURITY;
:sqlstate
ALTER TABLE app.ledger_renamed RENAME TO ledger;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.ledger'::regclass;
-- 6. Built-in functions tell what they saw when they fail: the message of an
-- error while an owner's DDL evaluates expressions on every tenant's rows is
-- withheld (its SQLSTATE is kept)...
ALTER TABLE app.ledger DROP COLUMN secret_length;
CREATE INDEX ledger_cast_idx ON app.ledger ((secret::int));
:sqlstate
ALTER TABLE app.ledger ADD CONSTRAINT ledger_cast_check CHECK (secret::regclass IS NOT NULL);
:sqlstate
-- ...and an exception handler, which would read it first, may not run such DDL.
DO $$
BEGIN
    ALTER TABLE app.ledger ADD CONSTRAINT ledger_probe CHECK (secret::int > 0);
EXCEPTION WHEN invalid_text_representation THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
:sqlstate
-- A domain inside an array or a record runs its checks too.
CREATE DOMAIN app.watched AS text CHECK (app.leak(VALUE) IS NOT NULL);
ALTER TABLE app.ledger ADD CONSTRAINT ledger_array_check CHECK (('{"' || secret || '"}')::app.watched[] IS NOT NULL);
:sqlstate
CREATE TYPE app.wrapper AS (x app.watched);
ALTER TABLE app.ledger ADD CONSTRAINT ledger_record_check
    CHECK ((jsonb_populate_record(NULL::app.wrapper, jsonb_build_object('x', secret))).x IS NOT NULL);
:sqlstate
-- Extended statistics on expressions are evaluated by ANALYZE on every row.
CREATE STATISTICS app.ledger_stats ON (lower(secret)), id FROM app.ledger;
:sqlstate
-- 7. A policy of the owner's would run its expression on other tenants' rows,
-- possibly before the tenant filter.
CREATE POLICY a_peek ON app.ledger AS RESTRICTIVE FOR SELECT USING (app.leak(secret) IS NOT NULL);
:sqlstate
-- 8. A referential action from a table that is not protected would change or
-- delete every tenant's rows; ON UPDATE CASCADE of a key with tenant_id would
-- move them.
CREATE TABLE app.owner_keys (id int PRIMARY KEY, tid uuid, UNIQUE (tid, id));
ALTER TABLE app.lines ADD CONSTRAINT lines_owner_fkey FOREIGN KEY (id) REFERENCES app.owner_keys (id)
    ON DELETE CASCADE NOT VALID;
:sqlstate
ALTER TABLE app.lines ADD CONSTRAINT lines_owner_fkey FOREIGN KEY (tenant_id, id) REFERENCES app.owner_keys (tid, id)
    ON UPDATE CASCADE NOT VALID;
:sqlstate
-- 9. Built-in functions that are not immutable have side effects or run SQL
-- (query_to_xml runs any query, set_config and pg_notify carry values out):
-- only immutable functions run on every tenant's rows.
ALTER TABLE app.ledger ADD CONSTRAINT ledger_xml_check
    CHECK (query_to_xml(format('SELECT app.leak(%L)', secret), true, false, '') IS NOT NULL);
:sqlstate
ALTER TABLE app.ledger ADD CONSTRAINT ledger_config_check
    CHECK (set_config('app.seen', coalesce(current_setting('app.seen', true), '') || secret, false) IS NOT NULL);
:sqlstate
SELECT current_setting('app.seen', true) AS seen;
-- 10. A domain used only in an index expression is used by the table: its new
-- constraints are held to the same rule, and rebuilding the index (REINDEX,
-- VACUUM FULL, CLUSTER, ANALYZE) withholds what failing built-ins say.
CREATE DOMAIN app.code AS text;
CREATE INDEX ledger_code_idx ON app.ledger (tenant_id, (secret::app.code));
ALTER DOMAIN app.code ADD CONSTRAINT code_leak CHECK (app.leak(VALUE) IS NOT NULL) NOT VALID;
:sqlstate
ALTER DOMAIN app.code ADD CONSTRAINT code_numeric CHECK (VALUE::int > 0) NOT VALID;
REINDEX INDEX app.ledger_code_idx;
:sqlstate
ANALYZE app.ledger;
:sqlstate
DO $$
BEGIN
    REINDEX INDEX app.ledger_code_idx;
EXCEPTION WHEN invalid_text_representation THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
:sqlstate
DROP INDEX app.ledger_code_idx;
-- 11. Immutable built-ins can still quote their input below ERROR (to_tsquery
-- in a NOTICE, the XML functions in a WARNING): nothing below ERROR is sent
-- while such a statement runs, and CREATE INDEX CONCURRENTLY, which commits on
-- the way, withholds its errors to the end.
CREATE INDEX ledger_tsquery_idx ON app.ledger (to_tsquery('simple', repeat(' ', length(secret)) || ''));
DROP INDEX app.ledger_tsquery_idx;
CREATE INDEX ledger_xml_idx ON app.ledger (id)
    WHERE xml_is_well_formed_document('<?xml version="1.1"?><a>' || secret || '</a>');
DROP INDEX app.ledger_xml_idx;
CREATE INDEX CONCURRENTLY ledger_concurrent_idx ON app.ledger ((secret::int));
:sqlstate
DROP INDEX app.ledger_concurrent_idx;
RESET ROLE;

-- The health check has no error about the table (the invoker's-rights trigger
-- is listed, with the code it runs).
SELECT severity, problem FROM tenancy.health_check() WHERE object = 'app.ledger';

-- 12. Strict mode: the table is handed to tenancy_table_owner; its previous
-- owner keeps the rights of an application role, and schema changes go
-- through platform admins.
SET ROLE app_owner;
CREATE TABLE app.vault (id serial, secret text);
SELECT tenancy.protect('app.vault', strict => true);
SELECT relowner::regrole AS vault_owner FROM pg_class WHERE oid = 'app.vault'::regclass;
ALTER TABLE app.vault ADD COLUMN note text;
:sqlstate
CREATE INDEX vault_lower_idx ON app.vault (lower(secret));
:sqlstate
SELECT has_table_privilege('app.vault', 'INSERT') AS may_insert,
       has_table_privilege('app.vault', 'TRIGGER') AS may_create_triggers,
       has_sequence_privilege('app.vault_id_seq', 'USAGE') AS may_use_the_sequence;
RESET ROLE;
SELECT "strict", owner_before_strict FROM tenancy.protected_tables WHERE relid = 'app.vault'::regclass;
GRANT SELECT, INSERT ON app.vault TO PUBLIC;
GRANT USAGE ON SEQUENCE app.vault_id_seq TO PUBLIC;
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.vault (secret) VALUES ('in the vault');
SELECT id, secret FROM app.vault;
RESET ROLE;
RESET tenancy.tenant;
-- Platform admins change it as its owner, through tenancy.as_table_owner();
-- no role is a member of tenancy_table_owner, ops neither.
SET ROLE ops;
ALTER TABLE app.vault ADD COLUMN note text;
:sqlstate
SELECT tenancy.as_table_owner('ALTER TABLE app.vault ADD COLUMN note text');
SELECT tenancy.as_table_owner('CREATE INDEX vault_note_idx ON app.vault (note)');
SELECT tenancy.as_table_owner(NULL);
:sqlstate
RESET ROLE;
SET ROLE app_owner;
SELECT tenancy.as_table_owner('ALTER TABLE app.vault DROP COLUMN note');
:sqlstate
RESET ROLE;
-- Nor may a platform admin leave it calling code its previous owner can
-- replace (ANALYZE would run that code as tenancy_table_owner): undone.
SET ROLE app_owner;
CREATE FUNCTION app.same(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT t';
RESET ROLE;
SET ROLE ops;
SELECT tenancy.as_table_owner('CREATE INDEX vault_same_idx ON app.vault (app.same(secret))');
:sqlstate
SELECT to_regclass('app.vault_same_idx') AS undone_index;
RESET ROLE;
-- The owner of the table's schema cannot rename the schema under it (a
-- look-alike app.vault could then take its place) nor drop it with it.
GRANT CREATE ON DATABASE contrib_regression TO app_owner;
SET ROLE app_owner;
ALTER SCHEMA app RENAME TO app_moved;
:sqlstate
RESET ROLE;
REVOKE CREATE ON DATABASE contrib_regression FROM app_owner;
-- Strict mode needs a table whose code and types only superusers can
-- change: an index on the owner's function, an enum the owner can rename
-- values of, a domain whose check the owner can replace are refused.
SET ROLE app_owner;
CREATE TABLE app.indexed (id int PRIMARY KEY, secret text);
CREATE INDEX indexed_same_idx ON app.indexed (app.same(secret));
SELECT tenancy.protect('app.indexed', strict => true);
:sqlstate
CREATE TYPE app.state AS ENUM ('open', 'closed');
CREATE TABLE app.stated (id int PRIMARY KEY, state app.state);
SELECT tenancy.protect('app.stated', strict => true);
:sqlstate
CREATE FUNCTION app.short(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT length(t) < 10';
CREATE DOMAIN app.short_text AS text CHECK (app.short(VALUE));
CREATE TABLE app.shorts (id int PRIMARY KEY, body app.short_text);
SELECT tenancy.protect('app.shorts', strict => true);
:sqlstate
SELECT count(*) AS strict_refused_tables_protected FROM tenancy.protected_list()
 WHERE table_name IN ('app.indexed', 'app.stated', 'app.shorts');
DROP TABLE app.indexed, app.stated, app.shorts;
DROP DOMAIN app.short_text;
DROP TYPE app.state;
DROP FUNCTION app.short(text);
RESET ROLE;
SET ROLE ops;
SELECT tenancy.unprotect('app.vault');
RESET ROLE;
SELECT relowner::regrole AS vault_owner_again FROM pg_class WHERE oid = 'app.vault'::regclass;

-- Platform admins are trusted: a superuser may still do what owners may not.
CREATE RULE ledger_notify AS ON INSERT TO app.ledger DO ALSO NOTIFY ledger;
DROP RULE ledger_notify ON app.ledger;

SET ROLE app_owner;
DROP TABLE app.vault, app.ledger, app.lines, app.stash, app.parent_peek, app.ledger_all, app.categories, app.owner_keys;
DROP FUNCTION app.copy_row(), app.touch(), app.same(text);
DROP OPERATOR app.=== (text, text);
DROP DOMAIN app.note;
DROP DOMAIN app.code;
DROP TYPE app.wrapper;
DROP DOMAIN app.watched;
DROP FUNCTION app.leak(text), app.leak_eq(text, text);
RESET ROLE;
