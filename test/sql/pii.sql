-- Personal data: the registry (mark_pii, kept as security labels), requests
-- per tenant, the export of everything a tenant holds about a person
-- (following foreign keys), and its erasure, which leaves no trace of the
-- values in the tenant's tables, audit log or pg_tenancy's own records, and
-- touches no other tenant's rows, even with the same subject.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set sqlstate '\\echo SQLSTATE :SQLSTATE'

SET ROLE app_owner;
CREATE TABLE app.people (
    id          integer PRIMARY KEY,
    email       text NOT NULL,
    full_name   text,
    phone       varchar(20) UNIQUE,
    birth_year  integer,
    referred_by integer REFERENCES app.people (id)
);
CREATE TABLE app.purchases (
    id        integer PRIMARY KEY,
    person_id integer NOT NULL REFERENCES app.people (id),
    note      text,
    amount    numeric NOT NULL
);
CREATE TABLE app.purchase_lines (
    id          integer PRIMARY KEY,
    purchase_id integer NOT NULL REFERENCES app.purchases (id),
    product     text NOT NULL,
    contact     text
);
CREATE TABLE app.addresses (
    id        integer PRIMARY KEY,
    person_id integer NOT NULL REFERENCES app.people (id),
    street    text NOT NULL,
    zip       integer NOT NULL
);
CREATE TABLE app.products (id integer PRIMARY KEY, title text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.people, app.purchases, app.purchase_lines, app.addresses, app.products
   TO PUBLIC;

-- Only protected tables are marked.
SELECT tenancy.mark_pii('app.people', 'email', 'email', subject => true);
:sqlstate
SELECT tenancy.protect('app.people'), tenancy.protect('app.purchases'), tenancy.protect('app.purchase_lines'),
       tenancy.protect('app.addresses'), tenancy.protect('app.products');

-- The owner marks its columns.
SELECT tenancy.mark_pii('app.people', 'email', 'email', subject => true);
SELECT tenancy.mark_pii('app.people', 'full_name', 'name');
SELECT tenancy.mark_pii('app.people', 'phone', 'phone');
SELECT tenancy.mark_pii('app.people', 'birth_year', 'birth_date');
SELECT tenancy.mark_pii('app.purchases', 'note', 'free_text');
SELECT tenancy.mark_pii('app.addresses', 'street', 'address');
-- Bad input changes nothing.
SELECT tenancy.mark_pii('app.people', 'nope', 'email');
:sqlstate
SELECT tenancy.mark_pii('app.people', 'email', 'E-Mail');
:sqlstate
SELECT tenancy.mark_pii('app.people', 'tenant_id', 'id');
:sqlstate
SELECT tenancy.mark_pii('app.people', 'email', NULL);
:sqlstate
-- A NOT NULL integer can hold neither the marker nor NULL: refused until
-- the table's rows are deleted on erasure.
SELECT tenancy.mark_pii('app.addresses', 'zip', 'address');
:sqlstate
SELECT tenancy.set_erasure_policy('app.addresses', 'shred');
:sqlstate
SELECT tenancy.set_erasure_policy('app.addresses', 'delete');
SELECT tenancy.mark_pii('app.addresses', 'zip', 'address');
-- ... and then the table cannot go back to redaction.
SELECT tenancy.set_erasure_policy('app.addresses', 'redact');
:sqlstate
-- A unique NOT NULL text column gets a marker of its own per row.
CREATE TABLE app.badges (
    id        integer PRIMARY KEY,
    person_id integer NOT NULL REFERENCES app.people (id),
    handle    text NOT NULL UNIQUE
);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.badges TO PUBLIC;
SELECT tenancy.protect('app.badges');
SELECT tenancy.mark_pii('app.badges', 'handle', 'username');
-- A table without a primary key is not marked: an erasure finds the audit
-- rows of a person's rows by it.
CREATE TABLE app.loose_contacts (email text NOT NULL);
SELECT tenancy.protect('app.loose_contacts');
SELECT tenancy.mark_pii('app.loose_contacts', 'email', 'email', subject => true);
:sqlstate
SELECT tenancy.set_erasure_policy('app.loose_contacts', 'delete');
:sqlstate
DROP TABLE app.loose_contacts;
-- Accounts: a varchar subject column, and a key that changes.
CREATE TABLE app.accounts (login text PRIMARY KEY, email varchar(100) NOT NULL, nick text);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.accounts TO PUBLIC;
SELECT tenancy.protect('app.accounts');
SELECT tenancy.mark_pii('app.accounts', 'email', 'email', subject => true);
SELECT tenancy.mark_pii('app.accounts', 'nick', 'name');
RESET ROLE;
-- Anyone who can create an operator named = for varchar: it must never run
-- in an export or erasure (it would run as the table's owner).
CREATE SCHEMA mal AUTHORIZATION mallory;
SET ROLE mallory;
CREATE TABLE mal.loot (who text, seen bigint);
GRANT INSERT ON mal.loot TO PUBLIC;
CREATE FUNCTION mal.varchar_eq(a varchar, b varchar) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mal.loot SELECT current_user, (SELECT count(*) FROM app.people);
    RETURN a::text = b::text;
END
$$;
GRANT EXECUTE ON FUNCTION mal.varchar_eq(varchar, varchar) TO PUBLIC;
CREATE OPERATOR mal.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = mal.varchar_eq);
RESET ROLE;

-- Nobody but the owner and platform admins marks or unmarks.
SET ROLE mallory;
SELECT tenancy.mark_pii('app.products', 'title', 'name');
:sqlstate
SELECT tenancy.unmark_pii('app.people', 'email');
:sqlstate
RESET ROLE;
SET ROLE ops;
SELECT tenancy.mark_pii('app.products', 'title', 'name');
SELECT tenancy.unmark_pii('app.products', 'title');
SELECT tenancy.unmark_pii('app.products', 'title');
:sqlstate
RESET ROLE;

-- The registry is kept as security labels: a label of another form is
-- refused even from the owner, and a mark follows its column.
SET ROLE app_owner;
SECURITY LABEL FOR pg_tenancy ON COLUMN app.products.title IS 'secret';
:sqlstate
SECURITY LABEL FOR pg_tenancy ON TABLE app.products IS 'erasure:shred';
:sqlstate
ALTER TABLE app.purchase_lines ADD COLUMN contact_name text;
SELECT tenancy.mark_pii('app.purchase_lines', 'contact_name', 'name');
ALTER TABLE app.purchase_lines RENAME COLUMN contact_name TO buyer_name;
SELECT column_name, kind FROM tenancy.pii_columns() WHERE table_name = 'app.purchase_lines'::regclass;
ALTER TABLE app.purchase_lines DROP COLUMN buyer_name;
SELECT count(*) AS marks_left FROM tenancy.pii_columns() WHERE table_name = 'app.purchase_lines'::regclass;
RESET ROLE;
SELECT table_name, column_name, kind, subject, erasure, protected FROM tenancy.pii_columns()
 WHERE table_name::text LIKE 'app.%';

-- Acme holds two people, Zoe and Yann; Zoe referred Yann (a foreign key into
-- a table of people is not followed: Yann is someone else). Globex holds
-- another Zoe with the same email.
SET tenancy.tenant = 'acme';
SET ROLE dave;
INSERT INTO app.people VALUES (1, 'zoe@example.com', 'Zoe Quist', '+1 555 0101', 1985, NULL),
                              (2, 'yann@example.com', 'Yann Kor', '+1 555 0102', 1990, 1);
INSERT INTO app.purchases VALUES (10, 1, 'deliver to Zoe Quist at the back door', 20),
                                 (11, 1, NULL, 5), (12, 2, 'Yann''s', 7);
INSERT INTO app.purchase_lines VALUES (100, 10, 'tea', 'zoe@example.com'), (101, 11, 'cups', NULL),
                                      (102, 12, 'pot', NULL);
INSERT INTO app.addresses VALUES (200, 1, '1 Quist Lane', 12345), (201, 2, '2 Kor Road', 54321);
INSERT INTO app.badges VALUES (300, 1, 'zq'), (301, 1, 'zoe-q'), (302, 2, 'yk');
UPDATE app.people SET full_name = 'Zoe Quist-Berg' WHERE id = 1;
INSERT INTO app.accounts VALUES ('zq1', 'zoe@example.com', 'Zed'), ('yk1', 'yann@example.com', 'Yak');
UPDATE app.accounts SET login = 'zq2', nick = 'Zee' WHERE login = 'zq1';
RESET ROLE;
RESET tenancy.tenant;
SET tenancy.tenant = 'globex';
SET ROLE bob;
INSERT INTO app.people VALUES (1001, 'zoe@example.com', 'Zoe of Globex', '+1 555 0999', 1970, NULL);
INSERT INTO app.purchases VALUES (1010, 1001, 'globex zoe', 1);
RESET ROLE;
RESET tenancy.tenant;

-- Requests belong to a tenant: its owners and admins make them, not its
-- members, not another tenant's owner, not without a tenant.
SET ROLE carol;
SELECT tenancy.request_subject_export('zoe@example.com');
:sqlstate
SET tenancy.tenant = 'acme';
SELECT tenancy.request_subject_export('zoe@example.com') AS export_request \gset
SELECT tenancy.request_subject_export('  ');
:sqlstate
RESET ROLE;
SET ROLE dave;
SELECT tenancy.request_erasure('zoe@example.com');
:sqlstate
SELECT tenancy.export_subject(:export_request);
:sqlstate
SELECT count(*) AS requests_seen FROM tenancy.subject_requests;
RESET ROLE;
RESET tenancy.tenant;
SET tenancy.tenant = 'globex';
SET ROLE bob;
SELECT tenancy.request_erasure('zoe@example.com', 'acme');
:sqlstate
SELECT tenancy.export_subject(:export_request);
:sqlstate
SELECT tenancy.erase_subject(:export_request);
:sqlstate
SELECT count(*) AS requests_seen FROM tenancy.subject_requests;
RESET ROLE;
RESET tenancy.tenant;

-- The export: Zoe's row, her purchases and their lines, her address; not
-- Yann's rows, not Globex's Zoe, never tenant_id.
SET tenancy.tenant = 'acme';
SET ROLE carol;
SELECT jsonb_pretty(tenancy.export_subject(:export_request) - 'exported_at' - 'request');
SELECT table_name, coalesce(row_data ->> 'id', row_data ->> 'login') AS id
  FROM tenancy.subject_rows(:export_request) ORDER BY 1, 2;
-- mallory's operator never ran.
RESET ROLE;
SELECT count(*) AS operator_calls FROM mal.loot;
-- A table whose index calls its owner's function (made before protect(),
-- which the health check reports) is never queried for a request: its
-- owner's code would run for the tenant.
SET ROLE mallory;
CREATE FUNCTION mal.record() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO mal.loot SELECT current_user, (SELECT count(*) FROM app.people);
    EXCEPTION WHEN others THEN
        NULL;  -- no tenant open to it
    END;
    RETURN '';
END
$$;
CREATE FUNCTION mal.leak() RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN mal.record();
END
$$;
CREATE TABLE mal.contacts (id int PRIMARY KEY, email text NOT NULL);
CREATE INDEX ON mal.contacts ((email || mal.leak()));
SELECT tenancy.protect('mal.contacts');
SELECT tenancy.mark_pii('mal.contacts', 'email', 'email', subject => true);
RESET ROLE;
SET ROLE carol;
SELECT tenancy.export_subject(:export_request);
:sqlstate
RESET ROLE;
SELECT count(*) AS leak_calls FROM mal.loot;
DROP TABLE mal.contacts;
SET ROLE carol;
SELECT kind, status, requested_by, completed_by, result FROM tenancy.subject_requests WHERE id = :export_request;
-- A subject nobody has: an empty export.
SELECT tenancy.export_subject(tenancy.request_subject_export('nobody@example.com')) -> 'tables' AS nothing;
-- An export request is no erasure.
SELECT tenancy.erase_subject(:export_request);
:sqlstate
RESET ROLE;

-- A subject found in no row changes no audit row and no record: an admin
-- cannot rewrite the tenant's history by asking to erase a common word.
SET ROLE carol;
SELECT count(*) AS audit_rows_marked FROM tenancy.audit_log WHERE audit_log::text LIKE '%[erased]%';
SELECT tenancy.erase_subject(tenancy.request_erasure('active')) - 'tables' AS nothing_erased;
SELECT tenancy.erase_subject(tenancy.request_erasure('acme')) - 'tables' AS nothing_erased;
SELECT count(*) AS audit_rows_marked FROM tenancy.audit_log WHERE audit_log::text LIKE '%[erased]%';
RESET ROLE;

-- A trigger of the owner that keeps a row from changing makes the whole
-- erasure fail: nothing changes.
SET ROLE app_owner;
CREATE FUNCTION app.keep_notes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END
$$;
CREATE TRIGGER keep_notes BEFORE UPDATE ON app.purchases FOR EACH ROW EXECUTE FUNCTION app.keep_notes();
RESET ROLE;
SET ROLE alice;
SELECT tenancy.request_erasure('zoe@example.com') AS erasure_request \gset
SELECT tenancy.erase_subject(:erasure_request);
:sqlstate
SELECT email, full_name FROM app.people ORDER BY id;
SELECT status FROM tenancy.subject_requests WHERE id = :erasure_request;
RESET ROLE;
SET ROLE app_owner;
DROP TRIGGER keep_notes ON app.purchases;
RESET ROLE;

-- An admin cannot take other people's history with an erasure: a planted
-- row whose subject is Yann's name leaves Yann's name in his audit rows, one
-- named like a database role leaves that role's actions, and Yann's badge
-- 302, deleted and its key given to Zoe, keeps its history.
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.people VALUES (20, 'Yann Kor', NULL, NULL, NULL, NULL), (21, 'postgres', NULL, NULL, NULL, NULL);
SELECT tenancy.erase_subject(tenancy.request_erasure('Yann Kor')) -> 'tables' -> 'app.people' AS planted;
SELECT tenancy.erase_subject(tenancy.request_erasure('postgres')) -> 'tables' -> 'app.people' AS planted;
DELETE FROM app.badges WHERE id = 302;
INSERT INTO app.badges VALUES (302, 1, 'zoe-3');
RESET ROLE;
SELECT count(*) AS yann_name_kept FROM tenancy.audit_log WHERE new_row ->> 'full_name' = 'Yann Kor';
SELECT count(*) > 0 AS postgres_actions_kept FROM tenancy.audit_log WHERE actor = 'postgres';
SET ROLE alice;

-- The erasure: marked columns redacted (NULL where no marker fits, a marker
-- of its own where a unique index holds the column), the subject's value
-- wherever it is in those rows, addresses deleted (their policy), the same
-- values in the audit log; Yann and Globex untouched.
SET ROLE alice;
SELECT jsonb_pretty(tenancy.erase_subject(:erasure_request) - 'audit_rows') AS erased,
       (tenancy.erase_subject(:erasure_request) ->> 'audit_rows')::int >= 11 AS audit_rows_redacted;
SELECT id, email, full_name, phone, birth_year, referred_by FROM app.people ORDER BY id;
SELECT id, person_id, note, amount FROM app.purchases ORDER BY id;
SELECT id, purchase_id, product, contact FROM app.purchase_lines ORDER BY id;
SELECT id, person_id, street FROM app.addresses ORDER BY id;
SELECT login, email, nick FROM app.accounts ORDER BY login;
SELECT id, handle ~ '^\[erased [0-9a-f-]{36}\]$' AS own_marker FROM app.badges WHERE person_id = 1 ORDER BY id;
SELECT count(DISTINCT handle) AS distinct_markers FROM app.badges WHERE person_id = 1;
RESET ROLE;
SELECT count(*) AS yann_badge_history_kept FROM tenancy.audit_log
 WHERE table_name = 'app.badges' AND 'yk' IN (old_row ->> 'handle', new_row ->> 'handle');
SET ROLE alice;
-- Run again, it returns what it did, and changes nothing.
SELECT tenancy.erase_subject(:erasure_request) -> 'tables' -> 'app.people' AS again;
-- What is recorded: who, when, how many; no subject, in this request or in
-- the earlier export request about the same person.
SELECT id, kind, status, subject, completed_by = 'alice' AS by_alice, completed_at IS NOT NULL AS completed
  FROM tenancy.subject_requests WHERE tenant = 'acme' ORDER BY id;
SELECT tenancy.export_subject(:export_request);
:sqlstate
RESET ROLE;
RESET tenancy.tenant;

SET ROLE bob;
SET tenancy.tenant = 'globex';
SELECT id, email, full_name FROM app.people;
SELECT note FROM app.purchases;
RESET tenancy.tenant;
RESET ROLE;

-- The whole database's text: the erased values are nowhere but in Globex's
-- rows (its own Zoe, and its audit rows).
-- (Searched by a role that reads everything and bypasses row level security,
-- not a superuser: index expressions of other tests' tables refuse to run
-- as one.)
CREATE ROLE pii_searcher BYPASSRLS;
GRANT pg_read_all_data TO pii_searcher;
CREATE FUNCTION pg_temp.holding(value text)
RETURNS TABLE (table_name text, tenant text, hits bigint) LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.oid::regclass AS rel, coalesce(p.inhparent::regclass::text, c.oid::regclass::text) AS shown,
                    EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                              AND NOT a.attisdropped) AS has_tenant
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_inherits p ON p.inhrelid = c.oid
              WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    LOOP
        IF t.has_tenant THEN
            RETURN QUERY EXECUTE format(
                'SELECT %L::text, (SELECT slug FROM tenancy.tenants WHERE id = x.tenant_id), count(*) '
                'FROM %s x WHERE strpos(to_jsonb(x)::text, $1) > 0 GROUP BY 2', t.shown, t.rel) USING value;
        ELSE
            RETURN QUERY EXECUTE format(
                'SELECT %L::text, NULL::text, count(*) FROM %s x WHERE strpos(to_jsonb(x)::text, $1) > 0 HAVING count(*) > 0',
                t.shown, t.rel) USING value;
        END IF;
    END LOOP;
END
$$;
SET ROLE pii_searcher;
SELECT * FROM pg_temp.holding('zoe@example.com') ORDER BY 1, 2;
SELECT * FROM pg_temp.holding('Zoe Quist') ORDER BY 1, 2;
SELECT * FROM pg_temp.holding('+1 555 0101') ORDER BY 1, 2;
SELECT * FROM pg_temp.holding('Quist Lane') ORDER BY 1, 2;
-- The account's earlier nick is gone from the audit rows under its earlier
-- key too (the key, not marked, stays).
SELECT * FROM pg_temp.holding('Zed') ORDER BY 1, 2;
SELECT * FROM pg_temp.holding('zq1') ORDER BY 1, 2;
-- Yann is still everywhere he was.
SELECT count(*) > 0 AS yann_audited FROM pg_temp.holding('yann@example.com') WHERE tenant = 'acme';
RESET ROLE;

-- A person who is a member (an application user asserted by the service)
-- is erased only after leaving: the membership needs the name.
SET ROLE alice;
SELECT tenancy.add_member('acme', 'wu@example.com', 'member');
RESET ROLE;
SET ROLE app_server;
BEGIN;
SET LOCAL tenancy.actor = 'wu@example.com';
SET LOCAL tenancy.tenant = 'acme';
INSERT INTO app.people VALUES (3, 'wu@example.com', 'Wu Lee', NULL, NULL, NULL);
COMMIT;
RESET ROLE;
SET ROLE alice;
SET tenancy.tenant = 'acme';
SELECT tenancy.request_erasure('wu@example.com') AS wu_request \gset
SELECT tenancy.erase_subject(:wu_request);
:sqlstate
SELECT tenancy.remove_member('acme', 'wu@example.com');
SELECT tenancy.erase_subject(:wu_request) -> 'tables' -> 'app.people' AS people;
RESET tenancy.tenant;
RESET ROLE;
SET ROLE pii_searcher;
SELECT * FROM pg_temp.holding('wu@example.com') ORDER BY 1, 2;
RESET ROLE;
SELECT count(*) AS erased_actor_rows FROM tenancy.audit_log WHERE actor = '[erased]';

-- Platform admins list every request; owners list their tenant's.
SET ROLE ops;
SELECT tenant, kind, status FROM tenancy.subject_request_list() ORDER BY id;
RESET ROLE;
SET ROLE bob;
SELECT count(*) FROM tenancy.subject_request_list('acme');
:sqlstate
SELECT count(*) FROM tenancy.subject_request_list();
:sqlstate
RESET ROLE;
DROP ROLE pii_searcher;
-- A marker an earlier erasure left (or anyone wrote) blocks no erasure.
SET ROLE alice;
SET tenancy.tenant = 'acme';
INSERT INTO app.purchases VALUES (13, 2, '[erased]', 1);
SELECT tenancy.erase_subject(tenancy.request_erasure('yann@example.com')) -> 'tables' -> 'app.purchases' AS yann;
RESET tenancy.tenant;
RESET ROLE;
DROP SCHEMA mal CASCADE;
