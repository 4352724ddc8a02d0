-- pg_tenancy 0.2 -> 0.3, before the functions. The upgrade scripts are
-- assembled by the Makefile: the before parts of every step from the
-- version being updated (0.1--0.2, then this), the objects 0.3 adds,
-- every file of sql/src/functions/ (all CREATE OR REPLACE), and the after
-- parts; test/upgrade/run.sh checks that a database updated from each earlier
-- version has exactly the objects of a fresh install. Written so that it
-- also takes the development snapshots of 0.2 that main carried for a while
-- (IF EXISTS, IF NOT EXISTS).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.3'" to load this file. \quit

-- Strict mode: protected tables owned by tenancy_table_owner, which no role
-- is a member of; platform admins act as it through tenancy.as_table_owner().
DO $strict$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_table_owner') THEN
        CREATE ROLE tenancy_table_owner NOLOGIN;
        COMMENT ON ROLE tenancy_table_owner IS
            'pg_tenancy: owns the tables protected in strict mode; their schema is changed by platform admins '
            'of their database';
    END IF;
    -- A development snapshot of 0.2 made platform admins members of it.
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin')
       AND pg_catalog.pg_has_role('tenancy_admin', 'tenancy_table_owner', 'MEMBER') THEN
        REVOKE tenancy_table_owner FROM tenancy_admin;
    END IF;
END
$strict$;

-- Platform rights become per database (objects/04_platform_grants.sql,
-- filled in 0.2--0.3.after.sql from the members of the group roles of 0.1
-- and 0.2, which stay: other databases of the cluster may still use them).
-- The catalog is read by this database's platform admins only.
DO $catalog$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin') THEN
        REVOKE SELECT ON tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables,
            tenancy.access_denials FROM tenancy_admin;
    END IF;
END
$catalog$;
ALTER TABLE tenancy.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.protected_tables ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.access_denials ENABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS tenancy._set_group(regrole, name, boolean);
ALTER TABLE tenancy.protected_tables
    ADD COLUMN IF NOT EXISTS strict boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS owner_before_strict regrole;
-- protect() gains strict => ...
DROP FUNCTION IF EXISTS tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean);

-- Takes the id of a tenant to bring back.
DROP FUNCTION IF EXISTS tenancy.create_tenant(text, text, text, text, tenancy.isolation);
-- Now takes the tables to look at (the DDL guard asks about the ones it changed).
DROP FUNCTION IF EXISTS tenancy._health_protected_tables();

-- Dump and restore: the audit log's parent index goes (pg_restore attaches
-- the monthly partitions after CREATE EXTENSION made it, which would give
-- each partition an index whose name the dump then creates again); every
-- partition gets its own. The denial ids' sequence is dumped with its table.
DROP INDEX IF EXISTS tenancy.audit_log_tenant_at_idx;
DO $partitions$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
                 WHERE i.inhparent = 'tenancy.audit_log'::regclass LOOP
        EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS %I ON %s (tenant_id, at)',
            (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = part) || '_tenant_at_idx', part);
    END LOOP;
END
$partitions$;
SELECT pg_catalog.pg_extension_config_dump('tenancy.access_denials_id_seq', '');
-- pg_tenancy 0.3 -> 0.4, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.4'" to load this file. \quit
-- pg_tenancy 0.4 -> 0.5, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.5'" to load this file. \quit

-- tenancy.protect() takes backfill and backfill_from, and is SECURITY
-- INVOKER now (tenancy._protect_table() does the privileged work): the
-- six-argument version goes, or calls with defaults would be ambiguous.
DROP FUNCTION IF EXISTS tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean);
-- pg_tenancy 0.5 -> 0.6, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.6'" to load this file. \quit

-- tenancy._known_tenants() takes the tenants the caller may fill, judged
-- before the backfill statement runs as the table's owner.
DROP FUNCTION IF EXISTS tenancy._known_tenants(regclass, text[]);
-- pg_tenancy 0.6 -> 0.7, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.7'" to load this file. \quit

-- Tenants can be terminating: read-only until their grace period ends. The
-- new label cannot be used before this transaction commits, so the
-- functions and the constraint below compare it as text.
ALTER TYPE tenancy.tenant_status ADD VALUE IF NOT EXISTS 'terminating' AFTER 'archived';
COMMENT ON TYPE tenancy.tenant_status IS
    'tenant lifecycle: active; suspended (members refused); archived (read-only); terminating (read-only, '
    'deleted by tenancy.purge_terminated() once its grace period ends)';
ALTER TABLE tenancy.tenants ADD COLUMN purge_after timestamptz,
    ADD CONSTRAINT tenants_purge_after_check CHECK ((status::text = 'terminating') = (purge_after IS NOT NULL));
COMMENT ON COLUMN tenancy.tenants.purge_after IS
    'when a terminating tenant''s grace period ends: tenancy.purge_terminated() deletes it from then on';
ALTER TABLE tenancy.tenants ADD COLUMN limits jsonb NOT NULL DEFAULT '{}',
    ADD CONSTRAINT tenants_limits_check CHECK (pg_catalog.jsonb_typeof(limits) = 'object');
COMMENT ON COLUMN tenancy.tenants.limits IS
    'limits of this tenant that override its plan''s (tenancy.set_limit())';
-- pg_tenancy 0.7 -> 0.8, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.8'" to load this file. \quit

-- Every tenant lives in a region; those of 0.7 in "default" (objects/10_regions.sql
-- creates it and the foreign key). The default fills the existing rows
-- without firing the triggers of tenancy.tenants, and is dropped at once:
-- tenancy.create_tenant() names the region of each new tenant.
ALTER TABLE tenancy.tenants ADD COLUMN region text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE tenancy.tenants ALTER COLUMN region DROP DEFAULT;
COMMENT ON COLUMN tenancy.tenants.region IS
    'the region (tenancy.regions) where the tenant''s data lives (tenancy.set_region())';
-- create_tenant() takes a region, and tenant_list() shows it.
DROP FUNCTION IF EXISTS tenancy.create_tenant(text, text, text, text, tenancy.isolation, uuid);
DROP FUNCTION IF EXISTS tenancy.tenant_list();
-- pg_tenancy 0.8 -> 0.9, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.9'" to load this file. \quit

-- Nothing to change before the functions: 0.9 adds the requests about
-- persons (objects/13_pii.sql) and the functions of the PII registry.
-- pg_tenancy 0.9 -> 0.10, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.10'" to load this file. \quit

-- 0.10 adds functions only (tenant export, import and clone).
-- _refuse_owner_code() takes the operation it refuses (export, clone) as a
-- second argument from 0.10 on.
DROP FUNCTION IF EXISTS tenancy._refuse_owner_code(regclass);
-- pg_tenancy 0.10 -> 0.11, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.11'" to load this file. \quit

-- Schema-mode tenants name their schema (every tenant of 0.10 is in row mode).
ALTER TABLE tenancy.tenants ADD COLUMN schema_name text COLLATE "C";
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_schema_name_key UNIQUE (schema_name);
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_schema_name_check
    CHECK ((isolation = 'schema') = (schema_name IS NOT NULL));
COMMENT ON COLUMN tenancy.tenants.schema_name IS
    'the schema of a schema-mode tenant (tenancy.tenant_schema()), null in the other modes';
-- pg_tenancy 0.11 -> 0.12, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.12'" to load this file. \quit
-- pg_tenancy 0.12 -> 0.13, before the functions (see 0.2--0.3.before.sql for
-- how the upgrade scripts are assembled).
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.13'" to load this file. \quit
-- pg_tenancy: platform rights of this database. Roles are shared by every
-- database of the cluster; these rights are not. A role is a platform admin
-- or a trusted service of the databases whose tenancy.platform_grants name
-- it (or name a role it has the privileges of); superusers are platform
-- admins everywhere. The table travels with pg_dump; the role column is a
-- regrole, so a dump names the role and a restore finds it by name.
CREATE TABLE tenancy.platform_grants (
    role       regrole NOT NULL,
    kind       text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by text NOT NULL,
    CONSTRAINT platform_grants_pkey PRIMARY KEY (role, kind),
    CONSTRAINT platform_grants_kind_check CHECK (kind IN ('platform_admin', 'service'))
);
COMMENT ON TABLE tenancy.platform_grants IS
    'pg_tenancy: the platform admins and trusted services of this database (tenancy.grant_platform_admin(), '
    'tenancy.grant_service())';
COMMENT ON COLUMN tenancy.platform_grants.kind IS
    'platform_admin: manages tenants and may enter any (recorded); service: may assert tenancy.actor per transaction';

-- Changed only through the grant and revoke functions, which also grant each
-- holder privileges in this database: USAGE on schema tenancy (which keeps
-- the role from being dropped while it holds a right) and, to platform
-- admins, SELECT on the catalog, this table and the denials.
REVOKE ALL ON tenancy.platform_grants FROM PUBLIC;
ALTER TABLE tenancy.platform_grants ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.platform_grants', '');
-- pg_tenancy: the state of each backfill and online protection
-- (tenancy.protect_online()), one row per table, so that a run killed at any
-- step resumes where it stopped. Every step records its progress in the
-- transaction that does it. Only pg_tenancy's SECURITY DEFINER functions
-- write it: the backfill rule stored here is what they run, as the table's
-- owner, and the BACKFILL audit row is made from it.
CREATE TABLE tenancy.protect_jobs (
    relid          regclass NOT NULL,
    read_role      tenancy.role,
    write_role     tenancy.role,
    delete_role    tenancy.role,
    audit          boolean,
    strict         boolean,
    backfill_tenant uuid,
    backfill_from  text,
    search_path    text NOT NULL,
    unassigned     text NOT NULL,
    batch_rows     integer NOT NULL,
    online         boolean NOT NULL,
    foreign_key    oid,
    step           text NOT NULL DEFAULT 'prepare',
    pass           integer NOT NULL DEFAULT 1,
    next_block     bigint NOT NULL DEFAULT 0,
    total_blocks   bigint NOT NULL DEFAULT 0,
    rows_total     bigint NOT NULL DEFAULT 0,
    rows_done      bigint NOT NULL DEFAULT 0,
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_by     text NOT NULL,
    CONSTRAINT protect_jobs_pkey PRIMARY KEY (relid),
    CONSTRAINT protect_jobs_unassigned_check CHECK (unassigned IN ('refuse', 'backfill')),
    CONSTRAINT protect_jobs_batch_rows_check CHECK (batch_rows > 0),
    CONSTRAINT protect_jobs_step_check
        CHECK (step IN ('prepare', 'backfill', 'verify', 'validate', 'index', 'switch'))
);
COMMENT ON TABLE tenancy.protect_jobs IS
    'pg_tenancy: online protections in progress (tenancy.protect_online()), with the step each has reached';
REVOKE ALL ON tenancy.protect_jobs FROM PUBLIC;
ALTER TABLE tenancy.protect_jobs ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.protect_jobs', '');
-- pg_tenancy: the history of each tenant. Triggers on tenancy.tenants and
-- tenancy.memberships (wiring/01_triggers.sql) record every creation,
-- change of status, plan, isolation or owner, and deletion, whoever made it
-- and however (management functions, tenantctl, a superuser's UPDATE).
-- Events outlive their tenant: no foreign key, and the slug is kept.

CREATE TABLE tenancy.tenant_events (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id uuid NOT NULL,
    tenant    text NOT NULL,
    at        timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor     text NOT NULL,
    db_role   text NOT NULL,
    event     text NOT NULL,
    "from"    text,
    "to"      text,
    reason    text,
    details   jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT tenant_events_pkey PRIMARY KEY (id),
    CONSTRAINT tenant_events_event_check
        CHECK (event IN ('created', 'status', 'plan', 'isolation', 'region', 'owner', 'deleted'))
);
CREATE INDEX tenant_events_tenant_at_idx ON tenancy.tenant_events (tenant_id, at);
COMMENT ON TABLE tenancy.tenant_events IS
    'pg_tenancy: every creation, change of status, plan, isolation, region or owner, and deletion of a tenant; '
    'read by platform admins and by the owners and admins of the current tenant, edited by nobody';
COMMENT ON COLUMN tenancy.tenant_events.tenant IS 'the tenant''s slug when the event happened';
COMMENT ON COLUMN tenancy.tenant_events.actor IS 'tenancy.actor() of the session that made the change';
COMMENT ON COLUMN tenancy.tenant_events.db_role IS 'the session''s outer database role (a service role asserting the actor)';
COMMENT ON COLUMN tenancy.tenant_events.event IS
    'created, status, plan, isolation, region, owner (an actor became or stopped being an active owner), deleted';
COMMENT ON COLUMN tenancy.tenant_events."from" IS 'the value before (status, plan, isolation, region; owner: the actor who stopped being one)';
COMMENT ON COLUMN tenancy.tenant_events."to" IS 'the value after (status, plan, isolation, region; owner: the actor who became one)';
COMMENT ON COLUMN tenancy.tenant_events.reason IS 'the reason given with a change of status';

REVOKE ALL ON tenancy.tenant_events FROM PUBLIC;
GRANT SELECT ON tenancy.tenant_events TO PUBLIC;
ALTER TABLE tenancy.tenant_events ENABLE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_events', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_events_id_seq', '');
-- pg_tenancy: plans. A plan names the features it unlocks and the limits it
-- sets; each tenant has one (tenancy.tenants.plan), and may have limits of
-- its own that override the plan's (tenancy.tenants.limits). The install
-- creates no plan, so that a dump of this table restores into a fresh
-- install: tenancy.create_tenant() creates the plan "basic" (no features, no
-- limits) the first time a tenant takes it, unless it exists already.

CREATE TABLE tenancy.plans (
    name        text COLLATE "C" NOT NULL,
    description text,
    features    text[] NOT NULL DEFAULT '{}',
    limits      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT plans_pkey PRIMARY KEY (name),
    CONSTRAINT plans_name_check CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT plans_limits_check CHECK (pg_catalog.jsonb_typeof(limits) = 'object')
);
COMMENT ON TABLE tenancy.plans IS
    'pg_tenancy: plans with the features they unlock and the limits they set (tenancy.create_plan())';
COMMENT ON COLUMN tenancy.plans.features IS 'what tenancy.has_feature() answers true for';
COMMENT ON COLUMN tenancy.plans.limits IS
    'members, rows (per protected table), storage_mb, statement_timeout, work_mem; absent: no limit';

-- Every tenant's plan exists (an update from 0.6 brings in the plans its
-- tenants named; a fresh install has no tenant).
INSERT INTO tenancy.plans (name) SELECT DISTINCT t.plan FROM tenancy.tenants t;
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_plan_fkey FOREIGN KEY (plan) REFERENCES tenancy.plans (name);

REVOKE ALL ON tenancy.plans FROM PUBLIC;
ALTER TABLE tenancy.plans ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.plans', '');
-- pg_tenancy: the rows each tenant has in each protected table that a row
-- limit names (plans.limits->'rows', tenants.limits->'rows'), maintained by
-- statement triggers on those tables (tenancy_row_count*) so that a limit is
-- checked without counting. The counts of a table are taken in full when its
-- triggers are installed; derived data, not dumped (after a restore,
-- tenancy.recount_rows() counts again), removed with the tenant.

CREATE TABLE tenancy.row_counts (
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    relid     oid NOT NULL,
    rows      bigint NOT NULL,
    row_limit bigint,
    limits_version bigint NOT NULL DEFAULT 0,
    CONSTRAINT row_counts_pkey PRIMARY KEY (tenant_id, relid)
);
CREATE INDEX row_counts_relid_idx ON tenancy.row_counts (relid);
COMMENT ON TABLE tenancy.row_counts IS
    'pg_tenancy: rows per tenant of the protected tables a row limit names, kept by triggers (not dumped)';
COMMENT ON COLUMN tenancy.row_counts.row_limit IS
    'the tenant''s row limit for the table (NULL: none), as of limits_version; read again when the limits change';

REVOKE ALL ON tenancy.row_counts FROM PUBLIC;
ALTER TABLE tenancy.row_counts ENABLE ROW LEVEL SECURITY;

-- The protected tables whose counts are complete: counted when their
-- triggers were installed (or by tenancy.recount_rows()), under the name the
-- row limit gives them, which they keep when the table is renamed.
CREATE TABLE tenancy.row_count_tables (
    relid      oid NOT NULL,
    limit_name text NOT NULL,
    counted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT row_count_tables_pkey PRIMARY KEY (relid)
);
COMMENT ON TABLE tenancy.row_count_tables IS
    'pg_tenancy: tables whose rows per tenant are counted in full, and the name their row limits use (not dumped)';
REVOKE ALL ON tenancy.row_count_tables FROM PUBLIC;
ALTER TABLE tenancy.row_count_tables ENABLE ROW LEVEL SECURITY;

-- The version of the limits: every change of plans, of a tenant's plan or of
-- its own limits raises it (and holds its row until commit, so that such
-- changes take turns); a count whose copied limit is of another version
-- reads the limit again at its tenant's next write.
CREATE TABLE tenancy.row_limits_version (
    version bigint NOT NULL
);
INSERT INTO tenancy.row_limits_version (version) VALUES (0);
COMMENT ON TABLE tenancy.row_limits_version IS
    'pg_tenancy: one row, raised by every change of limits, so that row_counts read their limits again';
REVOKE ALL ON tenancy.row_limits_version FROM PUBLIC;
ALTER TABLE tenancy.row_limits_version ENABLE ROW LEVEL SECURITY;
-- pg_tenancy: typed tenant settings. tenancy.define_setting() gives a key a
-- type and a default; tenancy.set_tenant_setting() then refuses values of
-- another type, and tenancy.setting() answers the current tenant's value or
-- the default. Keys without a definition stay free-form.

CREATE TABLE tenancy.setting_definitions (
    key           text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    default_value jsonb,
    description   text,
    defined_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT setting_definitions_pkey PRIMARY KEY (key),
    CONSTRAINT setting_definitions_key_check CHECK (key ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT setting_definitions_type_check CHECK (type IN ('text', 'integer', 'numeric', 'boolean', 'timezone',
                                                              'locale', 'email', 'url', 'color', 'jsonb'))
);
COMMENT ON TABLE tenancy.setting_definitions IS
    'pg_tenancy: the type, default and description of tenant setting keys (tenancy.define_setting())';

REVOKE ALL ON tenancy.setting_definitions FROM PUBLIC;
GRANT SELECT ON tenancy.setting_definitions TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.setting_definitions', '');
-- pg_tenancy: regions, for data residency. Every tenant lives in one
-- (tenancy.tenants.region); a region says, for database-mode tenants, which
-- server their databases live on. The install creates no region, so that a
-- dump of this table restores into a fresh install: tenancy.create_tenant()
-- creates the region "default" (this server) the first time a tenant takes
-- it, unless it exists already.

CREATE TABLE tenancy.regions (
    name        text COLLATE "C" NOT NULL,
    description text,
    server      text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT regions_pkey PRIMARY KEY (name),
    CONSTRAINT regions_name_check CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT regions_server_check CHECK (pg_catalog.length(pg_catalog.btrim(server)) > 0)
);
COMMENT ON TABLE tenancy.regions IS
    'pg_tenancy: the regions tenants'' data may live in (tenancy.define_region())';
COMMENT ON COLUMN tenancy.regions.server IS
    'the server that database-mode tenants of the region live on (a libpq connection string); '
    'null: this server';

-- Every tenant's region exists (an update from 0.7 puts its tenants in
-- "default"; a fresh install has no tenant).
INSERT INTO tenancy.regions (name, description)
SELECT 'default', 'this server' WHERE EXISTS (SELECT 1 FROM tenancy.tenants);
ALTER TABLE tenancy.tenants ADD CONSTRAINT tenants_region_fkey FOREIGN KEY (region) REFERENCES tenancy.regions (name);

REVOKE ALL ON tenancy.regions FROM PUBLIC;
ALTER TABLE tenancy.regions ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.regions', '');
-- pg_tenancy: usage alerts. When a tenant's usage crosses 80 % and 100 % of
-- one of its limits (members, rows of a table), a row is written here, once
-- per limit, threshold and month, and a NOTIFY tenancy_alerts carries it as
-- JSON to whoever listens (at commit: an addition that rolls back alerts
-- nobody).

CREATE TABLE tenancy.alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id   uuid NOT NULL,
    tenant      text NOT NULL,
    limit_key   text NOT NULL,
    threshold   integer NOT NULL,
    period      date NOT NULL,
    usage       numeric NOT NULL,
    "limit"     numeric NOT NULL,
    plan        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    CONSTRAINT alerts_pkey PRIMARY KEY (id),
    CONSTRAINT alerts_once UNIQUE (tenant_id, limit_key, threshold, period),
    CONSTRAINT alerts_threshold_check CHECK (threshold IN (80, 100))
);
CREATE INDEX alerts_at_idx ON tenancy.alerts (at);
COMMENT ON TABLE tenancy.alerts IS
    'pg_tenancy: a tenant''s usage crossing 80 % or 100 % of a limit, once per limit, threshold and month; '
    'read by platform admins and by the owners and admins of the current tenant';
COMMENT ON COLUMN tenancy.alerts.limit_key IS 'members, or rows.<schema>.<table> (as tenancy.tenant_limits() names them)';
COMMENT ON COLUMN tenancy.alerts.period IS 'the month (UTC) the alert belongs to (its first day)';
COMMENT ON COLUMN tenancy.alerts.usage IS 'the usage that crossed the threshold';

REVOKE ALL ON tenancy.alerts FROM PUBLIC;
GRANT SELECT ON tenancy.alerts TO PUBLIC;
ALTER TABLE tenancy.alerts ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.alerts_id_seq', '');
-- pg_tenancy: usage per tenant and day. The writes into protected tables are
-- metered in every session (extension/usage_meter.cpp) and folded in here
-- by the collector; rows per table and the storage estimate come from
-- tenancy.collect_usage(), run from cron. Read by platform admins, and by the
-- owners and admins of the current tenant for that tenant.

CREATE TABLE tenancy.usage_daily (
    tenant_id  uuid NOT NULL,
    day        date NOT NULL,
    table_name text NOT NULL,
    inserted   bigint NOT NULL DEFAULT 0,
    updated    bigint NOT NULL DEFAULT 0,
    deleted    bigint NOT NULL DEFAULT 0,
    rows       bigint,
    bytes      bigint,
    CONSTRAINT usage_daily_pkey PRIMARY KEY (tenant_id, day, table_name)
);
COMMENT ON TABLE tenancy.usage_daily IS
    'pg_tenancy: per tenant, UTC day and protected table: rows inserted, updated and deleted, and (from '
    'tenancy.collect_usage()) the rows the table held and an estimate of the bytes they take';
COMMENT ON COLUMN tenancy.usage_daily.bytes IS
    'the table''s total size (with indexes and TOAST) times the tenant''s share of its rows';

CREATE TABLE tenancy.usage_actors (
    tenant_id uuid NOT NULL,
    day       date NOT NULL,
    actor     text COLLATE "C" NOT NULL,
    CONSTRAINT usage_actors_pkey PRIMARY KEY (tenant_id, day, actor)
);
COMMENT ON TABLE tenancy.usage_actors IS 'pg_tenancy: the actors who used each tenant, per UTC day';

REVOKE ALL ON tenancy.usage_daily, tenancy.usage_actors FROM PUBLIC;
GRANT SELECT ON tenancy.usage_daily, tenancy.usage_actors TO PUBLIC;
ALTER TABLE tenancy.usage_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.usage_actors ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.usage_daily', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.usage_actors', '');
-- pg_tenancy: requests about a person's data (subject access and erasure).
-- The PII registry itself is kept as security labels of provider
-- "pg_tenancy" on the columns (extension/pii_labels.cpp). A request belongs
-- to one tenant; its owners and admins create and read the requests of the
-- current tenant, platform admins all of them. The subject is kept until
-- the erasure it asks for is done, never after.

CREATE TABLE tenancy.subject_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id    uuid NOT NULL,
    tenant       text NOT NULL,
    kind         text NOT NULL,
    subject      text,
    status       text NOT NULL DEFAULT 'pending',
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_by text,
    completed_at timestamptz,
    result       jsonb,
    CONSTRAINT subject_requests_pkey PRIMARY KEY (id),
    CONSTRAINT subject_requests_kind_check CHECK (kind IN ('export', 'erasure')),
    CONSTRAINT subject_requests_status_check CHECK (status IN ('pending', 'completed')),
    CONSTRAINT subject_requests_subject_check CHECK (
        subject IS NULL OR (pg_catalog.length(subject) BETWEEN 1 AND 1000)),
    CONSTRAINT subject_requests_completed_check CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX subject_requests_tenant_idx ON tenancy.subject_requests (tenant_id, requested_at);
COMMENT ON TABLE tenancy.subject_requests IS
    'pg_tenancy: requests to export or erase what a tenant holds about a person; read by platform admins and '
    'by the owners and admins of the current tenant for that tenant';
COMMENT ON COLUMN tenancy.subject_requests.tenant IS 'the tenant''s slug when the request was made';
COMMENT ON COLUMN tenancy.subject_requests.subject IS
    'the value that identifies the person in the subject columns; null once an erasure of it is done';
COMMENT ON COLUMN tenancy.subject_requests.result IS
    'what was done: rows per table, audit rows redacted (never the values themselves)';

REVOKE ALL ON tenancy.subject_requests FROM PUBLIC;
GRANT SELECT ON tenancy.subject_requests TO PUBLIC;
ALTER TABLE tenancy.subject_requests ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('tenancy.subject_requests', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.subject_requests_id_seq', '');
-- pg_tenancy: the ledger of migrations (tenantctl migrate). A migration is a
-- file of DIR/shared (run once) or of DIR/tenant (run in every place a
-- tenant's tables live: the shared schemas of row-mode tenants, and each
-- schema-mode tenant's schema). Each place's migration commits with its row
-- here, so an interrupted run resumes where it stopped and nothing runs twice.

CREATE TABLE tenancy.migrations (
    scope      text NOT NULL,
    tenant_id  uuid REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    version    text COLLATE "C" NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    duration   interval,
    applied_by text NOT NULL,
    CONSTRAINT migrations_scope_check CHECK (scope IN ('shared', 'tenant')),
    CONSTRAINT migrations_shared_check CHECK (scope = 'tenant' OR tenant_id IS NULL),
    CONSTRAINT migrations_version_check CHECK (pg_catalog.length(version) BETWEEN 1 AND 255),
    CONSTRAINT migrations_checksum_check CHECK (checksum ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX migrations_place_version_key ON tenancy.migrations
    (scope, COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), version);
COMMENT ON TABLE tenancy.migrations IS
    'pg_tenancy: which migration ran where (scope shared; scope tenant with tenant_id null for the shared '
    'schemas of row-mode tenants, or a schema-mode tenant), with its SHA-256, when, how long, and by whom';

-- The tenant migrations applied so far, kept so that a tenant created later
-- gets every one of them before create_tenant() returns.
CREATE TABLE tenancy.migration_scripts (
    version     text COLLATE "C" NOT NULL,
    checksum    text NOT NULL,
    body        text NOT NULL,
    run_as      regrole NOT NULL,
    shared_path text NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT migration_scripts_pkey PRIMARY KEY (version),
    CONSTRAINT migration_scripts_checksum_check CHECK (checksum ~ '^[0-9a-f]{64}$')
);
COMMENT ON TABLE tenancy.migration_scripts IS
    'pg_tenancy: the tenant migrations applied so far, replayed (as the role that first applied them, with '
    'its shared schemas) in the schema of every tenant created later';

REVOKE ALL ON tenancy.migrations, tenancy.migration_scripts FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.migration_scripts', '');
-- pg_tenancy: a small cache per tenant (tenancy.cache_put/get/delete). It is
-- unlogged (lost in a crash, not dumped, not replicated): a cache, not data.
-- Only the functions read and write it, always for the validated tenant.

CREATE UNLOGGED TABLE tenancy.cache (
    tenant_id  uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    key        text COLLATE "C" NOT NULL,
    value      jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT cache_pkey PRIMARY KEY (tenant_id, key)
);
CREATE INDEX cache_expires_idx ON tenancy.cache (expires_at);
COMMENT ON TABLE tenancy.cache IS
    'pg_tenancy: each tenant''s cache entries (tenancy.cache_put()); expired entries are invisible and purged';
REVOKE ALL ON tenancy.cache FROM PUBLIC;
-- pg_tenancy: the union views of platform admins (tenancy.union_view()): one
-- view per row, showing one table of every schema-mode tenant.

CREATE TABLE tenancy.union_views (
    view_id     regclass PRIMARY KEY,
    table_name  text COLLATE "C" NOT NULL,
    created_by  text NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenancy.union_views IS
    'pg_tenancy: the union views (tenancy.union_view()): each shows table_name of every schema-mode tenant';
REVOKE ALL ON tenancy.union_views FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tenancy.union_views', '');
-- pg_tenancy: the trigger function that makes catalog changes reach every session.

-- Every change to tenants or memberships reaches every session's cache at
-- commit (see extension/catalog_changed.cpp).
CREATE OR REPLACE FUNCTION tenancy.catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_catalog_changed';
COMMENT ON FUNCTION tenancy.catalog_changed() IS
    'internal: tells every session that tenants or memberships changed';
REVOKE ALL ON FUNCTION tenancy.catalog_changed() FROM PUBLIC;
-- pg_tenancy: the tenant context, implemented in C++ (extension/context*.cpp).
-- PARALLEL RESTRICTED: evaluated by the leader only, so that a refusal is
-- recorded once and in the session that caused it.

-- Planner support function of the context functions: it simplifies nothing,
-- but planning a query on a protected table thereby loads the library, whose
-- statement check then runs before the executor reads any row.
CREATE OR REPLACE FUNCTION tenancy.context_support(internal) RETURNS internal
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_context_support';
COMMENT ON FUNCTION tenancy.context_support(internal) IS
    'internal: planner support function that loads pg_tenancy when a protected table is planned';

CREATE OR REPLACE FUNCTION tenancy.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_current_tenant_id';
COMMENT ON FUNCTION tenancy.current_tenant_id() IS
    'uuid of the tenant selected with SET tenancy.tenant, validated against membership and status';

CREATE OR REPLACE FUNCTION tenancy.current_tenant() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_tenant';
COMMENT ON FUNCTION tenancy.current_tenant() IS 'slug of the validated current tenant';

CREATE OR REPLACE FUNCTION tenancy.actor() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_actor';
COMMENT ON FUNCTION tenancy.actor() IS
    'who is acting: the session''s role, or tenancy.actor when set for the transaction by a service role of '
    'this database';

CREATE OR REPLACE FUNCTION tenancy.db_role() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_db_role';
COMMENT ON FUNCTION tenancy.db_role() IS
    'the session''s outer database role (SET ROLE counts, SECURITY DEFINER does not)';

CREATE OR REPLACE FUNCTION tenancy.current_role() RETURNS tenancy.role
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_role';
COMMENT ON FUNCTION tenancy.current_role() IS
    'the actor''s role in the current tenant (platform admins act as owner)';

CREATE OR REPLACE FUNCTION tenancy.has_role(tenancy.role) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_has_role';
COMMENT ON FUNCTION tenancy.has_role(tenancy.role) IS
    'whether the actor''s role in the current tenant is at least the given role';

CREATE OR REPLACE FUNCTION tenancy.is_platform_admin() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_is_platform_admin';
COMMENT ON FUNCTION tenancy.is_platform_admin() IS
    'whether the acting role is a superuser or a platform admin of this database (never while asserting '
    'tenancy.actor)';

CREATE OR REPLACE FUNCTION tenancy._current_role_is_platform_admin() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_current_role_is_platform_admin';
COMMENT ON FUNCTION tenancy._current_role_is_platform_admin() IS
    'internal: whether the role SQL runs as right now (current_user) is a platform admin of this database';

CREATE OR REPLACE FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) RETURNS uuid
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT tenancy.context_support
    AS 'MODULE_PATHNAME', 'tenancy_tenant_for';
COMMENT ON FUNCTION tenancy.tenant_for(tenancy.role, text, regclass) IS
    'used by the policies of protected tables: the current tenant if the actor''s role allows the action '
    '(select, insert, update, delete) on the table, else an error naming the role needed';
-- pg_tenancy: internal helpers of the management functions. Not callable
-- by PUBLIC; the SECURITY DEFINER management functions call them as owner.
--
-- Rights are always checked before anything about a tenant or an actor is
-- revealed: a caller without rights gets the same refusal whether or not the
-- tenant or actor exists (platform admins get precise answers). Rights that a
-- change depends on are read with row locks, so that they hold until the
-- change commits; under REPEATABLE READ and SERIALIZABLE a right that changed
-- since the transaction's snapshot is a serialization failure, never trusted.

-- Returns user input fit to be echoed in a message: characters that are not
-- printable escaped (\u200b), at most 64 bytes (extension/actor_names.hpp).
CREATE OR REPLACE FUNCTION tenancy._shown(value text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_shown';

-- Returns the tenant named by slug or uuid text, or NULL; never raises.
CREATE OR REPLACE FUNCTION tenancy._lookup_tenant(ref text, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_tenant tenancy.tenants;
    by_id uuid;
BEGIN
    IF ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        by_id := ref::uuid;
    END IF;
    -- FOR NO KEY UPDATE: a change of status or settings must not wait for, nor
    -- make fail, the new memberships and domains whose foreign keys hold FOR
    -- KEY SHARE on the row.
    IF by_id IS NOT NULL AND lock_row THEN
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.id = by_id FOR NO KEY UPDATE;
    ELSIF by_id IS NOT NULL THEN
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.id = by_id;
    ELSIF lock_row THEN
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.slug = ref FOR NO KEY UPDATE;
    ELSE
        SELECT * INTO found_tenant FROM tenancy.tenants t WHERE t.slug = ref;
    END IF;
    RETURN found_tenant;
END
$$;

-- Returns the equality operator of a type's default btree operator class,
-- schema-qualified for OPERATOR(), or NULL when the type has none: an
-- operator named "=" that anyone created in some schema is never the one
-- pg_tenancy compares with.
CREATE OR REPLACE FUNCTION tenancy._equality_operator(type_oid oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('OPERATOR(%I.%s)', n.nspname, o.oprname)
      FROM pg_opclass oc
      JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
      JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amoplefttype = oc.opcintype
                     AND ao.amoprighttype = oc.opcintype AND ao.amopstrategy = 3
      JOIN pg_operator o ON o.oid = ao.amopopr
      JOIN pg_namespace n ON n.oid = o.oprnamespace
     WHERE oc.opcdefault AND oc.opcintype = type_oid
     LIMIT 1
$$;

-- Finds a tenant by slug or uuid, optionally locking it; raises when absent.
-- For platform admins, and for callers whose rights are already checked.
CREATE OR REPLACE FUNCTION tenancy._find_tenant(ref text, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_tenant tenancy.tenants;
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    found_tenant := tenancy._lookup_tenant(ref, lock_row);
    IF found_tenant.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('tenant "%s" does not exist', tenancy._shown(ref)),
            HINT = 'A tenant is named by its slug or its uuid; tenancy.tenant_list() lists them.';
    END IF;
    RETURN found_tenant;
END
$$;

-- Raises unless the caller is a platform admin.
CREATE OR REPLACE FUNCTION tenancy._require_platform_admin(action text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to %s', action),
            DETAIL = format('Only platform admins of database "%s" may %s; role "%s" is not one.',
                            current_database(), action, tenancy.db_role()),
            HINT = 'A platform admin of this database can run it, or make you one with tenancy.grant_platform_admin().';
    END IF;
END
$$;

-- Returns the caller's active role in a tenant, or NULL. With for_change,
-- the membership row is locked (FOR SHARE) until the transaction ends, so
-- that the right cannot be revoked under a change that relies on it; under
-- REPEATABLE READ a membership changed since the snapshot is a serialization
-- failure. Without, it is the latest committed role, read without a lock.
CREATE OR REPLACE FUNCTION tenancy._caller_role(tenant uuid, for_change boolean DEFAULT false)
RETURNS tenancy.role
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_role tenancy.role;
BEGIN
    IF NOT for_change THEN
        RETURN tenancy._member_role(tenant, tenancy.actor());
    END IF;
    SELECT m.role INTO found_role FROM tenancy.memberships m
     WHERE m.tenant_id = _caller_role.tenant AND m.actor = tenancy.actor() AND m.is_active
       FOR SHARE;
    RETURN found_role;
END
$$;

-- Returns the tenant named ref when the caller is a platform admin or has at
-- least the minimum role in it; otherwise raises a refusal that is the same
-- whether or not the tenant exists.
CREATE OR REPLACE FUNCTION tenancy._tenant_for_caller(
    ref text, minimum tenancy.role, action text, for_change boolean DEFAULT false, lock_row boolean DEFAULT false)
RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenancy.is_platform_admin() THEN
        RETURN tenancy._find_tenant(ref, lock_row);
    END IF;
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    target := tenancy._lookup_tenant(ref);
    IF target.id IS NULL OR coalesce(tenancy._caller_role(target.id, for_change) < minimum, true) THEN
        PERFORM tenancy._refuse_tenant_action(ref, minimum, action);
    END IF;
    IF lock_row THEN
        target := tenancy._lookup_tenant(ref, true);
    END IF;
    PERFORM tenancy._require_active_for_change(target, for_change);
    RETURN target;
END
$$;

-- Raises unless a tenant whose members want to change something is active:
-- a suspended tenant cannot be used, an archived or terminating one is
-- read-only; only platform admins change them.
CREATE OR REPLACE FUNCTION tenancy._require_active_for_change(target tenancy.tenants, for_change boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF for_change THEN
        -- The latest committed status, not the snapshot's (a REPEATABLE READ
        -- transaction may have begun before a suspension or termination),
        -- read without a lock a change of status would wait for.
        target.status := tenancy._latest_status(target.id);
    END IF;
    IF for_change AND target.status <> 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('Only platform admins can change a %s tenant.', target.status),
            HINT = CASE WHEN target.status::text = 'terminating'
                        THEN format('A platform admin can restore it with tenancy.restore_tenant() until %s.',
                                    coalesce(tenancy._shown_time(target.purge_after), 'its grace period ends'))
                        ELSE 'A platform admin can make it active again with tenancy.activate_tenant().' END;
    END IF;
END
$$;

-- Raises the refusal a caller without rights in a tenant gets.
CREATE OR REPLACE FUNCTION tenancy._refuse_tenant_action(ref text, minimum tenancy.role, action text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('permission denied to %s of tenant "%s"', action, tenancy._shown(ref)),
        DETAIL = format('Only %s of the tenant and platform admins may %s.',
                        CASE minimum WHEN 'owner' THEN 'owners' WHEN 'admin' THEN 'owners and admins'
                                     ELSE 'members' END, action),
        HINT = CASE minimum WHEN 'owner' THEN 'Ask an owner of the tenant, or a platform admin.'
                            ELSE 'Ask an owner or admin of the tenant, or a platform admin.' END;
END
$$;

-- Returns an actor name in its normalized form (Unicode NFC), or raises
-- when it is not a valid actor name (see extension/actor_names.hpp).
CREATE OR REPLACE FUNCTION tenancy._normalize_actor(actor text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_normalize_actor';

-- Returns the confusable skeleton of a name (Unicode UTS #39): names that
-- look alike have the same skeleton.
CREATE OR REPLACE FUNCTION tenancy._actor_skeleton(actor text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_actor_skeleton';

-- Returns the latest committed active role of an actor in a tenant, or NULL.
CREATE OR REPLACE FUNCTION tenancy._member_role(tenant uuid, actor text) RETURNS tenancy.role
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_member_role';

-- The latest committed status of a tenant, whatever the snapshot (C++).
CREATE OR REPLACE FUNCTION tenancy._latest_status(tenant uuid) RETURNS text
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_latest_status';

-- The number of a tenant's active members, latest committed (C++).
CREATE OR REPLACE FUNCTION tenancy._active_members(tenant uuid) RETURNS bigint
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_active_members';

-- Makes additions of members to a tenant take turns until commit (C++).
CREATE OR REPLACE FUNCTION tenancy._lock_member_seats(tenant uuid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_lock_member_seats';

-- Raises when a new actor name looks like, but is not, a member of the tenant
-- or a database role: "bob" and "b\u043eb" (a Cyrillic o) are not both let in.
CREATE OR REPLACE FUNCTION tenancy._refuse_lookalike(tenant uuid, actor text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    skeleton text := tenancy._actor_skeleton(actor);
    lookalike text;
BEGIN
    SELECT m.actor INTO lookalike FROM tenancy.memberships m
     WHERE m.tenant_id = _refuse_lookalike.tenant AND tenancy._actor_skeleton(m.actor) = skeleton
       AND m.actor <> _refuse_lookalike.actor
     LIMIT 1;
    IF lookalike IS NULL THEN
        SELECT r.rolname INTO lookalike FROM pg_roles r
         WHERE tenancy._actor_skeleton(r.rolname) = skeleton AND r.rolname <> _refuse_lookalike.actor
         LIMIT 1;
    END IF;
    IF lookalike IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('actor "%s" looks like "%s"', tenancy._shown(actor), tenancy._shown(lookalike)),
            DETAIL = 'Two actors whose names can be mistaken for each other are refused.',
            HINT = 'Use the existing name, or a name that is clearly different.';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION tenancy._shown(text), tenancy._lookup_tenant(text, boolean),
    tenancy._find_tenant(text, boolean), tenancy._require_platform_admin(text),
    tenancy._caller_role(uuid, boolean),
    tenancy._tenant_for_caller(text, tenancy.role, text, boolean, boolean),
    tenancy._refuse_tenant_action(text, tenancy.role, text), tenancy._require_active_for_change(tenancy.tenants, boolean),
    tenancy._normalize_actor(text), tenancy._actor_skeleton(text), tenancy._member_role(uuid, text),
    tenancy._latest_status(uuid), tenancy._active_members(uuid), tenancy._lock_member_seats(uuid),
    tenancy._refuse_lookalike(uuid, text), tenancy._equality_operator(oid)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._shown(text) IS 'internal: user input escaped and cut to 64 bytes for messages';
COMMENT ON FUNCTION tenancy._lookup_tenant(text, boolean) IS 'internal: tenant by slug or uuid, or NULL';
COMMENT ON FUNCTION tenancy._equality_operator(oid) IS
    'internal: the equality operator of a type''s default btree operator class';
COMMENT ON FUNCTION tenancy._find_tenant(text, boolean) IS 'internal: tenant by slug or uuid, or an error';
COMMENT ON FUNCTION tenancy._require_platform_admin(text) IS 'internal: error unless a platform admin';
COMMENT ON FUNCTION tenancy._caller_role(uuid, boolean) IS
    'internal: the caller''s active role in a tenant (locked for a change, else latest committed)';
COMMENT ON FUNCTION tenancy._tenant_for_caller(text, tenancy.role, text, boolean, boolean) IS
    'internal: a tenant the caller has rights in, or the same refusal whether or not it exists';
COMMENT ON FUNCTION tenancy._require_active_for_change(tenancy.tenants, boolean) IS
    'internal: error when members change a tenant that is not active';
COMMENT ON FUNCTION tenancy._refuse_tenant_action(text, tenancy.role, text) IS
    'internal: the refusal of a caller without rights in a tenant';
COMMENT ON FUNCTION tenancy._normalize_actor(text) IS 'internal: an actor name in normal form, or an error';
COMMENT ON FUNCTION tenancy._actor_skeleton(text) IS 'internal: the confusable skeleton of a name (UTS #39)';
COMMENT ON FUNCTION tenancy._member_role(uuid, text) IS 'internal: latest committed active role of an actor';
COMMENT ON FUNCTION tenancy._latest_status(uuid) IS 'internal: latest committed status of a tenant';
COMMENT ON FUNCTION tenancy._active_members(uuid) IS 'internal: latest committed number of active members';
COMMENT ON FUNCTION tenancy._lock_member_seats(uuid) IS 'internal: additions of members to a tenant take turns';
COMMENT ON FUNCTION tenancy._refuse_lookalike(uuid, text) IS
    'internal: error when a name looks like another member''s or a role''s';
-- pg_tenancy: tenant lifecycle. Platform admins only.

CREATE OR REPLACE FUNCTION tenancy.create_tenant(
    slug text,
    name text,
    owner text DEFAULT NULL,
    plan text DEFAULT 'basic',
    isolation tenancy.isolation DEFAULT 'row',
    id uuid DEFAULT NULL,
    region text DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id uuid;
    suggestion text;
    isolation_refused text;
    schema text;
BEGIN
    PERFORM tenancy._require_platform_admin('create tenants');
    IF create_tenant.slug IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'slug must not be null';
    END IF;
    IF create_tenant.slug !~ '^[a-z][a-z0-9_-]{0,62}$'
       OR create_tenant.slug ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        suggestion := tenancy.suggest_slug(create_tenant.slug);
        IF suggestion IS NULL AND create_tenant.slug ~ '[[:alnum:]]' THEN
            suggestion := tenancy.suggest_slug('t-' || create_tenant.slug);
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid tenant slug "%s"', tenancy._shown(create_tenant.slug)),
            DETAIL = 'A slug starts with a lowercase letter and has only lowercase letters, digits, "_" and "-", '
                     'at most 63 characters, and does not look like a uuid.',
            HINT = coalesce('Try "' || suggestion || '".', 'Start with a lowercase letter.');
    END IF;
    IF create_tenant.name IS NULL OR length(btrim(create_tenant.name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'tenant name must have 1 to 200 characters',
            DETAIL = format('The name given was %s.', coalesce(quote_literal(tenancy._shown(create_tenant.name)), 'null'));
    END IF;
    -- Names are printed to operators' terminals (tenantctl, psql, logs): no
    -- line breaks, tabs or escape sequences (C0, DEL and C1 controls).
    IF create_tenant.name ~ ('[' || chr(1) || '-' || chr(31) || chr(127) || '-' || chr(159) || ']') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'tenant name must not contain control characters',
            DETAIL = format('The name given was "%s".', tenancy._shown(create_tenant.name)),
            HINT = 'Remove line breaks, tabs and terminal escape sequences from the name.';
    END IF;
    plan := coalesce(create_tenant.plan, 'basic');
    isolation := coalesce(create_tenant.isolation, 'row');
    IF create_tenant.plan !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid plan "%s"', tenancy._shown(create_tenant.plan)),
            DETAIL = 'A plan name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-".';
    END IF;
    -- The plan "basic" comes into being with the first tenant that takes it
    -- (no features, no limits); every other plan must exist.
    IF create_tenant.plan = 'basic' THEN
        INSERT INTO tenancy.plans (name, description) VALUES ('basic', 'the default plan')
            ON CONFLICT DO NOTHING;
    ELSIF NOT EXISTS (SELECT 1 FROM tenancy.plans p WHERE p.name = create_tenant.plan) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('plan "%s" does not exist', create_tenant.plan),
            HINT = 'Create it first with tenancy.create_plan(), or leave the plan out for "basic".';
    END IF;
    region := tenancy._region_for_new_tenant(create_tenant.region);
    isolation_refused := tenancy.isolation_problem(create_tenant.isolation::text);
    IF isolation_refused IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = isolation_refused,
            DETAIL = 'This version of pg_tenancy implements row and schema isolation.',
            HINT = 'Create the tenant with isolation => ''row'' or ''schema''.';
    END IF;
    IF create_tenant.isolation = 'schema' THEN
        schema := tenancy._schema_name_for(create_tenant.slug);
        PERFORM tenancy._require_free_schema(create_tenant.slug, schema);
    END IF;
    IF create_tenant.owner IS NOT NULL THEN
        owner := tenancy._normalize_actor(create_tenant.owner);
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.slug = create_tenant.slug) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('tenant "%s" already exists', create_tenant.slug),
            HINT = 'Choose another slug.';
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.id = create_tenant.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('a tenant with id %s already exists', create_tenant.id),
            HINT = 'Give the id only to bring back a tenant whose rows outlived it (after DROP EXTENSION).';
    END IF;

    INSERT INTO tenancy.tenants (id, slug, name, plan, isolation, region, schema_name)
    VALUES (coalesce(create_tenant.id, gen_random_uuid()), create_tenant.slug, btrim(create_tenant.name),
            create_tenant.plan, create_tenant.isolation, create_tenant.region, schema)
    RETURNING tenants.id INTO new_id;
    IF schema IS NOT NULL THEN
        PERFORM tenancy._create_tenant_schema(new_id);
    END IF;
    IF create_tenant.owner IS NOT NULL THEN
        PERFORM tenancy._refuse_lookalike(new_id, create_tenant.owner);
        PERFORM tenancy._require_member_room((SELECT t FROM tenancy.tenants t WHERE t.id = new_id));
        INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (new_id, create_tenant.owner, 'owner');
    END IF;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION tenancy.create_tenant(text, text, text, text, tenancy.isolation, uuid, text) IS
    'creates a tenant (platform admins only) and, when given, makes owner its first owner; returns its id; '
    'a schema-mode tenant gets its schema with every tenant migration applied so far '
    '(a null plan, isolation or region means the default: "basic", "row", tenancy.default_region; id brings '
    'back a tenant with the id its rows still carry)';

-- Says what is wrong with an isolation mode for a new tenant, or null when
-- this version supports it.
CREATE OR REPLACE FUNCTION tenancy.isolation_problem(isolation text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN isolation IS NULL OR isolation NOT IN ('row', 'schema', 'database')
        THEN format('unknown isolation mode "%s": the modes are row, schema and database',
                    tenancy._shown(coalesce(isolation, 'null')))
        WHEN isolation = 'database' THEN format('isolation mode "%s" is not supported yet', isolation)
    END
$$;
COMMENT ON FUNCTION tenancy.isolation_problem(text) IS
    'what is wrong with an isolation mode for a new tenant, or null when it is supported';

-- Raises unless a new schema-mode tenant with this slug can have its schema.
CREATE OR REPLACE FUNCTION tenancy._require_free_schema(slug text, schema text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF octet_length(schema) > 63 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('slug "%s" is too long for a schema-mode tenant', slug),
            DETAIL = format('Its schema would be "%s", longer than the 63 bytes a PostgreSQL name can have.', schema),
            HINT = 'A schema-mode tenant''s slug has at most 56 characters.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_schema',
            MESSAGE = format('schema "%s" already exists', schema),
            DETAIL = coalesce('It is the schema of tenant "' ||
                              (SELECT t.slug FROM tenancy.tenants t WHERE t.schema_name = schema) || '".',
                              'A schema-mode tenant never takes over a schema that exists.'),
            HINT = 'Choose another slug ("-" and "_" give the same schema name), or drop or rename the schema.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_free_schema(text, text) IS
    'internal: raises unless a new schema-mode tenant can create its schema';

-- Says what is wrong with a slug for a new tenant, or null when it is fine.
-- Platform admins only: whether a slug is taken says whether a tenant exists.
CREATE OR REPLACE FUNCTION tenancy.slug_problem(slug text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('check tenant slugs');
    RETURN CASE
        WHEN slug_problem.slug IS NULL OR slug_problem.slug !~ '^[a-z][a-z0-9_-]{0,62}$'
             OR slug_problem.slug ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            THEN 'a slug starts with a lowercase letter and has only lowercase letters, digits, "_" and "-" '
                 '(at most 63 characters, not a uuid)'
        WHEN EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.slug = slug_problem.slug)
            THEN format('tenant "%s" already exists', slug_problem.slug)
        END;
END
$$;
COMMENT ON FUNCTION tenancy.slug_problem(text) IS
    'null when a slug is valid and free for a new tenant, else what is wrong with it (platform admins only)';

-- Suggests a valid slug for a name: lowercase, common accents dropped, other
-- characters to "-"; null when no valid slug comes out.
CREATE OR REPLACE FUNCTION tenancy.suggest_slug(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN s ~ '^[a-z][a-z0-9_-]{0,62}$'
                 AND s !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s END
      FROM (SELECT rtrim(left(btrim(regexp_replace(
                       translate(lower(suggest_slug.name),
                                 'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőřśšşťùúûüūůűýÿžźż',
                                 'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorsssttuuuuuuuyyzzz'),
                       '[^a-z0-9_]+', '-', 'g'), '-'), 63), '-') AS s) suggestion
$$;
COMMENT ON FUNCTION tenancy.suggest_slug(text) IS
    'a valid slug derived from a name ("Acme Corp" gives "acme-corp"), or null when there is none';

-- Changes the status of a tenant; the shared body of suspend/activate/archive.
CREATE OR REPLACE FUNCTION tenancy._set_status(tenant text, new_status tenancy.tenant_status, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin(
        CASE new_status WHEN 'active' THEN 'activate tenants'
                        WHEN 'suspended' THEN 'suspend tenants' ELSE 'archive tenants' END);
    target := tenancy._find_tenant(tenant, true);
    IF target.status::text = 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is terminating', target.slug),
            DETAIL = format('It is read-only until its grace period ends at %s, then deleted.',
                            tenancy._shown_time(target.purge_after)),
            HINT = 'Restore it first with tenancy.restore_tenant().';
    END IF;
    IF new_status = 'suspended' AND target.status = 'archived' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is archived', target.slug),
            DETAIL = 'An archived tenant cannot be suspended.',
            HINT = 'Activate it first with tenancy.activate_tenant().';
    END IF;
    UPDATE tenancy.tenants
       SET status = new_status,
           status_reason = CASE WHEN new_status = 'active' THEN NULL ELSE reason END,
           updated_at = now()
     WHERE id = target.id;
END
$$;
REVOKE ALL ON FUNCTION tenancy._set_status(text, tenancy.tenant_status, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._set_status(text, tenancy.tenant_status, text) IS
    'internal: changes a tenant''s status';

CREATE OR REPLACE FUNCTION tenancy.suspend_tenant(tenant text, reason text DEFAULT NULL) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(suspend_tenant.tenant, 'suspended', suspend_tenant.reason)
$$;
COMMENT ON FUNCTION tenancy.suspend_tenant(text, text) IS
    'suspends a tenant: its members are refused until it is activated (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.activate_tenant(tenant text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(activate_tenant.tenant, 'active', NULL)
$$;
COMMENT ON FUNCTION tenancy.activate_tenant(text) IS
    'makes a suspended or archived tenant active again (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.archive_tenant(tenant text, reason text DEFAULT NULL) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_status(archive_tenant.tenant, 'archived', archive_tenant.reason)
$$;
COMMENT ON FUNCTION tenancy.archive_tenant(text, text) IS
    'archives a tenant: its rows stay readable, every write is refused (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.drop_tenant(tenant text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('drop tenants');
    target := tenancy._find_tenant(tenant);
    -- The trigger tenants_remove_rows removes the tenant's rows in every
    -- protected table (after the transactions writing into it end); foreign
    -- keys remove its memberships and domains.
    DELETE FROM tenancy.tenants WHERE id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.drop_tenant(text) IS
    'removes a tenant and every row it owns in protected tables (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.my_tenants()
RETURNS TABLE (tenant_id uuid, slug text, name text, role tenancy.role, status tenancy.tenant_status)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.id, t.slug::text, t.name, m.role, t.status
      FROM tenancy.memberships m JOIN tenancy.tenants t ON t.id = m.tenant_id
     WHERE m.actor = tenancy.actor() AND m.is_active
     ORDER BY t.slug
$$;
COMMENT ON FUNCTION tenancy.my_tenants() IS 'the tenants the acting actor is an active member of';
-- pg_tenancy: memberships. Platform admins manage every tenant; a tenant's
-- owners and admins manage its members; only an owner grants, changes or
-- removes "owner"; the last active owner can be neither removed nor demoted.
--
-- Concurrency. A change first checks the caller's rights without any lock,
-- so that a refused caller never holds one. It then locks the rows it relies
-- on and checks again: every active owner's row (FOR UPDATE, in actor order)
-- when an owner is concerned, the subject's row (FOR UPDATE), and the
-- caller's own row (FOR SHARE). So the rights and the last-owner rule hold
-- until the change commits; under REPEATABLE READ or SERIALIZABLE a row that
-- changed since the snapshot is a serialization failure, never trusted.
-- Nothing else is locked: not the tenant's row (writers and status changes
-- never wait for a member), and no other member's row (a member who keeps a
-- transaction open holds up only changes of her own membership).

-- Checks, before anything about the tenant or the subject is revealed and
-- without taking any lock, that the caller may change members of a tenant;
-- returns the tenant and the caller's latest role (owner for platform
-- admins). Anyone may remove themselves.
CREATE OR REPLACE FUNCTION tenancy._authorize_member_change(ref text, subject text, removing boolean,
                                                            OUT target tenancy.tenants, OUT caller tenancy.role)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'tenant must not be null';
    END IF;
    IF tenancy.is_platform_admin() THEN
        target := tenancy._find_tenant(ref);
        caller := 'owner';
        RETURN;
    END IF;
    target := tenancy._lookup_tenant(ref);
    IF target.id IS NOT NULL THEN
        caller := tenancy._caller_role(target.id);
    END IF;
    PERFORM tenancy._require_member_manager(ref, caller, removing AND subject = tenancy.actor());
    -- The latest committed status (as in tenancy._require_active_for_change()).
    target.status := tenancy._latest_status(target.id);
    IF target.status <> 'active' AND NOT (removing AND subject = tenancy.actor()) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('Only platform admins can change the members of a %s tenant.', target.status);
    END IF;
END
$$;

-- Raises the refusal of a caller who may not change the members of a tenant
-- (anyone may leave one she is a member of).
CREATE OR REPLACE FUNCTION tenancy._require_member_manager(ref text, caller tenancy.role, leaving boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF caller IS NULL OR (caller < 'admin' AND NOT leaving) THEN
        PERFORM tenancy._refuse_tenant_action(ref, 'admin', 'manage the members');
    END IF;
END
$$;

-- Locks every active owner's row of a tenant, in actor order.
CREATE OR REPLACE FUNCTION tenancy._lock_owners(target tenancy.tenants) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT NULL::void FROM (SELECT 1 FROM tenancy.memberships m
                             WHERE m.tenant_id = target.id AND m.role = 'owner' AND m.is_active
                             ORDER BY m.actor FOR UPDATE) owners
     LIMIT 1
$$;

-- Locks the rows a change relies on, in an order every change follows, and
-- checks the caller's rights again under the locks; returns the caller's
-- role. Owners' rows first when an owner is concerned, then the subject's,
-- then the caller's.
CREATE OR REPLACE FUNCTION tenancy._lock_for_change(ref text, target tenancy.tenants, subject text, removing boolean,
                                                    owners_concerned boolean)
RETURNS tenancy.role
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller tenancy.role;
BEGIN
    IF owners_concerned THEN
        PERFORM tenancy._lock_owners(target);
    END IF;
    PERFORM 1 FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject FOR UPDATE;
    IF tenancy.is_platform_admin() THEN
        RETURN 'owner';
    END IF;
    caller := tenancy._caller_role(target.id, true);
    PERFORM tenancy._require_member_manager(ref, caller, removing AND subject = tenancy.actor());
    RETURN caller;
END
$$;

-- Raises unless the caller's role may grant, change or remove the role.
CREATE OR REPLACE FUNCTION tenancy._require_owner_for(target tenancy.tenants, caller tenancy.role,
                                                     old_role tenancy.role, new_role tenancy.role)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (old_role = 'owner' OR new_role = 'owner') AND caller <> 'owner' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'only an owner can grant, change or remove the "owner" role',
            DETAIL = format('Actor "%s" has the "%s" role in tenant "%s".', tenancy._shown(tenancy.actor()), caller,
                            target.slug);
    END IF;
END
$$;

-- Raises when a change would leave a tenant that has an owner without one.
-- The owners' rows are locked already (_lock_for_change).
CREATE OR REPLACE FUNCTION tenancy._keep_an_owner(target tenancy.tenants, subject text, what text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF ARRAY(SELECT m.actor FROM tenancy.memberships m
              WHERE m.tenant_id = target.id AND m.role = 'owner' AND m.is_active) = ARRAY[subject] THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot %s the last owner of tenant "%s"', what, target.slug),
            DETAIL = format('Actor "%s" is the only active owner.', tenancy._shown(subject)),
            HINT = 'Make another member owner first with tenancy.set_member_role().';
    END IF;
END
$$;

-- Returns the membership of subject in a tenant, or raises when there is
-- none (the caller's rights are checked already).
CREATE OR REPLACE FUNCTION tenancy._membership(target tenancy.tenants, subject text) RETURNS tenancy.memberships
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_membership tenancy.memberships;
BEGIN
    SELECT * INTO found_membership FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject;
    IF found_membership.actor IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('actor "%s" is not a member of tenant "%s"', tenancy._shown(subject), target.slug),
            HINT = 'Add the actor with tenancy.add_member().';
    END IF;
    RETURN found_membership;
END
$$;

REVOKE ALL ON FUNCTION tenancy._authorize_member_change(text, text, boolean), tenancy._lock_owners(tenancy.tenants),
    tenancy._require_member_manager(text, tenancy.role, boolean),
    tenancy._lock_for_change(text, tenancy.tenants, text, boolean, boolean),
    tenancy._require_owner_for(tenancy.tenants, tenancy.role, tenancy.role, tenancy.role),
    tenancy._keep_an_owner(tenancy.tenants, text, text), tenancy._membership(tenancy.tenants, text)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._authorize_member_change(text, text, boolean) IS
    'internal: the tenant and the caller''s role, or the refusal of a caller who may not change its members';
COMMENT ON FUNCTION tenancy._require_member_manager(text, tenancy.role, boolean) IS
    'internal: error unless the role may manage members (or the caller is leaving)';
COMMENT ON FUNCTION tenancy._lock_owners(tenancy.tenants) IS 'internal: locks the rows of a tenant''s active owners';
COMMENT ON FUNCTION tenancy._lock_for_change(text, tenancy.tenants, text, boolean, boolean) IS
    'internal: locks the rows a membership change relies on and checks the caller again';
COMMENT ON FUNCTION tenancy._require_owner_for(tenancy.tenants, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: error unless the caller may grant, change or remove the owner role';
COMMENT ON FUNCTION tenancy._keep_an_owner(tenancy.tenants, text, text) IS
    'internal: error when the change would remove the last active owner';
COMMENT ON FUNCTION tenancy._membership(tenancy.tenants, text) IS 'internal: a membership, or an error';

CREATE OR REPLACE FUNCTION tenancy.add_member(tenant text, actor text, role tenancy.role DEFAULT 'member')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    subject text := tenancy._normalize_actor(add_member.actor);
    authorized record;
    target tenancy.tenants;
    caller tenancy.role;
BEGIN
    IF add_member.role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    authorized := tenancy._authorize_member_change(tenant, subject, false);
    target := authorized.target;
    caller := tenancy._lock_for_change(tenant, target, subject, false, false);
    PERFORM tenancy._require_owner_for(target, caller, NULL, add_member.role);
    IF EXISTS (SELECT 1 FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = subject) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('actor "%s" is already a member of tenant "%s"', tenancy._shown(subject), target.slug),
            HINT = 'Change the role with tenancy.set_member_role().';
    END IF;
    PERFORM tenancy._refuse_lookalike(target.id, subject);
    PERFORM tenancy._require_member_room(target);
    INSERT INTO tenancy.memberships (tenant_id, actor, role) VALUES (target.id, subject, add_member.role);
END
$$;
COMMENT ON FUNCTION tenancy.add_member(text, text, tenancy.role) IS
    'adds an actor to a tenant with a role (tenant owners/admins and platform admins)';

-- Changes one existing membership: a new role, a new active flag, or its
-- removal; the shared body of set_member_role, set_member_active and
-- remove_member, with the rights and the last-owner rule checked first.
CREATE OR REPLACE FUNCTION tenancy._change_membership(
    tenant text, subject text, new_role tenancy.role, new_active boolean, removing boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    normalized text := tenancy._normalize_actor(subject);
    authorized record;
    target tenancy.tenants;
    caller tenancy.role;
    current_membership tenancy.memberships;
    owners_locked boolean;
BEGIN
    authorized := tenancy._authorize_member_change(tenant, normalized, removing);
    target := authorized.target;
    current_membership := tenancy._membership(target, normalized);
    owners_locked := current_membership.role = 'owner' OR new_role = 'owner';
    caller := tenancy._lock_for_change(tenant, target, normalized, removing, owners_locked);
    current_membership := tenancy._membership(target, normalized); -- as locked
    IF current_membership.role = 'owner' AND NOT owners_locked THEN
        PERFORM tenancy._lock_owners(target); -- made owner meanwhile
    END IF;
    PERFORM tenancy._require_owner_for(target, caller, current_membership.role,
        CASE WHEN removing THEN NULL ELSE coalesce(new_role, current_membership.role) END);
    IF current_membership.role = 'owner' AND (removing OR new_role <> 'owner' OR new_active IS FALSE) THEN
        PERFORM tenancy._keep_an_owner(target, normalized,
            CASE WHEN removing THEN 'remove' WHEN new_role <> 'owner' THEN 'demote' ELSE 'deactivate' END);
    END IF;
    IF removing THEN
        DELETE FROM tenancy.memberships m WHERE m.tenant_id = target.id AND m.actor = normalized;
        RETURN;
    END IF;
    IF new_active AND NOT current_membership.is_active THEN
        PERFORM tenancy._require_member_room(target);
    END IF;
    UPDATE tenancy.memberships m
       SET role = coalesce(new_role, m.role), is_active = coalesce(new_active, m.is_active), updated_at = now()
     WHERE m.tenant_id = target.id AND m.actor = normalized;
END
$$;
REVOKE ALL ON FUNCTION tenancy._change_membership(text, text, tenancy.role, boolean, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._change_membership(text, text, tenancy.role, boolean, boolean) IS
    'internal: changes or removes a membership after checking the rules';

CREATE OR REPLACE FUNCTION tenancy.set_member_role(tenant text, actor text, role tenancy.role) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF set_member_role.role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    PERFORM tenancy._change_membership(tenant, set_member_role.actor, set_member_role.role, NULL, false);
END
$$;
COMMENT ON FUNCTION tenancy.set_member_role(text, text, tenancy.role) IS
    'changes a member''s role; only owners grant or change "owner"; the last owner cannot be demoted';

CREATE OR REPLACE FUNCTION tenancy.set_member_active(tenant text, actor text, active boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF set_member_active.active IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'active must not be null';
    END IF;
    PERFORM tenancy._change_membership(tenant, set_member_active.actor, NULL, set_member_active.active, false);
END
$$;
COMMENT ON FUNCTION tenancy.set_member_active(text, text, boolean) IS
    'suspends (false) or restores (true) a membership without removing it';

CREATE OR REPLACE FUNCTION tenancy.remove_member(tenant text, actor text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._change_membership(remove_member.tenant, remove_member.actor, NULL, NULL, true)
$$;
COMMENT ON FUNCTION tenancy.remove_member(text, text) IS
    'removes an actor from a tenant; the last owner cannot be removed; anyone may leave';
-- pg_tenancy: domains, so that an application can route a request by its
-- host name: SET LOCAL tenancy.tenant = tenancy.resolve_domain('acme.example.com').

-- Returns a host name in canonical form (lowercase, no trailing dot) or raises.
CREATE OR REPLACE FUNCTION tenancy._canonical_host(host text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text := rtrim(lower(btrim(host)), '.');
BEGIN
    IF host IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'host must not be null';
    END IF;
    IF length(canonical) NOT BETWEEN 1 AND 253
       OR canonical !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid host name "%s"', tenancy._shown(host)),
            DETAIL = 'A host name is made of dot-separated labels of letters, digits and "-", '
                     'each 1 to 63 characters, 253 characters in all.';
    END IF;
    RETURN canonical;
END
$$;
REVOKE ALL ON FUNCTION tenancy._canonical_host(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._canonical_host(text) IS 'internal: canonical host name, or an error';

CREATE OR REPLACE FUNCTION tenancy.add_domain(tenant text, host text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'owner', 'change the domains', true);
    canonical text := tenancy._canonical_host(host);
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.domains d WHERE d.host = canonical) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('domain "%s" is already assigned to a tenant', canonical),
            HINT = 'Remove it from that tenant first with tenancy.remove_domain().';
    END IF;
    INSERT INTO tenancy.domains (host, tenant_id) VALUES (canonical, target.id);
    RETURN canonical;
END
$$;
COMMENT ON FUNCTION tenancy.add_domain(text, text) IS
    'assigns a host name to a tenant (tenant owners and platform admins); returns it in canonical form';

CREATE OR REPLACE FUNCTION tenancy.remove_domain(host text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text := tenancy._canonical_host(host);
    owning_tenant uuid;
BEGIN
    SELECT d.tenant_id INTO owning_tenant FROM tenancy.domains d WHERE d.host = canonical;
    -- Whether a host is assigned is told only to those who may remove it.
    IF NOT tenancy.is_platform_admin()
       AND (owning_tenant IS NULL OR coalesce(tenancy._caller_role(owning_tenant, true) < 'owner', true)) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to remove domain "%s"', canonical),
            DETAIL = 'Only owners of the domain''s tenant and platform admins may remove it.',
            HINT = 'Ask an owner of the tenant, or a platform admin.';
    END IF;
    IF owning_tenant IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('domain "%s" is not assigned to any tenant', canonical);
    END IF;
    IF NOT tenancy.is_platform_admin() THEN
        PERFORM tenancy._require_active_for_change(tenancy._lookup_tenant(owning_tenant::text), true);
    END IF;
    DELETE FROM tenancy.domains d WHERE d.host = canonical;
END
$$;
COMMENT ON FUNCTION tenancy.remove_domain(text) IS
    'removes a host name from its tenant (tenant owners and platform admins)';

-- Resolves a host name for request routing. The host may be a request's
-- Host header as sent: any case, a trailing dot, and a port (":8000"), which
-- is ignored. Answered to platform admins, services and the tenant's own
-- members; anyone else gets NULL, as for an unknown host.
CREATE OR REPLACE FUNCTION tenancy.resolve_domain(host text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
     WHERE d.host = rtrim(regexp_replace(lower(btrim(resolve_domain.host)), ':[0-9]*$', ''), '.')
       AND (tenancy.is_platform_admin() OR tenancy._holds_platform_right(tenancy.db_role()::regrole, 'service')
            OR tenancy._member_role(t.id, tenancy.actor()) IS NOT NULL)
$$;
COMMENT ON FUNCTION tenancy.resolve_domain(text) IS
    'the slug of the tenant a host name (or a Host header with a port) is assigned to, or null (answered to '
    'platform admins, services and the tenant''s members)';
-- pg_tenancy: platform admins and trusted services of this database
-- (tenancy.platform_grants). Granting either is a platform admin's decision.

-- Says whether a role holds a platform right of this database, itself or
-- through the roles whose privileges it inherits. Unlike pg_has_role(), it
-- is true for a superuser only when the right was granted.
CREATE OR REPLACE FUNCTION tenancy._holds_platform_right(member oid, kind text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE inherited (role) AS (
        SELECT $1
        UNION
        SELECT m.roleid FROM inherited i JOIN pg_auth_members m ON m.member = i.role
                        JOIN pg_roles r ON r.oid = i.role AND r.rolinherit
    )
    SELECT EXISTS (SELECT 1 FROM tenancy.platform_grants g JOIN inherited i ON i.role = g.role
                    WHERE g.kind = $2)
$$;
REVOKE ALL ON FUNCTION tenancy._holds_platform_right(oid, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._holds_platform_right(oid, text) IS
    'internal: whether a role holds a platform right of this database (directly or through role membership)';

-- The tables platform admins of this database may read.
CREATE OR REPLACE FUNCTION tenancy._platform_admin_tables() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'tenancy.tenants, tenancy.memberships, tenancy.domains, tenancy.protected_tables, '
           'tenancy.platform_grants, tenancy.access_denials, tenancy.plans, tenancy.regions'
$$;
COMMENT ON FUNCTION tenancy._platform_admin_tables() IS 'internal: the tables platform admins may read';

-- Grants or revokes a platform right of this database; the shared body of
-- the four functions below. Besides the row of tenancy.platform_grants, the
-- right comes with privileges of this database: USAGE on schema tenancy,
-- which makes DROP ROLE refuse while a right is held (so that no grant is
-- left to a role's oid), and for platform admins SELECT on the catalog.
CREATE OR REPLACE FUNCTION tenancy._set_platform_right(member regrole, kind text, granted boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin(
        format('%s %s rights', CASE WHEN granted THEN 'grant' ELSE 'revoke' END, replace(kind, '_', ' ')));
    IF member IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'role must not be null';
    END IF;
    IF granted AND kind = 'service'
       AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = member AND (r.rolsuper OR r.rolbypassrls)) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_grant_operation',
            MESSAGE = format('role "%s" bypasses row level security', member),
            DETAIL = 'A service role that is a superuser or has BYPASSRLS would see every tenant''s rows.',
            HINT = 'Use a dedicated role without SUPERUSER and BYPASSRLS for the application.';
    END IF;
    IF granted THEN
        INSERT INTO tenancy.platform_grants (role, kind, granted_by)
        VALUES (member, kind, tenancy.actor())
        ON CONFLICT ON CONSTRAINT platform_grants_pkey DO NOTHING;
        EXECUTE format('GRANT USAGE ON SCHEMA tenancy TO %s', member);
        IF kind = 'platform_admin' THEN
            EXECUTE format('GRANT SELECT ON %s TO %s', tenancy._platform_admin_tables(), member);
        END IF;
        RETURN;
    END IF;
    DELETE FROM tenancy.platform_grants g WHERE g.role = member AND g.kind = _set_platform_right.kind;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = member) THEN
        RETURN;  -- the grant of a dropped role (the health check lists them)
    END IF;
    IF kind = 'platform_admin' THEN
        EXECUTE format('REVOKE SELECT ON %s FROM %s', tenancy._platform_admin_tables(), member);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenancy.platform_grants g WHERE g.role = member) THEN
        EXECUTE format('REVOKE USAGE ON SCHEMA tenancy FROM %s', member);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._set_platform_right(regrole, text, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._set_platform_right(regrole, text, boolean) IS
    'internal: grants or revokes a platform right of this database, with the privileges it comes with';

-- After DROP OWNED BY: a role whose USAGE on schema tenancy was revoked with
-- its other privileges of this database loses its platform rights too.
CREATE OR REPLACE FUNCTION tenancy.forget_dropped_grants() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tenancy.platform_grants g
     WHERE NOT EXISTS (SELECT 1 FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
                        WHERE n.nspname = 'tenancy' AND a.grantee = g.role AND a.privilege_type = 'USAGE');
END
$$;
REVOKE ALL ON FUNCTION tenancy.forget_dropped_grants() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.forget_dropped_grants() IS
    'internal: after DROP OWNED, forgets the platform rights of roles whose privileges here were dropped';

-- Strict mode: runs a statement as tenancy_table_owner, the owner of tables
-- protected in strict mode, which no role is a member of (C++:
-- extension/table_owner.cpp); only tenancy.as_table_owner() calls it. While
-- it runs, the DDL guards judge tenancy_table_owner as the session's outer
-- role, a platform admin.
CREATE OR REPLACE FUNCTION tenancy._run_as_table_owner(statement text) RETURNS void
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'tenancy_run_as_table_owner';
REVOKE ALL ON FUNCTION tenancy._run_as_table_owner(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._run_as_table_owner(text) IS
    'internal: runs a statement as tenancy_table_owner (called by tenancy.as_table_owner())';

-- Strict mode: a platform admin of this database runs a schema change of a
-- table protected in strict mode as its owner. The DDL guards treat what it
-- runs as a platform admin's; what it must not do is leave a strict table
-- calling code (or typed by types) another role can replace - that code
-- would run as tenancy_table_owner, outside this function, whenever ANALYZE
-- or a rebuild evaluates it - so the statement is undone if it did.
CREATE OR REPLACE FUNCTION tenancy.as_table_owner(statement text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    before text[];
    weakness record;
BEGIN
    PERFORM tenancy._require_platform_admin('change tables protected in strict mode');
    IF statement IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'statement must not be null';
    END IF;
    SELECT array_agg(w.relid::oid || ' ' || w.problem) INTO before
      FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p WHERE p."strict")) w;
    PERFORM tenancy._run_as_table_owner(statement);
    SELECT w.* INTO weakness
      FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p WHERE p."strict")) w
     WHERE w.relid::oid || ' ' || w.problem <> ALL (coalesce(before, '{}'))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot leave table %s protected in strict mode with code another role controls: %s',
                             weakness.relid, weakness.problem),
            DETAIL = 'That code would run as tenancy_table_owner whenever ANALYZE or a rebuild evaluates it.',
            HINT = weakness.hint;
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.as_table_owner(text) IS
    'runs a statement (schema-qualified names) as tenancy_table_owner, the owner of tables protected in strict '
    'mode (platform admins of this database only)';

CREATE OR REPLACE FUNCTION tenancy.grant_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(grant_platform_admin.role, 'platform_admin', true)
$$;
COMMENT ON FUNCTION tenancy.grant_platform_admin(regrole) IS
    'makes a role a platform admin of this database (no other database): manages tenants, may enter any';

CREATE OR REPLACE FUNCTION tenancy.revoke_platform_admin(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(revoke_platform_admin.role, 'platform_admin', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_platform_admin(regrole) IS 'removes a platform admin of this database';

CREATE OR REPLACE FUNCTION tenancy.grant_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(grant_service.role, 'service', true)
$$;
COMMENT ON FUNCTION tenancy.grant_service(regrole) IS
    'trusts a role, in this database, to assert application users with SET LOCAL tenancy.actor';

CREATE OR REPLACE FUNCTION tenancy.revoke_service(role regrole) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._set_platform_right(revoke_service.role, 'service', false)
$$;
COMMENT ON FUNCTION tenancy.revoke_service(regrole) IS 'withdraws a trusted service role of this database';

CREATE OR REPLACE FUNCTION tenancy.platform_roles()
RETURNS TABLE (role name, platform_admin boolean, service boolean, superuser boolean, bypassrls boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list platform roles');
    RETURN QUERY
    SELECT r.rolname, r.rolsuper OR tenancy._holds_platform_right(r.oid, 'platform_admin'),
           r.rolsuper OR tenancy._holds_platform_right(r.oid, 'service'), r.rolsuper, r.rolbypassrls
      FROM pg_roles r
     WHERE tenancy._holds_platform_right(r.oid, 'platform_admin') OR tenancy._holds_platform_right(r.oid, 'service')
        OR (r.rolsuper AND r.rolcanlogin)
     ORDER BY r.rolname;
END
$$;
COMMENT ON FUNCTION tenancy.platform_roles() IS
    'roles with platform rights in this database: its platform admins and services (also through role '
    'membership), and login superusers (platform admins only)';
-- pg_tenancy: protection of a table. tenancy.protect() adds and adopts a
-- tenant_id column, enables and forces row level security, installs the
-- policies and triggers, and records the table for the health check.

-- True: the permissive policy of protected tables is tenancy.installed(),
-- not the constant true, so that DROP EXTENSION ... CASCADE drops it with
-- the restrictive ones. A table whose row level security stays forced with
-- no policy at all shows no row to anyone but superusers and BYPASSRLS
-- roles: after the extension is gone, protected tables fail closed. Being
-- IMMUTABLE, it is folded to true when a query is planned.
-- In C: the planner folds it to true without parsing a body (an SQL
-- function would be parsed and inlined at every planning, ~30k instructions).
CREATE OR REPLACE FUNCTION tenancy.installed() RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'tenancy_installed';
COMMENT ON FUNCTION tenancy.installed() IS
    'true; the permissive policy of protected tables, so that dropping pg_tenancy leaves them closed';

-- The policies of a protected table, in exactly the form pg_get_expr() prints
-- them under search_path = pg_catalog, so that the health check can compare.
-- Every command has one RESTRICTIVE policy: tenant_id must equal the tenant
-- that tenancy.tenant_for() returns, which it does only when the actor's role
-- allows that command. Restrictive policies are ANDed with anything else, so
-- no permissive policy that someone adds can widen access; PostgreSQL wants
-- at least one permissive policy, hence tenancy_permit (tenancy.installed(),
-- which is true) for all commands. For reads the tenant is a scalar subquery:
-- evaluated once per statement (in the leader of a parallel query, whose
-- workers get its value), and usable as an index condition. For writes it is
-- a plain call: an initplan costs ~10k instructions to set up per statement,
-- more than the call costs on the few rows a write usually touches (and a
-- stable function's result still serves as an index condition).
CREATE OR REPLACE FUNCTION tenancy._policy_definitions(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role)
RETURNS TABLE (policy_name name, command "char", permissive boolean, using_expression text, check_expression text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH rights (policy_name, command, role, action) AS (VALUES
             ('tenancy_select'::name, 'r'::"char", read_role, 'select'),
             ('tenancy_insert', 'a', write_role, 'insert'),
             ('tenancy_update', 'w', write_role, 'update'),
             ('tenancy_delete', 'd', delete_role, 'delete'))
    SELECT 'tenancy_permit'::name, '*'::"char", true, 'tenancy.installed()', 'tenancy.installed()'
    UNION ALL
    SELECT r.policy_name, r.command, false,
           CASE WHEN r.command <> 'a' THEN expr END,
           CASE WHEN r.command IN ('a', 'w') THEN expr END
      FROM rights r,
           LATERAL (SELECT format(CASE WHEN r.command = 'r'
                                       THEN '(tenant_id = ( SELECT tenancy.tenant_for(%L::tenancy.role, %L::text, %L::regclass) AS tenant_for))'
                                       ELSE '(tenant_id = tenancy.tenant_for(%L::tenancy.role, %L::text, %L::regclass))' END,
                                  r.role, r.action, target::text) AS expr) e
$$;
REVOKE ALL ON FUNCTION tenancy._policy_definitions(regclass, tenancy.role, tenancy.role, tenancy.role) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._policy_definitions(regclass, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: the policies tenancy.protect() installs on a table';

-- Raises unless the caller owns the table (or is a platform admin).
CREATE OR REPLACE FUNCTION tenancy._require_table_owner(target regclass, action text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT tenancy.is_platform_admin()
       AND NOT pg_has_role(tenancy.db_role()::name, (SELECT relowner FROM pg_class WHERE oid = target), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('must be owner of table %s', target),
            DETAIL = format('Only the owner of a table or a platform admin may %s it.', action);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_table_owner(regclass, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_table_owner(regclass, text) IS
    'internal: error unless the caller owns the table or is a platform admin';

-- Raises unless the relation is an ordinary, permanent, user table.
CREATE OR REPLACE FUNCTION tenancy._require_protectable(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table must not be null';
    END IF;
    SELECT c.relkind, c.relpersistence, n.nspname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_table', MESSAGE = format('table with oid %s does not exist', target::oid);
    END IF;
    IF rel.relkind = 'p' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('cannot protect partitioned table %s', target),
            DETAIL = 'Row level security of a partitioned table does not apply when a partition is queried directly.',
            HINT = 'Use an ordinary table.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_inherits h WHERE target IN (h.inhrelid, h.inhparent)) THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('cannot protect %s: it is a partition, an inheritance child or an inheritance parent',
                             target),
            DETAIL = 'PostgreSQL applies only the policies of the table a query names: reading through a parent '
                     'would bypass the protection of its children.',
            HINT = 'Detach the partition (ALTER TABLE ... DETACH PARTITION) or end the inheritance (ALTER TABLE ... '
                   'NO INHERIT) first.';
    END IF;
    IF rel.relkind <> 'r' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('%s is not an ordinary table', target),
            DETAIL = format('tenancy.protect() works on ordinary tables; %s is a %s.', target,
                            CASE rel.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                 WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                                 WHEN 'c' THEN 'composite type' ELSE 'relation of kind ' || rel.relkind::text END);
    END IF;
    IF rel.relpersistence = 't' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot protect temporary table %s', target);
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema', 'tenancy') OR rel.nspname LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('cannot protect %s', target),
            DETAIL = format('Tables in schema "%s" belong to the system or to pg_tenancy.', rel.nspname);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_protectable(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_protectable(regclass) IS
    'internal: error unless the relation is an ordinary permanent user table';

-- The trigger tenancy_tenant_check of protected tables, in place of a foreign
-- key to tenancy.tenants: after a row is written by a role that bypasses row
-- level security, its tenant must exist, and then cannot be dropped before
-- the transaction ends. Rows written under the policies are pinned to the
-- validated tenant already; for them it returns at once.
CREATE OR REPLACE FUNCTION tenancy.tenant_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_tenant_check';
REVOKE ALL ON FUNCTION tenancy.tenant_check() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.tenant_check() IS
    'trigger tenancy_tenant_check of protected tables: a written row''s tenant exists and stays until the '
    'transaction ends';

-- Removes a dropped tenant's rows from every protected table: after DELETE on
-- tenancy.tenants, for each row. Waits for the transactions writing into the
-- tenant first.
CREATE OR REPLACE FUNCTION tenancy.remove_tenant_rows() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_remove_tenant_rows';
REVOKE ALL ON FUNCTION tenancy.remove_tenant_rows() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.remove_tenant_rows() IS
    'trigger: deletes a dropped tenant''s rows from every protected table';

-- Refuses what would leave rows without their tenant: TRUNCATE of
-- tenancy.tenants, and a new id for a tenant.
CREATE OR REPLACE FUNCTION tenancy._refuse_tenant_rows_loss() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = 'cannot truncate tenancy.tenants',
            DETAIL = 'The rows of the tenants in protected tables would stay without their tenant.',
            HINT = 'Drop tenants with tenancy.drop_tenant(), which removes their rows too.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
        MESSAGE = format('cannot change the id of tenant "%s"', OLD.slug),
        DETAIL = 'The rows of the tenant in protected tables name it by its id.';
END
$$;
REVOKE ALL ON FUNCTION tenancy._refuse_tenant_rows_loss() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._refuse_tenant_rows_loss() IS
    'internal trigger: refuses TRUNCATE of tenancy.tenants and a change of a tenant''s id';

-- Adds or adopts the tenant_id column: uuid, NOT NULL, defaulting to the
-- current tenant, naming an existing tenant (the tenancy_tenant_check
-- trigger, see tenancy.tenant_check()), and led by an index. Refuses rows
-- without a tenant, or of unknown tenants, rather than guessing.
-- Adds the tenant_id column (uuid, nullable: a new column needs no rewrite
-- of the table) unless the table has it, and returns its number; refuses a
-- tenant_id of another type.
CREATE OR REPLACE FUNCTION tenancy._add_tenant_column(target regclass) RETURNS smallint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_info record;
BEGIN
    SELECT a.attnum, a.atttypid INTO column_info
      FROM pg_attribute a WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    IF NOT FOUND THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN tenant_id uuid', target);
        SELECT a.attnum, a.atttypid INTO column_info
          FROM pg_attribute a WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped;
    ELSIF column_info.atttypid <> 'uuid'::regtype THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('column "tenant_id" of table %s has type %s, not uuid', target,
                             format_type(column_info.atttypid, NULL)),
            HINT = 'Convert the column to uuid holding tenancy.tenants ids, or rename it, then protect again.';
    END IF;
    RETURN column_info.attnum;
END
$$;
REVOKE ALL ON FUNCTION tenancy._add_tenant_column(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._add_tenant_column(regclass) IS
    'internal: adds a nullable uuid tenant_id column unless the table has one, and returns its number';

CREATE OR REPLACE FUNCTION tenancy._install_tenant_column(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_column smallint := tenancy._add_tenant_column(target);
    online boolean;
    scan_result text[];
    orphaned boolean;
    unknown boolean;
BEGIN

    -- One pass answers both: rows without a tenant, rows of unknown tenants.
    -- SHARE on tenancy.tenants keeps every tenant found here until the table
    -- is protected: a tenant dropped meanwhile would leave its rows behind.
    -- An online protection has proved both already, with the constraints it
    -- validated without blocking writers (16_protect_online.sql).
    LOCK TABLE tenancy.tenants IN SHARE MODE;
    online := tenancy._online_constraints_valid(target);
    IF online OR EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        -- Proved already: by the online protection's constraints, or by the
        -- protection itself (NOT NULL, the tenant check, tenant removal).
        orphaned := false;
        unknown := false;
    ELSE
        -- The owner is never exempt from forced row level security when
        -- pg_tenancy runs its code (owner_execution.cpp), and the check must
        -- see every row: a table pg_tenancy does not protect (yet) that
        -- forces it (its own policies, or what DROP EXTENSION left) stops
        -- forcing it until protection forces it again, in this transaction.
        IF (SELECT c.relforcerowsecurity FROM pg_class c WHERE c.oid = target) THEN
            EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', target);
        END IF;
        -- As the table's owner (planning a query on the table may run the
        -- owner's functions: see owner_execution.cpp).
        scan_result := string_to_array(tenancy._scan_as_owner(target, format(
            'SELECT coalesce(bool_or(r.tenant_id IS NULL), false) || '','' || '
            'coalesce(bool_or(r.tenant_id IS NOT NULL AND NOT (r.tenant_id = ANY ($1))), false) FROM %s r', target),
            ARRAY(SELECT t.id FROM tenancy.tenants t)), ',');
        orphaned := scan_result[1]::boolean;
        unknown := scan_result[2]::boolean;
    END IF;
    IF orphaned THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('table %s has rows without a tenant', target),
            DETAIL = 'Protecting a table must not guess which tenant owns existing rows.',
            HINT = 'Set tenant_id of every row to the id of its tenant (tenancy.tenants.id), then protect again.';
    END IF;
    IF unknown THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('table %s has rows of tenants that do not exist', target),
            DETAIL = 'Every tenant_id must be the id of a row of tenancy.tenants.',
            HINT = 'Create the missing tenants with tenancy.create_tenant() (with id => their old id when they were lost with DROP EXTENSION), or fix tenant_id, then protect again.';
    END IF;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT tenancy.current_tenant_id(), '
                   'ALTER COLUMN tenant_id SET NOT NULL', target);
    IF online THEN
        PERFORM tenancy._drop_online_constraints(target);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_tenant_check') THEN
        EXECUTE format('CREATE TRIGGER tenancy_tenant_check AFTER INSERT OR UPDATE OF tenant_id ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION tenancy.tenant_check()', target);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = target AND i.indkey[0] = tenant_column
                      AND i.indpred IS NULL AND i.indisvalid) THEN
        EXECUTE format('CREATE INDEX ON %s (tenant_id)', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_tenant_column(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_tenant_column(regclass) IS
    'internal: adds or adopts tenant_id with default, NOT NULL, tenant check and index';

-- Drops the policies that tenancy.protect() installs on a table.
CREATE OR REPLACE FUNCTION tenancy._drop_policies(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy record;
BEGIN
    FOR policy IN SELECT p.polname FROM pg_policy p
                   WHERE p.polrelid = target AND p.polname IN
                         ('tenancy_permit', 'tenancy_select', 'tenancy_insert', 'tenancy_update', 'tenancy_delete')
    LOOP
        EXECUTE format('DROP POLICY %I ON %s', policy.polname, target);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_policies(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_policies(regclass) IS 'internal: drops the tenancy policies of a table';

-- Creates (or re-creates) the policies of a protected table.
CREATE OR REPLACE FUNCTION tenancy._install_policies(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy record;
BEGIN
    PERFORM tenancy._drop_policies(target);
    FOR policy IN SELECT * FROM tenancy._policy_definitions(target, read_role, write_role, delete_role) LOOP
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO PUBLIC%s%s',
            policy.policy_name, target,
            CASE WHEN policy.permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
            CASE policy.command WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END,
            CASE WHEN policy.using_expression IS NOT NULL THEN format(' USING (%s)', policy.using_expression) END,
            CASE WHEN policy.check_expression IS NOT NULL THEN format(' WITH CHECK (%s)', policy.check_expression) END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_policies(regclass, tenancy.role, tenancy.role, tenancy.role) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_policies(regclass, tenancy.role, tenancy.role, tenancy.role) IS
    'internal: (re-)creates the row level security policies of a protected table';

-- Raises when a trigger on the table carries one of the names pg_tenancy
-- gives its own (tenancy_*) but runs another function: it was there before
-- the table was protected, and protect() would otherwise take it for its own.
CREATE OR REPLACE FUNCTION tenancy._refuse_foreign_triggers(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    foreign_trigger record;
BEGIN
    SELECT t.tgname, t.tgfoid::regproc AS function INTO foreign_trigger
      FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgname LIKE 'tenancy\_%' AND NOT t.tgisinternal
       AND t.tgfoid NOT IN ('tenancy.audit_trigger'::regproc, 'tenancy.guard_truncate'::regproc,
                            'tenancy.tenant_check'::regproc, 'tenancy.row_count_trigger'::regproc,
                            'tenancy.backfill_trigger'::regproc)
     ORDER BY t.tgname LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('trigger %s on table %s is not pg_tenancy''s', foreign_trigger.tgname, target),
            DETAIL = format('It runs %s; the names tenancy_* are pg_tenancy''s own.', foreign_trigger.function),
            HINT = 'Rename or drop it, then protect the table.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._refuse_foreign_triggers(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._refuse_foreign_triggers(regclass) IS
    'internal: error when a trigger with a pg_tenancy name runs another function';

-- Creates or drops the audit trigger of a table.
CREATE OR REPLACE FUNCTION tenancy._install_audit_trigger(target regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    present boolean := EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_audit');
BEGIN
    PERFORM tenancy._refuse_foreign_triggers(target);
    IF enabled AND NOT present THEN
        EXECUTE format('CREATE TRIGGER tenancy_audit AFTER INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION tenancy.audit_trigger()', target);
    ELSIF NOT enabled AND present THEN
        EXECUTE format('DROP TRIGGER tenancy_audit ON %s', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._install_audit_trigger(regclass, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._install_audit_trigger(regclass, boolean) IS
    'internal: creates or drops the audit trigger of a protected table';

-- Revokes TRIGGER and REFERENCES on a table from everyone but its owner: a
-- trigger runs its creator's code on every tenant's rows, and a foreign key's
-- checks bypass row level security (telling whether a key exists).
CREATE OR REPLACE FUNCTION tenancy._revoke_trigger_grants(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN SELECT * FROM tenancy._trigger_grants() g WHERE g.relid = target LOOP
        EXECUTE format('REVOKE %s%s ON %s FROM %s', grant_row.privilege,
                       CASE WHEN grant_row.column_name IS NOT NULL THEN format(' (%I)', grant_row.column_name) END,
                       target, grant_row.grantee);
        RAISE NOTICE 'revoked % on % from %', grant_row.privilege,
            target || coalesce('.' || quote_ident(grant_row.column_name), ''), grant_row.grantee
            USING DETAIL = 'Only the owner of a protected table may create triggers on it or reference it.';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._revoke_trigger_grants(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._revoke_trigger_grants(regclass) IS
    'internal: revokes TRIGGER and REFERENCES on a table from everyone but its owner';

-- Strict mode: hands a table to tenancy_table_owner, so that its schema
-- changes go through platform admins (tenancy.as_table_owner(); CREATE on the
-- table's schema lets them index it), and gives its previous owner the rights
-- of an application role instead: SELECT, INSERT, UPDATE, DELETE on the
-- table, and the use of its sequences (not setval: every tenant inserts with
-- them). Returns the previous owner.
CREATE OR REPLACE FUNCTION tenancy._hand_to_table_owner_role(target regclass) RETURNS regrole
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_before regrole;
    sequence regclass;
BEGIN
    SELECT c.relowner::regrole INTO owner_before FROM pg_class c WHERE c.oid = target;
    EXECUTE format('ALTER TABLE %s OWNER TO tenancy_table_owner', target);
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO tenancy_table_owner',
                   (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.oid = target));
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', target, owner_before);
    FOR sequence IN SELECT d.objid::regclass FROM pg_depend d
                     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                       AND d.refobjid = target AND d.deptype IN ('a', 'i')
                       AND (SELECT c.relkind FROM pg_class c WHERE c.oid = d.objid) = 'S' LOOP
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %s', sequence, owner_before);
    END LOOP;
    RETURN owner_before;
END
$$;
REVOKE ALL ON FUNCTION tenancy._hand_to_table_owner_role(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._hand_to_table_owner_role(regclass) IS
    'internal: strict mode, hands a table to tenancy_table_owner and keeps its previous owner''s data rights';

-- Raises unless the caller may protect the table with these settings: a
-- table owner or platform admin; strict mode only for a table without
-- weaknesses; no audit only for platform admins.
CREATE OR REPLACE FUNCTION tenancy._require_protect_settings(target regclass, audit boolean, strict_mode boolean)
RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    previous tenancy.protected_tables;
    weakness record;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    SELECT * INTO previous FROM tenancy.protected_tables p WHERE p.relid = target;
    IF strict_mode AND NOT coalesce(previous."strict", false) THEN
        SELECT w.problem, w.hint INTO weakness FROM tenancy._strict_weaknesses(ARRAY[target::oid]) w LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('cannot protect table %s in strict mode: %s', target, weakness.problem),
                DETAIL = 'In strict mode only platform admins change the table; code or types another role can '
                         'replace would change it, or read every tenant''s rows, all the same.',
                HINT = weakness.hint;
        END IF;
    END IF;
    IF NOT audit AND coalesce(previous.audit, true) AND NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to exempt %s from audit', target),
            DETAIL = 'Only platform admins may protect a table without its audit trigger.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_protect_settings(regclass, boolean, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_protect_settings(regclass, boolean, boolean) IS
    'internal: error unless the caller may protect the table with these settings';

-- The work of tenancy.protect(): with a backfill recorded in
-- tenancy.protect_jobs (by protect() in this transaction, or an online
-- protection at its last step), checks that it placed every row first, and
-- records it in the audit log from that record.
CREATE OR REPLACE FUNCTION tenancy._protect_table(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role,
    audit boolean, strict boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rls record;
    previous tenancy.protected_tables;
    owner_before regrole;
    strict_mode boolean;
    job tenancy.protect_jobs;
BEGIN
    -- A null setting keeps the table's current one, or takes the default.
    SELECT * INTO previous FROM tenancy.protected_tables p WHERE p.relid = target;
    read_role := coalesce(read_role, previous.read_role, 'viewer');
    write_role := coalesce(write_role, previous.write_role, 'member');
    delete_role := coalesce(delete_role, previous.delete_role, 'admin');
    audit := coalesce(audit, previous.audit, true);
    strict_mode := coalesce(_protect_table.strict, false) OR coalesce(previous."strict", false);
    PERFORM tenancy._require_protect_settings(target, audit, strict_mode);
    PERFORM tenancy._refuse_foreign_triggers(target);
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target FOR UPDATE;
    IF FOUND AND job.online AND job.step <> 'switch' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('an online protection of table %s is in progress', target),
            DETAIL = format('It has reached step %s.', job.step),
            HINT = 'Resume it (tenantctl protect --online) or cancel it with tenancy.protect_online_cancel().';
    ELSIF FOUND AND NOT job.online THEN
        PERFORM tenancy._require_all_placed(target, job.backfill_from);
    END IF;

    SELECT c.relrowsecurity, c.relforcerowsecurity INTO rls FROM pg_class c WHERE c.oid = target;
    PERFORM tenancy._install_tenant_column(target);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', target);
    PERFORM tenancy._install_policies(target, read_role, write_role, delete_role);
    PERFORM tenancy._install_audit_trigger(target, audit);
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_truncate_guard') THEN
        EXECUTE format('CREATE TRIGGER tenancy_truncate_guard BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.guard_truncate()', target);
    END IF;

    IF strict_mode AND NOT coalesce(previous."strict", false) THEN
        owner_before := tenancy._hand_to_table_owner_role(target);
    END IF;

    INSERT INTO tenancy.protected_tables AS p
           (relid, read_role, write_role, delete_role, audit, rls_was_enabled, rls_was_forced, protected_by,
            strict, owner_before_strict)
    VALUES (target, read_role, write_role, delete_role, audit,
            coalesce(previous.rls_was_enabled, rls.relrowsecurity),
            coalesce(previous.rls_was_forced, rls.relforcerowsecurity), tenancy.actor(), strict_mode, owner_before)
    ON CONFLICT (relid) DO UPDATE
       SET read_role = excluded.read_role, write_role = excluded.write_role,
           delete_role = excluded.delete_role, audit = excluded.audit, strict = excluded.strict,
           owner_before_strict = coalesce(p.owner_before_strict, excluded.owner_before_strict);
    PERFORM tenancy._revoke_trigger_grants(target);
    IF job.relid IS NOT NULL THEN
        PERFORM tenancy._audit_backfill(job);
        DELETE FROM tenancy.protect_jobs j WHERE j.relid = target;
    END IF;
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy._protect_table(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean) IS
    'internal: protects a table (table owners and platform admins), after its backfill if one is recorded';

-- SECURITY INVOKER, and without a search_path of its own, only to hand the
-- caller's search_path to the backfill: names in backfill_from resolve as
-- the caller wrote them. Everything is done by the SECURITY DEFINER
-- functions it calls; the backfill itself runs as the table's owner.
CREATE OR REPLACE FUNCTION tenancy.protect(
    target regclass,
    read_role tenancy.role DEFAULT 'viewer',
    write_role tenancy.role DEFAULT 'member',
    delete_role tenancy.role DEFAULT 'admin',
    audit boolean DEFAULT true,
    strict boolean DEFAULT false,
    backfill text DEFAULT NULL,
    backfill_from text DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- A protected table has no row without a tenant (NOT NULL): nothing to place.
    IF (backfill IS NOT NULL OR backfill_from IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM tenancy.protected_list() l WHERE l.table_name = target::text) THEN
        PERFORM tenancy._backfill_prepare(target, backfill, backfill_from,
                                          pg_catalog.current_setting('search_path'));
        PERFORM tenancy._backfill_rows(target, NULL, NULL);
    END IF;
    PERFORM tenancy._protect_table(target, read_role, write_role, delete_role, audit, protect.strict);
END
$$;
COMMENT ON FUNCTION tenancy.protect(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean, text, text) IS
    'protects a table: tenant_id column, forced row level security, per-tenant policies, audit (idempotent; '
    'a null setting keeps the current one); strict hands the table to tenancy_table_owner for good; backfill '
    '(a tenant) and backfill_from (an SQL expression over the row) give rows without a tenant theirs first';

CREATE OR REPLACE FUNCTION tenancy.unprotect(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    settings tenancy.protected_tables;
BEGIN
    PERFORM tenancy._require_platform_admin('unprotect tables');
    SELECT * INTO settings FROM tenancy.protected_tables p WHERE p.relid = target;
    IF settings.relid IS NULL THEN
        RAISE NOTICE 'table % is not protected, skipping', target;
        RETURN;
    END IF;
    PERFORM tenancy._drop_policies(target);
    IF settings."strict" AND settings.owner_before_strict IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %s', target, settings.owner_before_strict);
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_audit ON %s', target);
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_truncate_guard ON %s', target);
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id DROP DEFAULT', target);
    EXECUTE format('DROP TRIGGER IF EXISTS tenancy_tenant_check ON %s', target);
    PERFORM tenancy._drop_row_count_triggers(target);
    EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY, %s ROW LEVEL SECURITY', target,
                   CASE WHEN settings.rls_was_enabled THEN 'ENABLE' ELSE 'DISABLE' END,
                   CASE WHEN settings.rls_was_forced THEN 'FORCE' ELSE 'NO FORCE' END);
    DELETE FROM tenancy.protected_tables p WHERE p.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.unprotect(regclass) IS
    'removes the protection of a table, keeping its tenant_id column and data (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.set_audit(target regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF target IS NULL OR enabled IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and enabled must not be null';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not protected', target),
            HINT = 'Protect it with tenancy.protect(); its audit trigger is on by default.';
    END IF;
    IF enabled THEN
        PERFORM tenancy._require_table_owner(target, 'audit');
    ELSE
        PERFORM tenancy._require_platform_admin('switch off the audit of a table');
    END IF;
    PERFORM tenancy._install_audit_trigger(target, enabled);
    UPDATE tenancy.protected_tables p SET audit = enabled WHERE p.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.set_audit(regclass, boolean) IS
    'switches the audit trigger of a protected table on (owner) or off (platform admins only)';

-- The name of a table protected in strict mode that the current DROP
-- removes, if any (called inside the sql_drop event trigger only).
CREATE OR REPLACE FUNCTION tenancy._dropped_strict_table() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.object_identity
      FROM pg_event_trigger_dropped_objects() d JOIN tenancy.protected_tables p ON p.relid::oid = d.objid
     WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND p."strict"
     LIMIT 1
$$;
COMMENT ON FUNCTION tenancy._dropped_strict_table() IS
    'internal: a table protected in strict mode that the current DROP removes (sql_drop event triggers only)';

-- Removes the tables the current DROP removes from tenancy.protected_tables
-- (called inside the sql_drop event trigger only).
CREATE OR REPLACE FUNCTION tenancy._forget_dropped_tables() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM tenancy.row_counts r
     WHERE r.relid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
                        WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0);
    DELETE FROM tenancy.protected_tables p
     WHERE p.relid::oid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
                             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0)
$$;
COMMENT ON FUNCTION tenancy._forget_dropped_tables() IS
    'internal: forgets the protected tables the current DROP removes (sql_drop event triggers only)';

-- After a DROP: forgets the dropped tables, and refuses the drop of a table
-- protected in strict mode unless the role running it (not the owner of this
-- function: it runs with the caller's rights) is a platform admin of this
-- database - not the owner of its schema (DROP SCHEMA ... CASCADE), not code
-- that runs as tenancy_table_owner outside tenancy.as_table_owner().
CREATE OR REPLACE FUNCTION tenancy.forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    strict_table text;
BEGIN
    IF NOT tenancy._current_role_is_platform_admin() THEN
        strict_table := tenancy._dropped_strict_table();
        IF strict_table IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('cannot drop table %s: it is protected in strict mode', strict_table),
                DETAIL = format('Only platform admins of database "%s" drop or change tables protected in strict '
                                'mode; role "%s" is not one.', current_database(), current_user),
                HINT = 'Ask a platform admin of this database to drop it.';
        END IF;
    END IF;
    PERFORM tenancy._forget_dropped_tables();
END
$$;
COMMENT ON FUNCTION tenancy.forget_dropped_tables() IS
    'internal: removes dropped tables from tenancy.protected_tables; refuses the drop of a strict table by anyone '
    'but platform admins of this database';
REVOKE ALL ON FUNCTION tenancy.forget_dropped_tables() FROM PUBLIC;
-- pg_tenancy: the functions of the audit trail (see objects/03_audit_log.sql).

CREATE OR REPLACE FUNCTION tenancy.audit_visible(tenant uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'tenancy_audit_visible';
COMMENT ON FUNCTION tenancy.audit_visible(uuid) IS
    'whether the caller may read audit rows of a tenant: platform admins always; owners and admins of the '
    'current tenant for that tenant';

CREATE OR REPLACE FUNCTION tenancy.audit_trigger() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_audit_trigger';
COMMENT ON FUNCTION tenancy.audit_trigger() IS
    'AFTER ROW trigger installed by tenancy.protect(): writes one tenancy.audit_log row per change';
-- Only the extension attaches it (creating a trigger needs EXECUTE), and it
-- refuses to run on any table but a protected one or its own catalog.
REVOKE ALL ON FUNCTION tenancy.audit_trigger() FROM PUBLIC;

-- Creates the monthly partitions from this month to months_ahead months on,
-- each with its index (see objects/03_audit_log.sql), moving any rows of
-- those months out of the default partition first.
CREATE OR REPLACE FUNCTION tenancy._ensure_audit_partitions(months_ahead integer)
RETURNS TABLE (action text, partition_name text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    month_start timestamptz;
    lower_bound timestamptz;
    upper_bound timestamptz;
    name text;
    moved bigint;
BEGIN
    month_start := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    FOR i IN 0 .. months_ahead LOOP
        lower_bound := (month_start AT TIME ZONE 'UTC' + make_interval(months => i)) AT TIME ZONE 'UTC';
        upper_bound := (month_start AT TIME ZONE 'UTC' + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
        name := 'audit_log_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY_MM');
        CONTINUE WHEN to_regclass('tenancy.' || name) IS NOT NULL;
        EXECUTE format('CREATE TABLE tenancy.%I (LIKE tenancy.audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
        EXECUTE format('WITH moved AS (DELETE FROM tenancy.audit_log_default WHERE at >= %L AND at < %L RETURNING *) '
                       'INSERT INTO tenancy.%I SELECT * FROM moved', lower_bound, upper_bound, name);
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXECUTE format('CREATE INDEX %I ON tenancy.%I (tenant_id, at)', name || '_tenant_at_idx', name);
        EXECUTE format('ALTER TABLE tenancy.audit_log ATTACH PARTITION tenancy.%I FOR VALUES FROM (%L) TO (%L)',
                       name, lower_bound, upper_bound);
        EXECUTE format('REVOKE ALL ON tenancy.%I FROM PUBLIC', name);
        action := 'created'; partition_name := 'tenancy.' || name; rows := moved;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._ensure_audit_partitions(integer) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._ensure_audit_partitions(integer) IS
    'internal: creates the coming monthly partitions of tenancy.audit_log';

CREATE OR REPLACE FUNCTION tenancy.prune_audit(older_than interval)
RETURNS TABLE (action text, partition_name text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff timestamptz;
    part record;
    removed bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('prune the audit log');
    IF older_than IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'older_than must not be null';
    END IF;
    IF older_than <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('older_than must be a positive interval, not "%s"', older_than),
            HINT = 'Pass how long to keep audit rows, for example interval ''90 days''.';
    END IF;
    cutoff := now() - older_than;

    FOR part IN
        SELECT c.oid::regclass AS rel,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tenancy.audit_log'::regclass
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
         ORDER BY 2
    LOOP
        CONTINUE WHEN part.upper_bound > cutoff;
        partition_name := part.rel::text;
        EXECUTE format('SELECT count(*) FROM %s', part.rel) INTO removed;
        EXECUTE format('DROP TABLE %s', part.rel);
        action := 'dropped'; rows := removed;
        RETURN NEXT;
    END LOOP;

    RETURN QUERY
        WITH stray AS (DELETE FROM tenancy.audit_log_default d WHERE d.at < cutoff RETURNING 1),
             denials AS (DELETE FROM tenancy.access_denials d WHERE d.last_at < cutoff RETURNING 1)
        SELECT 'deleted', 'tenancy.audit_log_default', count(*) FROM stray HAVING count(*) > 0
        UNION ALL
        SELECT 'deleted', 'tenancy.access_denials', count(*) FROM denials HAVING count(*) > 0;

    RETURN QUERY SELECT * FROM tenancy._ensure_audit_partitions(2);
END
$$;
COMMENT ON FUNCTION tenancy.prune_audit(interval) IS
    'retention: drops audit partitions (and denials) older than the interval and creates the coming months '
    '(platform admins only); run it daily, for example with pg_cron';

-- Writes a batch of queued denials; called by the collector worker
-- (extension/denial_collector.cpp). Attempts of the same actor and role, for
-- the same requested tenant and reason, within an hour of a row's first
-- attempt, add to that row: a storm of refusals stays a few rows.
CREATE OR REPLACE FUNCTION tenancy._record_denials(
    attempted_at timestamptz[], actors text[], db_roles text[], requested_tenants text[], tenant_ids uuid[],
    reasons text[], messages text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    attempt record;
BEGIN
    FOR attempt IN
        SELECT e.actor, e.db_role, e.requested_tenant, e.reason, min(e.at) AS first_at, max(e.at) AS last_at,
               count(*) AS attempts, (array_agg(e.tenant_id ORDER BY e.at))[1] AS tenant_id,
               (array_agg(e.message ORDER BY e.at))[1] AS message
          FROM unnest(attempted_at, actors, db_roles, requested_tenants, tenant_ids, reasons, messages)
               AS e(at, actor, db_role, requested_tenant, tenant_id, reason, message)
         GROUP BY e.actor, e.db_role, e.requested_tenant, e.reason
    LOOP
        UPDATE tenancy.access_denials d
           SET last_at = greatest(d.last_at, attempt.last_at), attempts = d.attempts + attempt.attempts
         WHERE d.id = (SELECT max(r.id) FROM tenancy.access_denials r
                        WHERE r.actor = attempt.actor AND r.reason = attempt.reason
                          AND r.requested_tenant = attempt.requested_tenant AND r.db_role = attempt.db_role
                          AND r.at > attempt.first_at - interval '1 hour');
        IF NOT FOUND THEN
            INSERT INTO tenancy.access_denials
                   (at, actor, db_role, requested_tenant, tenant_id, reason, message, last_at, attempts)
            VALUES (attempt.first_at, attempt.actor, attempt.db_role, attempt.requested_tenant, attempt.tenant_id,
                    attempt.reason, attempt.message, attempt.last_at, attempt.attempts);
        END IF;
    END LOOP;
END
$$;

-- Writes a batch of queued platform admin entries into the audit log;
-- called by the collector worker.
CREATE OR REPLACE FUNCTION tenancy._record_entries(
    entered_at timestamptz[], tenant_ids uuid[], actors text[], db_roles text[], xids xid8[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.audit_log (at, tenant_id, actor, db_role, operation, support_access, xid)
    SELECT e.at, e.tenant_id, e.actor, e.db_role, 'ENTER', true, e.xid
      FROM unnest(entered_at, tenant_ids, actors, db_roles, xids) AS e(at, tenant_id, actor, db_role, xid)
$$;

REVOKE ALL ON FUNCTION tenancy._record_denials(timestamptz[], text[], text[], text[], uuid[], text[], text[]),
    tenancy._record_entries(timestamptz[], uuid[], text[], text[], xid8[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._record_denials(timestamptz[], text[], text[], text[], uuid[], text[], text[]) IS
    'internal: writes queued denials into tenancy.access_denials, aggregating repeated attempts';
COMMENT ON FUNCTION tenancy._record_entries(timestamptz[], uuid[], text[], text[], xid8[]) IS
    'internal: writes queued platform admin entries into tenancy.audit_log';

-- Returns how many access events are queued and not yet written.
CREATE OR REPLACE FUNCTION tenancy._access_log_pending() RETURNS bigint
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'tenancy_access_log_pending';
REVOKE ALL ON FUNCTION tenancy._access_log_pending() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._access_log_pending() IS 'internal: number of queued access events';

CREATE OR REPLACE FUNCTION tenancy.access_log_pending() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('read the queue of access events');
    RETURN tenancy._access_log_pending();
END
$$;
COMMENT ON FUNCTION tenancy.access_log_pending() IS
    'how many denials and platform admin entries are queued and not yet written into tenancy.access_denials '
    'and tenancy.audit_log (platform admins only; normally 0 within a fraction of a second)';

-- Waits until every queued access event is written, for at most timeout;
-- returns whether the queue is empty. For tests and maintenance scripts.
CREATE OR REPLACE FUNCTION tenancy.wait_for_access_log(timeout interval DEFAULT '10 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + coalesce(timeout, interval '10 seconds');
BEGIN
    PERFORM tenancy._require_platform_admin('wait for the queue of access events');
    LOOP
        IF tenancy._access_log_pending() = 0 THEN
            RETURN true;
        END IF;
        EXIT WHEN clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION tenancy.wait_for_access_log(interval) IS
    'waits until queued denials and platform admin entries are written (platform admins only); returns '
    'whether they all were within the timeout';
-- pg_tenancy: row limits. A protected table that some plan's or tenant's
-- row limit names gets four triggers: tenancy_row_count (after each INSERT
-- statement, with its transition table), tenancy_row_count_delete (after
-- each DELETE statement), tenancy_row_move (a row a bypassing role moves to
-- another tenant) and tenancy_row_count_reset (TRUNCATE). When they are
-- installed, the table's rows are counted per tenant in full (the trigger
-- creation's lock keeps writers out meanwhile); from then on the counts in
-- tenancy.row_counts move with each statement, and a statement that takes a
-- tenant over its limit is refused. Tables no limit names have none of
-- this: their writes pay nothing.

-- The canonical name of a table in row limits: schema.table, each part
-- quoted as an identifier only when it needs to be.
CREATE OR REPLACE FUNCTION tenancy._limit_table_name(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target
$$;
COMMENT ON FUNCTION tenancy._limit_table_name(oid) IS 'internal: a table''s name as row limits write it';

-- The row limit of a tenant for a table, by the name its limits use (NULL:
-- none).
CREATE OR REPLACE FUNCTION tenancy._row_limit_of(tenant uuid, target oid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT (tenancy._effective_limits(t)->'rows'->>coalesce(
                       (SELECT c.limit_name FROM tenancy.row_count_tables c WHERE c.relid = target),
                       tenancy._limit_table_name(target)))::bigint
              FROM tenancy.tenants t WHERE t.id = tenant);
END
$$;
COMMENT ON FUNCTION tenancy._row_limit_of(uuid, oid) IS 'internal: a tenant''s row limit for a table';

-- Starts a tenant's count of a table, at the first rows it writes there. A
-- tenant without a count had no rows when the table was counted in full; on
-- a table not counted in full (restored, before tenancy.recount_rows()) the
-- count starts from a direct count of its other rows.
CREATE OR REPLACE FUNCTION tenancy._start_count(target oid, tenant uuid, added bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO tenancy.row_counts (tenant_id, relid, rows, row_limit, limits_version)
    VALUES (tenant, target,
            CASE WHEN EXISTS (SELECT 1 FROM tenancy.row_count_tables c WHERE c.relid = target) THEN 0
                 ELSE greatest(tenancy._count_tenant_rows(target, tenant) - added, 0) END,
            tenancy._row_limit_of(tenant, target), (SELECT v.version FROM tenancy.row_limits_version v))
    ON CONFLICT ON CONSTRAINT row_counts_pkey DO NOTHING;
END
$$;
COMMENT ON FUNCTION tenancy._start_count(oid, uuid, bigint) IS 'internal: starts a tenant''s count of a table';

-- Raises the refusal of a statement that takes a tenant over its row limit.
CREATE OR REPLACE FUNCTION tenancy._refuse_rows(target oid, tenant uuid, counted bigint, added bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_tenant tenancy.tenants;
    table_name text;
    allowed bigint := tenancy._row_limit_of(tenant, target);
BEGIN
    SELECT * INTO owner_tenant FROM tenancy.tenants t WHERE t.id = tenant;
    SELECT c.limit_name INTO table_name FROM tenancy.row_count_tables c WHERE c.relid = target;
    table_name := coalesce(table_name, tenancy._limit_table_name(target));
    RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
        MESSAGE = format('tenant "%s" has reached its limit of %s rows in table %s', owner_tenant.slug, allowed,
                         table_name),
        DETAIL = format('%s %s rows; the tenant has %s, and this statement adds %s.',
                        CASE WHEN owner_tenant.limits->'rows' ? table_name
                             THEN format('The tenant''s own limit (over plan "%s") is', owner_tenant.plan)
                             ELSE format('Plan "%s" allows', owner_tenant.plan) END,
                        allowed, counted - added, added),
        HINT = 'Delete rows first, or a platform admin can raise the limit (tenancy.set_plan(), tenancy.set_limit()).';
END
$$;
COMMENT ON FUNCTION tenancy._refuse_rows(oid, uuid, bigint, bigint) IS 'internal: the refusal of a row limit';

-- The triggers' function: INSERT and DELETE statements (transition tables
-- tenancy_new and tenancy_old), a row moved to another tenant (row level),
-- TRUNCATE (every count of the table is 0 again). A write reads and updates
-- one count per tenant, which carries the limit; concurrent writers of one
-- tenant take turns on it (a row lock), so no two can pass the limit
-- together, and under REPEATABLE READ the second is a serialization failure.
-- A count that crosses 80 % or 100 % of its limit raises an alert.
CREATE OR REPLACE FUNCTION tenancy.row_count_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenants uuid[];
    changes bigint[];
    counted bigint;
    allowed bigint;
    current_version bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tenancy.row_counts r WHERE r.relid = TG_RELID;
        RETURN NULL;
    ELSIF TG_LEVEL = 'ROW' THEN
        tenants := ARRAY[OLD.tenant_id, NEW.tenant_id];
        changes := ARRAY[-1, 1];
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.tenant_id ORDER BY n.tenant_id), array_agg(n.added ORDER BY n.tenant_id)
          INTO tenants, changes
          FROM (SELECT i.tenant_id, count(*) AS added FROM tenancy_new i GROUP BY i.tenant_id) n;
    ELSE
        SELECT array_agg(o.tenant_id ORDER BY o.tenant_id), array_agg(-o.removed ORDER BY o.tenant_id)
          INTO tenants, changes
          FROM (SELECT d.tenant_id, count(*) AS removed FROM tenancy_old d GROUP BY d.tenant_id) o;
    END IF;
    SELECT v.version INTO current_version FROM tenancy.row_limits_version v;
    FOR i IN 1 .. coalesce(cardinality(tenants), 0) LOOP
        CONTINUE WHEN tenants[i] IS NULL;
        -- The copied limit is read again when the limits changed since.
        UPDATE tenancy.row_counts r
           SET rows = greatest(r.rows + changes[i], 0),
               row_limit = CASE WHEN r.limits_version = current_version THEN r.row_limit
                                ELSE tenancy._row_limit_of(r.tenant_id, r.relid) END,
               limits_version = current_version
         WHERE r.tenant_id = tenants[i] AND r.relid = TG_RELID
        RETURNING r.rows, r.row_limit INTO counted, allowed;
        IF NOT FOUND AND changes[i] > 0 THEN
            -- A tenant without a count starts one (a removed tenant's rows
            -- that go have no count to be taken from).
            PERFORM tenancy._start_count(TG_RELID, tenants[i], changes[i]);
            UPDATE tenancy.row_counts r SET rows = r.rows + changes[i]
             WHERE r.tenant_id = tenants[i] AND r.relid = TG_RELID
            RETURNING r.rows, r.row_limit INTO counted, allowed;
        END IF;
        IF changes[i] > 0 AND counted > allowed THEN
            PERFORM tenancy._refuse_rows(TG_RELID, tenants[i], counted, changes[i]);
        END IF;
        -- Usage alerts at 80 % and 100 % of the limit, when this crosses one.
        IF changes[i] > 0 AND allowed > 0
           AND ((counted - changes[i]) * 100 < allowed * 80 AND counted * 100 >= allowed * 80
                OR counted - changes[i] < allowed AND counted >= allowed) THEN
            PERFORM tenancy._raise_alerts(tenants[i], 'rows.' || coalesce(
                        (SELECT c.limit_name FROM tenancy.row_count_tables c WHERE c.relid = TG_RELID),
                        tenancy._limit_table_name(TG_RELID)), counted - changes[i], counted, allowed);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy.row_count_trigger() IS
    'triggers tenancy_row_count* of tables a row limit names: keep tenancy.row_counts and check the limits';
REVOKE ALL ON FUNCTION tenancy.row_count_trigger() FROM PUBLIC;

-- Says whether all four counting triggers are on a table, each calling
-- tenancy.row_count_trigger().
CREATE OR REPLACE FUNCTION tenancy._has_row_count_triggers(target oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) = 4 FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgfoid = 'tenancy.row_count_trigger'::regproc
       AND t.tgname IN ('tenancy_row_count', 'tenancy_row_count_delete', 'tenancy_row_move', 'tenancy_row_count_reset')
$$;
COMMENT ON FUNCTION tenancy._has_row_count_triggers(oid) IS 'internal: whether a table has its counting triggers';

-- Installs a table's counting triggers (replacing any trigger that took
-- their names) and counts its rows per tenant in full: creating a trigger
-- locks the table against writers until commit, so the counts are exact.
CREATE OR REPLACE FUNCTION tenancy._install_row_counting(target oid, limit_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_inherits h WHERE target IN (h.inhrelid, h.inhparent)) THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot count the rows of table %s for its row limit', target::regclass),
            DETAIL = 'It takes part in inheritance: its statements would count the rows of the other tables too.';
    END IF;
    PERFORM tenancy._drop_row_count_triggers(target);
    EXECUTE format('CREATE TRIGGER tenancy_row_count AFTER INSERT ON %s REFERENCING NEW TABLE AS tenancy_new '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    EXECUTE format('CREATE TRIGGER tenancy_row_count_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS tenancy_old '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    EXECUTE format('CREATE TRIGGER tenancy_row_move AFTER UPDATE OF tenant_id ON %s FOR EACH ROW '
                   'WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) '
                   'EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    EXECUTE format('CREATE TRIGGER tenancy_row_count_reset AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION tenancy.row_count_trigger()', target::regclass);
    PERFORM tenancy._count_rows_in_full(target, limit_name);
END
$$;
COMMENT ON FUNCTION tenancy._install_row_counting(oid, text) IS
    'internal: installs a table''s counting triggers and counts its rows per tenant';

-- Counts a table's rows per tenant in full (a direct scan per tenant: no
-- code of the table's owner runs) and records the name its limits use.
CREATE OR REPLACE FUNCTION tenancy._count_rows_in_full(target oid, limit_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Counted with a snapshot taken after the lock: only READ COMMITTED takes
    -- one per statement.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_state',
            MESSAGE = format('cannot count the rows of table %s for its row limit in a %s transaction',
                             target::regclass, upper(current_setting('transaction_isolation'))),
            DETAIL = 'The rows are counted after the table is locked against writers, with a snapshot taken then.',
            HINT = 'Make the change that adds the row limit in a READ COMMITTED transaction.';
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', target::regclass);
    DELETE FROM tenancy.row_counts r WHERE r.relid = target;
    INSERT INTO tenancy.row_count_tables (relid, limit_name) VALUES (target, limit_name)
    ON CONFLICT ON CONSTRAINT row_count_tables_pkey DO UPDATE SET limit_name = excluded.limit_name, counted_at = now();
    INSERT INTO tenancy.row_counts (tenant_id, relid, rows, row_limit, limits_version)
    SELECT t.id, target, c.rows, tenancy._row_limit_of(t.id, target),
           (SELECT v.version FROM tenancy.row_limits_version v)
      FROM tenancy.tenants t CROSS JOIN LATERAL (SELECT tenancy._count_tenant_rows(target, t.id) AS rows) c
     WHERE c.rows > 0;
END
$$;
COMMENT ON FUNCTION tenancy._count_rows_in_full(oid, text) IS 'internal: counts a table''s rows per tenant in full';

-- Gives every protected table a row limit names its counting triggers, and
-- takes them (and the table's counts) from the others. A table keeps the
-- name its limits used when it was counted, so renaming it does not lift
-- its limit; when the limits take its new name, its counts stay. A table
-- that cannot be counted (inheritance, a transaction that is not READ
-- COMMITTED) makes the change fail. Called whenever plans, tenants' plans or
-- own limits, or the protected tables change.
CREATE OR REPLACE FUNCTION tenancy._sync_row_limits() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected record;
    named_now boolean;
    named_before boolean;
BEGIN
    -- Changes of limits take turns; each count reads its limit again at its
    -- tenant's next write.
    UPDATE tenancy.row_limits_version SET version = version + 1;
    FOR protected IN
        SELECT p.relid, tenancy._limit_table_name(p.relid) AS name, c.limit_name AS counted_as
          FROM tenancy.protected_tables p LEFT JOIN tenancy.row_count_tables c ON c.relid = p.relid
         ORDER BY p.relid
    LOOP
        named_now := EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? protected.name)
                  OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? protected.name);
        named_before := protected.counted_as IS NOT NULL AND protected.counted_as <> protected.name
                    AND (EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? protected.counted_as)
                         OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? protected.counted_as));
        IF (named_now OR named_before) AND NOT (protected.counted_as IS NOT NULL
                                                AND tenancy._has_row_count_triggers(protected.relid)) THEN
            PERFORM tenancy._install_row_counting(protected.relid, protected.name);
        ELSIF named_now AND protected.counted_as <> protected.name THEN
            -- Renamed, and renamed in the limits too: the counts stay.
            UPDATE tenancy.row_count_tables c SET limit_name = protected.name WHERE c.relid = protected.relid;
        ELSIF NOT named_now AND NOT named_before THEN
            PERFORM tenancy._drop_row_count_triggers(protected.relid);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy._sync_row_limits() IS
    'internal: the counting triggers on exactly the protected tables a row limit names';

-- Counts the rows of every table a row limit names again, in full (after a
-- restore, which does not carry the counts), and installs what is missing.
CREATE OR REPLACE FUNCTION tenancy.recount_rows() RETURNS TABLE (table_name text, tenants bigint, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    counted record;
BEGIN
    PERFORM tenancy._require_platform_admin('count rows for the row limits');
    PERFORM tenancy._sync_row_limits();
    FOR counted IN SELECT c.relid, c.limit_name FROM tenancy.row_count_tables c ORDER BY c.limit_name LOOP
        PERFORM tenancy._count_rows_in_full(counted.relid, counted.limit_name);
        table_name := counted.limit_name;
        SELECT count(*), coalesce(sum(r.rows), 0) INTO tenants, rows
          FROM tenancy.row_counts r WHERE r.relid = counted.relid;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.recount_rows() IS
    'counts the rows per tenant of every table a row limit names again (platform admins; after a restore)';

-- Drops a table's counting triggers (and any trigger that took their names),
-- its counts and its record.
CREATE OR REPLACE FUNCTION tenancy._drop_row_count_triggers(target oid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    trigger_name name;
BEGIN
    FOR trigger_name IN SELECT t.tgname FROM pg_trigger t
                         WHERE t.tgrelid = target AND t.tgname IN ('tenancy_row_count', 'tenancy_row_count_delete',
                                                                   'tenancy_row_move', 'tenancy_row_count_reset')
                         ORDER BY t.tgname LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, target::regclass);
    END LOOP;
    DELETE FROM tenancy.row_counts r WHERE r.relid = target;
    DELETE FROM tenancy.row_count_tables c WHERE c.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy._drop_row_count_triggers(oid) IS 'internal: drops a table''s counting triggers and counts';

REVOKE ALL ON FUNCTION tenancy._limit_table_name(oid), tenancy._row_limit_of(uuid, oid),
    tenancy._start_count(oid, uuid, bigint), tenancy._refuse_rows(oid, uuid, bigint, bigint),
    tenancy._has_row_count_triggers(oid), tenancy._install_row_counting(oid, text),
    tenancy._count_rows_in_full(oid, text), tenancy._sync_row_limits(), tenancy._drop_row_count_triggers(oid)
    FROM PUBLIC;
-- pg_tenancy: guards. A protected table's owner may not switch off what
-- protects it: TRUNCATE (which ignores row level security and row triggers),
-- disabling row level security or the audit trigger, dropping or altering the
-- tenancy policies, or changing the tenant_id column. Platform admins may.
-- Nobody grants TRIGGER or REFERENCES on a protected table.

CREATE OR REPLACE FUNCTION tenancy.guard_truncate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_truncate';
COMMENT ON FUNCTION tenancy.guard_truncate() IS
    'BEFORE TRUNCATE trigger of protected tables: only platform admins may truncate (it spans every tenant)';

CREATE OR REPLACE FUNCTION tenancy.guard_ddl() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl';
COMMENT ON FUNCTION tenancy.guard_ddl() IS
    'refuses DDL that would weaken a protected table unless run by a platform admin';

-- The TRIGGER and REFERENCES privileges on protected tables held by anyone
-- but the table's owner, table-wide or on a column.
CREATE OR REPLACE FUNCTION tenancy._trigger_grants()
RETURNS TABLE (relid regclass, grantee text, privilege text, column_name name)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
           a.privilege_type, NULL::name
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid,
           LATERAL aclexplode(c.relacl) a
     WHERE a.privilege_type IN ('TRIGGER', 'REFERENCES') AND a.grantee <> c.relowner
    UNION ALL
    SELECT c.oid::regclass,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
           a.privilege_type, att.attname
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
           JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped
                                AND att.attacl IS NOT NULL,
           LATERAL aclexplode(att.attacl) a
     WHERE a.privilege_type = 'REFERENCES' AND a.grantee <> c.relowner
$$;
REVOKE ALL ON FUNCTION tenancy._trigger_grants() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._trigger_grants() IS
    'internal: TRIGGER and REFERENCES privileges on protected tables held by others than the owner';

-- Refuses, at the end of a GRANT, any TRIGGER or REFERENCES privilege on a
-- protected table held by someone other than its owner: the outcome is
-- judged, whatever the statement's form (GRANT ALL, ON ALL TABLES IN SCHEMA,
-- column privileges).
CREATE OR REPLACE FUNCTION tenancy.guard_grants() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    offending record;
BEGIN
    SELECT * INTO offending FROM tenancy._trigger_grants() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('cannot grant %s on protected table %s to %s', offending.privilege,
                             offending.relid, offending.grantee),
            DETAIL = 'A trigger on a protected table runs its creator''s code on every tenant''s rows, and a '
                     'foreign key''s checks bypass row level security; only the table''s owner may do either.',
            HINT = format('Grant only what tenants need, for example GRANT SELECT, INSERT, UPDATE, DELETE ON %s '
                          'TO %s.', offending.relid, offending.grantee);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.guard_grants() IS
    'refuses TRIGGER and REFERENCES privileges on protected tables for anyone but the owner';

REVOKE ALL ON FUNCTION tenancy.guard_truncate(), tenancy.guard_ddl(), tenancy.guard_grants() FROM PUBLIC;

-- Makes every new session of this database load pg_tenancy at start
-- (session_preload_libraries), keeping the libraries already listed: the
-- guards against locks, TRUNCATE and DDL that would block every tenant must
-- be in place before a session's first statement, not from its first use
-- of pg_tenancy on. Called when the extension is created or updated.
CREATE OR REPLACE FUNCTION tenancy._preload_in_database() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    listed text;
BEGIN
    SELECT substr(c.setting, length('session_preload_libraries=') + 1) INTO listed
      FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
     WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND s.setrole = 0 AND c.setting LIKE 'session_preload_libraries=%';
    IF coalesce(listed, '') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)'
       OR current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)' THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = %L', current_database(),
                   CASE WHEN coalesce(listed, '') = '' THEN 'pg_tenancy' ELSE listed || ', pg_tenancy' END);
    RAISE NOTICE 'new sessions of database "%" load pg_tenancy at start', current_database()
        USING DETAIL = 'session_preload_libraries now includes pg_tenancy, so that its guards are in place '
                       'before a session''s first statement.';
END
$$;
REVOKE ALL ON FUNCTION tenancy._preload_in_database() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._preload_in_database() IS
    'internal: adds pg_tenancy to this database''s session_preload_libraries';

-- Says whether new sessions of this database load pg_tenancy at start.
CREATE OR REPLACE FUNCTION tenancy._preloaded() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)'
        OR EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
                    WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                      AND s.setrole = 0 AND c.setting ~ '^session_preload_libraries=.*pg_tenancy')
        OR EXISTS (SELECT 1 FROM pg_settings p
                    WHERE p.name = 'session_preload_libraries' AND p.source = 'configuration file'
                      AND p.setting ~ '(^|[\s,"/])pg_tenancy([\s,"]|$)')
$$;
REVOKE ALL ON FUNCTION tenancy._preloaded() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._preloaded() IS 'internal: whether new sessions of this database load pg_tenancy';
-- pg_tenancy: the health check. One row per finding: what is wrong, where,
-- and how to fix it. Reads only the system catalogs and tenancy's own
-- catalog, never tenant data, so it is as fast with ten thousand tenants as
-- with ten.

-- Says whether a role bypasses row level security (superuser or BYPASSRLS).
CREATE OR REPLACE FUNCTION tenancy._bypasses_rls(role oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.oid = role
$$;
REVOKE ALL ON FUNCTION tenancy._bypasses_rls(oid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._bypasses_rls(oid) IS 'internal: whether a role bypasses row level security';

-- Findings about each protected table itself (or only those listed): row
-- level security, policies, the tenant column and its index,
-- the triggers.
CREATE OR REPLACE FUNCTION tenancy._health_protected_tables(tables oid[] DEFAULT NULL)
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.*, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum,
               (SELECT a.attnotnull FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_not_null
          FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
         WHERE tables IS NULL OR p.relid = ANY (tables)
    ), expected AS (
        SELECT p.relid, d.* FROM protected p,
               LATERAL tenancy._policy_definitions(p.relid, p.read_role, p.write_role, p.delete_role) d
    ), actual AS (
        SELECT pol.polrelid AS relid, pol.polname, pol.polcmd, pol.polpermissive,
               pol.polroles = ARRAY[0::oid] AS to_public,
               pg_get_expr(pol.polqual, pol.polrelid) AS using_expression,
               pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expression
          FROM pg_policy pol JOIN protected p ON p.relid = pol.polrelid
    )
    SELECT 'error', p.relid::text, 'row level security is disabled',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p WHERE NOT p.relrowsecurity
    UNION ALL
    SELECT 'error', p.relid::text, 'row level security is not forced: the table owner bypasses it',
           format('Run SELECT tenancy.protect(%L) again.', p.relid::text)
      FROM protected p WHERE NOT p.relforcerowsecurity
    UNION ALL
    SELECT 'error', e.relid::text, format('policy %s is missing', e.policy_name),
           format('Run SELECT tenancy.protect(%L) again.', e.relid::text)
      FROM expected e LEFT JOIN actual a ON a.relid = e.relid AND a.polname = e.policy_name
     WHERE a.polname IS NULL
    UNION ALL
    SELECT 'error', e.relid::text, format('policy %s was altered', e.policy_name),
           format('Run SELECT tenancy.protect(%L) again to restore it.', e.relid::text)
      FROM expected e JOIN actual a ON a.relid = e.relid AND a.polname = e.policy_name
     WHERE a.polcmd <> e.command OR a.polpermissive <> e.permissive OR NOT a.to_public
        OR a.using_expression IS DISTINCT FROM e.using_expression
        OR a.check_expression IS DISTINCT FROM e.check_expression
    UNION ALL
    SELECT 'error', a.relid::regclass::text,
           format('policy %I is not one of pg_tenancy''s: its expression runs on other tenants'' rows, possibly '
                  'before the tenant filter', a.polname),
           format('DROP POLICY %I ON %s (restrict access further with the roles of tenancy.protect())',
                  a.polname, a.relid::regclass)
      FROM actual a
     WHERE NOT EXISTS (SELECT 1 FROM expected e WHERE e.relid = a.relid AND e.policy_name = a.polname)
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id is missing',
           'Restore the column, or unprotect the table with tenancy.unprotect().'
      FROM protected p WHERE p.tenant_attnum IS NULL
    UNION ALL
    SELECT 'error', p.relid::text, 'column tenant_id is nullable: rows without a tenant can be written',
           format('ALTER TABLE %s ALTER COLUMN tenant_id SET NOT NULL', p.relid::text)
      FROM protected p WHERE p.tenant_attnum IS NOT NULL AND NOT p.tenant_not_null
    UNION ALL
    SELECT 'warning', p.relid::text, 'no index starts with tenant_id: every tenant''s queries scan the table',
           format('CREATE INDEX ON %s (tenant_id)', p.relid::text)
      FROM protected p
     WHERE p.tenant_attnum IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_index i
            WHERE i.indrelid = p.relid AND i.indkey[0] = p.tenant_attnum AND i.indpred IS NULL AND i.indisvalid)
    UNION ALL
    SELECT 'error', p.relid::text,
           CASE WHEN t.oid IS NULL THEN format('trigger %s is missing', name)
                WHEN t.tgfoid <> wanted.function THEN format('trigger %s runs %s, not %s', name,
                                                             t.tgfoid::regproc, wanted.function)
                ELSE format('trigger %s is disabled', name) END,
           CASE WHEN t.oid IS NOT NULL AND t.tgfoid <> wanted.function
                    THEN format('A superuser drops it (DROP TRIGGER %I ON %s), then runs SELECT tenancy.protect(%L) '
                                'again.', name, p.relid::text, p.relid::text)
                WHEN name = 'tenancy_audit' THEN format('Run SELECT tenancy.set_audit(%L, true).', p.relid::text)
                ELSE format('Run SELECT tenancy.protect(%L) again.', p.relid::text) END
      FROM protected p
           CROSS JOIN LATERAL (VALUES ('tenancy_audit', p.audit, 'tenancy.audit_trigger'::regproc),
                                      ('tenancy_truncate_guard', true, 'tenancy.guard_truncate'::regproc),
                                      ('tenancy_tenant_check', true, 'tenancy.tenant_check'::regproc))
                AS wanted(name, wanted, function)
           LEFT JOIN pg_trigger t ON t.tgrelid = p.relid AND t.tgname = wanted.name
     WHERE wanted.wanted AND (t.oid IS NULL OR t.tgenabled NOT IN ('O', 'A') OR t.tgfoid <> wanted.function)
    UNION ALL
    -- Row limits: a table they name must be counted, under that name (a
    -- warning: the limit still holds, from a direct count per tenant).
    SELECT 'warning', p.relid::text,
           format('the row limits of %s are not counted: %s', limit_name.name,
                  CASE WHEN c.relid IS NULL THEN 'its rows were never counted in full (a restore does not carry the counts)'
                       ELSE 'its counting triggers are missing or disabled' END),
           'Run SELECT * FROM tenancy.recount_rows().'
      FROM protected p
           LEFT JOIN tenancy.row_count_tables c ON c.relid = p.relid
           CROSS JOIN LATERAL (SELECT coalesce(c.limit_name, tenancy._limit_table_name(p.relid)) AS name) limit_name
     WHERE (EXISTS (SELECT 1 FROM tenancy.plans pl WHERE pl.limits->'rows' ? limit_name.name)
            OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.limits->'rows' ? limit_name.name))
       AND (c.relid IS NULL OR NOT tenancy._has_row_count_triggers(p.relid)
            OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = p.relid AND t.tgfoid = 'tenancy.row_count_trigger'::regproc
                          AND t.tgenabled NOT IN ('O', 'A')))
    UNION ALL
    SELECT 'warning', p.relid::text,
           format('table %s was renamed: its row limits still name it %s', p.relid::regclass, c.limit_name),
           format('Rename it in the plans and tenants'' own limits (tenancy.alter_plan(), tenancy.set_limit()); '
                  'until then the limits of %s hold for it.', c.limit_name)
      FROM protected p JOIN tenancy.row_count_tables c ON c.relid = p.relid
     WHERE c.limit_name <> tenancy._limit_table_name(p.relid)
$$;
REVOKE ALL ON FUNCTION tenancy._health_protected_tables(oid[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_protected_tables(oid[]) IS 'internal: health findings about protected tables';

-- Findings about what surrounds protected tables: unprotected tables with a
-- tenant_id, unique keys and foreign keys without tenant_id, views and
-- materialized views, and roles that bypass row level security.
CREATE OR REPLACE FUNCTION tenancy._health_surroundings()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum
          FROM tenancy.protected_tables p
    ), dependent_views AS (
        SELECT DISTINCT v.oid AS view_oid, v.relkind, v.relowner, v.reloptions, p.relid
          FROM pg_depend d
               JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
               JOIN pg_class v ON v.oid = r.ev_class
               JOIN protected p ON d.refclassid = 'pg_class'::regclass AND d.refobjid = p.relid
         WHERE v.oid <> p.relid AND v.relkind IN ('v', 'm')
    )
    SELECT 'warning', c.oid::regclass::text, 'table has a tenant_id column but is not protected',
           format('Run SELECT tenancy.protect(%L).', c.oid::regclass::text)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenancy') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = c.oid)
       AND NOT EXISTS (SELECT 1 FROM pg_inherits h JOIN protected p ON p.relid IN (h.inhparent, h.inhrelid)
                        WHERE c.oid IN (h.inhparent, h.inhrelid))
    UNION ALL
    SELECT 'warning', i.indexrelid::regclass::text,
           format('unique index on %s does not include tenant_id: it reveals whether a value exists in another '
                  'tenant', p.relid::text),
           'Make the key unique per tenant, for example UNIQUE (tenant_id, ...) or PRIMARY KEY (tenant_id, id).'
      FROM protected p JOIN pg_index i ON i.indrelid = p.relid
     WHERE i.indisunique AND NOT (p.tenant_attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]))
    UNION ALL
    SELECT 'warning', format('%s.%s', con.conrelid::regclass, quote_ident(con.conname)),
           format('exclusion constraint on %s does not compare tenant_id with =: it reveals whether a '
                  'conflicting row exists in another tenant', con.conrelid::regclass),
           'Add tenant_id WITH = to the constraint, for example EXCLUDE USING gist (tenant_id WITH =, ...) '
           '(btree_gist provides = for gist).'
      FROM protected p JOIN pg_constraint con ON con.conrelid = p.relid AND con.contype = 'x'
     WHERE NOT EXISTS (SELECT 1 FROM generate_subscripts(con.conkey, 1) k
                        WHERE con.conkey[k] = p.tenant_attnum
                          AND (SELECT o.oprname FROM pg_operator o WHERE o.oid = con.conexclop[k]) = '=')
    UNION ALL
    SELECT 'warning', format('%s.%s', con.conrelid::regclass, quote_ident(con.conname)),
           format('foreign key from %s to protected table %s does not include tenant_id: a row can reference '
                  'another tenant''s row', con.conrelid::regclass, con.confrelid::regclass),
           'Reference (tenant_id, key) with a composite foreign key.'
      FROM pg_constraint con JOIN protected target ON target.relid = con.confrelid
     WHERE con.contype = 'f' AND con.confrelid <> 'tenancy.tenants'::regclass
       AND NOT (target.tenant_attnum = ANY (con.confkey))
    UNION ALL
    SELECT CASE WHEN tenancy._bypasses_rls(v.relowner) THEN 'error' ELSE 'warning' END,
           v.view_oid::regclass::text,
           CASE WHEN tenancy._bypasses_rls(v.relowner)
                THEN format('view over protected table %s runs as %s, who bypasses row level security: it shows '
                            'every tenant''s rows', v.relid::text, pg_get_userbyid(v.relowner))
                ELSE format('view over protected table %s runs with its owner''s rights (no security_invoker)',
                            v.relid::text) END,
           format('ALTER VIEW %s SET (security_invoker = true)', v.view_oid::regclass::text)
      FROM dependent_views v
     WHERE v.relkind = 'v'
       AND coalesce((SELECT lower(o.option_value) FROM pg_options_to_table(v.reloptions) o
                      WHERE o.option_name = 'security_invoker'), 'false') NOT IN ('true', 'on', 'yes', '1')
    UNION ALL
    SELECT 'error', v.view_oid::regclass::text,
           format('materialized view over protected table %s stores rows outside row level security',
                  v.relid::text),
           'Replace it with a view (security_invoker = true) or a protected table filled per tenant.'
      FROM dependent_views v WHERE v.relkind = 'm'
    UNION ALL
    SELECT 'error', r.rolname::text,
           format('role is a service of this database but %s: it sees every tenant''s rows',
                  CASE WHEN r.rolsuper THEN 'a superuser' ELSE 'has BYPASSRLS' END),
           format('Run SELECT tenancy.revoke_service(%L), or ALTER ROLE %I NOSUPERUSER NOBYPASSRLS.',
                  r.rolname, r.rolname)
      FROM pg_roles r
     WHERE (r.rolsuper OR r.rolbypassrls) AND tenancy._holds_platform_right(r.oid, 'service')
    UNION ALL
    SELECT 'error', r.rolname::text,
           'role is a member of tenancy_table_owner: it can change, drop and lock the tables protected in strict '
           'mode in every database of the cluster',
           format('REVOKE tenancy_table_owner FROM %I; platform admins change strict tables with '
                  'tenancy.as_table_owner().', r.rolname)
      FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
     WHERE m.roleid = 'tenancy_table_owner'::regrole
    UNION ALL
    SELECT 'warning', 'tenancy.platform_grants',
           format('a %s right is still granted to a dropped role: a new role that got its oid would hold it',
                  replace(g.kind, '_', ' ')),
           format('Run SELECT tenancy.revoke_%s(%L).', g.kind, g.role::oid::text)
      FROM tenancy.platform_grants g
     WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = g.role)
    UNION ALL
    SELECT 'warning', 'tenancy.platform_grants',
           format('role %s holds a %s right without the privileges it comes with (restored from a dump of a '
                  'database updated from 0.1 or 0.2, or revoked by hand)', g.role, replace(g.kind, '_', ' ')),
           format('Run SELECT tenancy.grant_%s(%L) again.', g.kind, g.role::text)
      FROM tenancy.platform_grants g JOIN pg_roles r ON r.oid = g.role
     WHERE NOT r.rolsuper
       AND (NOT EXISTS (SELECT 1 FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
                         WHERE n.nspname = 'tenancy' AND a.grantee = g.role AND a.privilege_type = 'USAGE')
            OR (g.kind = 'platform_admin' AND NOT has_table_privilege(g.role, 'tenancy.tenants', 'SELECT')))
    UNION ALL
    SELECT 'error', g.relid::text || coalesce('.' || quote_ident(g.column_name), ''),
           format('%s is granted %s: it can run its own code on every tenant''s rows or probe them through a '
                  'foreign key', g.grantee, g.privilege),
           format('REVOKE %s%s ON %s FROM %s', g.privilege,
                  CASE WHEN g.column_name IS NOT NULL THEN format(' (%I)', g.column_name) END, g.relid, g.grantee)
      FROM tenancy._trigger_grants() g
    UNION ALL
    SELECT 'warning', i.indexrelid::regclass::text,
           format('index on %s is not led by tenant_id: a condition on its columns is checked against every '
                  'tenant''s rows before row level security filters them, and EXPLAIN ANALYZE or the statistics '
                  'counters then tell whether another tenant has a matching value', p.relid::text),
           'Lead the index with tenant_id, for example CREATE INDEX ON table (tenant_id, column).'
      FROM protected p JOIN pg_index i ON i.indrelid = p.relid
     WHERE i.indkey[0] <> p.tenant_attnum
       AND NOT (i.indisunique AND NOT (p.tenant_attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])))
       AND NOT i.indisexclusion
    UNION ALL
    SELECT 'error', current_database()::text,
           'pg_tenancy is not preloaded: a session that has not used it yet is not guarded against LOCK, TRUNCATE '
           'and DDL that would block every tenant',
           format('ALTER DATABASE %I SET session_preload_libraries = ''pg_tenancy'' (keeping the libraries already '
                  'listed)', current_database())
     WHERE NOT tenancy._preloaded()
    UNION ALL
    SELECT 'error', e.evtname::text,
           CASE WHEN e.evtname = 'tenancy_seal_tenant_tables'
                THEN 'event trigger is disabled: tables created in tenant schemas get no row level security, and '
                     'pg_stats shows their values to other tenants'
                ELSE 'event trigger is disabled: protected tables lose their guard' END,
           format('ALTER EVENT TRIGGER %I ENABLE', e.evtname)
      FROM pg_event_trigger e
     WHERE e.evtname IN ('tenancy_guard_ddl', 'tenancy_forget_dropped_tables', 'tenancy_guard_grants',
                         'tenancy_guard_ddl_outcome', 'tenancy_guard_ddl_drops', 'tenancy_seal_tenant_tables')
       AND e.evtenabled = 'D'
$$;
REVOKE ALL ON FUNCTION tenancy._health_surroundings() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_surroundings() IS 'internal: health findings around protected tables';

CREATE OR REPLACE FUNCTION tenancy.health_check()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('run the health check');
    RETURN QUERY
        SELECT f.severity, f.object, f.problem, f.hint
          FROM (SELECT * FROM tenancy._health_protected_tables()
                UNION ALL
                SELECT * FROM tenancy._health_surroundings()
                UNION ALL
                SELECT 'error', w.relid::text, w.problem, w.hint
                  FROM tenancy._table_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p)) w
                UNION ALL
                SELECT 'error', w.relid::text, 'strict mode: ' || w.problem, w.hint
                  FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p
                                                         WHERE p.strict)) w
                UNION ALL
                SELECT * FROM tenancy._owner_code_findings()
                UNION ALL
                SELECT * FROM tenancy._health_tenant_schemas()) f
         ORDER BY f.severity = 'warning', f.object, f.problem;
END
$$;
COMMENT ON FUNCTION tenancy.health_check() IS
    'one row per problem found in how tables are protected: severity (error or warning), object, problem, '
    'hint (platform admins only)';
-- pg_tenancy: read functions for operators and tenantctl. Each checks
-- the caller's rights, so tenantctl needs no privilege on the catalog.

CREATE OR REPLACE FUNCTION tenancy.tenant_list()
RETURNS TABLE (slug text, name text, status tenancy.tenant_status, isolation tenancy.isolation, plan text,
               members bigint, created_at timestamptz, region text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.slug::text, t.name, t.status, t.isolation, t.plan,
           (SELECT count(*) FROM tenancy.memberships m WHERE m.tenant_id = t.id AND m.is_active),
           t.created_at, t.region::text
      FROM tenancy.tenants t
     WHERE tenancy.is_platform_admin()
        OR EXISTS (SELECT 1 FROM tenancy.memberships m
                    WHERE m.tenant_id = t.id AND m.actor = tenancy.actor() AND m.is_active)
     ORDER BY t.slug
$$;
COMMENT ON FUNCTION tenancy.tenant_list() IS
    'tenants with status, isolation, plan, active member count, creation time and region (all for platform admins, '
    'one''s own for others)';

CREATE OR REPLACE FUNCTION tenancy.member_list(tenant text)
RETURNS TABLE (actor text, role tenancy.role, is_active boolean, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'list the members');
BEGIN
    RETURN QUERY
        SELECT m.actor::text, m.role, m.is_active, m.created_at, m.updated_at
          FROM tenancy.memberships m WHERE m.tenant_id = target.id
         ORDER BY m.role DESC, m.actor;
END
$$;
COMMENT ON FUNCTION tenancy.member_list(text) IS
    'members of a tenant with their roles (tenant owners/admins and platform admins)';

CREATE OR REPLACE FUNCTION tenancy.domain_list(tenant text DEFAULT NULL)
RETURNS TABLE (host text, tenant_slug text, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list every domain');
    ELSE
        target := tenancy._tenant_for_caller(tenant, 'admin', 'list the domains');
    END IF;
    RETURN QUERY
        SELECT d.host::text, t.slug::text, d.created_at
          FROM tenancy.domains d JOIN tenancy.tenants t ON t.id = d.tenant_id
         WHERE target.id IS NULL OR d.tenant_id = target.id
         ORDER BY d.host;
END
$$;
COMMENT ON FUNCTION tenancy.domain_list(text) IS
    'host names and their tenants: of one tenant (its owners/admins), or all (platform admins)';

CREATE OR REPLACE FUNCTION tenancy.protected_list()
RETURNS TABLE (table_name text, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role,
               audit boolean, protected_at timestamptz, protected_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.relid::text, p.read_role, p.write_role, p.delete_role, p.audit, p.protected_at, p.protected_by
      FROM tenancy.protected_tables p JOIN pg_class c ON c.oid = p.relid
     WHERE tenancy.is_platform_admin() OR pg_has_role(tenancy.db_role()::name, c.relowner, 'USAGE')
     ORDER BY p.relid::text
$$;
COMMENT ON FUNCTION tenancy.protected_list() IS
    'protected tables with their roles and audit setting (all for platform admins, one''s own tables for others)';

CREATE OR REPLACE FUNCTION tenancy.tenant_details(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'show the details');
    table_rows jsonb := '[]';
    protected record;
    row_count bigint;
BEGIN
    FOR protected IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        -- As the table's owner: planning a query on the table may run its
        -- owner's functions (owner_execution.cpp).
        row_count := tenancy._count_tenant_rows(protected.relid, target.id);
        table_rows := table_rows || jsonb_build_object('table', protected.relid::text, 'rows', row_count);
    END LOOP;
    RETURN to_jsonb(target) || jsonb_build_object(
        'members', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.role DESC, m.actor), '[]')
                      FROM tenancy.member_list(target.id::text) m),
        'domains', (SELECT coalesce(jsonb_agg(d.host ORDER BY d.host), '[]')
                      FROM tenancy.domains d WHERE d.tenant_id = target.id),
        'tables', table_rows);
END
$$;
COMMENT ON FUNCTION tenancy.tenant_details(text) IS
    'a tenant with its members, domains and row count per protected table, as jsonb '
    '(tenant owners/admins and platform admins)';
-- pg_tenancy 0.1: per-tenant settings, a jsonb object of the application's
-- own keys (feature flags, limits, branding...). Read by the tenant's owners
-- and admins and by platform admins; changed by owners and platform admins.

CREATE OR REPLACE FUNCTION tenancy.tenant_settings(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'read the settings');
BEGIN
    RETURN target.settings;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_settings(text) IS
    'the settings of a tenant (tenant owners/admins and platform admins)';

CREATE OR REPLACE FUNCTION tenancy.set_tenant_setting(tenant text, key text, value jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'owner', 'change the settings', true, true);
    updated jsonb;
BEGIN
    IF key IS NULL OR key !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid setting name "%s"', tenancy._shown(key)),
            DETAIL = 'A setting name starts with a lowercase letter and has only lowercase letters, digits, '
                     '"_", "." and "-", at most 63 characters.';
    END IF;
    PERFORM tenancy._require_setting_type(key, value);
    updated := CASE WHEN value IS NULL OR value = 'null'::jsonb THEN target.settings - key
                    ELSE target.settings || jsonb_build_object(key, value) END;
    UPDATE tenancy.tenants t SET settings = updated, updated_at = now() WHERE t.id = target.id;
    RETURN updated;
END
$$;
COMMENT ON FUNCTION tenancy.set_tenant_setting(text, text, jsonb) IS
    'sets one setting of a tenant (a null value removes it; a defined key takes only values of its type) and '
    'returns all of them (tenant owners and platform admins)';

-- What is wrong with a value for a setting type, or NULL when it fits.
CREATE OR REPLACE FUNCTION tenancy._setting_problem(type text, value jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    scalar text := CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' END;
BEGIN
    RETURN CASE type
        WHEN 'jsonb' THEN NULL
        WHEN 'text' THEN CASE WHEN scalar IS NULL THEN 'a JSON string' END
        WHEN 'integer' THEN CASE WHEN jsonb_typeof(value) <> 'number' OR value::text::numeric <> trunc(value::text::numeric)
                                      OR value::text::numeric NOT BETWEEN -9223372036854775808 AND 9223372036854775807
                                 THEN 'a whole number' END
        WHEN 'numeric' THEN CASE WHEN jsonb_typeof(value) <> 'number' THEN 'a number' END
        WHEN 'boolean' THEN CASE WHEN jsonb_typeof(value) <> 'boolean' THEN 'true or false' END
        WHEN 'timezone' THEN CASE WHEN scalar IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = scalar)
                                  THEN 'a time zone name of pg_timezone_names, as "Europe/Paris"' END
        WHEN 'locale' THEN CASE WHEN scalar IS NULL OR scalar !~ '^[a-z]{2,3}([-_][A-Z][a-z]{3})?([-_]([A-Z]{2}|[0-9]{3}))?$'
                                THEN 'a language tag, as "fr", "fr-CA" or "zh-Hant-TW"' END
        WHEN 'email' THEN CASE WHEN scalar IS NULL OR scalar !~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:].]+(\.[^@[:space:][:cntrl:].]+)+$'
                                    OR length(scalar) > 254
                               THEN 'an e-mail address, as "billing@acme.example"' END
        WHEN 'url' THEN CASE WHEN scalar IS NULL OR scalar !~ '^https?://[^[:space:][:cntrl:]/?#]+([/?#][^[:space:][:cntrl:]]*)?$'
                             THEN 'an http or https URL, as "https://acme.example/logo.png"' END
        WHEN 'color' THEN CASE WHEN scalar IS NULL OR scalar !~ '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$'
                               THEN 'a color as "#rgb" or "#rrggbb"' END
        END;
END
$$;
COMMENT ON FUNCTION tenancy._setting_problem(text, jsonb) IS 'internal: what a value lacks for a setting type';

-- Raises unless a value fits the type of its key (keys without a definition
-- take any value; NULL removes a setting).
CREATE OR REPLACE FUNCTION tenancy._require_setting_type(key text, value jsonb) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    definition tenancy.setting_definitions;
    problem text;
BEGIN
    SELECT * INTO definition FROM tenancy.setting_definitions d WHERE d.key = _require_setting_type.key;
    IF definition.key IS NULL OR value IS NULL OR value = 'null'::jsonb THEN
        RETURN;
    END IF;
    problem := tenancy._setting_problem(definition.type, value);
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid value for setting "%s": %s', key, tenancy._shown(value::text)),
            DETAIL = format('Setting "%s" is of type %s: its value is %s.', key, definition.type, problem);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_setting_type(text, jsonb) IS
    'internal: error unless a value fits the type of its setting key';

-- Gives a setting key a type, a default and a description, or changes them
-- (every tenant's value of the key must fit the new type).
CREATE OR REPLACE FUNCTION tenancy.define_setting(key text, type text, "default" jsonb DEFAULT NULL,
                                                  description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    misfit record;
BEGIN
    PERFORM tenancy._require_platform_admin('define settings');
    IF key IS NULL OR key !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid setting name "%s"', tenancy._shown(coalesce(key, 'null'))),
            DETAIL = 'A setting name starts with a lowercase letter and has only lowercase letters, digits, '
                     '"_", "." and "-", at most 63 characters.';
    END IF;
    IF type IS NULL OR type NOT IN ('text', 'integer', 'numeric', 'boolean', 'timezone', 'locale', 'email', 'url',
                                    'color', 'jsonb') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown setting type "%s"', tenancy._shown(coalesce(type, 'null'))),
            DETAIL = 'The types are text, integer, numeric, boolean, timezone, locale, email, url, color and jsonb.';
    END IF;
    IF "default" IS NOT NULL AND "default" <> 'null'::jsonb AND tenancy._setting_problem(type, "default") IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid default for setting "%s": %s', key, tenancy._shown("default"::text)),
            DETAIL = format('A %s setting''s value is %s.', type, tenancy._setting_problem(type, "default"));
    END IF;
    SELECT t.slug, t.settings -> define_setting.key AS value INTO misfit
      FROM tenancy.tenants t
     WHERE t.settings ? define_setting.key AND tenancy._setting_problem(type, t.settings -> define_setting.key) IS NOT NULL
     ORDER BY t.slug LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tenant "%s" has a value of setting "%s" that is not of type %s', misfit.slug, key, type),
            DETAIL = format('Its value is %s.', tenancy._shown(misfit.value::text)),
            HINT = 'Change or remove that value first with tenancy.set_tenant_setting().';
    END IF;
    INSERT INTO tenancy.setting_definitions (key, type, default_value, description)
    VALUES (key, type, nullif("default", 'null'::jsonb), description)
    ON CONFLICT ON CONSTRAINT setting_definitions_pkey DO UPDATE
       SET type = excluded.type, default_value = excluded.default_value, description = excluded.description,
           defined_at = now();
END
$$;
COMMENT ON FUNCTION tenancy.define_setting(text, text, jsonb, text) IS
    'gives a tenant setting key a type (text, integer, numeric, boolean, timezone, locale, email, url, color, '
    'jsonb), a default and a description (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.undefine_setting(key text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('define settings');
    DELETE FROM tenancy.setting_definitions d WHERE d.key = undefine_setting.key;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('setting "%s" is not defined', tenancy._shown(coalesce(key, 'null')));
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.undefine_setting(text) IS
    'removes the definition of a setting key; tenants keep their values, untyped (platform admins only)';

-- The current tenant's value of a setting, or its default: any member of the
-- tenant reads it. setting() gives it as text (a JSON string unquoted, other
-- values as JSON), setting_value() as jsonb; NULL when there is neither.
CREATE OR REPLACE FUNCTION tenancy.setting_value(key text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT t.settings -> setting_value.key FROM tenancy.tenants t
                      WHERE t.id = tenancy.current_tenant_id()),
                    (SELECT d.default_value FROM tenancy.setting_definitions d WHERE d.key = setting_value.key))
$$;
COMMENT ON FUNCTION tenancy.setting_value(text) IS
    'the current tenant''s value of a setting, or its default, as jsonb (any member of the tenant)';

CREATE OR REPLACE FUNCTION tenancy.setting(key text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy.setting_value(setting.key) #>> '{}'
$$;
COMMENT ON FUNCTION tenancy.setting(text) IS
    'the current tenant''s value of a setting, or its default, as text (any member of the tenant)';

REVOKE ALL ON FUNCTION tenancy._setting_problem(text, jsonb), tenancy._require_setting_type(text, jsonb) FROM PUBLIC;
-- pg_tenancy: the outcome of DDL on protected tables, judged after each
-- statement (ddl_command_end, sql_drop) on the tables it actually changed,
-- by oid: whatever the statement's text named, and whatever a concurrent
-- rename did to those names. Table owners may evolve their schema; they may
-- not leave a protected table weaker than tenancy.protect() made it.

CREATE OR REPLACE FUNCTION tenancy._trusted_function(function oid) RETURNS boolean
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'tenancy_trusted_function';
COMMENT ON FUNCTION tenancy._trusted_function(oid) IS
    'internal: whether a function may run on every tenant''s rows (built in, owned by a superuser, or pg_tenancy''s)';

-- The tables an object belongs to: a table itself, the table of an index,
-- trigger, policy, rule, constraint or column default, the tables whose
-- triggers call a function, and the tables of a schema (ALTER SCHEMA).
CREATE OR REPLACE FUNCTION tenancy._tables_of_object(classid oid, objid oid) RETURNS SETOF oid
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = $2), $2)
     WHERE $1 = 'pg_class'::regclass
    UNION ALL SELECT t.tgrelid FROM pg_trigger t WHERE $1 = 'pg_trigger'::regclass AND t.oid = $2
    UNION ALL SELECT p.polrelid FROM pg_policy p WHERE $1 = 'pg_policy'::regclass AND p.oid = $2
    UNION ALL SELECT r.ev_class FROM pg_rewrite r WHERE $1 = 'pg_rewrite'::regclass AND r.oid = $2
    UNION ALL SELECT c.conrelid FROM pg_constraint c WHERE $1 = 'pg_constraint'::regclass AND c.oid = $2
    UNION ALL SELECT d.adrelid FROM pg_attrdef d WHERE $1 = 'pg_attrdef'::regclass AND d.oid = $2
    UNION ALL SELECT t.tgrelid FROM pg_trigger t WHERE $1 = 'pg_proc'::regclass AND t.tgfoid = $2
    UNION ALL SELECT c.oid FROM pg_class c
               WHERE $1 = 'pg_namespace'::regclass AND c.relnamespace = $2 AND c.relkind IN ('r', 'p')
$$;
REVOKE ALL ON FUNCTION tenancy._tables_of_object(oid, oid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._tables_of_object(oid, oid) IS 'internal: the tables a catalog object belongs to';

-- The tables the current DDL statement changed: from the commands it ran
-- (ddl_command_end), or from the objects it dropped (sql_drop), whose tables
-- are named by their address.
CREATE OR REPLACE FUNCTION tenancy._ddl_changed_tables(event text) RETURNS oid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed oid[];
BEGIN
    IF event = 'sql_drop' THEN
        SELECT array_agg(DISTINCT t) INTO changed
          FROM (SELECT d.objid AS t FROM pg_event_trigger_dropped_objects() d
                 WHERE d.classid = 'pg_class'::regclass AND d.objsubid <> 0
                UNION ALL
                SELECT to_regclass(quote_ident(d.address_names[1]) || '.' || quote_ident(d.address_names[2]))::oid
                  FROM pg_event_trigger_dropped_objects() d
                 WHERE d.classid IN ('pg_trigger'::regclass, 'pg_policy'::regclass, 'pg_rewrite'::regclass,
                                     'pg_constraint'::regclass, 'pg_attrdef'::regclass)
                   AND cardinality(d.address_names) = 3) dropped
         WHERE t IS NOT NULL;
    ELSE
        SELECT array_agg(DISTINCT t) INTO changed
          FROM pg_event_trigger_ddl_commands() c, LATERAL tenancy._tables_of_object(c.classid, c.objid) t;
    END IF;
    RETURN coalesce(changed, '{}');
END
$$;
REVOKE ALL ON FUNCTION tenancy._ddl_changed_tables(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._ddl_changed_tables(text) IS 'internal: the tables the current DDL statement changed';

-- What DDL could add to the given tables that weakens their isolation: a
-- parent or child across the protection boundary, a rule, a foreign key
-- whose action writes tenant_id, a SECURITY DEFINER trigger of untrusted code.
CREATE OR REPLACE FUNCTION tenancy._table_weaknesses(tables oid[])
RETURNS TABLE (relid regclass, problem text, hint text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid,
               (SELECT a.attnum FROM pg_attribute a
                 WHERE a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_attnum
          FROM tenancy.protected_tables p
    ), inheritance AS (
        SELECT h.inhrelid AS child, h.inhparent AS parent, c.relispartition,
               EXISTS (SELECT 1 FROM protected p WHERE p.relid = h.inhrelid) AS child_protected,
               EXISTS (SELECT 1 FROM protected p WHERE p.relid = h.inhparent) AS parent_protected
          FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
         WHERE h.inhrelid = ANY (tables) OR h.inhparent = ANY (tables)
    ), changed AS (
        SELECT p.* FROM protected p WHERE p.relid = ANY (tables)
    )
    SELECT i.child::regclass,
           format('%s %s of protected table %s is not protected: its rows are read through the parent without '
                  'the tenant check and without audit',
                  CASE WHEN i.relispartition THEN 'partition' ELSE 'child table' END, i.child::regclass,
                  i.parent::regclass),
           format('Protect %s first with tenancy.protect(), or keep it apart from %s.', i.child::regclass,
                  i.parent::regclass)
      FROM inheritance i WHERE i.parent_protected AND NOT i.child_protected
    UNION ALL
    SELECT i.parent::regclass,
           format('table %s is a parent of protected table %s but is not protected: reading it shows every '
                  'tenant''s rows', i.parent::regclass, i.child::regclass),
           format('Protect %s first with tenancy.protect(), or keep it apart from %s.', i.parent::regclass,
                  i.child::regclass)
      FROM inheritance i WHERE i.child_protected AND NOT i.parent_protected
    UNION ALL
    SELECT i.child::regclass,
           format('table %s inherits from %s, and a row limit counts the rows of %s: its statements would count '
                  'the other table''s rows too', i.child::regclass, i.parent::regclass,
                  (SELECT c.relid::regclass FROM tenancy.row_count_tables c
                    WHERE c.relid IN (i.child, i.parent) ORDER BY c.relid LIMIT 1)),
           'Keep the tables a row limit names apart from inheritance.'
      FROM inheritance i
     WHERE EXISTS (SELECT 1 FROM tenancy.row_count_tables c WHERE c.relid IN (i.child, i.parent))
    UNION ALL
    SELECT r.ev_class::regclass,
           format('rule %I on protected table %s runs on every write, outside row level security and the audit '
                  'trail', r.rulename, r.ev_class::regclass),
           'Use an invoker''s-rights trigger instead of a rule.'
      FROM pg_rewrite r JOIN changed c ON c.relid = r.ev_class
    UNION ALL
    SELECT con.conrelid::regclass,
           format('foreign key %I on protected table %s writes tenant_id when the referenced row changes: rows '
                  'move to another tenant', con.conname, con.conrelid::regclass),
           'Use ON DELETE CASCADE, RESTRICT or NO ACTION and ON UPDATE NO ACTION, or name only other columns: '
           'ON DELETE SET NULL (column).'
      FROM pg_constraint con JOIN changed c ON c.relid = con.conrelid
     WHERE con.contype = 'f' AND c.tenant_attnum = ANY (con.conkey)
       AND ((con.confdeltype IN ('n', 'd')
             AND (coalesce(cardinality(con.confdelsetcols), 0) = 0 OR c.tenant_attnum = ANY (con.confdelsetcols)))
            OR con.confupdtype IN ('n', 'd', 'c'))
    UNION ALL
    SELECT con.conrelid::regclass,
           format('foreign key %I on protected table %s has a referential action from %s, which is not protected: '
                  'deleting or updating its rows changes every tenant''s rows', con.conname, con.conrelid::regclass,
                  con.confrelid::regclass),
           'Use ON DELETE/ON UPDATE NO ACTION or RESTRICT, or protect the referenced table.'
      FROM pg_constraint con JOIN changed c ON c.relid = con.conrelid
     WHERE con.contype = 'f' AND con.confrelid <> 'tenancy.tenants'::regclass
       AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = con.confrelid)
       AND (con.confdeltype NOT IN ('a', 'r') OR con.confupdtype NOT IN ('a', 'r'))
    UNION ALL
    SELECT t.tgrelid::regclass,
           format('trigger %I on protected table %s runs %s with the rights of its owner, %s, on every '
                  'tenant''s writes', t.tgname, t.tgrelid::regclass, t.tgfoid::regprocedure,
                  pg_get_userbyid(f.proowner)),
           'Make the trigger function SECURITY INVOKER (it then runs with the rights of the writing user), or '
           'have a superuser own it.'
      FROM pg_trigger t JOIN changed c ON c.relid = t.tgrelid JOIN pg_proc f ON f.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND f.prosecdef AND NOT tenancy._trusted_function(f.oid)
$$;
REVOKE ALL ON FUNCTION tenancy._table_weaknesses(oid[]) FROM PUBLIC;

-- What the current DDL statement left weakened in the tables it changed: the
-- health check's errors about them, what tenancy._table_weaknesses finds,
-- and any change at all to a table protected in strict mode (the guard asks
-- only when the role running the DDL is no platform admin of this database).
CREATE OR REPLACE FUNCTION tenancy._ddl_weaknesses(event text)
RETURNS TABLE (relid regclass, problem text, hint text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH changed AS (SELECT tenancy._ddl_changed_tables(event) AS tables)
    SELECT h.object::regclass, h.problem, h.hint
      FROM changed c, LATERAL tenancy._health_protected_tables(c.tables) h
     WHERE h.severity = 'error'
    UNION ALL
    SELECT w.* FROM changed c, LATERAL tenancy._table_weaknesses(c.tables) w
    UNION ALL
    SELECT p.relid,
           format('table %s is protected in strict mode, whose schema only the platform admins of database %I '
                  'change', p.relid, current_database()),
           'Ask a platform admin of this database to make the change.'
      FROM changed c JOIN tenancy.protected_tables p ON p.relid = ANY (c.tables)
     WHERE p.strict
$$;
-- EXECUTE stays granted: the guard calls it as the role running the DDL, and
-- it answers only inside an event trigger, about that statement.
COMMENT ON FUNCTION tenancy._ddl_weaknesses(text) IS
    'internal: what the current DDL statement left weakened in the tables it changed';
COMMENT ON FUNCTION tenancy._table_weaknesses(oid[]) IS
    'internal: what weakens the isolation of the given tables (used after DDL and by the health check)';

CREATE OR REPLACE FUNCTION tenancy.guard_ddl_outcome() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_guard_ddl_outcome';
COMMENT ON FUNCTION tenancy.guard_ddl_outcome() IS
    'refuses DDL that left a protected table weaker than tenancy.protect() made it, unless run by a platform admin';
REVOKE ALL ON FUNCTION tenancy._trusted_function(oid), tenancy.guard_ddl_outcome() FROM PUBLIC;

-- The code of table owners that runs on protected tables, for the health
-- check: indexes, CHECK constraints and generated columns that call untrusted
-- or non-immutable functions (an error: rebuilding or validating them runs
-- that code on every tenant's rows; they predate tenancy.protect() or were
-- made by a platform admin), and triggers that run an owner's code with the
-- writing user's rights.
-- The code of table owners that planning a statement on a protected table
-- (of one table, or of every one) runs: indexes, CHECK constraints and
-- generated columns that call untrusted or non-immutable functions.
CREATE OR REPLACE FUNCTION tenancy._planned_owner_code(only_table regclass DEFAULT NULL)
RETURNS TABLE (relid regclass, problem text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH protected AS (
        SELECT p.relid FROM tenancy.protected_tables p WHERE only_table IS NULL OR p.relid = only_table
    ), code AS (
        SELECT i.indrelid AS relid, 'index ' || i.indexrelid::regclass::text AS what,
               'pg_class'::regclass AS classid, i.indexrelid AS objid
          FROM pg_index i JOIN protected p ON p.relid = i.indrelid
        UNION ALL
        SELECT con.conrelid, format('check constraint %I', con.conname), 'pg_constraint'::regclass, con.oid
          FROM pg_constraint con JOIN protected p ON p.relid = con.conrelid
         WHERE con.contype = 'c'
        UNION ALL
        SELECT d.adrelid, format('generated column %I', a.attname), 'pg_attrdef'::regclass, d.oid
          FROM pg_attrdef d JOIN protected p ON p.relid = d.adrelid
               JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum AND a.attgenerated <> ''
        UNION ALL
        -- The planner evaluates the expressions of extended statistics.
        SELECT x.stxrelid, format('statistics object %I.%I', n.nspname, x.stxname), 'pg_statistic_ext'::regclass, x.oid
          FROM pg_statistic_ext x JOIN protected p ON p.relid = x.stxrelid
               JOIN pg_namespace n ON n.oid = x.stxnamespace
         WHERE x.stxexprs IS NOT NULL
    ), code_and_domains AS (
        -- A domain an expression casts to runs its constraints too.
        SELECT * FROM code
        UNION ALL
        SELECT c.relid, format('%s (through domain %s)', c.what, dc.contypid::regtype), 'pg_constraint'::regclass,
               dc.oid
          FROM code c JOIN pg_depend d ON d.classid = c.classid AND d.objid = c.objid
                      AND d.refclassid = 'pg_type'::regclass
               JOIN pg_constraint dc ON dc.contypid = d.refobjid
    ), calls AS (
        SELECT c.*, CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid
                         ELSE (SELECT o.oprcode::oid FROM pg_operator o WHERE o.oid = d.refobjid) END AS function
          FROM code_and_domains c JOIN pg_depend d ON d.classid = c.classid AND d.objid = c.objid
         WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
    )
    SELECT DISTINCT c.relid::regclass,
           format('%s calls %s, owned by %s: rebuilding or validating it runs that code on every tenant''s rows',
                  c.what, c.function::regprocedure, pg_get_userbyid(f.proowner))
      FROM calls c JOIN pg_proc f ON f.oid = c.function
     WHERE NOT tenancy._trusted_function(c.function) OR f.provolatile <> 'i'
$$;
REVOKE ALL ON FUNCTION tenancy._planned_owner_code(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._planned_owner_code(regclass) IS
    'internal: indexes, CHECK constraints, generated columns and statistics expressions of protected tables that '
    'call owners'' code';

CREATE OR REPLACE FUNCTION tenancy._owner_code_findings()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT 'error', c.relid::text, c.problem,
           'Replace it with one that calls only trusted functions (built in, or owned by a superuser).'
      FROM tenancy._planned_owner_code() c
    UNION ALL
    SELECT 'warning', t.tgrelid::regclass::text,
           format('trigger %I runs %s, owned by %s, on every write (with the rights of the writing user)',
                  t.tgname, t.tgfoid::regprocedure, pg_get_userbyid(f.proowner)),
           'Review the function: it sees every row a tenant writes.'
      FROM pg_trigger t JOIN tenancy.protected_tables p ON p.relid = t.tgrelid JOIN pg_proc f ON f.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND NOT f.prosecdef AND NOT tenancy._trusted_function(f.oid)
    UNION ALL
    -- Column defaults and the checks of column domains run on writes too.
    SELECT DISTINCT 'warning', w.relid::text,
           regexp_replace(w.problem, ', who can replace it$', '') || ', on every write (with the rights of the writing user)',
           'Review the function: it sees every row a tenant writes.'
      FROM tenancy._strict_weaknesses(ARRAY(SELECT p.relid::oid FROM tenancy.protected_tables p WHERE NOT p."strict")) w
     WHERE w.problem ~ '^(the default of column|domain) .* calls '
    UNION ALL
    -- A foreign key's action (ON DELETE CASCADE, SET NULL, ...) runs as the
    -- referencing table's owner exempt from forced row level security. The
    -- owner's functions it calls run without the exemption (noforce_guard),
    -- but rules rewrite the action's own statement, and an index over a type
    -- of the owner's keeps that type's support functions set up from before.
    SELECT DISTINCT 'error', con.conrelid::regclass::text,
           format('rule %I rewrites the action of foreign key %I on protected table %s: it runs exempt from '
                  'forced row level security and could read or change every tenant''s rows', r.rulename,
                  con.conname, con.confrelid::regclass),
           'Drop the rule, or the foreign key''s action (ON DELETE/UPDATE NO ACTION), or protect the table strictly.'
      FROM pg_constraint con JOIN tenancy.protected_tables p ON p.relid = con.confrelid
           JOIN pg_rewrite r ON r.ev_class = con.conrelid AND r.rulename <> '_RETURN'
     WHERE con.contype = 'f' AND (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd'))
    UNION ALL
    SELECT DISTINCT 'warning', con.conrelid::regclass::text,
           format('index %s uses type %s, owned by %s, and is updated by the action of foreign key %I on '
                  'protected table %s, exempt from forced row level security', i.indexrelid::regclass,
                  d.refobjid::regtype, pg_get_userbyid(t.typowner), con.conname, con.confrelid::regclass),
           'Index only built-in types (or types owned by a superuser) on tables that foreign key actions change.'
      FROM pg_constraint con JOIN tenancy.protected_tables p ON p.relid = con.confrelid
           JOIN pg_index i ON i.indrelid = con.conrelid
           JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                           AND d.refclassid = 'pg_type'::regclass
           JOIN pg_type t ON t.oid = d.refobjid
     WHERE con.contype = 'f' AND (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd'))
       AND NOT tenancy._trusted_type(t.oid)
$$;
REVOKE ALL ON FUNCTION tenancy._owner_code_findings() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._owner_code_findings() IS 'internal: health findings about table owners'' code';

-- Says whether a type can be changed only by superusers: built in, owned by
-- a superuser or tenancy_table_owner, or part of an extension.
CREATE OR REPLACE FUNCTION tenancy._trusted_type(type oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.oid < 16384 OR r.rolsuper OR r.rolname = 'tenancy_table_owner'
           OR EXISTS (SELECT 1 FROM pg_depend d
                       WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
      FROM pg_type t JOIN pg_roles r ON r.oid = t.typowner
     WHERE t.oid = $1
$$;
COMMENT ON FUNCTION tenancy._trusted_type(oid) IS 'internal: whether only superusers can change a type';

-- What would still let a role other than a superuser change a strict
-- table's behaviour or data without its DDL: functions its indexes,
-- constraints, defaults, generated columns, triggers and column domains call
-- that their owner can replace (CREATE OR REPLACE runs new code on every
-- tenant's rows, or as tenancy_table_owner during ANALYZE), and column types
-- their owner can change (ALTER TYPE ... RENAME VALUE rewrites every
-- tenant's data without an audit row). protect(strict => true) refuses such
-- a table; the health check reports them on strict tables.
CREATE OR REPLACE FUNCTION tenancy._strict_weaknesses(tables oid[])
RETURNS TABLE (relid regclass, problem text, hint text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE column_types (relid, type) AS (
        SELECT a.attrelid, a.atttypid FROM pg_attribute a
         WHERE a.attrelid = ANY (tables) AND a.attnum > 0 AND NOT a.attisdropped
        UNION
        SELECT ct.relid, inner_type.oid
          FROM column_types ct JOIN pg_type t ON t.oid = ct.type
               CROSS JOIN LATERAL (SELECT t.typbasetype WHERE t.typtype = 'd'
                                   UNION ALL SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
                                   UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
                                   UNION ALL SELECT a.atttypid FROM pg_attribute a
                                    WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0
                                      AND NOT a.attisdropped) AS inner_type (oid)
    ), code (relid, what, classid, objid) AS (
        SELECT i.indrelid, 'index ' || i.indexrelid::regclass::text, 'pg_class'::regclass, i.indexrelid
          FROM pg_index i WHERE i.indrelid = ANY (tables)
        UNION ALL
        SELECT c.conrelid, format('constraint %I', c.conname), 'pg_constraint'::regclass, c.oid
          FROM pg_constraint c WHERE c.conrelid = ANY (tables)
        UNION ALL
        SELECT d.adrelid, format(CASE WHEN a.attgenerated <> '' THEN 'generated column %I'
                                      ELSE 'the default of column %I' END, a.attname),
               'pg_attrdef'::regclass, d.oid
          FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         WHERE d.adrelid = ANY (tables)
        UNION ALL
        SELECT t.tgrelid, format('trigger %I', t.tgname), 'pg_trigger'::regclass, t.oid
          FROM pg_trigger t WHERE t.tgrelid = ANY (tables) AND NOT t.tgisinternal
        UNION ALL
        SELECT ct.relid, format('domain %s', c.contypid::regtype), 'pg_constraint'::regclass, c.oid
          FROM column_types ct JOIN pg_constraint c ON c.contypid = ct.type
    ), calls AS (
        SELECT DISTINCT c.relid, c.what,
               CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid
                    ELSE (SELECT o.oprcode::oid FROM pg_operator o WHERE o.oid = d.refobjid) END AS function
          FROM code c JOIN pg_depend d ON d.classid = c.classid AND d.objid = c.objid
         WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
    )
    SELECT c.relid::regclass,
           format('%s calls %s, owned by %s, who can replace it', c.what, c.function::regprocedure,
                  pg_get_userbyid(f.proowner)),
           'Use built-in functions or functions owned by a superuser (a superuser can ALTER FUNCTION ... OWNER '
           'TO tenancy_table_owner), then protect the table in strict mode.'
      FROM calls c JOIN pg_proc f ON f.oid = c.function
     WHERE NOT tenancy._trusted_function(c.function)
    UNION ALL
    SELECT DISTINCT ct.relid::regclass,
           format('column type %s is owned by %s, who can change it for every tenant''s rows', ct.type::regtype,
                  pg_get_userbyid(t.typowner)),
           format('A superuser can run ALTER TYPE %s OWNER TO tenancy_table_owner; then protect the table in '
                  'strict mode.', ct.type::regtype)
      FROM column_types ct JOIN pg_type t ON t.oid = ct.type
     WHERE NOT tenancy._trusted_type(ct.type)
$$;
REVOKE ALL ON FUNCTION tenancy._strict_weaknesses(oid[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._strict_weaknesses(oid[]) IS
    'internal: code and types of a table that roles other than superusers could still change under strict mode';
-- pg_tenancy: backfill, giving the rows of a table that have no tenant
-- theirs before the table is protected: one tenant for all of them
-- (backfill => 'acme'), or an SQL expression over the row that derives it,
-- yielding the tenant's uuid or its slug (backfill_from => '...'), or both (the tenant takes the rows the expression
-- leaves without one). Rows that nothing places are reported, never guessed.
--
-- The expression is the caller's SQL: it is evaluated by SECURITY INVOKER
-- functions, with the caller's rights and search_path, and pasted only after
-- tenancy._check_backfill_expression() has parsed it as one value expression.
-- Whether the tenants it names exist is asked once per batch of rows
-- (tenancy._known_tenants()).

-- Raises unless the text is exactly one SQL value expression (parsed, never run).
CREATE OR REPLACE FUNCTION tenancy._check_backfill_expression(expression text) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_check_backfill_expression';
COMMENT ON FUNCTION tenancy._check_backfill_expression(text) IS
    'internal: error unless backfill_from is one SQL value expression';

-- Runs a backfill statement as the table's owner (see owner_execution.cpp).
CREATE OR REPLACE FUNCTION tenancy._execute_as_owner(
    target regclass, search_path text, query text, tenant uuid, first_ctid tid, end_ctid tid)
RETURNS bigint LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_execute_as_owner';
REVOKE ALL ON FUNCTION tenancy._execute_as_owner(regclass, text, text, uuid, tid, tid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._execute_as_owner(regclass, text, text, uuid, tid, tid) IS
    'internal: runs a backfill statement as the owner of the table';

-- Returns the first value of a query on a table's rows, run as its owner
-- ($1: a uuid[]), see owner_execution.cpp.
CREATE OR REPLACE FUNCTION tenancy._scan_as_owner(target regclass, query text, ids uuid[]) RETURNS text
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_scan_as_owner';
REVOKE ALL ON FUNCTION tenancy._scan_as_owner(regclass, text, uuid[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._scan_as_owner(regclass, text, uuid[]) IS
    'internal: the first value of a query on a table''s rows, run as the table''s owner';

-- The table whose statement pg_tenancy runs as its owner now (owner_scope.hpp),
-- or NULL.
CREATE OR REPLACE FUNCTION tenancy._owner_scope_target() RETURNS oid
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_owner_scope_target';
REVOKE ALL ON FUNCTION tenancy._owner_scope_target() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._owner_scope_target() IS
    'internal: the table whose statement pg_tenancy runs as its owner now, or null';

-- Counts one tenant's rows of a protected table by a direct scan, running no
-- code of the table's owner (owner_execution.cpp): for tenant_details().
CREATE OR REPLACE FUNCTION tenancy._count_tenant_rows(target regclass, tenant uuid) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_count_tenant_rows';
REVOKE ALL ON FUNCTION tenancy._count_tenant_rows(regclass, uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._count_tenant_rows(regclass, uuid) IS
    'internal: the rows of one tenant in a protected table, counted by a direct scan';

-- The tenants that the values a backfill expression yielded name (a uuid, or
-- a slug) and that the caller may fill, given by _backfill_rows() as it
-- judged the caller before running as the owner (fillable: NULL for every
-- tenant, to a platform admin; else those the caller is an admin or owner
-- of; any other value places nothing, as an unknown one): asked once per
-- batch by the statement _backfill_rows() runs as the table's owner, and only
-- while the table has a backfill in progress.
CREATE OR REPLACE FUNCTION tenancy._known_tenants(target regclass, refs text[], fillable uuid[])
RETURNS TABLE (ref text, id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tenancy.protect_jobs j WHERE j.relid = target AND j.backfill_from IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no backfill in progress', target);
    END IF;
    -- fillable comes from the statement _backfill_rows() runs as the owner:
    -- anywhere else it would be whatever the caller says.
    IF tenancy._owner_scope_target() IS DISTINCT FROM target THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'tenancy._known_tenants() is for the backfill statement only';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'backfill');
    RETURN QUERY SELECT r.ref, t.id FROM unnest(refs) AS r(ref), tenancy._lookup_tenant(r.ref) AS t
                  WHERE t.id IS NOT NULL AND (fillable IS NULL OR t.id = ANY (fillable));
END
$$;
COMMENT ON FUNCTION tenancy._known_tenants(regclass, text[], uuid[]) IS
    'internal: the tenants these uuids or slugs name, during a backfill of the table';

-- Checks a backfill's settings and returns the uuid of its tenant (NULL with
-- backfill_from alone): the caller may protect the table, the tenant exists,
-- the expression is one expression.
CREATE OR REPLACE FUNCTION tenancy._backfill_settings(target regclass, backfill text, backfill_from text)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_role regrole := (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = target);
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    IF backfill_from IS NOT NULL THEN
        PERFORM tenancy._check_backfill_expression(backfill_from);
        -- The expression runs as the table's owner: only who may act as the
        -- owner anyway may write it.
        IF NOT pg_has_role(tenancy.db_role()::name, owner_role, 'MEMBER') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('must be a member of role %s to backfill table %s from an expression',
                                 owner_role, target),
                DETAIL = 'backfill_from runs as the table''s owner.',
                HINT = 'Let the table''s owner run it, or give the tenant with backfill alone.';
        END IF;
    END IF;
    IF backfill IS NULL THEN
        RETURN NULL;
    END IF;
    -- Rows go into a tenant only from its admins (or a platform admin); the
    -- refusal is the same whether the tenant exists or not. An archived or
    -- terminating tenant takes no rows.
    RETURN tenancy._require_writable_tenant(
        (tenancy._tenant_for_caller(backfill, 'admin', 'place rows in the tables')).id);
END
$$;
REVOKE ALL ON FUNCTION tenancy._backfill_settings(regclass, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._backfill_settings(regclass, text, text) IS
    'internal: checks a backfill''s settings and returns its tenant''s uuid';

-- Before protect() backfills: checks the settings, adds tenant_id when
-- missing, records the backfill (a job of this transaction only) and holds
-- every tenant until the table is protected (the rows placed must not lose
-- their tenant before the protection removes them with it).
CREATE OR REPLACE FUNCTION tenancy._backfill_prepare(target regclass, backfill text, backfill_from text,
                                                     caller_search_path text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant uuid := tenancy._backfill_settings(target, backfill, backfill_from);
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.protect_jobs j WHERE j.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('an online protection of table %s is in progress', target),
            HINT = 'Resume it (tenantctl protect --online) or cancel it with tenancy.protect_online_cancel().';
    END IF;
    PERFORM tenancy._add_tenant_column(target);
    LOCK TABLE tenancy.tenants IN SHARE MODE;
    INSERT INTO tenancy.protect_jobs (relid, backfill_tenant, backfill_from, search_path, unassigned, batch_rows,
                                      online, step, started_by)
    VALUES (target, tenant, backfill_from, coalesce(caller_search_path, ''), 'refuse', 1, false, 'backfill',
            tenancy.actor());
END
$$;
COMMENT ON FUNCTION tenancy._backfill_prepare(regclass, text, text, text) IS
    'internal: checks and records a backfill, adds tenant_id and holds the tenants before protect() backfills';

-- Places the rows of the table's backfill job that have no tenant, in
-- blocks [first_block, end_block) (all blocks when both are NULL), and adds
-- them to the job's count: the expression's tenant when it names one, else
-- the backfill tenant, else the row stays without one. The statement is made
-- from the job's rule and runs as the table's owner (_execute_as_owner), so
-- that neither the expression nor the table's triggers run with anyone
-- else's rights. A row the application changes meanwhile is skipped (its new
-- version has another ctid); the trigger of an online protection places it.
CREATE OR REPLACE FUNCTION tenancy._backfill_rows(target regclass, first_block bigint, end_block bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs;
    row_alias name := (SELECT c.relname FROM pg_class c WHERE c.oid = target);
    in_range text := '';
    statement text;
    placed bigint;
BEGIN
    PERFORM tenancy._require_table_owner(target, 'backfill');
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no backfill in progress', target);
    END IF;
    IF (first_block IS NULL) <> (end_block IS NULL) OR first_block < 0 OR end_block < first_block THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid block range [%s, %s)', first_block, end_block);
    END IF;
    IF first_block IS NOT NULL THEN
        in_range := format(' AND %I.ctid OPERATOR(pg_catalog.>=) $2 AND %I.ctid OPERATOR(pg_catalog.<) $3',
                           row_alias, row_alias);
    END IF;
    IF job.backfill_from IS NULL THEN
        statement := format('UPDATE ONLY %s AS %I SET tenant_id = $1 WHERE %I.tenant_id IS NULL%s',
                            target, row_alias, row_alias, in_range);
    ELSE
        PERFORM tenancy._check_backfill_expression(job.backfill_from);
        statement := format(
            'WITH tenancy_placed AS MATERIALIZED ('
            '    SELECT %1$I.ctid AS row_ctid, (%2$s)::text AS tenant FROM ONLY %3$s AS %1$I'
            '     WHERE %1$I.tenant_id IS NULL%4$s), '
            'tenancy_known AS ('
            '    SELECT k.ref, k.id FROM tenancy._known_tenants(%5$L, ARRAY(SELECT DISTINCT p.tenant '
            '      FROM tenancy_placed p WHERE p.tenant IS NOT NULL), %6$L::uuid[]) AS k) '
            'UPDATE ONLY %3$s AS %1$I SET tenant_id = COALESCE(tenancy_known.id, $1) '
            '  FROM tenancy_placed LEFT JOIN tenancy_known '
            '       ON tenancy_known.ref OPERATOR(pg_catalog.=) tenancy_placed.tenant '
            ' WHERE %1$I.ctid OPERATOR(pg_catalog.=) tenancy_placed.row_ctid AND %1$I.tenant_id IS NULL'
            '   AND COALESCE(tenancy_known.id, $1) IS NOT NULL%4$s',
            row_alias, job.backfill_from, target, in_range, target::text,
            -- The caller's rights, judged here: as the owner runs the
            -- statement, pg_tenancy judges the owner (owner_scope.hpp).
            CASE WHEN tenancy.is_platform_admin() THEN NULL
                 ELSE ARRAY(SELECT t.id FROM tenancy.tenants t WHERE tenancy._caller_role(t.id) >= 'admin') END);
    END IF;
    placed := tenancy._execute_as_owner(target, concat_ws(', ', nullif(job.search_path, ''), 'pg_temp'), statement,
                                        job.backfill_tenant, format('(%s,0)', first_block)::tid,
                                        format('(%s,0)', end_block)::tid);
    UPDATE tenancy.protect_jobs j
       SET rows_done = j.rows_done + placed, updated_at = clock_timestamp(),
           next_block = CASE WHEN end_block IS NULL THEN j.next_block ELSE end_block END
     WHERE j.relid = target;
    RETURN placed;
END
$$;
COMMENT ON FUNCTION tenancy._backfill_rows(regclass, bigint, bigint) IS
    'internal: gives the rows without a tenant in a range of blocks theirs, as the table''s owner';

-- An SQL expression over the row alias r that shows its key: the primary
-- key's columns and values, like PostgreSQL's own key details, or its ctid.
-- Values are shown by their types' output functions (concat_ws), never by
-- casts a type's owner could have defined.
CREATE OR REPLACE FUNCTION tenancy._row_key_expression(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT format('format(%L, concat_ws('', '', %s))',
                       '(' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.position) || ')=(%s)',
                       string_agg(format('r.%I', a.attname), ', ' ORDER BY k.position))
           FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, position), pg_attribute a
          WHERE i.indrelid = target AND i.indisprimary AND a.attrelid = target AND a.attnum = k.attnum
         HAVING count(*) > 0),
        '''(ctid)=('' || r.ctid || '')''')
$$;
REVOKE ALL ON FUNCTION tenancy._row_key_expression(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._row_key_expression(regclass) IS
    'internal: an expression showing the key of row r of a table, for error details';

-- Raises when rows of the table have no tenant, or a tenant that does not
-- exist: how many, and the keys of a few.
CREATE OR REPLACE FUNCTION tenancy._require_all_placed(target regclass, backfill_from text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_ids uuid[] := ARRAY(SELECT t.id FROM tenancy.tenants t);
    counts text[];
    without_tenant bigint;
    unknown_tenant bigint;
    sample text;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'backfill');
    PERFORM tenancy._add_tenant_column(target);
    counts := string_to_array(tenancy._scan_as_owner(target, format(
        'SELECT count(*) FILTER (WHERE r.tenant_id IS NULL) || '','' || '
        'count(*) FILTER (WHERE r.tenant_id IS NOT NULL AND NOT (r.tenant_id = ANY ($1))) FROM ONLY %s r', target),
        tenant_ids), ',');
    without_tenant := counts[1]::bigint;
    unknown_tenant := counts[2]::bigint;
    IF without_tenant > 0 THEN
        sample := tenancy._scan_as_owner(target, format(
            'SELECT string_agg(k, '', '') FROM (SELECT %s AS k FROM ONLY %s r WHERE r.tenant_id IS NULL LIMIT 5) s',
            tenancy._row_key_expression(target), target), NULL);
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('cannot place %s %s of table %s in a tenant', without_tenant,
                             CASE WHEN without_tenant = 1 THEN 'row' ELSE 'rows' END, target),
            DETAIL = format('%s no existing tenant for %s: %s%s.',
                            CASE WHEN backfill_from IS NULL THEN 'Nothing gives' ELSE 'backfill_from yields' END,
                            CASE WHEN without_tenant = 1 THEN 'this row' ELSE 'these rows' END, sample,
                            CASE WHEN without_tenant > 5 THEN format(' (5 of %s)', without_tenant) ELSE '' END),
            HINT = 'Fix those rows or the expression, or name a tenant for the rest with backfill; nothing was '
                   'guessed.';
    END IF;
    IF unknown_tenant > 0 THEN
        sample := tenancy._scan_as_owner(target, format(
            'SELECT string_agg(k, '', '') FROM (SELECT %s AS k FROM ONLY %s r '
            'WHERE NOT (r.tenant_id = ANY ($1)) LIMIT 5) s', tenancy._row_key_expression(target), target), tenant_ids);
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('table %s has %s %s of tenants that do not exist', target, unknown_tenant,
                             CASE WHEN unknown_tenant = 1 THEN 'row' ELSE 'rows' END),
            DETAIL = format('Every tenant_id must be the id of a row of tenancy.tenants; it is not for %s%s.',
                            sample, CASE WHEN unknown_tenant > 5 THEN format(' (5 of %s)', unknown_tenant) ELSE '' END),
            HINT = 'Create the missing tenants with tenancy.create_tenant(), or fix tenant_id, then protect again.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_all_placed(regclass, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_all_placed(regclass, text) IS
    'internal: error naming the rows of a table without a tenant, or of tenants that do not exist';

-- Records a table's backfill in the audit log from its job, which only
-- pg_tenancy's own functions write: one row for the table (not one per row),
-- in the tenant's log when the rows all went to one tenant.
CREATE OR REPLACE FUNCTION tenancy._audit_backfill(job tenancy.protect_jobs) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.audit_log (tenant_id, actor, db_role, table_name, relid, operation, new_row, xid)
    VALUES (CASE WHEN job.backfill_from IS NULL THEN job.backfill_tenant END, tenancy.actor(), tenancy.db_role(),
            job.relid::text, job.relid, 'BACKFILL',
            jsonb_strip_nulls(jsonb_build_object(
                'rows', job.rows_done,
                'tenant', (SELECT t.slug FROM tenancy.tenants t WHERE t.id = job.backfill_tenant),
                'backfill_from', job.backfill_from, 'online', job.online,
                'unassigned', CASE WHEN job.online THEN job.unassigned END,
                'started_at', CASE WHEN job.online THEN job.started_at END,
                'started_by', job.started_by)),
            pg_current_xact_id())
$$;
REVOKE ALL ON FUNCTION tenancy._audit_backfill(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._audit_backfill(tenancy.protect_jobs) IS
    'internal: the audit row of a table''s backfill, one per table';
-- pg_tenancy: online protection of a live table, in short steps that never
-- hold a lock the application waits on for long. tenancy.protect_online()
-- records the job (tenancy.protect_jobs); each call of
-- tenancy.protect_online_step() does the next bounded piece of work in the
-- caller's transaction and records it there, so that a run killed at any
-- point resumes where it stopped. The helpers of the steps are not
-- executable by PUBLIC: protect_online_step() calls the one the job's step
-- names, and nothing else.
--
--   prepare   tenant_id added without a rewrite (nullable, no default), a
--             foreign key to tenancy.tenants NOT VALID (new rows name an
--             existing tenant, and no tenant with rows here can be dropped),
--             and the trigger tenancy_backfill that gives the rows the
--             application writes meanwhile their tenant (or refuses them);
--   backfill  the rows without a tenant, a range of blocks per call, placed
--             by the backfill rule (tenancy._backfill_rows());
--   verify    a scan for rows still without a tenant (a second pass places
--             those that moved; what remains is reported, never guessed);
--   validate  CHECK (tenant_id IS NOT NULL) NOT VALID, then validated under
--             SHARE UPDATE EXCLUSIVE, which writers ignore;
--   index     CREATE INDEX CONCURRENTLY on tenant_id, returned as a command
--             for the caller to run outside a transaction block (a leftover
--             invalid index of a killed run is dropped concurrently first);
--   switch    in one short ACCESS EXCLUSIVE transaction: NOT NULL (proved by
--             the valid CHECK, no scan), default, row level security,
--             policies, triggers; the temporary constraints and trigger go.

-- True when an online protection at its last step has proved that every
-- row of the table has a tenant and that it exists: its CHECK (tenant_id IS
-- NOT NULL) on the tenant_id column is valid, and the foreign key it made at
-- step prepare (the very constraint, by oid) still stands on that column.
-- Verify found every row's tenant after that foreign key was made, and the
-- key has held every write since (and refused to drop a tenant with rows
-- here), so it need not be validated: validating it would read the table
-- with pg_tenancy's rights, or row by row as the table's owner.
CREATE OR REPLACE FUNCTION tenancy._online_constraints_valid(target regclass) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) = 2
      FROM tenancy.protect_jobs j
      JOIN pg_attribute a ON a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped
      JOIN pg_constraint c ON c.conrelid = target AND c.conkey = ARRAY[a.attnum]
     WHERE j.relid = target AND j.online AND j.step = 'switch'
       AND ((c.conname = 'tenancy_tenant_id_not_null' AND c.contype = 'c' AND c.convalidated
             AND pg_get_constraintdef(c.oid) = 'CHECK ((tenant_id IS NOT NULL))')
            OR (c.oid = j.foreign_key AND c.contype = 'f' AND c.confrelid = 'tenancy.tenants'::regclass))
$$;
REVOKE ALL ON FUNCTION tenancy._online_constraints_valid(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_constraints_valid(regclass) IS
    'internal: an online protection has validated that every row has an existing tenant';

-- Drops what an online protection adds for its duration: the CHECK, the
-- foreign key and the trigger tenancy_backfill.
CREATE OR REPLACE FUNCTION tenancy._drop_online_constraints(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    constraint_name name;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_backfill') THEN
        EXECUTE format('DROP TRIGGER tenancy_backfill ON %s', target);
    END IF;
    FOR constraint_name IN SELECT c.conname FROM pg_constraint c WHERE c.conrelid = target
                              AND c.conname IN ('tenancy_tenant_id_not_null', 'tenancy_tenant_id_fkey') LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', target, constraint_name);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_online_constraints(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_online_constraints(regclass) IS
    'internal: drops the constraints and trigger of an online protection';

-- Raises unless what is named like the online protection's own objects on
-- the table is exactly what it makes: pg_tenancy validates and trusts them
-- with its own rights, so they must not be anyone else's.
CREATE OR REPLACE FUNCTION tenancy._require_own_online_objects(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant_column smallint := (SELECT a.attnum FROM pg_attribute a
                                WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped);
    foreign_object text;
BEGIN
    SELECT c.conname INTO foreign_object FROM pg_constraint c
     WHERE c.conrelid = target AND c.conname IN ('tenancy_tenant_id_not_null', 'tenancy_tenant_id_fkey')
       AND NOT (c.conkey = ARRAY[tenant_column]
                AND ((c.conname = 'tenancy_tenant_id_not_null' AND c.contype = 'c'
                      AND regexp_replace(pg_get_constraintdef(c.oid), ' NOT VALID$', '')
                          = 'CHECK ((tenant_id IS NOT NULL))')
                     OR (c.conname = 'tenancy_tenant_id_fkey' AND c.contype = 'f'
                         AND c.confrelid = 'tenancy.tenants'::regclass)))
     LIMIT 1;
    IF foreign_object IS NULL THEN
        SELECT t.tgname INTO foreign_object FROM pg_trigger t
         WHERE t.tgrelid = target AND t.tgname = 'tenancy_backfill' AND t.tgfoid <> 'tenancy.backfill_trigger()'::regprocedure;
    END IF;
    IF foreign_object IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_object',
            MESSAGE = format('table %s has a %s that pg_tenancy did not make', target, foreign_object),
            HINT = 'Drop or rename it, then resume the online protection.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_own_online_objects(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_own_online_objects(regclass) IS
    'internal: error unless the objects named like an online protection''s are its own';

-- The trigger tenancy_backfill, BEFORE INSERT OR UPDATE while a table is
-- protected online (arguments: unassigned, backfill tenant, backfill_from,
-- the search_path it was written for). A new row without a tenant takes the
-- selected tenant (SET tenancy.tenant, validated as always); without one it
-- takes the backfill rule's tenant when unassigned is 'backfill', and is
-- refused when it is 'refuse'. A changed row without a tenant takes the
-- rule's. With a tenant selected, a row may name no other tenant, as the
-- policies will require. SECURITY INVOKER: the expression runs as the
-- writer, like the table's own triggers. (The expression was parsed when the
-- job was recorded; this runs on every write, and does not parse it again.)
CREATE OR REPLACE FUNCTION tenancy.backfill_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    selected uuid;
    placed_ref text;
    placed uuid;
BEGIN
    IF coalesce(current_setting('tenancy.tenant', true), '') <> '' THEN
        selected := tenancy.current_tenant_id();
    END IF;
    IF NEW.tenant_id IS NOT NULL THEN
        IF selected IS NOT NULL AND NEW.tenant_id <> selected
           AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('row of table %I.%I names another tenant than the selected one',
                                 TG_TABLE_SCHEMA, TG_TABLE_NAME),
                DETAIL = 'The table is being protected online; with a tenant selected, rows are that tenant''s.';
        END IF;
        -- With no tenant selected, a row names only a tenant the writer may
        -- place rows in (the same answer whether the tenant exists or not).
        IF selected IS NULL AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id)
           AND tenancy._online_tenant_of(TG_RELID, NEW.tenant_id::text) IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('permission denied to place rows of table %I.%I in the tenant they name',
                                 TG_TABLE_SCHEMA, TG_TABLE_NAME),
                DETAIL = 'The table is being protected online; with no tenant selected, a row may name only a tenant '
                         'the writer is a member of.',
                HINT = 'Select the tenant first: SET tenancy.tenant = ''...''.';
        END IF;
        IF TG_OP = 'UPDATE' THEN
            PERFORM tenancy._online_require_writable(TG_RELID, OLD.tenant_id);
        END IF;
        PERFORM tenancy._online_require_writable(TG_RELID, NEW.tenant_id);
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND selected IS NOT NULL THEN
        NEW.tenant_id := tenancy._online_require_writable(TG_RELID, selected);
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_ARGV[0] = 'backfill' THEN
        IF TG_ARGV[2] <> '' THEN
            PERFORM set_config('search_path', concat_ws(', ', nullif(TG_ARGV[3], ''), 'pg_temp'), true);
            EXECUTE format('SELECT (%s)::text FROM (SELECT ($1).*) AS %I', TG_ARGV[2], TG_TABLE_NAME)
              INTO placed_ref USING NEW;
            PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
            placed := tenancy._online_tenant_of(TG_RELID, placed_ref);
        END IF;
        NEW.tenant_id := coalesce(placed, nullif(TG_ARGV[1], '')::uuid);
    END IF;
    IF NEW.tenant_id IS NULL AND TG_OP = 'INSERT' THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('new row of table %I.%I has no tenant', TG_TABLE_SCHEMA, TG_TABLE_NAME),
            DETAIL = CASE WHEN TG_ARGV[0] = 'refuse'
                          THEN 'The table is being protected online, and refuses rows without a tenant.'
                          ELSE 'The table is being protected online, and its backfill places no tenant for this row.' END,
            HINT = 'Select the tenant first: SET tenancy.tenant = ''...''.';
    END IF;
    IF NEW.tenant_id IS NULL AND OLD.tenant_id IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
            MESSAGE = format('cannot take the tenant of a row of table %I.%I away', TG_TABLE_SCHEMA, TG_TABLE_NAME),
            DETAIL = 'The table is being protected online.';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM tenancy._online_require_writable(TG_RELID, OLD.tenant_id);
    END IF;
    PERFORM tenancy._online_require_writable(TG_RELID, NEW.tenant_id);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION tenancy.backfill_trigger() IS
    'trigger tenancy_backfill of a table being protected online: gives rows written meanwhile their tenant';

-- The tenant a value of the backfill expression (or a written tenant_id)
-- names, by uuid or slug, for the trigger tenancy_backfill: only inside a
-- trigger, for a role that writes the table, while it is protected online;
-- and only a tenant the writer may place rows in (a member, the table's
-- owner, a service or a platform admin), NULL for any other, existing or not.
CREATE OR REPLACE FUNCTION tenancy._online_tenant_of(target oid, ref text) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found uuid;
BEGIN
    IF pg_trigger_depth() = 0
       OR NOT has_table_privilege(tenancy.db_role(), target, 'INSERT, UPDATE')
       OR NOT EXISTS (SELECT 1 FROM tenancy.protect_jobs j WHERE j.relid = target AND j.online) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'tenancy._online_tenant_of() is for the trigger tenancy_backfill only';
    END IF;
    found := (tenancy._lookup_tenant(ref)).id;
    IF found IS NOT NULL
       AND (tenancy.is_platform_admin()
            OR tenancy._holds_platform_right(tenancy.db_role()::regrole, 'service')
            OR pg_has_role(tenancy.db_role(), (SELECT c.relowner FROM pg_class c WHERE c.oid = target), 'MEMBER')
            OR tenancy._member_role(found, tenancy.actor()) IS NOT NULL) THEN
        RETURN found;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy._online_tenant_of(oid, text) IS
    'internal: the tenant a value of the backfill expression names, for the trigger of an online protection';

-- Raises when the trigger tenancy_backfill would write a row into a tenant
-- the writer may place rows in but that takes no writes (archived,
-- terminating; suspended for members): the policies' rule, before the table
-- has them. Tenants the writer may not place rows in are not looked at.
CREATE OR REPLACE FUNCTION tenancy._online_require_writable(target oid, tenant uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tenant IS NOT NULL AND tenancy._online_tenant_of(target, tenant::text) IS NOT NULL THEN
        PERFORM tenancy._require_writable_tenant(tenant);
    END IF;
    RETURN tenant;
END
$$;
COMMENT ON FUNCTION tenancy._online_require_writable(oid, uuid) IS
    'internal: for the trigger of an online protection, an error when a row would go into a read-only tenant';

-- The job of a table (NULL when none), for its owner or a platform admin.
CREATE OR REPLACE FUNCTION tenancy._protect_job(target regclass) RETURNS tenancy.protect_jobs
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs;
BEGIN
    PERFORM tenancy._require_protectable(target);
    PERFORM tenancy._require_table_owner(target, 'protect');
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target;
    RETURN job;
END
$$;
REVOKE ALL ON FUNCTION tenancy._protect_job(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._protect_job(regclass) IS 'internal: the online protection job of a table';

-- Records a job, or finds the one in progress (a setting left NULL is the
-- job's); checks the expression against the table as its owner.
CREATE OR REPLACE FUNCTION tenancy._protect_online_register(
    target regclass, read_role tenancy.role, write_role tenancy.role, delete_role tenancy.role, audit boolean,
    strict boolean, backfill text, backfill_from text, unassigned text, batch_rows integer, caller_search_path text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant uuid := tenancy._backfill_settings(target, backfill, backfill_from);
    job tenancy.protect_jobs;
BEGIN
    IF unassigned NOT IN ('refuse', 'backfill') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unassigned must be refuse or backfill, not %s', quote_literal(unassigned)),
            DETAIL = 'It says what happens to the rows the application writes without a tenant during the protection.';
    END IF;
    IF batch_rows < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('batch_rows must be positive, not %s', batch_rows);
    END IF;
    PERFORM tenancy._require_protect_settings(target, coalesce(audit, true), coalesce(strict, false));
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target FOR UPDATE;
    IF FOUND THEN
        -- A setting not given (NULL) is the job's: resuming needs only the table.
        IF (read_role IS NOT NULL AND read_role IS DISTINCT FROM job.read_role)
           OR (write_role IS NOT NULL AND write_role IS DISTINCT FROM job.write_role)
           OR (delete_role IS NOT NULL AND delete_role IS DISTINCT FROM job.delete_role)
           OR (audit IS NOT NULL AND audit IS DISTINCT FROM job.audit)
           OR (strict IS NOT NULL AND strict IS DISTINCT FROM job."strict")
           OR (tenant IS NOT NULL AND tenant IS DISTINCT FROM job.backfill_tenant)
           OR (backfill_from IS NOT NULL AND backfill_from IS DISTINCT FROM job.backfill_from)
           OR (unassigned IS NOT NULL AND unassigned IS DISTINCT FROM job.unassigned) THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('an online protection of table %s is in progress with other settings', target),
                DETAIL = format('It was started by %s at %s and has reached step %s.', job.started_by, job.started_at,
                                job.step),
                HINT = 'Resume it with the same settings, or cancel it with tenancy.protect_online_cancel().';
        END IF;
        -- Resuming a job whose verify found rows it could not place starts
        -- another pass: the data may have been fixed since.
        UPDATE tenancy.protect_jobs j
           SET batch_rows = COALESCE(_protect_online_register.batch_rows, j.batch_rows),
               step = CASE WHEN j.step = 'verify' AND j.pass > 1 THEN 'backfill' ELSE j.step END,
               pass = CASE WHEN j.step = 'verify' AND j.pass > 1 THEN j.pass + 1 ELSE j.pass END,
               next_block = CASE WHEN j.step = 'verify' AND j.pass > 1 THEN 0 ELSE j.next_block END,
               total_blocks = CASE WHEN j.step = 'verify' AND j.pass > 1
                                   THEN pg_relation_size(target) / current_setting('block_size')::bigint
                                   ELSE j.total_blocks END
         WHERE j.relid = target
        RETURNING j.step INTO job.step;
        RETURN job.step;
    END IF;
    -- Protected already: a resumed run whose last step committed after its
    -- client was gone finds it so; settings are changed with protect().
    IF EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE NOTICE 'table % is protected already, skipping', target
            USING HINT = 'Change its settings with tenancy.protect().';
        RETURN 'done';
    END IF;
    IF backfill_from IS NOT NULL THEN
        PERFORM tenancy._execute_as_owner(target, concat_ws(', ', nullif(caller_search_path, ''), 'pg_temp'),
            format('SELECT (%s)::text FROM ONLY %s AS %I LIMIT 0', backfill_from, target,
                   (SELECT c.relname FROM pg_class c WHERE c.oid = target)), NULL, NULL, NULL);
    END IF;
    INSERT INTO tenancy.protect_jobs (relid, read_role, write_role, delete_role, audit, strict, backfill_tenant,
                                      backfill_from, search_path, unassigned, batch_rows, online, started_by)
    VALUES (target, read_role, write_role, delete_role, audit, strict, tenant, backfill_from,
            coalesce(caller_search_path, ''), COALESCE(unassigned, 'refuse'), COALESCE(batch_rows, 10000), true,
            tenancy.actor());
    RETURN 'prepare';
END
$$;
COMMENT ON FUNCTION tenancy._protect_online_register(regclass, tenancy.role, tenancy.role, tenancy.role, boolean,
                                                     boolean, text, text, text, integer, text) IS
    'internal: records an online protection, or finds the one in progress';

-- Starts (or finds) the online protection of a table; returns its next
-- step. unassigned (default refuse) and batch_rows (default 10000) as for a
-- new job; a setting left NULL when resuming is the job's. SECURITY INVOKER
-- only to hand the caller's search_path to the job, for backfill_from.
CREATE OR REPLACE FUNCTION tenancy.protect_online(
    target regclass,
    read_role tenancy.role DEFAULT NULL,
    write_role tenancy.role DEFAULT NULL,
    delete_role tenancy.role DEFAULT NULL,
    audit boolean DEFAULT NULL,
    strict boolean DEFAULT NULL,
    backfill text DEFAULT NULL,
    backfill_from text DEFAULT NULL,
    unassigned text DEFAULT NULL,
    batch_rows integer DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN tenancy._protect_online_register(target, read_role, write_role, delete_role, audit, protect_online.strict,
                                            backfill, backfill_from, unassigned, batch_rows,
                                            pg_catalog.current_setting('search_path'));
END
$$;
COMMENT ON FUNCTION tenancy.protect_online(regclass, tenancy.role, tenancy.role, tenancy.role, boolean, boolean, text,
                                           text, text, integer) IS
    'starts or resumes the online protection of a live table; tenancy.protect_online_step() does its steps';

-- Step prepare: tenant_id, the NOT VALID foreign key, the trigger; measures
-- the table for the backfill.
CREATE OR REPLACE FUNCTION tenancy._online_prepare(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := job.relid;
    blocks bigint;
BEGIN
    PERFORM tenancy._add_tenant_column(target);
    PERFORM tenancy._require_own_online_objects(target);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = target AND c.conname = 'tenancy_tenant_id_fkey') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT tenancy_tenant_id_fkey FOREIGN KEY (tenant_id) '
                       'REFERENCES tenancy.tenants (id) NOT VALID', target);
    END IF;
    UPDATE tenancy.protect_jobs j
       SET foreign_key = (SELECT c.oid FROM pg_constraint c
                           WHERE c.conrelid = target AND c.conname = 'tenancy_tenant_id_fkey')
     WHERE j.relid = target;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'tenancy_backfill') THEN
        EXECUTE format('CREATE TRIGGER tenancy_backfill BEFORE INSERT OR UPDATE ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION tenancy.backfill_trigger(%L, %L, %L, %L)', target, job.unassigned,
                       coalesce(job.backfill_tenant::text, ''), coalesce(job.backfill_from, ''), job.search_path);
    END IF;
    blocks := pg_relation_size(target) / current_setting('block_size')::bigint;
    UPDATE tenancy.protect_jobs j
       SET step = 'backfill', next_block = 0, total_blocks = blocks, updated_at = clock_timestamp(),
           rows_total = (SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
                                     ELSE blocks * 100 END FROM pg_class c WHERE c.oid = target)
     WHERE j.relid = target;
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_prepare(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_prepare(tenancy.protect_jobs) IS 'internal: step prepare of an online protection';

-- Step verify: no row without a tenant or of an unknown tenant is left. A
-- pass that left rows without one (rows the application moved behind the
-- backfill) is followed by one more over the whole table; rows left after
-- that are reported, and the job waits at this step (resuming it starts
-- another pass, in case the data was fixed).
CREATE OR REPLACE FUNCTION tenancy._online_verify(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    BEGIN
        PERFORM tenancy._require_all_placed(job.relid, job.backfill_from);
    EXCEPTION WHEN not_null_violation THEN
        IF job.pass > 1 THEN
            RAISE;
        END IF;
        UPDATE tenancy.protect_jobs j
           SET step = 'backfill', pass = j.pass + 1, next_block = 0, updated_at = clock_timestamp(),
               total_blocks = pg_relation_size(job.relid) / current_setting('block_size')::bigint
         WHERE j.relid = job.relid;
        RETURN;
    END;
    UPDATE tenancy.protect_jobs j SET step = 'validate', updated_at = clock_timestamp() WHERE j.relid = job.relid;
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_verify(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_verify(tenancy.protect_jobs) IS 'internal: step verify of an online protection';

-- Step validate, in two calls: adds CHECK (tenant_id IS NOT NULL) NOT VALID
-- (a short ACCESS EXCLUSIVE lock), then, in the next transaction, validates
-- it under SHARE UPDATE EXCLUSIVE, which writers ignore (no lock timeout:
-- waiting for that lock blocks nobody).
CREATE OR REPLACE FUNCTION tenancy._online_validate(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := job.relid;
BEGIN
    PERFORM tenancy._require_own_online_objects(target);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = target AND c.conname = 'tenancy_tenant_id_not_null') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT tenancy_tenant_id_not_null CHECK (tenant_id IS NOT NULL) '
                       'NOT VALID', target);
        RETURN;
    END IF;
    -- As the table's owner, like every read of its rows (owner_execution.cpp).
    PERFORM set_config('lock_timeout', '0', true);
    PERFORM tenancy._execute_as_owner(target, 'pg_catalog, pg_temp',
        format('ALTER TABLE %s VALIDATE CONSTRAINT tenancy_tenant_id_not_null', target), NULL, NULL, NULL);
    UPDATE tenancy.protect_jobs j SET step = 'index', updated_at = clock_timestamp() WHERE j.relid = target;
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_validate(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_validate(tenancy.protect_jobs) IS 'internal: step validate of an online protection';

-- Step index: NULL once a valid index leads with tenant_id (the job moves on
-- to switch); otherwise the command the caller runs outside a transaction
-- block: DROP INDEX CONCURRENTLY of an invalid one a killed run left, or
-- CREATE INDEX CONCURRENTLY.
CREATE OR REPLACE FUNCTION tenancy._online_index_command(job tenancy.protect_jobs) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass := job.relid;
    tenant_column smallint := (SELECT a.attnum FROM pg_attribute a
                                WHERE a.attrelid = target AND a.attname = 'tenant_id' AND NOT a.attisdropped);
    invalid regclass;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = target AND i.indkey[0] = tenant_column
                  AND i.indpred IS NULL AND i.indisvalid) THEN
        UPDATE tenancy.protect_jobs j SET step = 'switch', updated_at = clock_timestamp() WHERE j.relid = target;
        RETURN NULL;
    END IF;
    SELECT i.indexrelid::regclass INTO invalid FROM pg_index i
     WHERE i.indrelid = target AND i.indkey[0] = tenant_column AND NOT i.indisvalid LIMIT 1;
    IF invalid IS NOT NULL THEN
        RETURN format('DROP INDEX CONCURRENTLY %s', invalid);
    END IF;
    RETURN format('CREATE INDEX CONCURRENTLY ON %s (tenant_id)', target);
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_index_command(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_index_command(tenancy.protect_jobs) IS
    'internal: step index of an online protection, the command to run outside a transaction block';

-- Step switch: the table is protected in one short transaction; the job's
-- record becomes its audit row.
CREATE OR REPLACE FUNCTION tenancy._online_switch(job tenancy.protect_jobs) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', job.relid);
    PERFORM tenancy._require_own_online_objects(job.relid);
    PERFORM tenancy._protect_table(job.relid, job.read_role, job.write_role, job.delete_role, job.audit, job."strict");
END
$$;
REVOKE ALL ON FUNCTION tenancy._online_switch(tenancy.protect_jobs) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._online_switch(tenancy.protect_jobs) IS 'internal: step switch of an online protection';

-- Does the next step of a table's online protection, in the caller's
-- transaction, and returns where the job stands: the step it has reached,
-- the command the caller must run outside a transaction block (then call
-- again), rows placed so far and the estimated total, and whether the
-- table is protected. The backfill runs as the table's owner.
CREATE OR REPLACE FUNCTION tenancy.protect_online_step(target regclass)
RETURNS TABLE (step text, command text, rows_done bigint, rows_total bigint, done boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs := tenancy._protect_job(target);
    block_rows bigint;
BEGIN
    IF job.relid IS NULL OR NOT job.online THEN
        IF EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
            RETURN QUERY SELECT 'switch'::text, NULL::text, NULL::bigint, NULL::bigint, true;
            RETURN;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('no online protection of table %s is in progress', target),
            HINT = 'Start one with tenancy.protect_online().';
    END IF;
    CASE job.step
    WHEN 'prepare' THEN
        PERFORM tenancy._online_prepare(job);
    WHEN 'backfill' THEN
        IF job.next_block >= job.total_blocks THEN
            UPDATE tenancy.protect_jobs j SET step = 'verify', updated_at = clock_timestamp() WHERE j.relid = target;
        ELSE
            block_rows := greatest(1, (SELECT (c.reltuples / greatest(c.relpages, 1))::bigint
                                         FROM pg_class c WHERE c.oid = target));
            PERFORM tenancy._backfill_rows(target, job.next_block,
                                           least(job.total_blocks, job.next_block + greatest(1, job.batch_rows / block_rows)));
        END IF;
    WHEN 'verify' THEN
        PERFORM tenancy._online_verify(job);
    WHEN 'validate' THEN
        PERFORM tenancy._online_validate(job);
    WHEN 'index' THEN
        command := tenancy._online_index_command(job);
    WHEN 'switch' THEN
        PERFORM tenancy._online_switch(job);
    END CASE;
    SELECT * INTO job FROM tenancy.protect_jobs j WHERE j.relid = target;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'switch'::text, NULL::text, NULL::bigint, NULL::bigint, true;
        RETURN;
    END IF;
    RETURN QUERY SELECT job.step, command, job.rows_done, job.rows_total, false;
END
$$;
COMMENT ON FUNCTION tenancy.protect_online_step(regclass) IS
    'does the next step of the online protection of a table; returns its step, a command to run outside a '
    'transaction block (then call again), rows placed and estimated, and whether the table is protected';

-- Cancels an online protection: the trigger and temporary constraints go
-- (also when a job's record is gone); the tenant_id column, its values and
-- its index stay.
CREATE OR REPLACE FUNCTION tenancy.protect_online_cancel(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job tenancy.protect_jobs := tenancy._protect_job(target);
BEGIN
    IF EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE NOTICE 'table % is protected, nothing to cancel', target;
        RETURN;
    END IF;
    IF job.relid IS NULL THEN
        RAISE NOTICE 'no online protection of table % is in progress', target;
    END IF;
    PERFORM tenancy._require_own_online_objects(target);
    PERFORM tenancy._drop_online_constraints(target);
    DELETE FROM tenancy.protect_jobs j WHERE j.relid = target;
END
$$;
COMMENT ON FUNCTION tenancy.protect_online_cancel(regclass) IS
    'cancels the online protection of a table, keeping tenant_id and the tenants already given';
-- pg_tenancy: termination with a grace period, restoration, purge, and the
-- history of each tenant (tenancy.tenant_events). Platform admins change;
-- the history is also read by the tenant's owners and admins.
--
-- 0.7 adds the status label 'terminating' in the same transaction that
-- creates these functions on an update: SQL functions are parsed when they
-- are created, so the label appears only in PL/pgSQL bodies (parsed when
-- they first run) or compared as text.

-- Shows a moment to the second, with its offset from UTC, for messages.
CREATE OR REPLACE FUNCTION tenancy._shown_time(at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SSOF')
$$;
COMMENT ON FUNCTION tenancy._shown_time(timestamptz) IS 'internal: a moment to the second, for messages';

-- Returns the tenant when rows may be written into it, and raises when it is
-- archived or terminating (for everybody), or suspended (for all but
-- platform admins): the rule of protected tables' policies, for the paths
-- that place rows without them (backfill, online protection). NULL passes.
CREATE OR REPLACE FUNCTION tenancy._require_writable_tenant(tenant uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    SELECT * INTO target FROM tenancy.tenants t WHERE t.id = _require_writable_tenant.tenant;
    IF target.status IN ('archived', 'terminating')
       OR (target.status = 'suspended' AND NOT tenancy.is_platform_admin()) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is %s', target.slug, target.status),
            DETAIL = format('No rows are written into a %s tenant.', target.status);
    END IF;
    RETURN tenant;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_writable_tenant(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_writable_tenant(uuid) IS
    'internal: the tenant, or an error when it takes no writes (archived, terminating; suspended for members)';

-- Starts the termination of a tenant: it becomes read-only at once, stays
-- restorable for the grace period, and is deleted by the first
-- tenancy.purge_terminated() after it. Returns when the grace period ends.
CREATE OR REPLACE FUNCTION tenancy.terminate_tenant(tenant text, grace interval DEFAULT '30 days',
                                                    reason text DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    ends timestamptz;
BEGIN
    PERFORM tenancy._require_platform_admin('terminate tenants');
    IF grace IS NULL OR now() + grace < now() THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid grace period "%s"', coalesce(grace::text, 'null')),
            DETAIL = 'The grace period is how long the tenant can still be restored; it cannot be negative.',
            HINT = 'Give an interval such as ''30 days'', or ''0'' to let the next purge delete the tenant.';
    END IF;
    target := tenancy._find_tenant(tenant, true);
    IF target.status = 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is already terminating', target.slug),
            DETAIL = format('Its grace period ends at %s.', tenancy._shown_time(target.purge_after)),
            HINT = 'Restore it with tenancy.restore_tenant() first to start another grace period.';
    END IF;
    ends := now() + grace;
    UPDATE tenancy.tenants
       SET status = 'terminating', status_reason = reason, purge_after = ends, updated_at = now()
     WHERE id = target.id;
    RETURN ends;
END
$$;
COMMENT ON FUNCTION tenancy.terminate_tenant(text, interval, text) IS
    'makes a tenant read-only and schedules its deletion after the grace period (platform admins only); '
    'returns when the grace period ends';

-- Takes a terminating tenant back to the status it had before (active,
-- suspended or archived, with that status's reason), within its grace period.
CREATE OR REPLACE FUNCTION tenancy.restore_tenant(tenant text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    termination tenancy.tenant_events;
BEGIN
    PERFORM tenancy._require_platform_admin('restore tenants');
    target := tenancy._find_tenant(tenant, true);
    IF target.status <> 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is not terminating', target.slug),
            DETAIL = format('It is %s; only a terminating tenant is restored.', target.status),
            HINT = 'tenancy.activate_tenant() makes a suspended or archived tenant active.';
    END IF;
    -- The moment of the call, not of the transaction's start.
    IF target.purge_after <= clock_timestamp() THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the grace period of tenant "%s" has ended', target.slug),
            DETAIL = format('It ended at %s; a terminating tenant can be restored only until then.',
                            tenancy._shown_time(target.purge_after)),
            HINT = 'tenancy.purge_terminated() deletes it; nothing of it can be restored through pg_tenancy.';
    END IF;
    SELECT * INTO termination FROM tenancy.tenant_events e
     WHERE e.tenant_id = target.id AND e.event = 'status' AND e."to" = 'terminating'
     ORDER BY e.id DESC LIMIT 1;
    UPDATE tenancy.tenants
       SET status = coalesce(termination."from", 'active')::tenancy.tenant_status,
           status_reason = CASE WHEN termination."from" IN ('suspended', 'archived')
                                THEN termination.details->>'previous_reason' END,
           purge_after = NULL, updated_at = now()
     WHERE id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.restore_tenant(text) IS
    'takes a terminating tenant back to the status it had before, within its grace period (platform admins only)';

-- Deletes every terminating tenant whose grace period ended by "now", each
-- with every row it owns (the trigger tenants_remove_rows), and returns them.
-- Each tenant goes in a subtransaction of its own, waiting at most lock_wait
-- for its row and for the transactions still writing into it: a tenant that
-- cannot go now (busy, or a table owner's trigger keeping rows) is returned
-- with purged false and the reason, and the others go on; the next run tries
-- it again. Runs at the same time as another purge or a restore wait for them
-- and then find the tenant gone or active. "now" lets a test or a catch-up
-- name the moment.
CREATE OR REPLACE FUNCTION tenancy.purge_terminated(now timestamptz DEFAULT pg_catalog.now(),
                                                    lock_wait interval DEFAULT '5 seconds')
RETURNS TABLE (tenant_id uuid, slug text, purge_after timestamptz, purged boolean, problem text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '5s' AS $$
DECLARE
    candidate record;
    target tenancy.tenants;
BEGIN
    PERFORM tenancy._require_platform_admin('purge terminated tenants');
    IF purge_terminated.now IS NULL OR lock_wait IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = format('%s must not be null', CASE WHEN lock_wait IS NULL THEN 'lock_wait' ELSE 'now' END),
            HINT = 'Leave it out to purge the tenants whose grace period has ended, waiting at most 5 seconds for each.';
    END IF;
    IF lock_wait < interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid lock_wait "%s"', lock_wait),
            DETAIL = 'lock_wait is how long to wait for each tenant; it cannot be negative (0 waits without limit).';
    END IF;
    -- Local to this function (its SET clause): 0 waits without limit.
    PERFORM set_config('lock_timeout', (extract(epoch FROM lock_wait) * 1000)::bigint::text, true);
    FOR candidate IN
        SELECT t.id, t.slug, t.purge_after FROM tenancy.tenants t
         WHERE t.status = 'terminating' AND t.purge_after <= purge_terminated.now
         ORDER BY t.purge_after, t.slug
    LOOP
        tenant_id := candidate.id;
        slug := candidate.slug;
        purge_after := candidate.purge_after;
        BEGIN
            SELECT * INTO target FROM tenancy.tenants t
             WHERE t.id = candidate.id AND t.status = 'terminating' AND t.purge_after <= purge_terminated.now
               FOR UPDATE;
            CONTINUE WHEN NOT FOUND;
            DELETE FROM tenancy.tenants t WHERE t.id = target.id;
            purged := true;
            problem := NULL;
        EXCEPTION WHEN OTHERS THEN
            purged := false;
            problem := SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.purge_terminated(timestamptz, interval) IS
    'deletes the terminating tenants whose grace period ended by now, each with every row it owns, and returns '
    'them; a tenant that cannot go within lock_wait comes back with purged false and the problem (platform admins '
    'only; safe to run at any time, also concurrently)';

-- The history of one tenant, oldest first: its owners and admins, and
-- platform admins, who also get the history of deleted tenants by slug.
CREATE OR REPLACE FUNCTION tenancy.tenant_event_list(tenant text) RETURNS SETOF tenancy.tenant_events
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF tenancy.is_platform_admin() AND tenant IS NOT NULL THEN
        target := tenancy._lookup_tenant(tenant);
        IF target.id IS NULL THEN
            RETURN QUERY SELECT e.* FROM tenancy.tenant_events e
                          WHERE e.tenant = tenant_event_list.tenant OR e.tenant_id::text = lower(tenant_event_list.tenant)
                          ORDER BY e.at, e.id;
            IF NOT FOUND THEN
                PERFORM tenancy._find_tenant(tenant);
            END IF;
            RETURN;
        END IF;
    END IF;
    target := tenancy._tenant_for_caller(tenant, 'admin', 'read the events');
    RETURN QUERY SELECT e.* FROM tenancy.tenant_events e WHERE e.tenant_id = target.id ORDER BY e.at, e.id;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_event_list(text) IS
    'the events of a tenant, oldest first (its owners and admins; platform admins, also of deleted tenants)';

-- Says whether a COPY FROM (pg_restore, a plain dump) is loading a catalog
-- table: its rows' events come with the dump, so the triggers add none.
CREATE OR REPLACE FUNCTION tenancy._catalog_loading(relid oid) RETURNS boolean
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'tenancy_catalog_loading';
COMMENT ON FUNCTION tenancy._catalog_loading(oid) IS
    'internal: whether a COPY FROM is restoring this catalog table';

-- Trigger on tenancy.tenants: records creation, changes of status, plan,
-- isolation and region, and deletion.
CREATE OR REPLACE FUNCTION tenancy._record_tenant_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tenancy._catalog_loading(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "to", details)
        VALUES (NEW.id, NEW.slug, 'created', NEW.status::text,
                jsonb_build_object('name', NEW.name, 'plan', NEW.plan, 'isolation', NEW.isolation,
                                   'region', NEW.region));
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to", reason, details)
        VALUES (OLD.id, OLD.slug, 'deleted', OLD.status::text, 'deleted', OLD.status_reason,
                jsonb_strip_nulls(jsonb_build_object('name', OLD.name, 'purge_after', OLD.purge_after)));
    ELSE
        IF NEW.status IS DISTINCT FROM OLD.status OR NEW.purge_after IS DISTINCT FROM OLD.purge_after
           OR NEW.status_reason IS DISTINCT FROM OLD.status_reason THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to", reason, details)
            VALUES (NEW.id, NEW.slug, 'status', OLD.status::text, NEW.status::text, NEW.status_reason,
                    jsonb_strip_nulls(jsonb_build_object('purge_after', NEW.purge_after,
                                                         'previous_reason', OLD.status_reason)));
        END IF;
        IF NEW.plan IS DISTINCT FROM OLD.plan THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to")
            VALUES (NEW.id, NEW.slug, 'plan', OLD.plan, NEW.plan);
        END IF;
        IF NEW.isolation IS DISTINCT FROM OLD.isolation THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to")
            VALUES (NEW.id, NEW.slug, 'isolation', OLD.isolation::text, NEW.isolation::text);
        END IF;
        IF NEW.region IS DISTINCT FROM OLD.region THEN
            INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to")
            VALUES (NEW.id, NEW.slug, 'region', OLD.region, NEW.region);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy._record_tenant_event() IS
    'internal: trigger on tenancy.tenants writing tenancy.tenant_events';

-- Trigger on tenancy.memberships: records an actor becoming or ceasing to be
-- an active owner (not when the tenant itself is being deleted).
CREATE OR REPLACE FUNCTION tenancy._record_owner_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    was_owner boolean := false;
    is_owner boolean := false;
    member tenancy.memberships;
    tenant_slug text;
BEGIN
    IF tenancy._catalog_loading(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        was_owner := OLD.role = 'owner' AND OLD.is_active;
        member := OLD;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_owner := NEW.role = 'owner' AND NEW.is_active;
        member := NEW;
    END IF;
    IF was_owner = is_owner THEN
        RETURN NULL;
    END IF;
    SELECT t.slug INTO tenant_slug FROM tenancy.tenants t WHERE t.id = member.tenant_id;
    IF tenant_slug IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO tenancy.tenant_events (tenant_id, tenant, event, "from", "to", details)
    VALUES (member.tenant_id, tenant_slug, 'owner',
            CASE WHEN was_owner THEN member.actor END, CASE WHEN is_owner THEN member.actor END,
            CASE WHEN TG_OP = 'DELETE' THEN jsonb_build_object('membership', 'removed')
                 ELSE jsonb_build_object('role', NEW.role, 'is_active', NEW.is_active) END);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION tenancy._record_owner_event() IS
    'internal: trigger on tenancy.memberships writing owner events into tenancy.tenant_events';

-- The triggers only: the functions above check their callers' rights.
REVOKE ALL ON FUNCTION tenancy._record_tenant_event(), tenancy._record_owner_event(), tenancy._shown_time(timestamptz),
    tenancy._catalog_loading(oid) FROM PUBLIC;
-- pg_tenancy: plans, the features they unlock and the limits they set, and
-- the limits of one tenant that override its plan's. Platform admins define
-- plans and give them to tenants; the database enforces them.

-- Says what is wrong with a value of the statement_timeout or work_mem limit
-- (read as PostgreSQL reads the setting: units, range), or null.
CREATE OR REPLACE FUNCTION tenancy._setting_limit_problem(key text, value text) RETURNS text
    LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'tenancy_setting_limit_problem';
COMMENT ON FUNCTION tenancy._setting_limit_problem(text, text) IS
    'internal: what is wrong with a statement_timeout or work_mem limit, or null';

-- Returns limits in their stored form after checking every entry: members
-- (a whole number), rows (an object of schema-qualified table names and
-- whole numbers), storage_mb (a number), statement_timeout and work_mem (a
-- PostgreSQL setting's value with its unit). A JSON null drops the entry.
CREATE OR REPLACE FUNCTION tenancy._checked_limits(limits jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    table_entry record;
    checked jsonb := '{}';
    tables jsonb;
    parts text[];
BEGIN
    IF limits IS NULL OR jsonb_typeof(limits) <> 'object' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'limits must be a JSON object',
            DETAIL = 'For example {"members": 5, "rows": {"app.invoices": 10000}, "storage_mb": 500, '
                     '"statement_timeout": "5s", "work_mem": "64MB"}.';
    END IF;
    FOR entry IN SELECT e.key, e.value FROM jsonb_each(limits) e ORDER BY e.key LOOP
        CONTINUE WHEN jsonb_typeof(entry.value) = 'null';
        CASE entry.key
        WHEN 'members', 'storage_mb' THEN
            IF NOT tenancy._is_limit_number(entry.value, entry.key = 'members') THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid limit %s: %s', entry.key, tenancy._shown(entry.value::text)),
                    DETAIL = CASE entry.key WHEN 'members' THEN 'members is a whole number, 0 or more.'
                                            ELSE 'storage_mb is a number of megabytes, 0 or more.' END;
            END IF;
            checked := checked || jsonb_build_object(entry.key, CASE entry.key
                WHEN 'members' THEN to_jsonb(entry.value::text::numeric::bigint) ELSE entry.value END);
        WHEN 'rows' THEN
            IF jsonb_typeof(entry.value) <> 'object' THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid limit rows: %s', tenancy._shown(entry.value::text)),
                    DETAIL = 'rows is an object of tables and their row limits, e.g. {"app.invoices": 10000}.';
            END IF;
            tables := '{}';
            FOR table_entry IN SELECT e.key, e.value FROM jsonb_each(entry.value) e ORDER BY e.key LOOP
                CONTINUE WHEN jsonb_typeof(table_entry.value) = 'null';
                BEGIN
                    parts := parse_ident(table_entry.key);
                EXCEPTION WHEN invalid_parameter_value THEN
                    parts := NULL;
                END;
                IF cardinality(parts) IS DISTINCT FROM 2 OR octet_length(parts[1]) >= 64
                   OR octet_length(parts[2]) >= 64 THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = format('invalid table name in limit rows: "%s"', tenancy._shown(table_entry.key)),
                        DETAIL = 'Name each table with its schema, as in "app.invoices" (each name at most 63 bytes).';
                END IF;
                IF NOT tenancy._is_limit_number(table_entry.value, true) THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = format('invalid row limit for %s: %s', table_entry.key,
                                         tenancy._shown(table_entry.value::text)),
                        DETAIL = 'A row limit is a whole number, 0 or more.';
                END IF;
                tables := tables || jsonb_build_object(quote_ident(parts[1]) || '.' || quote_ident(parts[2]),
                                                       to_jsonb(table_entry.value::text::numeric::bigint));
            END LOOP;
            IF tables <> '{}' THEN
                checked := checked || jsonb_build_object('rows', tables);
            END IF;
        WHEN 'statement_timeout', 'work_mem' THEN
            IF jsonb_typeof(entry.value) NOT IN ('string', 'number')
               OR tenancy._setting_limit_problem(entry.key, entry.value #>> '{}') IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid limit %s: %s', entry.key, tenancy._shown(entry.value::text)),
                    DETAIL = coalesce(tenancy._setting_limit_problem(entry.key, entry.value #>> '{}'),
                                      CASE entry.key WHEN 'statement_timeout' THEN 'statement_timeout is a duration, as in "5s" or "250ms".'
                                                     ELSE 'work_mem is an amount of memory, as in "64MB".' END);
            END IF;
            checked := checked || jsonb_build_object(entry.key, btrim(entry.value #>> '{}'));
        ELSE
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('unknown limit "%s"', tenancy._shown(entry.key)),
                DETAIL = 'The limits are members, rows, storage_mb, statement_timeout and work_mem.';
        END CASE;
    END LOOP;
    RETURN checked;
END
$$;
COMMENT ON FUNCTION tenancy._checked_limits(jsonb) IS 'internal: limits checked and in their stored form';

-- Says whether a JSON value is a limit: a number from 0 up to the largest
-- bigint, whole when whole is true (10.0 is whole).
CREATE OR REPLACE FUNCTION tenancy._is_limit_number(value jsonb, whole boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_typeof(value) = 'number'
       AND value::text::numeric BETWEEN 0 AND 9223372036854775807
       AND (NOT whole OR value::text::numeric = trunc(value::text::numeric))
$$;
COMMENT ON FUNCTION tenancy._is_limit_number(jsonb, boolean) IS 'internal: whether a JSON value is a valid limit';

-- Returns features after checking each name; NULL and duplicates go.
CREATE OR REPLACE FUNCTION tenancy._checked_features(features text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    feature text;
BEGIN
    FOREACH feature IN ARRAY coalesce(features, '{}') LOOP
        IF feature !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid feature name "%s"', tenancy._shown(feature)),
                DETAIL = 'A feature name starts with a lowercase letter and has only lowercase letters, digits, '
                         '".", "_" and "-", at most 63 characters.';
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT f FROM unnest(features) f WHERE f IS NOT NULL ORDER BY f);
END
$$;
COMMENT ON FUNCTION tenancy._checked_features(text[]) IS 'internal: feature names checked, sorted, without duplicates';

-- Returns a plan, or raises when there is none of that name.
CREATE OR REPLACE FUNCTION tenancy._find_plan(plan text, lock_row boolean DEFAULT false) RETURNS tenancy.plans
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_plan tenancy.plans;
BEGIN
    IF lock_row THEN
        SELECT * INTO found_plan FROM tenancy.plans p WHERE p.name = plan FOR UPDATE;
    ELSE
        SELECT * INTO found_plan FROM tenancy.plans p WHERE p.name = plan;
    END IF;
    IF found_plan.name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('plan "%s" does not exist', tenancy._shown(coalesce(plan, 'null'))),
            HINT = 'tenancy.plan_list() lists the plans; tenancy.create_plan() creates one.';
    END IF;
    RETURN found_plan;
END
$$;
COMMENT ON FUNCTION tenancy._find_plan(text, boolean) IS 'internal: a plan by name, or an error';

CREATE OR REPLACE FUNCTION tenancy.create_plan(name text, features text[] DEFAULT '{}', limits jsonb DEFAULT '{}',
                                               description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('create plans');
    IF create_plan.name IS NULL OR create_plan.name !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid plan name "%s"', tenancy._shown(coalesce(create_plan.name, 'null'))),
            DETAIL = 'A plan name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-".';
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.plans p WHERE p.name = create_plan.name) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('plan "%s" already exists', create_plan.name),
            HINT = 'Change it with tenancy.alter_plan().';
    END IF;
    INSERT INTO tenancy.plans (name, description, features, limits)
    VALUES (create_plan.name, create_plan.description, tenancy._checked_features(create_plan.features),
            tenancy._checked_limits(coalesce(create_plan.limits, '{}')));
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy.create_plan(text, text[], jsonb, text) IS
    'creates a plan with the features it unlocks and the limits it sets (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.alter_plan(name text, features text[] DEFAULT NULL, limits jsonb DEFAULT NULL,
                                              description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.plans;
BEGIN
    PERFORM tenancy._require_platform_admin('change plans');
    target := tenancy._find_plan(alter_plan.name, true);
    UPDATE tenancy.plans p
       SET features = CASE WHEN alter_plan.features IS NULL THEN p.features
                           ELSE tenancy._checked_features(alter_plan.features) END,
           limits = CASE WHEN alter_plan.limits IS NULL THEN p.limits
                         ELSE tenancy._checked_limits(alter_plan.limits) END,
           description = coalesce(alter_plan.description, p.description),
           updated_at = now()
     WHERE p.name = target.name;
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy.alter_plan(text, text[], jsonb, text) IS
    'changes a plan''s features, limits or description; a NULL argument keeps the current value; the tenants '
    'of the plan have the new ones from their next statement (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.drop_plan(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.plans;
    users bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('drop plans');
    target := tenancy._find_plan(drop_plan.name, true);
    SELECT count(*) INTO users FROM tenancy.tenants t WHERE t.plan = target.name;
    IF users > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = format('plan "%s" is in use', target.name),
            DETAIL = CASE WHEN users = 1 THEN '1 tenant has it.' ELSE format('%s tenants have it.', users) END,
            HINT = 'Give them another plan first with tenancy.set_plan().';
    END IF;
    DELETE FROM tenancy.plans p WHERE p.name = target.name;
    PERFORM tenancy._sync_row_limits();
END
$$;
COMMENT ON FUNCTION tenancy.drop_plan(text) IS 'drops a plan no tenant has (platform admins only)';

-- Gives a tenant another plan (an event in tenancy.tenant_events); says so
-- when the tenant is already over one of the new plan's limits.
CREATE OR REPLACE FUNCTION tenancy.set_plan(tenant text, plan text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    new_plan tenancy.plans;
    over record;
BEGIN
    PERFORM tenancy._require_platform_admin('change the plan of tenants');
    target := tenancy._find_tenant(tenant, true);
    new_plan := tenancy._find_plan(set_plan.plan);
    UPDATE tenancy.tenants t SET plan = new_plan.name, updated_at = now() WHERE t.id = target.id;
    PERFORM tenancy._sync_row_limits();
    FOR over IN SELECT l.key, l."limit", l.usage FROM tenancy.tenant_limits(target.id::text) l WHERE l.over LOOP
        RAISE NOTICE 'tenant "%" is over the limit % of plan "%": % (limit %)', target.slug, over.key, new_plan.name,
            over.usage, over."limit";
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.set_plan(text, text) IS
    'gives a tenant another plan (platform admins only); a notice names each limit it is already over';

-- Sets (or, with NULL, removes) one limit of a tenant that overrides its
-- plan's; for rows, value is an object of tables whose entries are merged
-- into the tenant's (a table given null goes back to the plan's limit).
CREATE OR REPLACE FUNCTION tenancy.set_limit(tenant text, key text, value jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    overrides jsonb;
    merged jsonb;
BEGIN
    PERFORM tenancy._require_platform_admin('change the limits of tenants');
    target := tenancy._find_tenant(tenant, true);
    IF key IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'key must not be null';
    END IF;
    overrides := target.limits;
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        PERFORM tenancy._checked_limits(jsonb_build_object(key, 'null'::jsonb));
        overrides := overrides - key;
    ELSIF key = 'rows' THEN
        -- Table by table: a number sets the tenant's limit, null removes it.
        merged := coalesce(overrides->'rows', '{}')
                  || coalesce(tenancy._checked_limits(jsonb_build_object('rows', value))->'rows', '{}');
        IF jsonb_typeof(value) = 'object' THEN
            merged := merged - ARRAY(SELECT quote_ident((parse_ident(e.key))[1]) || '.' || quote_ident((parse_ident(e.key))[2])
                                       FROM jsonb_each(value) e WHERE jsonb_typeof(e.value) = 'null');
        END IF;
        overrides := overrides - 'rows' || CASE WHEN merged = '{}' THEN '{}' ELSE jsonb_build_object('rows', merged) END;
    ELSE
        overrides := overrides - key || tenancy._checked_limits(jsonb_build_object(key, value));
    END IF;
    UPDATE tenancy.tenants t SET limits = overrides, updated_at = now() WHERE t.id = target.id;
    PERFORM tenancy._sync_row_limits();
    RETURN overrides;
END
$$;
COMMENT ON FUNCTION tenancy.set_limit(text, text, jsonb) IS
    'sets one limit of a tenant over its plan''s, or removes it with NULL (rows: merged per table); returns the '
    'tenant''s own limits (platform admins only)';

-- The limits that hold for a tenant: its plan's, with its own on top.
CREATE OR REPLACE FUNCTION tenancy._effective_limits(target tenancy.tenants) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_strip_nulls((p.limits - 'rows') || (target.limits - 'rows')
           || jsonb_build_object('rows', nullif(coalesce(p.limits->'rows', '{}') || coalesce(target.limits->'rows', '{}'),
                                                '{}'::jsonb)))
      FROM tenancy.plans p WHERE p.name = target.plan
$$;
COMMENT ON FUNCTION tenancy._effective_limits(tenancy.tenants) IS 'internal: a tenant''s limits, plan and own';

-- Each limit of a tenant, where it comes from, and how much of it is used
-- (members: active members; rows: rows of the table; storage_mb: the latest
-- collected estimate; the others: NULL).
CREATE OR REPLACE FUNCTION tenancy.tenant_limits(tenant text)
RETURNS TABLE (key text, "limit" jsonb, source text, usage numeric, over boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'read the limits');
    effective jsonb := tenancy._effective_limits(target);
    entry record;
BEGIN
    FOR entry IN SELECT e.key, e.value FROM jsonb_each(effective - 'rows') e ORDER BY e.key LOOP
        key := entry.key;
        "limit" := entry.value;
        source := CASE WHEN target.limits ? entry.key THEN 'tenant' ELSE 'plan' END;
        usage := CASE entry.key WHEN 'members' THEN tenancy._active_members(target.id)
                                WHEN 'storage_mb' THEN tenancy._storage_mb(target.id) END;
        over := NULL;
        IF usage IS NOT NULL THEN
            over := usage > (entry.value #>> '{}')::numeric;
        END IF;
        RETURN NEXT;
    END LOOP;
    FOR entry IN SELECT e.key, e.value FROM jsonb_each(coalesce(effective->'rows', '{}')) e ORDER BY e.key LOOP
        key := 'rows.' || entry.key;
        "limit" := entry.value;
        source := CASE WHEN target.limits->'rows' ? entry.key THEN 'tenant' ELSE 'plan' END;
        usage := tenancy._limited_table_rows(target.id, entry.key);
        over := usage > (entry.value #>> '{}')::numeric;  -- rows limits are numbers
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_limits(text) IS
    'the limits of a tenant (from its plan, or its own), with the usage of members and rows and whether it is '
    'over them (its owners and admins, platform admins)';

-- The rows of a tenant in a table named in a row limit: NULL when the table
-- does not exist or is not protected.
CREATE OR REPLACE FUNCTION tenancy._limited_table_rows(tenant uuid, table_name text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target_relid oid := to_regclass(table_name);
BEGIN
    IF target_relid IS NULL OR NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target_relid) THEN
        RETURN NULL;
    END IF;
    RETURN tenancy._count_tenant_rows(target_relid, tenant);
END
$$;
COMMENT ON FUNCTION tenancy._limited_table_rows(uuid, text) IS 'internal: a tenant''s rows of a limited table';

-- Raises unless a tenant can take one more active member: the members limit
-- is checked against the latest committed count, with the tenant's adders
-- taking turns (a lock in pg_tenancy's own space, until commit), so that
-- concurrent additions cannot pass it together under any isolation level.
CREATE OR REPLACE FUNCTION tenancy._require_member_room(target tenancy.tenants) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed jsonb := tenancy._effective_limits(target)->'members';
    used bigint;
BEGIN
    IF allowed IS NULL THEN
        RETURN;
    END IF;
    PERFORM tenancy._lock_member_seats(target.id);
    used := tenancy._active_members(target.id);
    IF used >= (allowed #>> '{}')::numeric THEN
        RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('tenant "%s" has reached its limit of %s active members', target.slug, allowed),
            DETAIL = CASE WHEN target.limits ? 'members'
                          THEN format('The tenant''s own limit (over plan "%s") is %s active members; it has %s.',
                                      target.plan, allowed, used)
                          ELSE format('Plan "%s" allows %s active members; the tenant has %s.', target.plan, allowed,
                                      used) END,
            HINT = 'Deactivate or remove a member, or a platform admin can raise the limit '
                   '(tenancy.set_plan(), tenancy.set_limit()).';
    END IF;
    -- The member comes next: an alert when that crosses 80 % or 100 %.
    PERFORM tenancy._raise_alerts(target.id, 'members', used, used + 1, (allowed #>> '{}')::numeric);
END
$$;
COMMENT ON FUNCTION tenancy._require_member_room(tenancy.tenants) IS
    'internal: error when a tenant is at its members limit, alert when the member to come crosses 80 % or 100 %';

-- Says whether the current tenant's plan unlocks a feature.
CREATE OR REPLACE FUNCTION tenancy.has_feature(feature text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT has_feature.feature = ANY (p.features)
                       FROM tenancy.tenants t JOIN tenancy.plans p ON p.name = t.plan
                      WHERE t.id = tenancy.current_tenant_id()), false)
$$;
COMMENT ON FUNCTION tenancy.has_feature(text) IS
    'whether the current tenant''s plan unlocks a feature (an error when no tenant is selected)';

-- Raises 42501 unless the current tenant's plan unlocks a feature.
CREATE OR REPLACE FUNCTION tenancy.require_feature(feature text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    current tenancy.tenants;
BEGIN
    IF tenancy.has_feature(feature) THEN
        RETURN;
    END IF;
    SELECT * INTO current FROM tenancy.tenants t WHERE t.id = tenancy.current_tenant_id();
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('feature "%s" is not in plan "%s" of tenant "%s"', tenancy._shown(coalesce(feature, 'null')),
                         current.plan, current.slug),
        HINT = 'A platform admin can give the tenant a plan that has it (tenancy.set_plan()).';
END
$$;
COMMENT ON FUNCTION tenancy.require_feature(text) IS
    'an error (42501) unless the current tenant''s plan unlocks a feature; for functions, policies and triggers';

-- Every plan, with the number of tenants that have it (platform admins).
CREATE OR REPLACE FUNCTION tenancy.plan_list()
RETURNS TABLE (name text, description text, features text[], limits jsonb, tenants bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list plans');
    RETURN QUERY SELECT p.name::text, p.description, p.features, p.limits,
                        (SELECT count(*) FROM tenancy.tenants t WHERE t.plan = p.name)
                   FROM tenancy.plans p ORDER BY p.name;
END
$$;
COMMENT ON FUNCTION tenancy.plan_list() IS 'plans with their features, limits and number of tenants (platform admins)';

-- One plan as jsonb, with the slugs of the tenants that have it (platform
-- admins).
CREATE OR REPLACE FUNCTION tenancy.plan_details(plan text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_plan tenancy.plans;
BEGIN
    PERFORM tenancy._require_platform_admin('read plans');
    found_plan := tenancy._find_plan(plan);
    RETURN to_jsonb(found_plan) || jsonb_build_object('tenants',
        (SELECT coalesce(jsonb_agg(t.slug ORDER BY t.slug), '[]') FROM tenancy.tenants t WHERE t.plan = found_plan.name));
END
$$;
COMMENT ON FUNCTION tenancy.plan_details(text) IS 'a plan, with the tenants that have it, as jsonb (platform admins)';

REVOKE ALL ON FUNCTION tenancy._checked_limits(jsonb), tenancy._checked_features(text[]),
    tenancy._is_limit_number(jsonb, boolean),
    tenancy._find_plan(text, boolean), tenancy._effective_limits(tenancy.tenants),
    tenancy._limited_table_rows(uuid, text), tenancy._require_member_room(tenancy.tenants)
    FROM PUBLIC;
-- pg_tenancy: regions, for data residency. Platform admins define regions
-- and place tenants in them; every change of a tenant's region is an event
-- (tenancy.tenant_events).

-- Says what is wrong with a region name, or null when it is fine.
CREATE OR REPLACE FUNCTION tenancy._region_name_problem(name text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN name IS NULL THEN 'A region name must not be null.'
                WHEN name !~ '^[a-z][a-z0-9_-]{0,62}$'
                     OR name ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN 'A region name starts with a lowercase letter and has only lowercase letters, digits, "_" and "-", '
                     'at most 63 characters, and does not look like a uuid.' END
$$;
COMMENT ON FUNCTION tenancy._region_name_problem(text) IS 'internal: what is wrong with a region name, or null';

-- Returns a region by name (locked against removal when asked), or raises
-- the error that names the regions there are.
CREATE OR REPLACE FUNCTION tenancy._find_region(region text, lock_row boolean DEFAULT false) RETURNS tenancy.regions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_region tenancy.regions;
BEGIN
    IF lock_row THEN
        SELECT * INTO found_region FROM tenancy.regions r WHERE r.name = region FOR KEY SHARE;
    ELSE
        SELECT * INTO found_region FROM tenancy.regions r WHERE r.name = region;
    END IF;
    IF found_region.name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('region "%s" does not exist', tenancy._shown(coalesce(region, 'null'))),
            DETAIL = coalesce('The regions are ' || (SELECT string_agg('"' || r.name || '"', ', ' ORDER BY r.name)
                                                       FROM tenancy.regions r) || '.', 'No region is defined yet.'),
            HINT = 'A platform admin defines regions with tenancy.define_region().';
    END IF;
    RETURN found_region;
END
$$;
COMMENT ON FUNCTION tenancy._find_region(text, boolean) IS 'internal: a region by name, or an error';

-- Returns the region a new tenant goes to: the one named, or else the
-- setting tenancy.default_region ("default" when unset). The region
-- "default" comes into being with the first tenant that takes it; every
-- other region must have been defined.
CREATE OR REPLACE FUNCTION tenancy._region_for_new_tenant(region text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen text := coalesce(region, nullif(current_setting('tenancy.default_region', true), ''), 'default');
BEGIN
    IF tenancy._region_name_problem(chosen) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid region "%s"', tenancy._shown(chosen)),
            DETAIL = tenancy._region_name_problem(chosen);
    END IF;
    IF chosen = 'default' THEN
        INSERT INTO tenancy.regions (name, description) VALUES ('default', 'this server') ON CONFLICT DO NOTHING;
    END IF;
    RETURN (tenancy._find_region(chosen, true)).name;
END
$$;
COMMENT ON FUNCTION tenancy._region_for_new_tenant(text) IS
    'internal: the region a new tenant goes to (the one given, or tenancy.default_region)';

CREATE OR REPLACE FUNCTION tenancy.define_region(name text, description text DEFAULT NULL, server text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('define regions');
    IF tenancy._region_name_problem(define_region.name) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid region name "%s"', tenancy._shown(coalesce(define_region.name, 'null'))),
            DETAIL = tenancy._region_name_problem(define_region.name);
    END IF;
    IF define_region.server IS NOT NULL AND (btrim(define_region.server) = '' OR length(define_region.server) > 1000
       OR define_region.server ~ ('[' || chr(1) || '-' || chr(31) || chr(127) || '-' || chr(159) || ']')) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid server for region "%s"', define_region.name),
            DETAIL = 'The server is a libpq connection string, such as ''host=db-eu.internal port=5432'', '
                     'of at most 1000 characters, without line breaks or control characters.',
            HINT = 'Leave the server out (null) for a region whose tenants live on this server.';
    END IF;
    IF define_region.description ~ ('[' || chr(1) || '-' || chr(31) || chr(127) || '-' || chr(159) || ']') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'region description must not contain control characters',
            HINT = 'Remove line breaks, tabs and terminal escape sequences from the description.';
    END IF;
    IF length(define_region.description) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'region description must have at most 500 characters',
            DETAIL = format('The description given has %s.', length(define_region.description));
    END IF;
    INSERT INTO tenancy.regions AS r (name, description, server)
    VALUES (define_region.name, define_region.description, define_region.server)
    ON CONFLICT ON CONSTRAINT regions_pkey DO UPDATE
       SET description = excluded.description, server = excluded.server, updated_at = now();
END
$$;
COMMENT ON FUNCTION tenancy.define_region(text, text, text) IS
    'defines a region, or changes its description and server (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.drop_region(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    region tenancy.regions;
    tenants bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('drop regions');
    SELECT * INTO region FROM tenancy.regions r WHERE r.name = drop_region.name FOR UPDATE;
    IF region.name IS NULL THEN
        PERFORM tenancy._find_region(drop_region.name);
    END IF;
    SELECT count(*) INTO tenants FROM tenancy.tenants t WHERE t.region = region.name;
    IF tenants > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = format('region "%s" still has tenants', region.name),
            DETAIL = format('%s tenant(s) live in region "%s".', tenants, region.name),
            HINT = 'Move them to another region with tenancy.set_region() first.';
    END IF;
    DELETE FROM tenancy.regions r WHERE r.name = region.name;
END
$$;
COMMENT ON FUNCTION tenancy.drop_region(text) IS 'removes a region that no tenant lives in (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.set_region(tenant text, region text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    destination tenancy.regions;
    origin tenancy.regions;
BEGIN
    PERFORM tenancy._require_platform_admin('change the region of tenants');
    target := tenancy._find_tenant(tenant, true);
    destination := tenancy._find_region(set_region.region, true);
    IF destination.name = target.region THEN
        RETURN;
    END IF;
    SELECT * INTO origin FROM tenancy.regions r WHERE r.name = target.region;
    -- A database-mode tenant's data lives on its region's server: changing
    -- the region would move it, which only export and import do.
    IF target.isolation::text = 'database' AND origin.server IS DISTINCT FROM destination.server THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('tenant "%s" lives on the server of region "%s"', target.slug, origin.name),
            DETAIL = format('Region "%s" has another server; changing the region would have to move the tenant''s database.',
                            destination.name),
            HINT = 'Export the tenant, import it on the other region''s server, then change its region.';
    END IF;
    UPDATE tenancy.tenants t SET region = destination.name, updated_at = now() WHERE t.id = target.id;
END
$$;
COMMENT ON FUNCTION tenancy.set_region(text, text) IS
    'moves a tenant to another region (platform admins only); recorded as a "region" event';

CREATE OR REPLACE FUNCTION tenancy.region_list()
RETURNS TABLE (name text, description text, server text, tenants bigint, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list regions');
    RETURN QUERY
        SELECT r.name::text, r.description, r.server,
               (SELECT count(*) FROM tenancy.tenants t WHERE t.region = r.name), r.created_at
          FROM tenancy.regions r ORDER BY r.name;
END
$$;
COMMENT ON FUNCTION tenancy.region_list() IS
    'the regions with their description, server and number of tenants (platform admins only)';

REVOKE ALL ON FUNCTION tenancy._find_region(text, boolean), tenancy._region_for_new_tenant(text) FROM PUBLIC;
-- pg_tenancy: what a tenant's sessions run with. While a tenant is selected,
-- each statement runs with the statement_timeout and work_mem of its limits
-- and, when tenancy.apply_timezone is on, the TimeZone of its "timezone"
-- setting (extension/session_settings.cpp applies them).

-- Returns {statement_timeout, work_mem, timezone} of a tenant, each null
-- when the tenant has none; read again only when the catalog changed.
CREATE OR REPLACE FUNCTION tenancy._session_settings(tenant_id uuid) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT ARRAY[l.limits ->> 'statement_timeout', l.limits ->> 'work_mem',
                      CASE WHEN d.type = 'timezone'
                           THEN coalesce(t.settings -> 'timezone', d.default_value) #>> '{}' END]
           FROM tenancy.tenants t
           CROSS JOIN LATERAL (SELECT tenancy._effective_limits(t) AS limits) l
           LEFT JOIN tenancy.setting_definitions d ON d.key = 'timezone'
          WHERE t.id = _session_settings.tenant_id),
        ARRAY[NULL, NULL, NULL]::text[])
$$;
COMMENT ON FUNCTION tenancy._session_settings(uuid) IS
    'internal: the statement_timeout, work_mem and timezone a tenant''s sessions run with';
REVOKE ALL ON FUNCTION tenancy._session_settings(uuid) FROM PUBLIC;
-- pg_tenancy: usage alerts (tenancy.alerts, NOTIFY tenancy_alerts).

-- Records the thresholds (80 %, 100 %) of a tenant's limit that a change of
-- its usage from before to after crosses, once per limit, threshold and
-- month, and notifies tenancy_alerts of each new one. Any role may LISTEN,
-- so the payload names only the alert ({"id": ...}), which listeners read
-- from tenancy.alerts under its row security. Called by the members and rows
-- limits.
CREATE OR REPLACE FUNCTION tenancy._raise_alerts(tenant uuid, limit_key text, before numeric, after numeric,
                                                 allowed numeric)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    threshold integer;
    target tenancy.tenants;
    alert tenancy.alerts;
BEGIN
    IF allowed IS NULL OR allowed <= 0 OR after <= before THEN
        RETURN;
    END IF;
    FOREACH threshold IN ARRAY ARRAY[80, 100] LOOP
        CONTINUE WHEN NOT (before * 100 < allowed * threshold AND after * 100 >= allowed * threshold);
        IF target.id IS NULL THEN
            SELECT * INTO target FROM tenancy.tenants t WHERE t.id = _raise_alerts.tenant;
            IF target.id IS NULL THEN
                RETURN;  -- no such tenant: nothing to alert about
            END IF;
        END IF;
        -- The month is UTC's, whatever the session's TimeZone. Under
        -- REPEATABLE READ, an alert committed after this transaction's
        -- snapshot makes the insert a serialization failure: it exists, and
        -- the change that crossed again goes on without one.
        BEGIN
            INSERT INTO tenancy.alerts AS a (tenant_id, tenant, limit_key, threshold, period, usage, "limit", plan)
            VALUES (target.id, target.slug, _raise_alerts.limit_key, threshold,
                    date_trunc('month', now() AT TIME ZONE 'UTC')::date, after, allowed, target.plan)
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.* INTO alert;
        EXCEPTION WHEN serialization_failure THEN
            alert := NULL;
        END;
        IF alert.id IS NOT NULL THEN
            PERFORM pg_notify('tenancy_alerts', jsonb_build_object('id', alert.id)::text);
            alert := NULL;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy._raise_alerts(uuid, text, numeric, numeric, numeric) IS
    'internal: records and notifies the alert thresholds a change of usage crosses';
REVOKE ALL ON FUNCTION tenancy._raise_alerts(uuid, text, numeric, numeric, numeric) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.alert_list(tenant text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS SETOF tenancy.alerts
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF alert_list.tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list the alerts of every tenant');
        RETURN QUERY SELECT a.* FROM tenancy.alerts a
                      WHERE a.at >= coalesce(alert_list.since, '-infinity') ORDER BY a.at, a.id;
        RETURN;
    END IF;
    target := tenancy._tenant_for_caller(alert_list.tenant, 'admin', 'read the alerts');
    RETURN QUERY SELECT a.* FROM tenancy.alerts a
                  WHERE a.tenant_id = target.id AND a.at >= coalesce(alert_list.since, '-infinity')
                  ORDER BY a.at, a.id;
END
$$;
COMMENT ON FUNCTION tenancy.alert_list(text, timestamptz) IS
    'usage alerts, oldest first: of every tenant (platform admins), or of one (its owners and admins too)';
-- pg_tenancy: usage metering. tenancy.usage() and tenancy.usage_summary()
-- read it; tenancy.collect_usage() adds rows per table and storage.

CREATE OR REPLACE FUNCTION tenancy._flush_usage() RETURNS boolean
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_flush_usage';
COMMENT ON FUNCTION tenancy._flush_usage() IS
    'internal: queues this session''s committed usage counts now and starts the collector, once per transaction '
    '(false when done already)';

-- The name usage keeps a table by (schema.table as row limits write it; the
-- oid of a table dropped since).
CREATE OR REPLACE FUNCTION tenancy._usage_table_name(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(tenancy._limit_table_name(target), target::text)
$$;
COMMENT ON FUNCTION tenancy._usage_table_name(oid) IS 'internal: a table''s name in tenancy.usage_daily';

-- Called by the collector: adds metered writes to tenancy.usage_daily.
CREATE OR REPLACE FUNCTION tenancy._record_usage(ats timestamptz[], tenants uuid[], relids oid[],
                                                 inserted bigint[], updated bigint[], deleted bigint[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.usage_daily AS u (tenant_id, day, table_name, inserted, updated, deleted)
    SELECT r.tenant, (r.at AT TIME ZONE 'UTC')::date, tenancy._usage_table_name(r.relid),
           sum(r.inserted), sum(r.updated), sum(r.deleted)
      FROM unnest(ats, tenants, relids, inserted, updated, deleted) r(at, tenant, relid, inserted, updated, deleted)
      JOIN tenancy.tenants t ON t.id = r.tenant
     GROUP BY 1, 2, 3
    ON CONFLICT ON CONSTRAINT usage_daily_pkey DO UPDATE
       SET inserted = u.inserted + excluded.inserted, updated = u.updated + excluded.updated,
           deleted = u.deleted + excluded.deleted
$$;
COMMENT ON FUNCTION tenancy._record_usage(timestamptz[], uuid[], oid[], bigint[], bigint[], bigint[]) IS
    'internal: the collector adds metered writes to tenancy.usage_daily';

-- Called by the collector: records the actors who used tenants.
CREATE OR REPLACE FUNCTION tenancy._record_actors(ats timestamptz[], tenants uuid[], actors text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO tenancy.usage_actors (tenant_id, day, actor)
    SELECT DISTINCT r.tenant, (r.at AT TIME ZONE 'UTC')::date, r.actor
      FROM unnest(ats, tenants, actors) r(at, tenant, actor)
      JOIN tenancy.tenants t ON t.id = r.tenant
    ON CONFLICT ON CONSTRAINT usage_actors_pkey DO NOTHING
$$;
COMMENT ON FUNCTION tenancy._record_actors(timestamptz[], uuid[], text[]) IS
    'internal: the collector records the actors who used tenants';

-- Makes the usage metered so far readable: this session's counts are queued
-- and the queue written, waiting at most timeout for the collector; once per
-- transaction (a report reading every tenant waits once).
CREATE OR REPLACE FUNCTION tenancy._settle_usage(timeout interval DEFAULT '2 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    IF NOT tenancy._flush_usage() THEN
        RETURN true;
    END IF;
    LOOP
        IF tenancy._access_log_pending() = 0 THEN
            RETURN true;
        END IF;
        EXIT WHEN clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION tenancy._settle_usage(interval) IS
    'internal: queues this session''s usage counts and waits for the collector to write the queue';

-- A tenant's storage estimate in MB at its latest collection (NULL: never
-- collected).
CREATE OR REPLACE FUNCTION tenancy._storage_mb(tenant uuid) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT round(sum(u.bytes) / 1048576.0, 3) FROM tenancy.usage_daily u
     WHERE u.tenant_id = _storage_mb.tenant
       AND u.day = (SELECT max(l.day) FROM tenancy.usage_daily l WHERE l.tenant_id = _storage_mb.tenant
                                                                  AND l.bytes IS NOT NULL)
$$;
COMMENT ON FUNCTION tenancy._storage_mb(uuid) IS 'internal: a tenant''s storage estimate at its latest collection';
REVOKE ALL ON FUNCTION tenancy._storage_mb(uuid) FROM PUBLIC;

-- Counts, for one UTC day, each protected table's rows per tenant (direct
-- scans that run no code of the tables' owners) and estimates the bytes
-- they take; raises storage_mb alerts. For cron, once a day or more often.
CREATE OR REPLACE FUNCTION tenancy.collect_usage(day date DEFAULT (now() AT TIME ZONE 'UTC')::date)
RETURNS TABLE (tenants bigint, tables bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected record;
    storage record;
    storage_before jsonb;
BEGIN
    PERFORM tenancy._require_platform_admin('collect usage');
    IF collect_usage.day IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'day must not be null';
    END IF;
    SELECT jsonb_object_agg(b.tenant_id, b.mb) INTO storage_before
      FROM (SELECT u.tenant_id, round(sum(u.bytes) / 1048576.0, 3) AS mb FROM tenancy.usage_daily u
             WHERE u.day = collect_usage.day AND u.bytes IS NOT NULL GROUP BY u.tenant_id) b;
    tables := 0;
    FOR protected IN SELECT p.relid, tenancy._usage_table_name(p.relid) AS name,
                            pg_total_relation_size(p.relid) AS size
                       FROM tenancy.protected_tables p ORDER BY p.relid LOOP
        WITH counted AS (
            SELECT t.id AS tenant_id, tenancy._count_tenant_rows(protected.relid, t.id) AS rows
              FROM tenancy.tenants t),
        total AS (SELECT sum(c.rows) AS rows FROM counted c)
        INSERT INTO tenancy.usage_daily AS u (tenant_id, day, table_name, rows, bytes)
        SELECT c.tenant_id, collect_usage.day, protected.name, c.rows,
               CASE WHEN total.rows > 0 THEN (protected.size * c.rows / total.rows)::bigint ELSE 0 END
          FROM counted c CROSS JOIN total
         WHERE c.rows > 0 OR EXISTS (SELECT 1 FROM tenancy.usage_daily e
                                      WHERE e.tenant_id = c.tenant_id AND e.day = collect_usage.day
                                        AND e.table_name = protected.name)
        ON CONFLICT ON CONSTRAINT usage_daily_pkey DO UPDATE SET rows = excluded.rows, bytes = excluded.bytes;
        tables := tables + 1;
    END LOOP;
    -- Storage alerts: the estimate crossing 80 % or 100 % of storage_mb.
    FOR storage IN
        SELECT t.id, round(sum(u.bytes) / 1048576.0, 3) AS mb,
               (tenancy._effective_limits(t) ->> 'storage_mb')::numeric AS allowed
          FROM tenancy.tenants t JOIN tenancy.usage_daily u ON u.tenant_id = t.id AND u.day = collect_usage.day
         GROUP BY t.id LOOP
        CONTINUE WHEN storage.allowed IS NULL OR storage.mb IS NULL;
        PERFORM tenancy._raise_alerts(storage.id, 'storage_mb',
                                      coalesce((storage_before ->> storage.id::text)::numeric, 0), storage.mb,
                                      storage.allowed);
    END LOOP;
    tenants := (SELECT count(DISTINCT u.tenant_id) FROM tenancy.usage_daily u
                 WHERE u.day = collect_usage.day AND u.rows IS NOT NULL);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION tenancy.collect_usage(date) IS
    'counts each protected table''s rows per tenant for a day, estimates their storage and raises storage_mb '
    'alerts (platform admins; for cron)';

-- A tenant's usage per UTC day from "from" to "to": rows written, rows held
-- and storage at the day's last collection, active actors, and per table.
CREATE OR REPLACE FUNCTION tenancy.usage(tenant text, "from" date DEFAULT NULL, "to" date DEFAULT NULL)
RETURNS TABLE (day date, inserted bigint, updated bigint, deleted bigint, rows bigint, storage_mb numeric,
               active_actors bigint, tables jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'read the usage');
    last_day date := coalesce(usage."to", (now() AT TIME ZONE 'UTC')::date);
    first_day date := coalesce(usage."from", last_day - 29);
BEGIN
    IF first_day > last_day THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('the usage period ends (%s) before it starts (%s)', to_char(last_day, 'YYYY-MM-DD'),
                             to_char(first_day, 'YYYY-MM-DD'));
    END IF;
    IF last_day - first_day >= 366 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('a usage period has at most 366 days, not %s', last_day - first_day + 1),
            HINT = 'Ask for one year at a time.';
    END IF;
    PERFORM tenancy._settle_usage();
    RETURN QUERY
    SELECT d.day::date,
           coalesce(sum(u.inserted), 0)::bigint, coalesce(sum(u.updated), 0)::bigint,
           coalesce(sum(u.deleted), 0)::bigint, sum(u.rows)::bigint,
           round(sum(u.bytes) / 1048576.0, 3),
           (SELECT count(*) FROM tenancy.usage_actors a WHERE a.tenant_id = target.id AND a.day = d.day),
           coalesce(jsonb_object_agg(u.table_name, jsonb_strip_nulls(jsonb_build_object(
               'inserted', u.inserted, 'updated', u.updated, 'deleted', u.deleted, 'rows', u.rows,
               'bytes', u.bytes))) FILTER (WHERE u.table_name IS NOT NULL), '{}')
      FROM generate_series(first_day, last_day, interval '1 day') d(day)
      LEFT JOIN tenancy.usage_daily u ON u.tenant_id = target.id AND u.day = d.day
     GROUP BY d.day ORDER BY d.day;
END
$$;
COMMENT ON FUNCTION tenancy.usage(text, date, date) IS
    'a tenant''s usage per UTC day (default: the last 30): rows written, rows and storage at the day''s '
    'collection, active actors, per table (its owners and admins, platform admins)';

-- Every tenant's usage on one UTC day, with its plan's storage limit.
CREATE OR REPLACE FUNCTION tenancy.usage_summary(day date DEFAULT NULL)
RETURNS TABLE (tenant text, plan text, inserted bigint, updated bigint, deleted bigint, rows bigint,
               storage_mb numeric, storage_limit_mb numeric, active_actors bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    chosen date := coalesce(usage_summary.day, (now() AT TIME ZONE 'UTC')::date);
BEGIN
    PERFORM tenancy._require_platform_admin('read the usage of every tenant');
    PERFORM tenancy._settle_usage();
    RETURN QUERY
    SELECT t.slug::text, t.plan,
           coalesce(sum(u.inserted), 0)::bigint, coalesce(sum(u.updated), 0)::bigint,
           coalesce(sum(u.deleted), 0)::bigint, sum(u.rows)::bigint, round(sum(u.bytes) / 1048576.0, 3),
           (tenancy._effective_limits(t) ->> 'storage_mb')::numeric,
           (SELECT count(*) FROM tenancy.usage_actors a WHERE a.tenant_id = t.id AND a.day = chosen)
      FROM tenancy.tenants t
      LEFT JOIN tenancy.usage_daily u ON u.tenant_id = t.id AND u.day = chosen
     GROUP BY t.id
     ORDER BY t.slug;
END
$$;
COMMENT ON FUNCTION tenancy.usage_summary(date) IS
    'every tenant''s usage on one UTC day (default: today): rows written, rows, storage and its limit, active '
    'actors (platform admins)';

REVOKE ALL ON FUNCTION tenancy._flush_usage(), tenancy._record_usage(timestamptz[], uuid[], oid[], bigint[], bigint[], bigint[]),
    tenancy._record_actors(timestamptz[], uuid[], text[]), tenancy._settle_usage(interval) FROM PUBLIC;
-- pg_tenancy: personal data. The registry marks the columns of protected
-- tables that hold personal data (security labels of provider "pg_tenancy",
-- extension/pii_labels.cpp); requests (tenancy.subject_requests) ask for
-- everything a tenant holds about a person, or for its erasure.
--
-- A person's rows: the rows of the tenant whose subject column equals the
-- subject, then, following foreign keys, every row of a protected table
-- without a subject column that refers to a row found (orders of a
-- customer, items of those orders ...). Tables with a subject column hold
-- other people: no foreign key leads into them. Every statement on a table
-- runs as the table's owner with protected tables open for the request's
-- tenant only (tenancy._rows_as_owner()), so that no other tenant's row is
-- read or touched, and the owner's code never runs with the caller's rights.

-- Runs a statement on a table's rows as its owner, with protected tables
-- open for one tenant with a role ($1: the tenant, $2: argument), and
-- returns the jsonb its rows return; see owner_execution.cpp.
CREATE OR REPLACE FUNCTION tenancy._rows_as_owner(target regclass, tenant uuid, role tenancy.role, query text,
                                                  argument jsonb)
RETURNS SETOF jsonb
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_rows_as_owner';
REVOKE ALL ON FUNCTION tenancy._rows_as_owner(regclass, uuid, tenancy.role, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._rows_as_owner(regclass, uuid, tenancy.role, text, jsonb) IS
    'internal: the jsonb rows of a statement on a table''s rows, run as its owner for one tenant';

-- The pg_tenancy label of a column or table (objsubid 0), or NULL.
CREATE OR REPLACE FUNCTION tenancy._pii_label(target oid, column_number integer) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.label FROM pg_seclabel s
     WHERE s.classoid = 'pg_class'::regclass AND s.objoid = target AND s.objsubid = column_number
       AND s.provider = 'pg_tenancy'
$$;

-- The marked columns of a table: number, name, kind, whether it names the
-- subject.
CREATE OR REPLACE FUNCTION tenancy._pii_marks(target oid)
RETURNS TABLE (column_number smallint, column_name name, kind text, subject boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attnum, a.attname, split_part(s.label, ':', 2), s.label LIKE '%:subject'
      FROM pg_seclabel s
      JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid AND NOT a.attisdropped
     WHERE s.classoid = 'pg_class'::regclass AND s.objoid = target AND s.objsubid > 0
       AND s.provider = 'pg_tenancy' AND s.label LIKE 'pii:%'
     ORDER BY a.attnum
$$;

-- A table's erasure policy: redact (the default), null or delete.
CREATE OR REPLACE FUNCTION tenancy._erasure_policy(target oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(substr(tenancy._pii_label(target, 0), 9), 'redact')
$$;

-- The expression that replaces a column's value in an erasure (the table's
-- alias is t): NULL where the column takes it and the policy says null, or
-- the column is of a domain (whose checks the marker may fail) or under a
-- unique index (NULLs never collide); else the marker '[erased]' in text
-- columns (with a random uuid appended under a unique index, so that no two
-- erased rows, and no value anyone wrote before, collide), the JSON string
-- "[erased]" in json and jsonb columns. Raises when a column can take
-- neither.
CREATE OR REPLACE FUNCTION tenancy._erasure_expression(target regclass, column_number smallint, policy text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    col record;
    is_unique boolean;
BEGIN
    SELECT a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod) AS type_name, ty.typcategory,
           ty.typtype = 'd' AS is_domain, a.atttypid, a.atttypmod
      INTO col
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = target AND a.attnum = column_number AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column number %s of table %s does not exist', column_number, target);
    END IF;
    is_unique := EXISTS (SELECT 1 FROM pg_index i
                          WHERE i.indrelid = target AND i.indisunique AND column_number = ANY (i.indkey::int2[]));
    IF NOT col.attnotnull AND (policy = 'null' OR col.is_domain OR is_unique) THEN
        RETURN 'NULL';
    ELSIF policy = 'redact' AND NOT col.is_domain AND col.atttypid IN ('json'::regtype, 'jsonb'::regtype) THEN
        RETURN format('%L::%s', '"[erased]"', col.type_name);
    ELSIF policy = 'redact' AND NOT col.is_domain AND col.typcategory = 'S' AND NOT is_unique THEN
        RETURN format('%L::%s', '[erased]', col.type_name);
    ELSIF policy = 'redact' AND NOT col.is_domain AND col.atttypid IN ('text'::regtype, 'varchar'::regtype)
          AND (col.atttypmod < 0 OR col.atttypmod - 4 >= 45) THEN
        RETURN format('(%L || pg_catalog.gen_random_uuid()::pg_catalog.text || %L)::%s', '[erased ', ']',
                      col.type_name);
    ELSIF NOT col.attnotnull THEN
        RETURN 'NULL';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
        MESSAGE = format('column "%s" of table %s cannot be erased', col.attname, target),
        DETAIL = format('It is NOT NULL and of type %s%s, so under the table''s erasure policy "%s" it can take '
                        'neither a marker nor NULL.', col.type_name,
                        CASE WHEN is_unique THEN ' under a unique index' ELSE '' END, policy),
        HINT = format('Make the column nullable, or have the rows deleted: '
                      'SELECT tenancy.set_erasure_policy(%L, ''delete'').', target::text);
END
$$;

-- The expression that takes the subject out of an unmarked text column, or
-- NULL when the column can take no marker (it is then left as it is).
CREATE OR REPLACE FUNCTION tenancy._erasure_expression_or_null(target regclass, column_number smallint)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN tenancy._erasure_expression(target, column_number, 'redact');
EXCEPTION WHEN feature_not_supported THEN
    RETURN NULL;
END
$$;

-- Raises unless a table is protected (the registry marks protected tables).
CREATE OR REPLACE FUNCTION tenancy._require_protected_for_pii(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not protected', target),
            DETAIL = 'Personal data is marked in protected tables only: requests find a person''s rows per tenant.',
            HINT = format('Protect it first: SELECT tenancy.protect(%L).', target::text);
    END IF;
END
$$;

-- Raises unless a table has a primary key: an erasure finds the audit rows
-- of a person's rows by it.
CREATE OR REPLACE FUNCTION tenancy._require_primary_key_for_pii(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = target AND i.indisprimary) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no primary key', target),
            DETAIL = 'An erasure finds the audit rows of a person''s rows by their primary key, so that no earlier '
                     'value of them stays in the audit log.',
            HINT = format('Add one: ALTER TABLE %s ADD PRIMARY KEY (...).', target);
    END IF;
END
$$;

-- Marks a column of a protected table as personal data of a kind; subject
-- marks the column that identifies the person (customers.email). Run again
-- to change the kind or the subject flag.
CREATE OR REPLACE FUNCTION tenancy.mark_pii(target regclass, column_name name, kind text,
                                            subject boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_number smallint;
BEGIN
    IF target IS NULL OR column_name IS NULL OR kind IS NULL OR subject IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'table, column, kind and subject must not be null';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'mark personal data in');
    PERFORM tenancy._require_protected_for_pii(target);
    PERFORM tenancy._require_primary_key_for_pii(target);
    IF kind !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid kind of personal data "%s"', tenancy._shown(kind)),
            DETAIL = 'A kind is a lowercase letter, then at most 62 lowercase letters, digits or underscores.',
            HINT = 'Use a kind such as email, name, phone, address, birth_date or free_text.';
    END IF;
    SELECT a.attnum INTO column_number FROM pg_attribute a
     WHERE a.attrelid = target AND a.attname = mark_pii.column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF column_number IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column "%s" of table %s does not exist', tenancy._shown(column_name), target);
    END IF;
    IF mark_pii.column_name = 'tenant_id' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'column "tenant_id" cannot be marked as personal data',
            DETAIL = 'It names the tenant, which pg_tenancy keeps in every protected row.';
    END IF;
    IF tenancy._erasure_policy(target) <> 'delete' THEN
        PERFORM tenancy._erasure_expression(target, column_number, tenancy._erasure_policy(target));
    END IF;
    EXECUTE format('SECURITY LABEL FOR pg_tenancy ON COLUMN %s.%I IS %L', target, mark_pii.column_name,
                   'pii:' || kind || CASE WHEN subject THEN ':subject' ELSE '' END);
END
$$;
COMMENT ON FUNCTION tenancy.mark_pii(regclass, name, text, boolean) IS
    'marks a column of a protected table as personal data of a kind; subject => true for the column that '
    'identifies the person (the table''s owner or platform admins)';

-- Removes a column's mark.
CREATE OR REPLACE FUNCTION tenancy.unmark_pii(target regclass, column_name name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    column_number smallint;
BEGIN
    IF target IS NULL OR column_name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and column must not be null';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'unmark personal data in');
    SELECT a.attnum INTO column_number FROM pg_attribute a
     WHERE a.attrelid = target AND a.attname = unmark_pii.column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF column_number IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('column "%s" of table %s does not exist', tenancy._shown(column_name), target);
    END IF;
    IF tenancy._pii_label(target, column_number) IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('column "%s" of table %s is not marked as personal data', unmark_pii.column_name, target);
    END IF;
    EXECUTE format('SECURITY LABEL FOR pg_tenancy ON COLUMN %s.%I IS NULL', target, unmark_pii.column_name);
END
$$;
COMMENT ON FUNCTION tenancy.unmark_pii(regclass, name) IS
    'removes the personal data mark of a column (the table''s owner or platform admins)';

-- Sets what an erasure does to a table's rows: redact (the marker [erased]
-- in text and JSON columns, NULL elsewhere), null (NULL in every marked
-- column) or delete (the rows go).
CREATE OR REPLACE FUNCTION tenancy.set_erasure_policy(target regclass, policy text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    marked record;
BEGIN
    IF target IS NULL OR policy IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'table and policy must not be null';
    END IF;
    PERFORM tenancy._require_table_owner(target, 'set the erasure policy of');
    PERFORM tenancy._require_protected_for_pii(target);
    IF policy NOT IN ('redact', 'null', 'delete') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid erasure policy "%s"', tenancy._shown(policy)),
            HINT = 'Use redact, null or delete.';
    END IF;
    IF policy = 'delete' THEN
        PERFORM tenancy._require_primary_key_for_pii(target);
    ELSE
        FOR marked IN SELECT * FROM tenancy._pii_marks(target) LOOP
            PERFORM tenancy._erasure_expression(target, marked.column_number, policy);
        END LOOP;
    END IF;
    EXECUTE format('SECURITY LABEL FOR pg_tenancy ON TABLE %s IS %L', target,
                   CASE WHEN policy = 'redact' THEN NULL ELSE 'erasure:' || policy END);
END
$$;
COMMENT ON FUNCTION tenancy.set_erasure_policy(regclass, text) IS
    'what erasing a person does to a table''s rows: redact (default), null or delete (the table''s owner or '
    'platform admins)';

CREATE OR REPLACE FUNCTION tenancy.pii_columns()
RETURNS TABLE (table_name regclass, column_name name, kind text, subject boolean, erasure text,
               protected boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass, m.column_name, m.kind, m.subject, tenancy._erasure_policy(c.oid),
           EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = c.oid)
      FROM pg_class c CROSS JOIN LATERAL tenancy._pii_marks(c.oid) m
     WHERE c.oid IN (SELECT s.objoid FROM pg_seclabel s
                      WHERE s.classoid = 'pg_class'::regclass AND s.provider = 'pg_tenancy')
     ORDER BY c.oid::regclass::text, m.column_number
$$;
COMMENT ON FUNCTION tenancy.pii_columns() IS
    'the columns marked as personal data: table, column, kind, whether it identifies the subject, the table''s '
    'erasure policy, and whether the table is protected';

-- The tenant of a new request: the named one, or the current tenant; the
-- caller must be one of its owners or admins, or a platform admin.
CREATE OR REPLACE FUNCTION tenancy._request_tenant(tenant text, action text) RETURNS tenancy.tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ref text := coalesce(tenant, tenancy.current_tenant());
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot %s without a tenant', action),
            DETAIL = 'A request about a person belongs to one tenant.',
            HINT = 'Select the tenant first: SET tenancy.tenant = ''acme''.';
    END IF;
    RETURN tenancy._tenant_for_caller(ref, 'admin', action);
END
$$;

-- Records a request about a person in a tenant (the current one unless
-- named): kind export or erasure.
CREATE OR REPLACE FUNCTION tenancy._request_subject(kind text, subject text, tenant text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    request_id bigint;
BEGIN
    target := tenancy._request_tenant(tenant, CASE kind WHEN 'export' THEN 'request the export of a person''s data'
                                                        ELSE 'request the erasure of a person''s data' END);
    IF subject IS NULL OR btrim(subject) = '' OR length(subject) > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'subject must be a value of 1 to 1000 characters',
            DETAIL = 'The subject is the value of the person''s subject columns, such as an email address.';
    END IF;
    INSERT INTO tenancy.subject_requests (tenant_id, tenant, kind, subject, requested_by)
    VALUES (target.id, target.slug, kind, subject, tenancy.actor())
    RETURNING id INTO request_id;
    RETURN request_id;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.request_subject_export(subject text, tenant text DEFAULT NULL) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._request_subject('export', subject, tenant)
$$;
COMMENT ON FUNCTION tenancy.request_subject_export(text, text) IS
    'records a request for everything the tenant (the current one unless named) holds about a person; returns '
    'its id (owners and admins of the tenant, platform admins)';

CREATE OR REPLACE FUNCTION tenancy.request_erasure(subject text, tenant text DEFAULT NULL) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._request_subject('erasure', subject, tenant)
$$;
COMMENT ON FUNCTION tenancy.request_erasure(text, text) IS
    'records a request to erase what the tenant (the current one unless named) holds about a person; returns '
    'its id (owners and admins of the tenant, platform admins)';

-- A request the caller may act on, locked for the rest of the transaction.
CREATE OR REPLACE FUNCTION tenancy._subject_request(request bigint, action text, for_change boolean)
RETURNS tenancy.subject_requests
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found tenancy.subject_requests;
BEGIN
    IF request IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'request must not be null';
    END IF;
    SELECT * INTO found FROM tenancy.subject_requests r WHERE r.id = request;
    -- The same refusal whether the request does not exist or belongs to a
    -- tenant the caller has no rights in.
    IF found.id IS NULL OR (NOT tenancy.is_platform_admin()
                            AND coalesce(tenancy._caller_role(found.tenant_id, for_change) < 'admin', true)) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to %s of request %s', action, request),
            DETAIL = 'Only owners and admins of the request''s tenant and platform admins act on its requests.';
    END IF;
    PERFORM tenancy._tenant_for_caller(found.tenant_id::text, 'admin', action, for_change);
    SELECT * INTO found FROM tenancy.subject_requests r WHERE r.id = request FOR UPDATE;
    RETURN found;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.subject_request(request bigint) RETURNS tenancy.subject_requests
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM tenancy._subject_request(request, 'read the data', false)
$$;
COMMENT ON FUNCTION tenancy.subject_request(bigint) IS
    'one request about a person (owners and admins of its tenant, platform admins)';

-- Runs a statement that finds rows of a table as its owner, with protected
-- tables open for one tenant to read only (viewer), and adds the rows it
-- returns ({"id", "row"}) that were not seen yet to seen; returns those.
CREATE OR REPLACE FUNCTION tenancy._subject_step(target regclass, tenant uuid, query text, argument jsonb,
                                                 INOUT seen jsonb, OUT fresh jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    SELECT coalesce(jsonb_agg(r.found ORDER BY r.found->>'id'), '[]') INTO fresh
      FROM (SELECT DISTINCT ON (f->>'id') f AS found
              FROM tenancy._rows_as_owner(target, tenant, 'viewer', query, argument) f
             WHERE NOT seen ? (f->>'id')) r;
    seen := seen || coalesce((SELECT jsonb_object_agg(f->>'id', true) FROM jsonb_array_elements(fresh) f), '{}');
END
$$;

-- Raises when a table has code of its owner that planning a statement on
-- it would run (an index, a CHECK constraint or a generated column calling
-- the owner's functions, which the health check reports as an error): a
-- request about a person queries the table for one tenant, and that code
-- would run then.
CREATE OR REPLACE FUNCTION tenancy._refuse_owner_code(
    target regclass, operation text DEFAULT 'A request about a person queries the table for one tenant')
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text;
BEGIN
    SELECT c.problem INTO problem FROM tenancy._planned_owner_code(target) c LIMIT 1;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s runs code of its owner when a statement on it is planned', target),
            DETAIL = format('The health check says: %s. %s, and that code would run then.', problem, operation),
            HINT = 'Replace it with one that calls only trusted functions (built in, or owned by a superuser), '
                   'then try again.';
    END IF;
END
$$;

-- The statement that finds rows of a table: {"id", "row"} for every row of
-- the tenant ($1) that meets a condition.
CREATE OR REPLACE FUNCTION tenancy._subject_query(target regclass, condition text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('SELECT pg_catalog.jsonb_build_object(''id'', t.tableoid::pg_catalog.oid::pg_catalog.text '
                  '|| ''/'' || t.ctid::pg_catalog.text, ''row'', pg_catalog.to_jsonb(t)) FROM ONLY %s t '
                  'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 AND (%s)', target, condition)
$$;

-- The condition that a subject column (alias t) equals the subject ($2->>0):
-- with the equality of the default btree operator class of its type (only
-- superusers make operator classes, so no operator anyone made under the
-- name "=" is ever called), else compared as text.
CREATE OR REPLACE FUNCTION tenancy._subject_condition(column_name name, type_oid oid, type_name text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN tenancy._equality_operator(type_oid) IS NOT NULL
                THEN format('t.%I %s ($2 OPERATOR(pg_catalog.->>) 0)::%s', column_name,
                            tenancy._equality_operator(type_oid), type_name)
                ELSE format('t.%I::pg_catalog.text OPERATOR(pg_catalog.=) ($2 OPERATOR(pg_catalog.->>) 0)', column_name)
           END
$$;

-- Every row of the request's tenant that refers to its subject: table, row
-- id (table oid/ctid) and the row as jsonb, in the order found (the
-- subject's rows, then the rows that refer to them, step by step).
CREATE OR REPLACE FUNCTION tenancy._subject_rows(request tenancy.subject_requests)
RETURNS TABLE (relid oid, row_id text, row_data jsonb, step integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    seen jsonb := '{}';
    frontier jsonb := '{}';
    next_frontier jsonb;
    fresh jsonb;
    subject_column record;
    reference record;
    parent text;
    steps integer := 0;
BEGIN
    -- The subject's own rows, one subject column at a time: a subject that
    -- is no value of a column's type is not in that column.
    FOR subject_column IN
        SELECT p.relid, m.column_name, a.atttypid, format_type(a.atttypid, a.atttypmod) AS type_name
          FROM tenancy.protected_tables p CROSS JOIN LATERAL tenancy._pii_marks(p.relid) m
          JOIN pg_attribute a ON a.attrelid = p.relid AND a.attnum = m.column_number
         WHERE m.subject ORDER BY p.relid::text, m.column_number
    LOOP
        PERFORM tenancy._refuse_owner_code(subject_column.relid);
        BEGIN
            SELECT s.seen, s.fresh INTO seen, fresh
              FROM tenancy._subject_step(subject_column.relid, request.tenant_id,
                       tenancy._subject_query(subject_column.relid,
                           tenancy._subject_condition(subject_column.column_name, subject_column.atttypid,
                                                      subject_column.type_name)),
                       jsonb_build_array(request.subject), seen) s;
        EXCEPTION WHEN data_exception THEN
            fresh := '[]';
        END;
        IF jsonb_array_length(fresh) > 0 THEN
            frontier := jsonb_set(frontier, ARRAY[subject_column.relid::oid::text],
                                  coalesce(frontier -> subject_column.relid::oid::text, '[]') || fresh);
            RETURN QUERY SELECT subject_column.relid::oid, f->>'id', f->'row', 0 FROM jsonb_array_elements(fresh) f;
        END IF;
    END LOOP;
    -- Then the rows of protected tables without a subject column that refer
    -- to rows found, through their foreign keys, until no new row turns up.
    WHILE frontier <> '{}' LOOP
        steps := steps + 1;
        next_frontier := '{}';
        FOR parent IN SELECT jsonb_object_keys(frontier) LOOP
            FOR reference IN
                SELECT c.conrelid::regclass AS child,
                       string_agg(format('((x OPERATOR(pg_catalog.->) ''row'' OPERATOR(pg_catalog.->>) %L)::%s) '
                                         'OPERATOR(%I.%s) t.%I', pa.attname, format_type(pa.atttypid, pa.atttypmod),
                                         opn.nspname, op.oprname, ca.attname), ' AND ') AS matches
                  FROM pg_constraint c
                  CROSS JOIN LATERAL unnest(c.conkey, c.confkey, c.conpfeqop) AS k(child_column, parent_column, eq)
                  JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_column
                  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_column
                  JOIN pg_operator op ON op.oid = k.eq
                  JOIN pg_namespace opn ON opn.oid = op.oprnamespace
                 WHERE c.contype = 'f' AND c.confrelid = parent::oid
                   AND c.conrelid IN (SELECT p.relid FROM tenancy.protected_tables p)
                   AND NOT EXISTS (SELECT 1 FROM tenancy._pii_marks(c.conrelid) m WHERE m.subject)
                 GROUP BY c.oid, c.conrelid ORDER BY c.conrelid::regclass::text, c.oid
            LOOP
                PERFORM tenancy._refuse_owner_code(reference.child);
                SELECT s.seen, s.fresh INTO seen, fresh
                  FROM tenancy._subject_step(reference.child, request.tenant_id,
                           tenancy._subject_query(reference.child,
                               format('EXISTS (SELECT FROM pg_catalog.jsonb_array_elements($2) x WHERE %s)',
                                      reference.matches)),
                           frontier -> parent, seen) s;
                IF jsonb_array_length(fresh) > 0 THEN
                    next_frontier := jsonb_set(next_frontier, ARRAY[reference.child::oid::text],
                                               coalesce(next_frontier -> reference.child::oid::text, '[]') || fresh);
                    RETURN QUERY SELECT reference.child::oid, f->>'id', f->'row', steps
                                   FROM jsonb_array_elements(fresh) f;
                END IF;
            END LOOP;
        END LOOP;
        frontier := next_frontier;
    END LOOP;
END
$$;

-- Raises when an erasure has taken the request's subject away.
CREATE OR REPLACE FUNCTION tenancy._require_subject(request tenancy.subject_requests) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF request.subject IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the subject of request %s has been erased', request.id),
            DETAIL = 'An erasure in this tenant removed the value it names, and this request with it.',
            HINT = 'Nothing about the person is left to export.';
    END IF;
END
$$;

-- Every row of the tenant that refers to the request's subject, table by
-- table, without the tenant_id column; a client reads them through a cursor
-- (tenantctl pii export). Completes an export request (its result: the rows
-- per table).
CREATE OR REPLACE FUNCTION tenancy.subject_rows(request bigint)
RETURNS TABLE (table_name text, row_data jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.subject_requests;
    found record;
    counts jsonb := '{}';
BEGIN
    target := tenancy._subject_request(request, 'export the data', false);
    PERFORM tenancy._require_subject(target);
    FOR found IN SELECT r.relid::regclass::text AS table_name, r.row_data FROM tenancy._subject_rows(target) r
    LOOP
        table_name := found.table_name;
        row_data := found.row_data - 'tenant_id';
        counts := jsonb_set(counts, ARRAY[found.table_name],
                            to_jsonb(coalesce((counts ->> found.table_name)::bigint, 0) + 1));
        RETURN NEXT;
    END LOOP;
    IF target.kind = 'export' THEN
        UPDATE tenancy.subject_requests r
           SET status = 'completed', completed_by = tenancy.actor(), completed_at = now(),
               result = jsonb_build_object('tables', counts)
         WHERE r.id = target.id;
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.subject_rows(bigint) IS
    'every row of the request''s tenant that refers to its subject, as (table, row), for a cursor; completes an '
    'export request (owners and admins of the tenant, platform admins)';

CREATE OR REPLACE FUNCTION tenancy.export_subject(request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.subject_requests;
    tables jsonb;
BEGIN
    target := tenancy._subject_request(request, 'export the data', false);
    SELECT coalesce(jsonb_object_agg(t.table_name, t.rows), '{}') INTO tables
      FROM (SELECT f.table_name, jsonb_agg(f.row_data ORDER BY f.n) AS rows
              FROM (SELECT s.table_name, s.row_data, row_number() OVER () AS n
                      FROM tenancy.subject_rows(request) s) f
             GROUP BY f.table_name) t;
    RETURN jsonb_build_object('request', target.id, 'tenant', target.tenant, 'subject', target.subject,
                              'exported_at', now(), 'tables', tables);
END
$$;
COMMENT ON FUNCTION tenancy.export_subject(bigint) IS
    'everything the request''s tenant holds about its subject: the rows of every protected table that refer to '
    'it, grouped by table (owners and admins of the tenant, platform admins)';

-- A row of the audit log with the named columns that hold exactly the
-- subject replaced by "[erased]". (No SET clause, so that it is inlined:
-- its callers set search_path.)
CREATE OR REPLACE FUNCTION tenancy._redact_subject(row_data jsonb, keys text[], subject text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN row_data IS NULL OR pg_catalog.jsonb_typeof(row_data) <> 'object'
                     OR NOT row_data ?| keys THEN row_data
                ELSE coalesce((SELECT pg_catalog.jsonb_object_agg(e.key,
                                   CASE WHEN e.key = ANY (keys) AND e.value #>> '{}' = subject
                                        THEN '"[erased]"'::jsonb ELSE e.value END)
                                 FROM pg_catalog.jsonb_each(row_data) e), '{}') END
$$;

-- A row of the audit log with the named columns replaced by "[erased]".
CREATE OR REPLACE FUNCTION tenancy._redact_keys(row_data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN row_data IS NULL OR pg_catalog.jsonb_typeof(row_data) <> 'object' THEN row_data
                ELSE coalesce((SELECT pg_catalog.jsonb_object_agg(e.key, CASE WHEN e.key = ANY (keys) AND e.value <> 'null'
                                                                    THEN '"[erased]"'::jsonb ELSE e.value END)
                                 FROM pg_catalog.jsonb_each(row_data) e), '{}') END
$$;

-- Erases the rows found of one table as its owner (policy delete: deletes
-- them; otherwise sets each marked column to its erasure expression and
-- any other text column equal to the subject to the marker); returns how
-- many. Raises when a trigger or rule of the owner kept a row or a value.
CREATE OR REPLACE FUNCTION tenancy._erase_table_rows(target regclass, request tenancy.subject_requests,
                                                     role tenancy.role, rows_found jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    policy text := tenancy._erasure_policy(target);
    marked text[];
    holding_subject text[];
    assignments text;
    which_rows text;
    changed jsonb;
BEGIN
    which_rows :=
        'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 '
        'AND t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.split_part(i, ''/'', 2)::pg_catalog.tid '
        'FROM pg_catalog.jsonb_array_elements_text($2 OPERATOR(pg_catalog.->) ''ids'') i))';
    IF policy = 'delete' THEN
        SELECT coalesce(jsonb_agg(r), '[]') INTO changed
          FROM tenancy._rows_as_owner(target, request.tenant_id, role,
                   format('DELETE FROM ONLY %s t %s RETURNING pg_catalog.to_jsonb(t)', target, which_rows),
                   jsonb_build_object('ids', (SELECT jsonb_agg(f->'id') FROM jsonb_array_elements(rows_found) f))) r;
    ELSE
        SELECT array_agg(m.column_name::text),
               string_agg(format('%I = %s', m.column_name,
                                 tenancy._erasure_expression(target, m.column_number, policy)), ', ')
          INTO marked, assignments
          FROM tenancy._pii_marks(target) m;
        -- The subject's value itself goes wherever it is in these rows:
        -- the text columns that hold it in one of them.
        SELECT array_agg(a.attname::text),
               concat_ws(', ', assignments,
                         string_agg(format('%I = CASE WHEN t.%I::pg_catalog.text OPERATOR(pg_catalog.=) '
                                           '($2 OPERATOR(pg_catalog.->>) ''subject'') THEN %s ELSE t.%I END',
                                           a.attname, a.attname,
                                           tenancy._erasure_expression_or_null(target, a.attnum),
                                           a.attname), ', ' ORDER BY a.attnum))
          INTO holding_subject, assignments
          FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           AND ty.typcategory = 'S' AND a.attname <> ALL (coalesce(marked, '{}'))
           AND tenancy._erasure_expression_or_null(target, a.attnum) IS NOT NULL
           AND EXISTS (SELECT FROM jsonb_array_elements(rows_found) f
                        WHERE f -> 'row' ->> a.attname::text = request.subject);
        IF marked IS NULL THEN
            IF holding_subject IS NULL THEN
                RETURN 0;  -- nothing personal in this table's rows
            END IF;
            -- Only the rows that hold the subject change.
            SELECT coalesce(jsonb_agg(f), '[]') INTO rows_found FROM jsonb_array_elements(rows_found) f
             WHERE EXISTS (SELECT FROM unnest(holding_subject) k WHERE f -> 'row' ->> k = request.subject);
        END IF;
        SELECT coalesce(jsonb_agg(r), '[]') INTO changed
          FROM tenancy._rows_as_owner(target, request.tenant_id, role,
                   format('UPDATE ONLY %s t SET %s %s RETURNING pg_catalog.to_jsonb(t)', target, assignments,
                          which_rows),
                   jsonb_build_object('ids', (SELECT jsonb_agg(f->'id') FROM jsonb_array_elements(rows_found) f),
                                      'subject', request.subject)) r;
        -- A trigger of the owner may have put a value back: the subject, or
        -- what a marked column held (not a marker of an earlier erasure).
        IF EXISTS (SELECT FROM jsonb_array_elements(changed) c,
                               unnest(coalesce(marked, '{}') || coalesce(holding_subject, '{}')) k
                    WHERE c ->> k = request.subject
                       OR c ->> k IN (SELECT f -> 'row' ->> m FROM jsonb_array_elements(rows_found) f, unnest(marked) m
                                       WHERE f -> 'row' ->> m !~ '^"?\[erased( [^]]*)?\]"?$')) THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('the erasure of request %s left personal data in table %s', request.id, target),
                DETAIL = 'A trigger or rule of the table wrote the erased values back.',
                HINT = 'Change what writes them back (the table''s owner can), then erase again.';
        END IF;
    END IF;
    IF jsonb_array_length(changed) < jsonb_array_length(rows_found) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the erasure of request %s left %s of %s rows of table %s', request.id,
                             jsonb_array_length(rows_found) - jsonb_array_length(changed),
                             jsonb_array_length(rows_found), target),
            DETAIL = 'A trigger or rule of the table kept them from being changed, or they changed meanwhile; an '
                     'erasure is all or nothing.',
            HINT = 'Erase again; if it fails again, change what keeps them (the table''s owner can).';
    END IF;
    RETURN jsonb_array_length(changed);
END
$$;

-- The key columns of a row of the audit log, as an object.
CREATE OR REPLACE FUNCTION tenancy._row_key(row_data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT (SELECT pg_catalog.jsonb_object_agg(k, row_data -> k) FROM pg_catalog.unnest(keys) k)
$$;

-- Redacts the person in the tenant's audit rows:
--  * the history of each row found: the audit rows of its key since the key
--    was last inserted (so that an earlier row that had the same key keeps
--    its history), following changes of the key back, lose the marked
--    columns and those that held the subject (every column but the key for
--    tables whose rows are deleted);
--  * every audit row where a subject column holds exactly the subject (the
--    same person), and, unless the subject names a database role, the
--    subject as the actor of an audit row or the member of a membership.
-- Values are never looked for elsewhere: an admin cannot erase other
-- people's history by asking to erase a word they share. Each step is one
-- scan of the tenant's audit rows with constant conditions per row found.
-- Returns how many audit rows changed.
CREATE OR REPLACE FUNCTION tenancy._erase_from_audit(request tenancy.subject_requests, rows_found jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    table_key text;
    key_columns text[];
    redacted_columns text[];
    lifelines jsonb := '[]';  -- {relid, keys, columns, identity, until}
    pending jsonb;            -- lifelines whose audit rows are not read yet
    candidates jsonb := '[]'; -- audit rows whose first key column matches a lifeline's
    old_keys text;
    new_keys text;
    selected jsonb;
    conditions text;
    old_cases text;
    new_cases text;
    role_name boolean := EXISTS (SELECT FROM pg_roles r WHERE r.rolname = request.subject);
    changed bigint := 0;
    n bigint;
BEGIN
    FOR table_key IN SELECT jsonb_object_keys(rows_found) LOOP
        SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO key_columns
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
         WHERE i.indrelid = table_key::oid AND i.indisprimary;
        CONTINUE WHEN key_columns IS NULL;
        IF tenancy._erasure_policy(table_key::oid) = 'delete' THEN
            SELECT array_agg(a.attname::text) INTO redacted_columns FROM pg_attribute a
             WHERE a.attrelid = table_key::oid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attname <> ALL (key_columns || ARRAY['tenant_id']);
        ELSE
            -- The marked columns, and those that held the subject itself.
            SELECT array_agg(DISTINCT c) INTO redacted_columns
              FROM (SELECT m.column_name::text AS c FROM tenancy._pii_marks(table_key::oid) m
                    UNION ALL
                    SELECT e.key FROM jsonb_array_elements(rows_found -> table_key) f,
                                      jsonb_each_text(f -> 'row') e
                     WHERE e.value = request.subject) columns;
        END IF;
        CONTINUE WHEN redacted_columns IS NULL;
        SELECT lifelines || coalesce(jsonb_agg(jsonb_build_object(
                   'relid', table_key::oid, 'keys', key_columns, 'columns', redacted_columns,
                   'identity', tenancy._row_key(f -> 'row', key_columns), 'until', 9223372036854775807)), '[]')
          INTO lifelines FROM jsonb_array_elements(rows_found -> table_key) f;
    END LOOP;
    pending := lifelines;
    -- The audit rows of the lifelines' keys: one scan per round, joining each
    -- audit row by its first key column (before and after the change it
    -- records) to the lifelines, a hash join; a key that an UPDATE changed
    -- into a lifeline's key adds a lifeline for the key before, up to that
    -- UPDATE, read in the next round.
    WHILE jsonb_array_length(pending) > 0 LOOP
        SELECT string_agg(DISTINCT format('WHEN %s THEN a.old_row ->> %L', l->>'relid', l->'keys'->>0), ' '),
               string_agg(DISTINCT format('WHEN %s THEN a.new_row ->> %L', l->>'relid', l->'keys'->>0), ' ')
          INTO old_keys, new_keys FROM jsonb_array_elements(pending) l;
        EXECUTE format(
            'SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object(''id'', a.id, ''tid'', '
            'a.tableoid::pg_catalog.oid::pg_catalog.text || ''/'' || a.ctid::pg_catalog.text, ''relid'', a.relid, '
            '''operation'', a.operation, ''old'', a.old_row, ''new'', a.new_row)), ''[]'') '
            'FROM tenancy.audit_log a '
            'CROSS JOIN LATERAL (VALUES (CASE a.relid %s END), (CASE a.relid %s END)) k(value) '
            'JOIN (SELECT DISTINCT (l->>''relid'')::pg_catalog.oid AS relid, '
            '             l->''identity''->>(l->''keys''->>0) AS value '
            '        FROM pg_catalog.jsonb_array_elements($2) l) l ON l.relid = a.relid AND l.value = k.value '
            'WHERE a.tenant_id = $1 AND a.relid = ANY ($3)', old_keys, new_keys)
          INTO selected
          USING request.tenant_id, pending,
                ARRAY(SELECT DISTINCT (l->>'relid')::oid FROM jsonb_array_elements(pending) l);
        candidates := candidates || selected;
        -- Keys that an UPDATE changed into a lifeline's key, before it.
        SELECT coalesce(jsonb_agg(DISTINCT l || jsonb_build_object(
                   'identity', tenancy._row_key(c->'old', ARRAY(SELECT jsonb_array_elements_text(l->'keys'))),
                   'until', (c->>'id')::bigint)), '[]')
          INTO pending
          FROM jsonb_array_elements(pending) l JOIN jsonb_array_elements(selected) c
            ON (c->>'relid')::oid = (l->>'relid')::oid
         WHERE c->>'operation' = 'UPDATE' AND (c->>'id')::bigint < (l->>'until')::bigint
           AND tenancy._row_key(c->'new', ARRAY(SELECT jsonb_array_elements_text(l->'keys'))) = l->'identity'
           AND tenancy._row_key(c->'old', ARRAY(SELECT jsonb_array_elements_text(l->'keys'))) <> l->'identity';
        lifelines := lifelines || pending;
    END LOOP;
    -- Each lifeline: the audit rows of exactly its key, from the last INSERT
    -- of the key before its end (an earlier row that had the key keeps its
    -- history) to its end.
    SELECT coalesce(jsonb_agg(jsonb_build_object('tid', r.tid, 'relid', r.relid)), '[]')
      INTO selected
      FROM (SELECT DISTINCT c->>'tid' AS tid, (c->>'relid')::oid AS relid
              FROM jsonb_array_elements(lifelines) l
              CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(l->'keys')) AS keys) k
              JOIN jsonb_array_elements(candidates) c ON (c->>'relid')::oid = (l->>'relid')::oid
             WHERE (c->>'id')::bigint <= (l->>'until')::bigint
               AND (c->>'id')::bigint >= coalesce(
                       (SELECT max((i->>'id')::bigint) FROM jsonb_array_elements(candidates) i
                         WHERE i->>'operation' = 'INSERT' AND (i->>'relid')::oid = (l->>'relid')::oid
                           AND (i->>'id')::bigint <= (l->>'until')::bigint
                           AND tenancy._row_key(i->'new', k.keys) = l->'identity'), 0)
               AND (tenancy._row_key(c->'old', k.keys) = l->'identity'
                    OR tenancy._row_key(c->'new', k.keys) = l->'identity')) r;
    IF jsonb_array_length(selected) > 0 THEN
        SELECT string_agg(DISTINCT format('WHEN %s THEN tenancy._redact_keys(a.old_row, %L::text[])', l->>'relid',
                                          ARRAY(SELECT jsonb_array_elements_text(l->'columns'))), ' '),
               string_agg(DISTINCT format('WHEN %s THEN tenancy._redact_keys(a.new_row, %L::text[])', l->>'relid',
                                          ARRAY(SELECT jsonb_array_elements_text(l->'columns'))), ' ')
          INTO old_cases, new_cases FROM jsonb_array_elements(lifelines) l;
        EXECUTE format('UPDATE tenancy.audit_log a SET old_row = CASE a.relid %s ELSE a.old_row END, '
                       'new_row = CASE a.relid %s ELSE a.new_row END '
                       'WHERE a.tenant_id = $1 AND a.ctid = ANY ($2) AND a.tableoid::pg_catalog.oid::pg_catalog.text '
                       '|| ''/'' || a.ctid::pg_catalog.text = ANY ($3)', old_cases, new_cases)
          USING request.tenant_id,
                ARRAY(SELECT split_part(x->>'tid', '/', 2)::tid FROM jsonb_array_elements(selected) x),
                ARRAY(SELECT x->>'tid' FROM jsonb_array_elements(selected) x);
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
    END IF;
    -- The subject itself: in the subject columns of every protected table
    -- (as text, or as a number when it is one), and, when it names no
    -- database role, as an actor and as a member.
    SELECT string_agg(format('(a.relid = %s AND (a.old_row @> ANY (%L::jsonb[]) OR a.new_row @> ANY (%L::jsonb[])))',
                             m.relid, m.probes, m.probes), ' OR '),
           string_agg(format('WHEN %s THEN tenancy._redact_subject(a.old_row, %L::text[], $2)', m.relid, m.columns), ' '),
           string_agg(format('WHEN %s THEN tenancy._redact_subject(a.new_row, %L::text[], $2)', m.relid, m.columns), ' ')
      INTO conditions, old_cases, new_cases
      FROM (SELECT c.relid, array_agg(DISTINCT c.column_name) AS columns,
                   array_agg(jsonb_build_object(c.column_name, v.value)) AS probes
              FROM (SELECT p.relid::oid AS relid, mk.column_name::text AS column_name
                      FROM tenancy.protected_tables p CROSS JOIN LATERAL tenancy._pii_marks(p.relid) mk
                     WHERE mk.subject
                    UNION ALL
                    SELECT 'tenancy.memberships'::regclass::oid, 'actor' WHERE NOT role_name) c
              CROSS JOIN LATERAL (SELECT to_jsonb(request.subject) AS value
                                  UNION ALL
                                  SELECT to_jsonb(CASE WHEN request.subject ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$'
                                                       THEN request.subject::numeric END)
                                   WHERE request.subject ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$') v
             GROUP BY c.relid) m;
    EXECUTE format('UPDATE tenancy.audit_log a SET old_row = CASE a.relid %s ELSE a.old_row END, '
                   'new_row = CASE a.relid %s ELSE a.new_row END, '
                   'actor = CASE WHEN a.actor = $2 AND NOT $3 THEN ''[erased]'' ELSE a.actor END '
                   'WHERE a.tenant_id = $1 AND ((a.actor = $2 AND NOT $3) OR %s)',
                   coalesce(old_cases, ''), coalesce(new_cases, ''), coalesce(conditions, 'false'))
      USING request.tenant_id, request.subject, role_name;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN changed + n;
END
$$;

-- Replaces the subject where pg_tenancy's own records of the tenant name it
-- as an actor (denials, usage, events), and forgets it in the tenant's
-- requests; returns how many records changed.
CREATE OR REPLACE FUNCTION tenancy._erase_from_records(request tenancy.subject_requests) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed bigint := 0;
    n bigint;
BEGIN
    -- A database role is an operator of the database, not a person of a
    -- tenant's data: its name stays where it acted.
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = request.subject) THEN
        UPDATE tenancy.access_denials d SET actor = '[erased]'
         WHERE d.tenant_id = request.tenant_id AND d.actor = request.subject;
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
        UPDATE tenancy.usage_actors u SET actor = format('[erased %s]', request.id)
         WHERE u.tenant_id = request.tenant_id AND u.actor = request.subject;
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
        UPDATE tenancy.tenant_events e
           SET actor = CASE WHEN e.actor = request.subject THEN '[erased]' ELSE e.actor END,
               "from" = CASE WHEN e.event = 'owner' AND e."from" = request.subject THEN '[erased]' ELSE e."from" END,
               "to" = CASE WHEN e.event = 'owner' AND e."to" = request.subject THEN '[erased]' ELSE e."to" END
         WHERE e.tenant_id = request.tenant_id
           AND (e.actor = request.subject OR (e.event = 'owner' AND request.subject IN (e."from", e."to")));
        GET DIAGNOSTICS n = ROW_COUNT;
        changed := changed + n;
    END IF;
    UPDATE tenancy.subject_requests r SET subject = NULL
     WHERE r.tenant_id = request.tenant_id AND r.subject = request.subject AND r.id <> request.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN changed + n;
END
$$;

-- Erases what the request's tenant holds about its subject, in one
-- transaction: the marked columns of its rows (or the rows, per table
-- policy), the same values in the tenant's audit log, and the subject in
-- pg_tenancy's own records, this request's included. Records who erased,
-- when and how many rows, never the values. Run again, it returns what it
-- did the first time.
CREATE OR REPLACE FUNCTION tenancy.erase_subject(request bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.subject_requests;
    rows_found jsonb;
    tables_found oid[];
    table_oid oid;
    caller_role tenancy.role;
    blocking record;
    tables jsonb := '{}';
    audit_rows bigint := 0;
    records bigint := 0;
    outcome jsonb;
BEGIN
    target := tenancy._subject_request(request, 'erase the data', true);
    -- The owners' code that the erasure's statements run sees the tenant
    -- with the caller's role, as it would see a change the caller made.
    caller_role := CASE WHEN tenancy.is_platform_admin() THEN 'owner'
                        ELSE tenancy._caller_role(target.tenant_id, true) END;
    IF target.kind <> 'erasure' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('request %s asks for an export, not an erasure', target.id),
            HINT = 'Record an erasure request with tenancy.request_erasure().';
    END IF;
    IF target.status = 'completed' THEN
        RETURN target.result;
    END IF;
    PERFORM tenancy._require_subject(target);
    IF EXISTS (SELECT FROM tenancy.memberships m WHERE m.tenant_id = target.tenant_id AND m.actor = target.subject) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the subject of request %s is a member of tenant "%s"', target.id, target.tenant),
            DETAIL = 'An erasure leaves no trace of the value, and the membership needs it.',
            HINT = 'Remove the member first with tenancy.remove_member(), then erase.';
    END IF;
    -- The rows, grouped by table in the order found.
    SELECT jsonb_object_agg(g.relid::text, g.found_rows), array_agg(g.relid ORDER BY g.first_found)
      INTO rows_found, tables_found
      FROM (SELECT r.relid, min(r.n) AS first_found,
                   jsonb_agg(jsonb_build_object('id', r.row_id, 'row', r.row_data) ORDER BY r.n) AS found_rows
              FROM (SELECT s.*, row_number() OVER () AS n FROM tenancy._subject_rows(target) s) r
             GROUP BY r.relid) g;
    rows_found := coalesce(rows_found, '{}');
    -- Rows deleted by their table's policy must not be referred to by rows
    -- that stay (a foreign key without an action would refuse the delete).
    SELECT c.conrelid::regclass AS child, c.confrelid::regclass AS parent INTO blocking
      FROM pg_constraint c
     WHERE c.contype = 'f' AND c.confdeltype IN ('a', 'r')
       AND rows_found ? c.confrelid::text AND rows_found ? c.conrelid::text AND c.conrelid <> c.confrelid
       AND tenancy._erasure_policy(c.confrelid) = 'delete' AND tenancy._erasure_policy(c.conrelid) <> 'delete'
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the erasure of request %s would delete rows of table %s that rows of table %s '
                             'refer to', target.id, blocking.parent, blocking.child),
            DETAIL = format('Table %s''s erasure policy is delete, and the foreign key from %s has no action on '
                            'delete; those rows stay.', blocking.parent, blocking.child),
            HINT = format('Delete the referring rows too (tenancy.set_erasure_policy(%L, ''delete'')), or give the '
                          'foreign key ON DELETE CASCADE or SET NULL.', blocking.child::text);
    END IF;
    -- Tables that refer to others first, so that deleted rows go before the
    -- rows they refer to: each round takes the tables no remaining table
    -- refers to (in a cycle, any).
    WHILE cardinality(tables_found) > 0 LOOP
        SELECT t INTO table_oid FROM unnest(tables_found) WITH ORDINALITY u(t, n)
         ORDER BY EXISTS (SELECT FROM pg_constraint c
                           WHERE c.contype = 'f' AND c.confrelid = u.t AND c.conrelid <> u.t
                             AND c.conrelid = ANY (tables_found)), u.n DESC
         LIMIT 1;
        tables_found := array_remove(tables_found, table_oid);
        tables := tables || jsonb_build_object(table_oid::regclass::text, jsonb_build_object(
            'action', tenancy._erasure_policy(table_oid),
            'found', jsonb_array_length(rows_found -> table_oid::text),
            'changed', tenancy._erase_table_rows(table_oid::regclass, target, caller_role,
                                                 rows_found -> table_oid::text)));
    END LOOP;
    -- A subject found in no row is no person of this tenant: its audit
    -- rows and records stay as they are.
    IF rows_found <> '{}' THEN
        audit_rows := tenancy._erase_from_audit(target, rows_found);
        records := tenancy._erase_from_records(target);
    END IF;
    outcome := jsonb_build_object('tables', tables, 'audit_rows', audit_rows, 'records', records);
    UPDATE tenancy.subject_requests r
       SET status = 'completed', subject = NULL, completed_by = tenancy.actor(), completed_at = now(),
           result = outcome
     WHERE r.id = target.id;
    RETURN outcome;
END
$$;
COMMENT ON FUNCTION tenancy.erase_subject(bigint) IS
    'erases what the request''s tenant holds about its subject (marked columns redacted or rows deleted, per '
    'table policy) and the same values in its audit log, in one transaction; returns what it did (owners and '
    'admins of the tenant, platform admins)';

CREATE OR REPLACE FUNCTION tenancy.subject_request_list(tenant text DEFAULT NULL)
RETURNS SETOF tenancy.subject_requests
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    IF subject_request_list.tenant IS NULL THEN
        PERFORM tenancy._require_platform_admin('list the requests of every tenant');
        RETURN QUERY SELECT r.* FROM tenancy.subject_requests r ORDER BY r.id;
        RETURN;
    END IF;
    target := tenancy._tenant_for_caller(subject_request_list.tenant, 'admin', 'read the requests about persons');
    RETURN QUERY SELECT r.* FROM tenancy.subject_requests r WHERE r.tenant_id = target.id ORDER BY r.id;
END
$$;
COMMENT ON FUNCTION tenancy.subject_request_list(text) IS
    'requests about persons, oldest first: of every tenant (platform admins), or of one (its owners and admins '
    'too)';

-- Only the public functions are PUBLIC's; the internal ones are called by
-- them.
REVOKE ALL ON FUNCTION tenancy._pii_label(oid, integer), tenancy._pii_marks(oid), tenancy._erasure_policy(oid),
    tenancy._erasure_expression(regclass, smallint, text), tenancy._erasure_expression_or_null(regclass, smallint),
    tenancy._require_protected_for_pii(regclass),
    tenancy._require_primary_key_for_pii(regclass),
    tenancy._request_tenant(text, text), tenancy._request_subject(text, text, text),
    tenancy._subject_request(bigint, text, boolean),
    tenancy._subject_step(regclass, uuid, text, jsonb, jsonb), tenancy._subject_query(regclass, text),
    tenancy._refuse_owner_code(regclass, text),
    tenancy._subject_condition(name, oid, text), tenancy._subject_rows(tenancy.subject_requests),
    tenancy._require_subject(tenancy.subject_requests), tenancy._redact_subject(jsonb, text[], text),
    tenancy._row_key(jsonb, text[]),
    tenancy._redact_keys(jsonb, text[]),
    tenancy._erase_table_rows(regclass, tenancy.subject_requests, tenancy.role, jsonb),
    tenancy._erase_from_audit(tenancy.subject_requests, jsonb),
    tenancy._erase_from_records(tenancy.subject_requests)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._pii_label(oid, integer) IS 'internal: the pg_tenancy label of a table or column';
COMMENT ON FUNCTION tenancy._pii_marks(oid) IS 'internal: the columns of a table marked as personal data';
COMMENT ON FUNCTION tenancy._erasure_policy(oid) IS 'internal: a table''s erasure policy';
COMMENT ON FUNCTION tenancy._erasure_expression(regclass, smallint, text) IS
    'internal: what an erasure puts in a column, or an error when it can put nothing';
COMMENT ON FUNCTION tenancy._erasure_expression_or_null(regclass, smallint) IS
    'internal: what an erasure puts in an unmarked text column holding the subject, or NULL';
COMMENT ON FUNCTION tenancy._require_protected_for_pii(regclass) IS 'internal: error unless the table is protected';
COMMENT ON FUNCTION tenancy._require_primary_key_for_pii(regclass) IS 'internal: error unless the table has a primary key';
COMMENT ON FUNCTION tenancy._request_tenant(text, text) IS 'internal: the tenant a new request belongs to';
COMMENT ON FUNCTION tenancy._request_subject(text, text, text) IS 'internal: records a request about a person';
COMMENT ON FUNCTION tenancy._subject_request(bigint, text, boolean) IS
    'internal: a request the caller may act on, locked';
COMMENT ON FUNCTION tenancy._subject_step(regclass, uuid, text, jsonb, jsonb) IS
    'internal: runs one search for a person''s rows and keeps the new ones';
COMMENT ON FUNCTION tenancy._refuse_owner_code(regclass, text) IS
    'internal: error when planning a statement on the table would run its owner''s code';
COMMENT ON FUNCTION tenancy._subject_query(regclass, text) IS
    'internal: the statement that finds rows of a table for a request';
COMMENT ON FUNCTION tenancy._subject_condition(name, oid, text) IS
    'internal: the condition that a subject column equals the subject';
COMMENT ON FUNCTION tenancy._subject_rows(tenancy.subject_requests) IS
    'internal: every row of the request''s tenant that refers to its subject';
COMMENT ON FUNCTION tenancy._require_subject(tenancy.subject_requests) IS
    'internal: error when the request''s subject has been erased';
COMMENT ON FUNCTION tenancy._redact_subject(jsonb, text[], text) IS
    'internal: an audit row without the subject in the named columns';
COMMENT ON FUNCTION tenancy._row_key(jsonb, text[]) IS 'internal: the key columns of an audit row';
COMMENT ON FUNCTION tenancy._redact_keys(jsonb, text[]) IS 'internal: an audit row without the named columns';
COMMENT ON FUNCTION tenancy._erase_table_rows(regclass, tenancy.subject_requests, tenancy.role, jsonb) IS
    'internal: erases the rows found of one table as its owner';
COMMENT ON FUNCTION tenancy._erase_from_audit(tenancy.subject_requests, jsonb) IS
    'internal: redacts an erased person in the tenant''s audit rows';
COMMENT ON FUNCTION tenancy._erase_from_records(tenancy.subject_requests) IS
    'internal: forgets an erased person in pg_tenancy''s own records of the tenant';
-- pg_tenancy: a tenant's portability. export_manifest() describes a tenant
-- and the rows tenantctl exports (it reads them itself, with COPY, in the
-- caller's name); import_stage() makes the temporary tables the export's
-- files are copied into, and import_tenant() creates a tenant from the
-- description and loads the staged rows; clone_tenant() does both inside the
-- database. Rows reach the new tenant through _load_staged(): table by table
-- in foreign key order, as each table's owner with protected tables open for
-- the new tenant only (tenancy._rows_as_owner()), with new values for the
-- keys the tables generate and every reference to them changed to match.
-- Everything happens in the caller's transaction: all or nothing.

-- The columns of a protected table that an export holds and an import
-- fills: all but tenant_id, dropped and generated ones, in table order.
CREATE OR REPLACE FUNCTION tenancy._portable_columns(target regclass)
RETURNS TABLE (column_name name, type_name text, type_oid oid, attnum smallint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.attnum
      FROM pg_attribute a
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       AND a.attname <> 'tenant_id'
     ORDER BY a.attnum
$$;

-- The columns whose values a table generates (identity, a sequence's
-- nextval(), gen_random_uuid()) and a unique index holds, with the
-- expression that makes one: a copy of a row into another tenant gets a new
-- value there. Other defaults are not keys the table makes: their values
-- are kept.
CREATE OR REPLACE FUNCTION tenancy._generated_keys(target regclass)
RETURNS TABLE (column_name name, value_sql text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attname,
           CASE WHEN a.attidentity <> ''
                THEN format('pg_catalog.nextval(%L::pg_catalog.regclass)', pg_get_serial_sequence(target::text, a.attname))
                ELSE pg_get_expr(d.adbin, d.adrelid) END
      FROM pg_attribute a
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       AND a.attname <> 'tenant_id'
       AND (a.attidentity <> ''
            OR pg_get_expr(d.adbin, d.adrelid) ~ '^nextval\('
            OR pg_get_expr(d.adbin, d.adrelid) ~ '^(public\.)?(gen_random_uuid|uuid_generate_v4)\(\)$')
       AND EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = target AND i.indisunique AND i.indpred IS NULL
                      AND a.attnum = ANY (i.indkey::smallint[]))
$$;

-- The columns of a table that refer, through a foreign key, to a column of
-- another table (or of the same one).
CREATE OR REPLACE FUNCTION tenancy._referring_columns(target regclass)
RETURNS TABLE (column_name name, parent regclass, parent_column name)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ca.attname, con.confrelid::regclass, pa.attname
      FROM pg_constraint con
     CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(child_attnum, parent_attnum)
      JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.child_attnum
      JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.parent_attnum
     WHERE con.contype = 'f' AND con.conrelid = target AND ca.attname <> 'tenant_id'
$$;

-- Creates a temporary table of the session, dropped at commit, in place of
-- one of the same name left by an earlier call in the transaction; returns
-- it.
CREATE OR REPLACE FUNCTION tenancy._new_temporary_table(name text, definitions text) RETURNS regclass
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %s', name);
    END IF;
    EXECUTE format('CREATE TEMPORARY TABLE %s (%s) ON COMMIT DROP', name, definitions);
    RETURN to_regclass(name);
END
$$;

-- Says what in the types of a table's columns runs code that is not
-- trusted when a value is read in (a CHECK of a domain, also inside an array
-- or a composite type, calling an owner's function), or NULL. Staging an
-- import reads values in with the caller's rights, so such tables are
-- refused.
CREATE OR REPLACE FUNCTION tenancy._untrusted_input(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE types(type_oid, depth) AS (
        SELECT a.atttypid, 0 FROM pg_attribute a
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
        UNION
        SELECT next_type, t.depth + 1
          FROM types t JOIN pg_type ty ON ty.oid = t.type_oid
         CROSS JOIN LATERAL (SELECT ty.typbasetype WHERE ty.typtype = 'd'
                             UNION ALL SELECT ty.typelem WHERE ty.typelem <> 0 AND ty.typlen = -1
                             UNION ALL SELECT a.atttypid FROM pg_attribute a
                                        WHERE a.attrelid = ty.typrelid AND ty.typtype = 'c' AND a.attnum > 0
                                          AND NOT a.attisdropped) n(next_type)
         WHERE t.depth < 20
    )
    SELECT format('domain %s calls %s, owned by %s', c.contypid::regtype, f.oid::regprocedure, pg_get_userbyid(f.proowner))
      FROM types t
      JOIN pg_constraint c ON c.contypid = t.type_oid
      JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = c.oid
                      AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
      JOIN pg_proc f ON f.oid = CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid
                                     ELSE (SELECT o.oprcode::oid FROM pg_operator o WHERE o.oid = d.refobjid) END
     WHERE NOT tenancy._trusted_function(f.oid)
     LIMIT 1
$$;

-- Returns tables in an order where each comes after the tables its foreign
-- keys refer to (a table may refer to itself); a cycle is refused, since
-- neither side of it could be loaded first.
CREATE OR REPLACE FUNCTION tenancy._load_order(tables regclass[]) RETURNS regclass[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    remaining regclass[] := tables;
    ready regclass[];
    ordered regclass[] := '{}';
BEGIN
    WHILE cardinality(remaining) > 0 LOOP
        SELECT coalesce(array_agg(r ORDER BY r::text), '{}') INTO ready
          FROM unnest(remaining) r
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con
                            WHERE con.contype = 'f' AND con.conrelid = r AND con.confrelid <> r
                              AND con.confrelid = ANY (remaining));
        IF cardinality(ready) = 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = 'the foreign keys of the protected tables form a cycle',
                DETAIL = format('No table of %s can be loaded before the others.',
                                (SELECT string_agg(r::text, ', ' ORDER BY r::text) FROM unnest(remaining) r)),
                HINT = 'Load such tables by hand, or make one of the foreign keys of the cycle refer to a table '
                       'outside it.';
        END IF;
        ordered := ordered || ready;
        remaining := ARRAY(SELECT r FROM unnest(remaining) r WHERE r <> ALL (ready));
    END LOOP;
    RETURN ordered;
END
$$;

-- Raises unless the tenant keeps its rows in protected tables (row mode),
-- where an export or a clone reads them: a schema-mode tenant's would be
-- left out without a word.
CREATE OR REPLACE FUNCTION tenancy._require_rows_in_tables(target tenancy.tenants, action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF target.isolation <> 'row' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot %s tenant "%s": it is in %s mode', action, target.slug, target.isolation),
            DETAIL = format('Exports and clones read a tenant''s rows in protected tables; a %s-mode tenant keeps '
                            'them in its own %s.', target.isolation, target.isolation),
            HINT = format('Move it to row mode first (tenancy.move_tenant(%L, ''row'')), or clone it with '
                          'template => true for everything but its rows and members.', target.slug);
    END IF;
END
$$;

-- Everything about a tenant but its rows: what an export writes and what an
-- import or a clone creates the new tenant from. The region's server goes
-- only to platform admins.
CREATE OR REPLACE FUNCTION tenancy._tenant_description(target tenancy.tenants) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'id', target.id, 'slug', target.slug, 'name', target.name, 'status', target.status,
        'isolation', target.isolation, 'region', target.region,
        'region_server', CASE WHEN tenancy.is_platform_admin()
                              THEN (SELECT r.server FROM tenancy.regions r WHERE r.name = target.region) END,
        'plan', target.plan,
        'plan_definition', (SELECT CASE WHEN tenancy.is_platform_admin() THEN jsonb_build_object('description', p.description, 'features', to_jsonb(p.features),
                                                      'limits', p.limits) END
                              FROM tenancy.plans p WHERE p.name = target.plan),
        'settings', target.settings, 'limits', target.limits,
        'memberships', (SELECT coalesce(jsonb_agg(jsonb_build_object('actor', m.actor, 'role', m.role,
                                                                     'active', m.is_active)
                                                  ORDER BY m.role DESC, m.actor), '[]')
                          FROM tenancy.memberships m WHERE m.tenant_id = target.id),
        'domains', (SELECT coalesce(jsonb_agg(d.host ORDER BY d.host), '[]')
                      FROM tenancy.domains d WHERE d.tenant_id = target.id),
        'created_at', target.created_at)
$$;

-- The tables an export holds, in load order, each with its columns, its key
-- and the query that reads the tenant's rows of it (in key order, so that
-- two exports of the same rows have the same checksums).
CREATE OR REPLACE FUNCTION tenancy._export_tables(tenant uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'table', format('%I.%I', n.nspname, c.relname),
               'columns', (SELECT jsonb_agg(jsonb_build_object('name', pc.column_name, 'type', pc.type_name)
                                            ORDER BY pc.attnum)
                             FROM tenancy._portable_columns(o.relid) pc),
               'key', to_jsonb(k.key),
               'query', format('SELECT %s FROM ONLY %I.%I WHERE tenant_id OPERATOR(pg_catalog.=) %L::pg_catalog.uuid%s',
                               (SELECT string_agg(quote_ident(pc.column_name), ', ' ORDER BY pc.attnum)
                                  FROM tenancy._portable_columns(o.relid) pc),
                               n.nspname, c.relname, tenant,
                               CASE WHEN k.key IS NOT NULL
                                    THEN ' ORDER BY ' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(k.key) x)
                                    ELSE '' END))
           ORDER BY o.position), '[]')
      FROM unnest(tenancy._load_order(ARRAY(SELECT p.relid FROM tenancy.protected_tables p))) WITH ORDINALITY
           AS o(relid, position)
      JOIN pg_class c ON c.oid = o.relid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN LATERAL (
          SELECT array_agg(a.attname ORDER BY x.ord) FILTER (WHERE a.attname <> 'tenant_id') AS key
            FROM pg_index i
           CROSS JOIN LATERAL unnest(i.indkey::smallint[]) WITH ORDINALITY AS x(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.attnum
           WHERE i.indrelid = o.relid AND i.indisprimary) k ON true
$$;

CREATE OR REPLACE FUNCTION tenancy.export_manifest(tenant text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants := tenancy._tenant_for_caller(tenant, 'admin', 'export the tenant');
    relid regclass;
BEGIN
    PERFORM tenancy._require_rows_in_tables(target, 'export');
    -- The export plans queries on every protected table with the caller's
    -- rights: an owner's code that planning runs would run with them.
    FOR relid IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        PERFORM tenancy._refuse_owner_code(relid, 'An export queries the table with your rights');
    END LOOP;
    RETURN jsonb_build_object(
        'format', 'pg_tenancy export', 'format_version', 1,
        'extension_version', (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_tenancy'),
        'database', current_database(), 'exported_at', now(), 'exported_by', tenancy.actor(),
        'tenant', tenancy._tenant_description(target),
        'tables', tenancy._export_tables(target.id));
END
$$;
COMMENT ON FUNCTION tenancy.export_manifest(text) IS
    'what an export of a tenant holds: its description (plan, settings, limits, region, members, domains) and '
    'each protected table with its columns and the query that reads the tenant''s rows (tenant owners/admins '
    'and platform admins)';

-- Checks an export's manifest before anything is created from it.
CREATE OR REPLACE FUNCTION tenancy._require_manifest(manifest jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF manifest IS NULL OR jsonb_typeof(manifest) <> 'object' OR manifest->>'format' IS DISTINCT FROM 'pg_tenancy export'
       OR jsonb_typeof(manifest->'tenant') IS DISTINCT FROM 'object'
       OR jsonb_typeof(manifest->'tables') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'not the manifest of a pg_tenancy export',
            DETAIL = 'A manifest is the JSON object tenantctl tenant export writes as manifest.json, with "format", '
                     '"tenant" and "tables".';
    END IF;
    IF manifest->>'format_version' IS DISTINCT FROM '1' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('export format version %s is not supported', tenancy._shown(manifest->>'format_version')),
            HINT = 'Import it with the version of pg_tenancy that exported it, or a later one.';
    END IF;
    IF manifest->>'file_format' = 'xlsx' THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = 'an xlsx export cannot be imported',
            DETAIL = 'A spreadsheet is for people to read; its cells do not keep every type exactly.',
            HINT = 'Export the tenant again with --format csv or --format json to import it.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.import_stage(manifest jsonb)
RETURNS TABLE ("position" integer, table_name text, stage text, copy_sql text, finish_sql text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    target regclass;
    missing text;
    columns text;
    record_columns text;
    definitions text;
    json_format boolean := manifest->>'file_format' = 'json';
BEGIN
    PERFORM tenancy._require_platform_admin('import tenants');
    PERFORM tenancy._require_manifest(manifest);
    FOR entry IN SELECT e.value, e.ordinality::integer AS n
                   FROM jsonb_array_elements(manifest->'tables') WITH ORDINALITY e LOOP
        target := to_regclass(entry.value->>'table');
        IF target IS NOT NULL AND EXISTS (SELECT 1 FROM jsonb_array_elements(manifest->'tables') WITH ORDINALITY o(t, n)
                                           WHERE o.n < entry.n AND to_regclass(o.t->>'table') = target) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('the manifest lists table %s twice', target);
        END IF;
        IF target IS NULL OR NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = target) THEN
            RAISE EXCEPTION USING ERRCODE = 'undefined_table',
                MESSAGE = format('table %s of the export is not a protected table here',
                                 tenancy._shown(coalesce(entry.value->>'table', 'null'))),
                HINT = 'Create and protect the same tables (run your migrations) before importing.';
        END IF;
        missing := tenancy._untrusted_input(target);
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('table %s has a column type that runs code of its owner when a value is read in', target),
                DETAIL = format('The %s. An import reads the export''s values in with your rights, and that code '
                                'would run then.', missing),
                HINT = 'Replace it with one that calls only trusted functions (built in, or owned by a superuser), '
                       'then try again.';
        END IF;
        SELECT string_agg(tenancy._shown(c.value->>'name'), ', ') INTO missing
          FROM jsonb_array_elements(entry.value->'columns') c
         WHERE NOT EXISTS (SELECT 1 FROM tenancy._portable_columns(target) pc WHERE pc.column_name = c.value->>'name');
        IF missing IS NOT NULL OR jsonb_typeof(entry.value->'columns') IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION USING ERRCODE = 'undefined_column',
                MESSAGE = format('table %s has no column %s of the export', target, coalesce(missing, '(none listed)')),
                DETAIL = 'An import fills the columns the export has; columns that are generated, dropped or '
                         'tenant_id are never filled.',
                HINT = 'Bring the table''s definition up to date with the exported one first.';
        END IF;
        SELECT string_agg(quote_ident(pc.column_name), ', ' ORDER BY c.ordinality),
               string_agg('r.' || quote_ident(pc.column_name), ', ' ORDER BY c.ordinality),
               string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY c.ordinality)
          INTO columns, record_columns, definitions
          FROM jsonb_array_elements(entry.value->'columns') WITH ORDINALITY c
          JOIN tenancy._portable_columns(target) pc ON pc.column_name = c.value->>'name';
        "position" := entry.n;
        table_name := target::text;
        stage := format('pg_temp.tenancy_import_%s', entry.n);
        PERFORM tenancy._new_temporary_table(stage, coalesce(definitions, ''));
        -- The caller copies the files in.
        EXECUTE format('GRANT SELECT, INSERT ON TABLE %s TO %I', stage, tenancy.db_role());
        IF json_format THEN
            -- One JSON object per line, taken literally: CSV with quote and
            -- delimiter characters that JSON text never holds unescaped.
            PERFORM tenancy._new_temporary_table(stage || '_json', 'line jsonb');
            EXECUTE format('GRANT SELECT, INSERT ON TABLE %s_json TO %I', stage, tenancy.db_role());
            copy_sql := format('COPY %s_json (line) FROM STDIN (FORMAT csv, QUOTE %L, DELIMITER %L)', stage,
                               chr(1), chr(2));
            finish_sql := format('INSERT INTO %1$s (%2$s) SELECT %3$s FROM %1$s_json j, '
                                 'pg_catalog.jsonb_populate_record(NULL::%1$s, j.line) r', stage, columns,
                                 record_columns);
        ELSE
            copy_sql := format('COPY %s (%s) FROM STDIN (FORMAT csv, HEADER match)', stage, columns);
            finish_sql := NULL;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.import_stage(jsonb) IS
    'makes the temporary tables an import copies the files of an export into (one per table of its manifest, '
    'dropped at commit) and returns the COPY statement of each (platform admins only)';

-- Creates a tenant from a description: plan, settings, limits, and when
-- asked its members and the domains no other tenant holds. Returns the new
-- tenant's id and the domains left out.
CREATE OR REPLACE FUNCTION tenancy._create_from_description(
    slug text, description jsonb, name text, isolation tenancy.isolation, region text,
    with_members boolean, with_domains boolean, owner text)
RETURNS TABLE (id uuid, domains_left_out jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    plan text := description->>'plan';
    item record;
    left_out jsonb := '[]';
BEGIN
    IF plan IS NOT NULL AND plan <> 'basic' AND NOT EXISTS (SELECT 1 FROM tenancy.plans p WHERE p.name = plan) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('plan "%s" does not exist', tenancy._shown(plan)),
            DETAIL = format('The tenant was on plan "%s": %s.', tenancy._shown(plan),
                            coalesce((description->'plan_definition')::text, 'no definition was exported')),
            HINT = 'Create the plan first (tenantctl plan create), with the features and limits you want here.';
    END IF;
    id := tenancy.create_tenant(slug, coalesce(name, description->>'name'), owner, coalesce(plan, 'basic'),
                                coalesce(isolation, (description->>'isolation')::tenancy.isolation, 'row'), NULL,
                                coalesce(region, description->>'region'));
    FOR item IN SELECT s.key, s.value FROM jsonb_each(coalesce(description->'settings', '{}')) s ORDER BY s.key LOOP
        PERFORM tenancy.set_tenant_setting(slug, item.key, item.value);
    END LOOP;
    FOR item IN SELECT l.key, l.value FROM jsonb_each(coalesce(description->'limits', '{}')) l ORDER BY l.key LOOP
        PERFORM tenancy.set_limit(slug, item.key, item.value);
    END LOOP;
    IF with_members THEN
        FOR item IN SELECT m.value->>'actor' AS actor, (m.value->>'role')::tenancy.role AS role,
                           coalesce((m.value->>'active')::boolean, true) AS active
                      FROM jsonb_array_elements(coalesce(description->'memberships', '[]')) m
                     ORDER BY (m.value->>'role')::tenancy.role DESC LOOP
            IF owner IS NOT NULL AND tenancy._normalize_actor(item.actor) = tenancy._normalize_actor(owner) THEN
                CONTINUE;
            END IF;
            PERFORM tenancy.add_member(slug, item.actor, item.role);
            IF NOT item.active THEN
                PERFORM tenancy.set_member_active(slug, item.actor, false);
            END IF;
        END LOOP;
    END IF;
    IF with_domains THEN
        FOR item IN SELECT d.value #>> '{}' AS host FROM jsonb_array_elements(coalesce(description->'domains', '[]')) d LOOP
            IF EXISTS (SELECT 1 FROM tenancy.domains d WHERE d.host = tenancy._canonical_host(item.host)) THEN
                left_out := left_out || to_jsonb(item.host);
            ELSE
                PERFORM tenancy.add_domain(slug, item.host);
            END IF;
        END LOOP;
    END IF;
    domains_left_out := left_out;
    RETURN NEXT;
END
$$;

-- Gives a table's owner a privilege on a temporary table of the session
-- (a staged table or a key map), for the statements it runs as that owner.
CREATE OR REPLACE FUNCTION tenancy._grant_to_owner(temporary regclass, privileges text, target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('GRANT %s ON TABLE %s TO %I', privileges, temporary,
                   (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = target));
END
$$;

-- Loads staged rows into a tenant: each table's (tables[i]) rows from its
-- temporary table (stages[i]), in foreign key order, as the table's owner
-- with protected tables open for the tenant only. Generated keys get new
-- values (through a temporary map of old to new) and the columns that refer
-- to them follow; a reference to a row that is not there, or a row an
-- owner's trigger keeps out, makes the whole load fail. Returns the rows
-- loaded per table.
CREATE OR REPLACE FUNCTION tenancy._load_staged(tenant uuid, tables regclass[], stages regclass[]) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target regclass;
    stage regclass;
    maps jsonb := '{}';
    map_count integer := 0;
    map_name text;
    counts jsonb := '{}';
    key record;
    column_item record;
    insert_columns text;
    select_list text;
    joins text;
    join_count integer;
    staged bigint;
    loaded bigint;
    dangling bigint;
    eq text;
    constraint_name text;
    problem text;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(tables), 0) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = stages[i] AND c.relpersistence = 't' AND c.relkind = 'r'
                                                  AND c.relnamespace = pg_my_temp_schema()) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('%s is not a temporary table of this session', stages[i]);
        END IF;
    END LOOP;
    FOR i IN 1 .. coalesce(cardinality(tables), 0) LOOP
        IF NOT EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = tables[i])
           OR array_position(tables, tables[i]) <> i THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('%s is not a protected table, or is named twice', tables[i]),
                HINT = 'Rows are loaded only into protected tables, each once.';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = stages[i] AND a.attnum > 0 AND NOT a.attisdropped
                      AND NOT EXISTS (SELECT 1 FROM tenancy._portable_columns(tables[i]) pc
                                       WHERE pc.column_name = a.attname)) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('%s has columns that are not columns of %s an import fills', stages[i], tables[i]);
        END IF;
    END LOOP;
    FOREACH target IN ARRAY tenancy._load_order(tables) LOOP
        stage := stages[array_position(tables, target)];
        PERFORM tenancy._refuse_owner_code(target, 'A copy of a tenant''s rows queries the table as its owner');
        PERFORM tenancy._grant_to_owner(stage, 'SELECT', target);
        -- First the maps of the keys this table generates (unless the column
        -- refers to a key of a table loaded before: it follows that one).
        FOR key IN
            SELECT g.column_name, g.value_sql, a.atttypid AS type_oid, format_type(a.atttypid, a.atttypmod) AS type_name
              FROM tenancy._generated_keys(target) g
              JOIN pg_attribute a ON a.attrelid = stage AND a.attname = g.column_name AND NOT a.attisdropped
             WHERE NOT EXISTS (SELECT 1 FROM tenancy._referring_columns(target) r
                                WHERE r.column_name = g.column_name
                                  AND maps ? (r.parent::oid::text || '/' || r.parent_column)) LOOP
            IF tenancy._equality_operator(key.type_oid) IS NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                    MESSAGE = format('column %I of %s is a generated key of a type without equality',
                                     key.column_name, target),
                    HINT = 'Give its type a default btree operator class.';
            END IF;
            map_count := map_count + 1;
            map_name := format('pg_temp.tenancy_key_map_%s', map_count);
            PERFORM tenancy._new_temporary_table(map_name, format('old_key %s, new_key %s', key.type_name,
                                                                 key.type_name));
            PERFORM tenancy._grant_to_owner(map_name::regclass, 'SELECT, INSERT', target);
            -- New keys in the order of the old ones, made by the table's
            -- own default as its owner.
            PERFORM tenancy._rows_as_owner(target, tenant, 'owner', format(
                'INSERT INTO %s (old_key, new_key) SELECT k.v, %s FROM (SELECT DISTINCT s.%I AS v FROM %s s '
                'WHERE s.%I IS NOT NULL ORDER BY 1) k', map_name, key.value_sql, key.column_name, stage,
                key.column_name), NULL);
            IF (SELECT (f #>> '{}')::boolean FROM tenancy._rows_as_owner(target, tenant, 'owner', format(
                    'SELECT pg_catalog.to_jsonb(pg_catalog.count(*) = pg_catalog.count(DISTINCT m.new_key)) FROM %s m',
                    map_name), NULL) f) IS NOT TRUE THEN
                RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('the default of column %I of %s did not make a new distinct key for each row',
                                     key.column_name, target),
                    HINT = 'Nothing was loaded.';
            END IF;
            maps := maps || jsonb_build_object(target::oid::text || '/' || key.column_name, map_name);
        END LOOP;
        -- Then the statement: mapped columns take the new key of their row.
        joins := '';
        join_count := 0;
        select_list := '$1';
        insert_columns := 'tenant_id';
        FOR column_item IN
            SELECT a.attname AS column_name, a.atttypid AS type_oid,
                   (SELECT maps->>(r.parent::oid::text || '/' || r.parent_column)
                      FROM tenancy._referring_columns(target) r
                     WHERE r.column_name = a.attname AND maps ? (r.parent::oid::text || '/' || r.parent_column)
                     LIMIT 1) AS parent_map,
                   maps->>(target::oid::text || '/' || a.attname) AS own_map
              FROM pg_attribute a
             WHERE a.attrelid = stage AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum LOOP
            eq := tenancy._equality_operator(column_item.type_oid);
            map_name := coalesce(column_item.parent_map, column_item.own_map);
            IF column_item.parent_map IS NOT NULL THEN
                -- Every reference must find its row among the loaded ones.
                PERFORM tenancy._grant_to_owner(map_name::regclass, 'SELECT', target);
                SELECT (f #>> '{}')::bigint INTO dangling
                  FROM tenancy._rows_as_owner(target, tenant, 'owner', format(
                       'SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM %s s LEFT JOIN %s m ON m.old_key %s s.%I '
                       'WHERE s.%I IS NOT NULL AND m.old_key IS NULL', stage, map_name, eq, column_item.column_name,
                       column_item.column_name), NULL) f;
                IF dangling > 0 THEN
                    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                        MESSAGE = format('%s row(s) of %s refer through column %I to rows that are not among the '
                                         'tenant''s', dangling, target, column_item.column_name),
                        DETAIL = 'Each reference to a generated key is changed to the new key of the row it refers '
                                 'to; these rows refer to a row of another tenant, or to one the export lacks.',
                        HINT = 'Nothing was loaded. Check the rows of the source tenant.';
                END IF;
            END IF;
            insert_columns := insert_columns || ', ' || quote_ident(column_item.column_name);
            IF map_name IS NULL THEN
                select_list := select_list || format(', s.%I', column_item.column_name);
            ELSE
                join_count := join_count + 1;
                joins := joins || format(' LEFT JOIN %s j%s ON j%s.old_key %s s.%I', map_name, join_count, join_count,
                                         eq, column_item.column_name);
                select_list := select_list || format(', j%s.new_key', join_count);
            END IF;
        END LOOP;
        EXECUTE format('SELECT pg_catalog.count(*) FROM %s', stage) INTO staged;
        BEGIN
            SELECT (f #>> '{}')::bigint INTO loaded
              FROM tenancy._rows_as_owner(target, tenant, 'owner', format(
                   'WITH loaded AS (INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s%s RETURNING 1) '
                   'SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM loaded', target, insert_columns, select_list,
                   stage, joins), NULL) f;
        EXCEPTION WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME, problem = PG_EXCEPTION_DETAIL;
            RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                MESSAGE = format('the rows of %s cannot go into another tenant', target),
                DETAIL = format('Unique constraint "%s" holds across tenants and the table does not generate its '
                                'values, so a copy would repeat them.%s', constraint_name,
                                coalesce(' ' || nullif(problem, ''), '')),
                HINT = 'Make the constraint include tenant_id, or let the table generate the column (identity, a '
                       'sequence or a default), so that a copy gets new values.';
        END;
        IF loaded IS DISTINCT FROM staged THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s of %s row(s) of %s were loaded', coalesce(loaded, 0), staged, target),
                DETAIL = 'A trigger or rule of the table''s owner kept rows out.',
                HINT = 'Nothing was loaded. Disable that trigger or rule for the copy, or change it.';
        END IF;
        counts := counts || jsonb_build_object(target::text, loaded);
    END LOOP;
    RETURN counts;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.import_tenant(slug text, manifest jsonb, isolation tenancy.isolation DEFAULT NULL,
                                                 region text DEFAULT NULL, allow_cross_region boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    created record;
    tables regclass[];
    stages regclass[];
    missing text;
    origin text := manifest->'tenant'->>'region';
    destination text;
    counted record;
    loaded jsonb;
    wanted tenancy.isolation;
BEGIN
    PERFORM tenancy._require_platform_admin('import tenants');
    PERFORM tenancy._require_manifest(manifest);
    destination := coalesce(import_tenant.region, origin, 'default');
    -- Data residency: a tenant stays in its region unless moving it is
    -- allowed in so many words.
    IF NOT coalesce(allow_cross_region, false)
       AND (destination IS DISTINCT FROM coalesce(origin, 'default')
            OR (destination <> 'default' AND NOT EXISTS (SELECT 1 FROM tenancy.regions r WHERE r.name = destination))) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" belongs to region "%s"', tenancy._shown(manifest->'tenant'->>'slug'),
                             tenancy._shown(coalesce(origin, 'default'))),
            DETAIL = CASE WHEN destination IS DISTINCT FROM coalesce(origin, 'default')
                          THEN format('Importing it into region "%s" would move its data to another region.',
                                      tenancy._shown(destination))
                          ELSE format('Region "%s" is not defined in this database, so this server is not one of its '
                                      'servers.', tenancy._shown(destination)) END,
            HINT = 'Import it on a server of its region, or allow the move with allow_cross_region => true '
                   '(tenantctl: --allow-cross-region).';
    END IF;
    -- Allowed to move and its region unknown here: the default region.
    IF coalesce(allow_cross_region, false) AND import_tenant.region IS NULL
       AND NOT EXISTS (SELECT 1 FROM tenancy.regions r WHERE r.name = destination) THEN
        destination := coalesce(nullif(current_setting('tenancy.default_region', true), ''), 'default');
    END IF;
    SELECT array_agg(to_regclass(e.value->>'table') ORDER BY e.n),
           array_agg(to_regclass(format('pg_temp.tenancy_import_%s', e.n)) ORDER BY e.n),
           string_agg(e.value->>'table', ', ') FILTER (WHERE to_regclass(format('pg_temp.tenancy_import_%s', e.n)) IS NULL)
      INTO tables, stages, missing
      FROM jsonb_array_elements(manifest->'tables') WITH ORDINALITY e(value, n);
    IF missing IS NOT NULL OR NULL = ANY (tables) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the rows of %s are not staged', coalesce(tenancy._shown(missing), 'the export''s tables')),
            HINT = 'Call tenancy.import_stage() with the same manifest and copy each file into its table first, in '
                   'the same transaction (tenantctl tenant import does).';
    END IF;
    -- A schema-mode tenant is made in row mode, loaded, then moved into its
    -- schema (the rows are in protected tables in an export).
    wanted := coalesce(isolation, (manifest->'tenant'->>'isolation')::tenancy.isolation, 'row');
    SELECT * INTO created FROM tenancy._create_from_description(slug, manifest->'tenant', NULL,
                                                                 CASE WHEN wanted = 'schema' THEN 'row' ELSE wanted END,
                                                                 destination,
                                                                 true, true, NULL);
    loaded := tenancy._load_staged(created.id, coalesce(tables, '{}'), coalesce(stages, '{}'));
    -- The rows of each file are those the manifest counted.
    FOR counted IN SELECT e.value->>'table' AS table_name, (e.value->>'rows')::bigint AS expected,
                          coalesce((loaded->>(to_regclass(e.value->>'table')::text))::bigint, 0) AS found
                     FROM jsonb_array_elements(manifest->'tables') e
                    WHERE e.value ? 'rows' LOOP
        IF counted.found <> counted.expected THEN
            RAISE EXCEPTION USING ERRCODE = 'data_exception',
                MESSAGE = format('the export holds %s row(s) of %s, but its manifest counts %s', counted.found,
                                 tenancy._shown(counted.table_name), counted.expected),
                HINT = 'The export is incomplete or was changed; nothing was imported. Export the tenant again.';
        END IF;
    END LOOP;
    IF wanted = 'schema' THEN
        PERFORM tenancy._move_rows_to_schema((SELECT t FROM tenancy.tenants t WHERE t.id = created.id));
    END IF;
    RETURN jsonb_build_object('tenant', slug, 'id', created.id, 'region', (SELECT t.region FROM tenancy.tenants t WHERE t.id = created.id),
                              'rows', loaded, 'domains_left_out', created.domains_left_out);
END
$$;
COMMENT ON FUNCTION tenancy.import_tenant(text, jsonb, tenancy.isolation, text, boolean) IS
    'creates a tenant from an export''s manifest (plan, settings, limits, members, free domains) and loads the rows '
    'staged with import_stage(), with new keys where the tables generate them (into its schema for schema '
    'isolation); refuses to move the tenant out of '
    'its region unless allow_cross_region (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.clone_tenant(source text, slug text, name text DEFAULT NULL,
                                                template boolean DEFAULT false, owner text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    origin tenancy.tenants;
    created record;
    tables regclass[];
    stages regclass[] := '{}';
    target regclass;
    stage text;
    columns text;
    definitions text;
BEGIN
    PERFORM tenancy._require_platform_admin('clone tenants');
    origin := tenancy._find_tenant(source);
    IF NOT coalesce(template, false) THEN
        PERFORM tenancy._require_rows_in_tables(origin, 'clone');
    END IF;
    SELECT * INTO created FROM tenancy._create_from_description(slug, tenancy._tenant_description(origin), name, NULL,
                                                                 NULL, NOT coalesce(template, false), false, owner);
    IF coalesce(template, false) THEN
        RETURN created.id;
    END IF;
    tables := ARRAY(SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text);
    FOR i IN 1 .. coalesce(cardinality(tables), 0) LOOP
        target := tables[i];
        PERFORM tenancy._refuse_owner_code(target, 'A clone reads the table''s rows as its owner');
        SELECT string_agg(quote_ident(pc.column_name), ', ' ORDER BY pc.attnum),
               string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY pc.attnum)
          INTO columns, definitions
          FROM tenancy._portable_columns(target) pc;
        stage := format('pg_temp.tenancy_clone_%s', i);
        PERFORM tenancy._new_temporary_table(stage, coalesce(definitions, ''));
        PERFORM tenancy._grant_to_owner(stage::regclass, 'INSERT', target);
        -- The source's rows, read as the table's owner with the table's
        -- read role, protected tables showing the source tenant only.
        PERFORM tenancy._rows_as_owner(target, origin.id,
                                       (SELECT p.read_role FROM tenancy.protected_tables p WHERE p.relid = target),
                                       format('INSERT INTO %s (%s) SELECT %s FROM ONLY %s t '
                                              'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1', stage, columns, columns,
                                              target), NULL);
        stages := stages || stage::regclass;
    END LOOP;
    PERFORM tenancy._load_staged(created.id, tables, stages);
    FOREACH target IN ARRAY stages LOOP
        EXECUTE format('DROP TABLE %s', target);
    END LOOP;
    RETURN created.id;
END
$$;
COMMENT ON FUNCTION tenancy.clone_tenant(text, text, text, boolean, text) IS
    'copies a tenant into a new one: plan, settings, limits, members and every protected row (new keys where the '
    'tables generate them), or with template => true everything but members and rows; domains stay with the '
    'source; owner adds a first owner (platform admins only)';

REVOKE ALL ON FUNCTION tenancy._new_temporary_table(text, text), tenancy._portable_columns(regclass),
    tenancy._require_rows_in_tables(tenancy.tenants, text),
    tenancy._generated_keys(regclass),
    tenancy._untrusted_input(regclass),
    tenancy._referring_columns(regclass), tenancy._load_order(regclass[]), tenancy._tenant_description(tenancy.tenants),
    tenancy._export_tables(uuid), tenancy._require_manifest(jsonb),
    tenancy._create_from_description(text, jsonb, text, tenancy.isolation, text, boolean, boolean, text),
    tenancy._grant_to_owner(regclass, text, regclass), tenancy._load_staged(uuid, regclass[], regclass[])
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._portable_columns(regclass) IS 'internal: the columns an export holds of a table';
COMMENT ON FUNCTION tenancy._require_rows_in_tables(tenancy.tenants, text) IS
    'internal: error unless the tenant keeps its rows in protected tables';
COMMENT ON FUNCTION tenancy._new_temporary_table(text, text) IS
    'internal: a new temporary table of the session, dropped at commit';
COMMENT ON FUNCTION tenancy._untrusted_input(regclass) IS
    'internal: what in a table''s column types runs untrusted code when a value is read in';
COMMENT ON FUNCTION tenancy._generated_keys(regclass) IS
    'internal: the unique columns a table generates, with the expression that makes a value';
COMMENT ON FUNCTION tenancy._referring_columns(regclass) IS 'internal: the columns of a table''s foreign keys';
COMMENT ON FUNCTION tenancy._load_order(regclass[]) IS 'internal: tables after the tables they refer to';
COMMENT ON FUNCTION tenancy._tenant_description(tenancy.tenants) IS 'internal: everything about a tenant but its rows';
COMMENT ON FUNCTION tenancy._export_tables(uuid) IS 'internal: the tables of an export and their queries';
COMMENT ON FUNCTION tenancy._require_manifest(jsonb) IS 'internal: error unless an importable export manifest';
COMMENT ON FUNCTION tenancy._create_from_description(text, jsonb, text, tenancy.isolation, text, boolean, boolean, text) IS
    'internal: a new tenant made from a description';
COMMENT ON FUNCTION tenancy._grant_to_owner(regclass, text, regclass) IS
    'internal: a privilege on a temporary table for a table''s owner';
COMMENT ON FUNCTION tenancy._load_staged(uuid, regclass[], regclass[]) IS
    'internal: loads staged rows into a tenant as the tables'' owners';
-- pg_tenancy: schema-mode tenants, and one way into a tenant for every mode.
-- A schema-mode tenant's tables live in its own schema, tenant_<slug>, which
-- pg_tenancy opens only to statements whose validated tenant it is
-- (extension/tenant_schemas.cpp); tenancy.enter() selects the tenant and the
-- search path together, so that unqualified names find the tenant's tables.

-- Returns the schema name a schema-mode tenant with this slug gets.
CREATE OR REPLACE FUNCTION tenancy._schema_name_for(slug text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'tenant_' || replace(slug, '-', '_')
$$;
COMMENT ON FUNCTION tenancy._schema_name_for(text) IS
    'internal: the schema of a schema-mode tenant with this slug (tenant_<slug>, "-" turned into "_")';

CREATE OR REPLACE FUNCTION tenancy.tenant_schema(tenant text) RETURNS name
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (tenancy._tenant_for_caller(tenant, 'viewer', 'see the schema')).schema_name::name;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_schema(text) IS
    'the schema of a schema-mode tenant (tenant_<slug>), null in the other modes (its members and platform '
    'admins)';

CREATE OR REPLACE FUNCTION tenancy.tenant_database(tenant text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    target := tenancy._tenant_for_caller(tenant, 'viewer', 'see the database');
    RETURN CASE WHEN target.isolation = 'database' THEN tenancy._schema_name_for(target.slug) END;
END
$$;
COMMENT ON FUNCTION tenancy.tenant_database(text) IS
    'the database of a database-mode tenant (tenant_<slug>), null in the other modes (its members and '
    'platform admins)';

-- Returns the shared schemas: the entries of the session's configured
-- search_path (its value at RESET) that are not a tenant's schema, in order,
-- each with the schema name it means ("$user" means none).
CREATE OR REPLACE FUNCTION tenancy._shared_schemas()
RETURNS TABLE (entry text, schema_name text, search_order bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.entry, p.schema_name, p.search_order
      FROM pg_settings s,
           regexp_split_to_table(s.reset_val, '\s*,\s*') WITH ORDINALITY AS e(entry, search_order),
           LATERAL (SELECT e.entry, e.search_order,
                           CASE WHEN e.entry LIKE '"%"' THEN replace(substr(e.entry, 2, length(e.entry) - 2), '""', '"')
                                ELSE lower(e.entry) END AS schema_name) p
     WHERE s.name = 'search_path' AND p.entry <> ''
       AND NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = p.schema_name)
$$;
REVOKE ALL ON FUNCTION tenancy._shared_schemas() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._shared_schemas() IS
    'internal: the shared schemas, the entries of the session''s configured search_path without tenant schemas';

-- Returns the shared schemas as a search path.
CREATE OR REPLACE FUNCTION tenancy._shared_search_path() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(string_agg(s.entry, ', ' ORDER BY s.search_order), '') FROM tenancy._shared_schemas() s
$$;
COMMENT ON FUNCTION tenancy._shared_search_path() IS
    'internal: the shared schemas, the session''s configured search_path without tenant schemas';

-- Says whether the session is inside a transaction block (BEGIN ... COMMIT).
CREATE OR REPLACE FUNCTION tenancy._in_transaction_block() RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'tenancy_in_transaction_block';
COMMENT ON FUNCTION tenancy._in_transaction_block() IS
    'internal: whether the session is inside a transaction block';

-- Returns the slug of a tenant the caller may enter and the search path that
-- finds its tables; raises when the caller may not enter it.
CREATE OR REPLACE FUNCTION tenancy._entry(tenant text, OUT slug text, OUT path text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
BEGIN
    target := tenancy._tenant_for_caller(tenant, 'viewer', 'use the data');
    IF target.status = 'suspended' AND NOT tenancy.is_platform_admin() THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is suspended', target.slug),
            HINT = 'A platform admin can reactivate it with tenancy.activate_tenant().';
    END IF;
    IF target.isolation = 'database' THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = format('tenant "%s" lives in its own database', target.slug),
            DETAIL = format('Database-mode tenants are entered by connecting to their database, not from '
                            'database "%s".', current_database()),
            HINT = format('Connect to database "%s" (tenantctl psql %s).',
                          tenancy._schema_name_for(target.slug), target.slug);
    END IF;
    slug := target.slug;
    path := tenancy._shared_search_path();
    IF target.isolation = 'schema' THEN
        path := concat_ws(', ', quote_ident(target.schema_name), nullif(path, ''));
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._entry(text) IS
    'internal: the slug and search path of a tenant the caller may enter';

-- Not SECURITY DEFINER, and without a search_path of its own, which would
-- be put back when it returns: every name is qualified.
CREATE OR REPLACE FUNCTION tenancy.enter(tenant text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    entry record;
    local boolean := tenancy._in_transaction_block();
BEGIN
    entry := tenancy._entry(tenant);
    PERFORM pg_catalog.set_config('tenancy.tenant', entry.slug, local);
    PERFORM pg_catalog.set_config('search_path', entry.path, local);
    RETURN entry.path;
END
$$;
COMMENT ON FUNCTION tenancy.enter(text) IS
    'selects a tenant and the search path that finds its tables (its schema first in schema mode), for the '
    'transaction inside a transaction block and for the session outside one; returns the search path';

-- Creates the schema of a new schema-mode tenant and applies to it every
-- tenant migration applied so far (tenancy.migration_scripts), each as the
-- role that first applied it, with the new tenant open.
CREATE OR REPLACE FUNCTION tenancy._create_tenant_schema(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    script tenancy.migration_scripts;
    started timestamptz;
BEGIN
    SELECT * INTO STRICT target FROM tenancy.tenants t WHERE t.id = _create_tenant_schema.tenant;
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', target.schema_name,
                   (SELECT pg_get_userbyid(d.datdba) FROM pg_database d WHERE d.datname = current_database()));
    FOR script IN SELECT * FROM tenancy.migration_scripts ORDER BY version LOOP
        started := clock_timestamp();
        IF (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = script.run_as) THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('tenant migration %s would run as superuser %s', script.version, script.run_as),
                DETAIL = 'A new tenant''s schema replays tenant migrations as the role that applied them; a '
                         'superuser''s session would resolve names in schemas other roles may write to.',
                HINT = format('Make %s an ordinary role (the database''s owner), or delete the migration from '
                              'tenancy.migration_scripts.', script.run_as);
        END IF;
        BEGIN
            PERFORM tenancy._run_in_tenant(script.run_as, target.id,
                                              concat_ws(', ', quote_ident(target.schema_name),
                                                        nullif(script.shared_path, '')),
                                              script.body);
        EXCEPTION WHEN OTHERS THEN
            DECLARE
                message text;
                state text;
            BEGIN
                GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
                RAISE EXCEPTION USING ERRCODE = state,
                    MESSAGE = format('tenant migration %s failed in the new schema %s: %s',
                                     script.version, target.schema_name, message),
                    HINT = 'Fix the migration (tenantctl migrate refuses a changed file; add a new one), '
                           'then create the tenant again.';
            END;
        END;
        INSERT INTO tenancy.migrations (scope, tenant_id, version, checksum, duration, applied_by)
        VALUES ('tenant', target.id, script.version, script.checksum, clock_timestamp() - started,
                script.run_as::text);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._create_tenant_schema(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._create_tenant_schema(uuid) IS
    'internal: creates a schema-mode tenant''s schema and applies every tenant migration to it';

CREATE OR REPLACE FUNCTION tenancy._run_in_tenant(run_as regrole, tenant uuid, path text, body text)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_run_in_tenant';
REVOKE ALL ON FUNCTION tenancy._run_in_tenant(regrole, uuid, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._run_in_tenant(regrole, uuid, text, text) IS
    'internal: runs a migration as a role, with the search path given and one tenant open';

-- The trigger that drops a schema-mode tenant's schema with the tenant.
CREATE OR REPLACE FUNCTION tenancy._drop_tenant_schema() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Dropped with the tenant's schema open (nothing else may drop it), as
    -- the extension's owner.
    IF EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = OLD.schema_name) THEN
        PERFORM tenancy._run_in_tenant(current_user::regrole, OLD.id, 'pg_catalog, pg_temp',
                                       format('DROP SCHEMA %I CASCADE', OLD.schema_name));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tenancy._drop_tenant_schema() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._drop_tenant_schema() IS
    'internal: drops the schema of a schema-mode tenant when the tenant is deleted';
-- pg_tenancy: tenant-scoped cache keys and a small cache in the database.
-- Every function works for the statement's validated tenant only
-- (tenancy.current_tenant_id() refuses when there is none), so no tenant
-- ever reads or writes another's entries.

CREATE OR REPLACE FUNCTION tenancy._require_cache_key(key text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'cache key must not be null';
    END IF;
    IF octet_length(key) NOT BETWEEN 1 AND 1024 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'cache key must have 1 to 1024 bytes',
            DETAIL = format('The key given has %s bytes.', octet_length(key));
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_cache_key(text) IS 'internal: raises unless a cache key is usable';

CREATE OR REPLACE FUNCTION tenancy.cache_key(key text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_cache_key(key);
    RETURN 'tenant:' || tenancy.current_tenant_id()::text || ':' || key;
END
$$;
COMMENT ON FUNCTION tenancy.cache_key(text) IS
    'the key prefixed with the validated current tenant''s id ("tenant:<uuid>:<key>"), for application caches '
    '(Redis, memcached): a tenant dropped and created again under the same slug never reads the old entries';

CREATE OR REPLACE FUNCTION tenancy.cache_put(key text, value jsonb, ttl interval DEFAULT '1 hour')
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant uuid := tenancy.current_tenant_id();
BEGIN
    PERFORM tenancy._require_cache_key(key);
    IF value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'cache value must not be null',
            HINT = 'Remove an entry with tenancy.cache_delete(), or store the JSON value null.';
    END IF;
    IF ttl IS NULL OR ttl <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('cache ttl must be positive, not %s', coalesce(ttl::text, 'null'));
    END IF;
    IF pg_column_size(value) > 1048576 THEN
        RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
            MESSAGE = 'cache value is too large',
            DETAIL = format('The value takes %s bytes; an entry holds at most 1 MB.', pg_column_size(value));
    END IF;
    INSERT INTO tenancy.cache AS c (tenant_id, key, value, expires_at)
    VALUES (tenant, key, value, now() + ttl)
    ON CONFLICT ON CONSTRAINT cache_pkey DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at;
    -- Expired entries of the tenant go a few at a time.
    DELETE FROM tenancy.cache c
     WHERE c.ctid = ANY (ARRAY(SELECT e.ctid FROM tenancy.cache e
                                WHERE e.tenant_id = tenant AND e.expires_at <= now() LIMIT 16));
END
$$;
COMMENT ON FUNCTION tenancy.cache_put(text, jsonb, interval) IS
    'stores a value under a key in the current tenant''s cache for ttl (default 1 hour); at most 1 MB';

CREATE OR REPLACE FUNCTION tenancy.cache_get(key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_cache_key(key);
    RETURN (SELECT c.value FROM tenancy.cache c
             WHERE c.tenant_id = tenancy.current_tenant_id() AND c.key = cache_get.key
               AND c.expires_at > now());
END
$$;
COMMENT ON FUNCTION tenancy.cache_get(text) IS
    'the value stored under a key in the current tenant''s cache, null when absent or expired';

CREATE OR REPLACE FUNCTION tenancy.cache_delete(key text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed boolean;
BEGIN
    PERFORM tenancy._require_cache_key(key);
    DELETE FROM tenancy.cache c
     WHERE c.tenant_id = tenancy.current_tenant_id() AND c.key = cache_delete.key
    RETURNING c.expires_at > now() INTO removed;
    RETURN coalesce(removed, false);
END
$$;
COMMENT ON FUNCTION tenancy.cache_delete(text) IS
    'removes a key from the current tenant''s cache; true when a live entry was removed';

CREATE OR REPLACE FUNCTION tenancy.cache_purge() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    PERFORM tenancy._require_platform_admin('purge the cache');
    DELETE FROM tenancy.cache c WHERE c.expires_at <= now();
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION tenancy.cache_purge() IS
    'removes every expired cache entry of every tenant; returns how many (platform admins only; run it '
    'from a scheduler)';
-- pg_tenancy: the ledger side of tenantctl migrate. Platform admins only:
-- a migration of every tenant enters every tenant (each entry recorded).
-- A place is the shared schemas (scope shared, or scope tenant for the
-- tables of row-mode tenants) or one schema-mode tenant's schema.

-- Returns the ledger row of a migration in a place, if any.
CREATE OR REPLACE FUNCTION tenancy._migration_row(scope text, tenant uuid, version text)
RETURNS tenancy.migrations
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.* FROM tenancy.migrations m
     WHERE m.scope = _migration_row.scope AND m.version = _migration_row.version
       AND coalesce(m.tenant_id, '00000000-0000-0000-0000-000000000000') =
           coalesce(_migration_row.tenant, '00000000-0000-0000-0000-000000000000')
$$;
COMMENT ON FUNCTION tenancy._migration_row(text, uuid, text) IS 'internal: a migration''s ledger row in a place';

-- Raises unless scope, version and checksum are well formed.
CREATE OR REPLACE FUNCTION tenancy._require_migration_input(scope text, version text, checksum text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF scope IS NULL OR scope NOT IN ('shared', 'tenant') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown migration scope "%s"', tenancy._shown(coalesce(scope, 'null'))),
            HINT = 'The scopes are shared and tenant.';
    END IF;
    IF version IS NULL OR length(version) NOT BETWEEN 1 AND 255 OR version ~ '[[:cntrl:]/]' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid migration version "%s"', tenancy._shown(coalesce(version, 'null'))),
            DETAIL = 'A version is a file name: 1 to 255 characters, no "/" and no control characters.';
    END IF;
    IF checksum IS NULL OR checksum !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'a migration checksum is a SHA-256 in 64 lowercase hexadecimal digits';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._require_migration_input(text, text, text) IS
    'internal: raises unless a migration''s scope, version and checksum are well formed';

-- Raises when a migration was applied with other contents than now.
CREATE OR REPLACE FUNCTION tenancy._refuse_changed_migration(version text, applied text, given text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF applied IS DISTINCT FROM given THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('migration %s was changed after it was applied', tenancy._shown(version)),
            DETAIL = format('It was applied with SHA-256 %s; the file now has %s.', applied, given),
            HINT = 'Restore the file as it was applied, and put the change in a new migration.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy._refuse_changed_migration(text, text, text) IS
    'internal: raises when an applied migration''s file has changed';

CREATE OR REPLACE FUNCTION tenancy.migration_places()
RETURNS TABLE (tenant text, isolation tenancy.isolation, schema_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('list the places of migrations');
    RETURN QUERY
        SELECT NULL::text, 'row'::tenancy.isolation, NULL::text
        UNION ALL
        (SELECT t.slug::text, t.isolation, t.schema_name::text FROM tenancy.tenants t
          WHERE t.isolation = 'schema' ORDER BY t.slug);
END
$$;
COMMENT ON FUNCTION tenancy.migration_places() IS
    'where tenant migrations run: the shared schemas of row-mode tenants (tenant null), then every '
    'schema-mode tenant (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.migration_list()
RETURNS TABLE (scope text, tenant text, version text, checksum text, applied_at timestamptz,
               duration interval, applied_by text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._require_platform_admin('read the migrations ledger');
    RETURN QUERY
        SELECT m.scope, t.slug::text, m.version::text, m.checksum, m.applied_at, m.duration, m.applied_by
          FROM tenancy.migrations m LEFT JOIN tenancy.tenants t ON t.id = m.tenant_id
         ORDER BY m.scope, t.slug NULLS FIRST, m.version;
END
$$;
COMMENT ON FUNCTION tenancy.migration_list() IS
    'every migration applied, where, when, how long and by whom (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.start_migration(scope text, tenant text, version text, checksum text,
                                                   body text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place tenancy.tenants;
    done tenancy.migrations;
    stored tenancy.migration_scripts;
BEGIN
    PERFORM tenancy._require_platform_admin('run migrations');
    PERFORM tenancy._require_migration_input(scope, version, checksum);
    IF NOT tenancy._in_transaction_block() THEN
        RAISE EXCEPTION USING ERRCODE = 'active_sql_transaction',
            MESSAGE = 'a migration must run inside a transaction block',
            HINT = 'BEGIN, start_migration(), the migration, finish_migration(), COMMIT: it commits with its '
                   'ledger row.';
    END IF;
    IF tenant IS NOT NULL THEN
        IF scope = 'shared' THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = 'a shared migration has no tenant';
        END IF;
        place := tenancy._find_tenant(tenant);
        IF place.isolation <> 'schema' THEN
            RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
                MESSAGE = format('tenant "%s" has no schema of its own', place.slug),
                DETAIL = format('It is in %s mode: its tenant migrations run once in the shared schemas '
                                '(tenant null).', place.isolation);
        END IF;
        IF tenancy.current_tenant() IS DISTINCT FROM place.slug THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('tenant "%s" is not entered', place.slug),
                HINT = format('Run SELECT tenancy.enter(%L) first, in the same transaction.', place.slug);
        END IF;
    END IF;
    done := tenancy._migration_row(scope, place.id, version);
    IF done.version IS NOT NULL THEN
        PERFORM tenancy._refuse_changed_migration(version, done.checksum, checksum);
        RETURN false;
    END IF;
    IF scope = 'tenant' THEN
        IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = tenancy.db_role()) THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = 'tenant migrations are not applied by a superuser',
                DETAIL = 'Every tenant created later replays them as the role that applied them; a superuser '
                         'would run them with names resolved in schemas other roles may write to.',
                HINT = 'Run tenantctl migrate as the database''s owner, made a platform admin.';
        END IF;
        IF body IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
                MESSAGE = 'a tenant migration needs its body',
                DETAIL = 'Tenants created later get it from the database.';
        END IF;
        SELECT * INTO stored FROM tenancy.migration_scripts s WHERE s.version = start_migration.version;
        IF stored.version IS NOT NULL THEN
            PERFORM tenancy._refuse_changed_migration(version, stored.checksum, checksum);
        ELSE
            INSERT INTO tenancy.migration_scripts (version, checksum, body, run_as, shared_path)
            VALUES (version, checksum, body, tenancy.db_role()::regrole, tenancy._shared_search_path())
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    -- A concurrent run of the same migration in the same place waits here,
    -- then fails on the unique index; nothing runs twice.
    INSERT INTO tenancy.migrations (scope, tenant_id, version, checksum, applied_by)
    VALUES (scope, place.id, version, checksum, tenancy.actor());
    RETURN true;
END
$$;
COMMENT ON FUNCTION tenancy.start_migration(text, text, text, text, text) IS
    'records that a migration runs in a place (tenant null: the shared schemas) in this transaction; false '
    'when it ran there already (refused when its checksum differs); a tenant migration''s body is kept for '
    'tenants created later (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy.finish_migration(scope text, tenant text, version text) RETURNS interval
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    took interval;
BEGIN
    PERFORM tenancy._require_platform_admin('run migrations');
    IF NOT tenancy._in_transaction_block() THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_termination',
            MESSAGE = format('migration %s ended its own transaction', tenancy._shown(coalesce(version, 'null'))),
            DETAIL = 'What ran before its COMMIT or ROLLBACK is committed, and the ledger may say it ran.',
            HINT = 'Migrations must not contain BEGIN, COMMIT or ROLLBACK; check the place by hand.';
    END IF;
    UPDATE tenancy.migrations m SET duration = clock_timestamp() - m.applied_at
     WHERE m.scope = finish_migration.scope AND m.version = finish_migration.version
       AND m.duration IS NULL
       AND coalesce(m.tenant_id, '00000000-0000-0000-0000-000000000000') =
           coalesce((SELECT t.id FROM tenancy.tenants t WHERE t.slug = finish_migration.tenant),
                    '00000000-0000-0000-0000-000000000000')
    RETURNING m.duration INTO took;
    IF took IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('migration %s was not started here', tenancy._shown(coalesce(version, 'null'))),
            HINT = 'Call tenancy.start_migration() first, in the same transaction.';
    END IF;
    RETURN took;
END
$$;
COMMENT ON FUNCTION tenancy.finish_migration(text, text, text) IS
    'records how long a migration started in this transaction took (platform admins only)';
-- pg_tenancy: union views, the cross-tenant report of schema mode. A union
-- view shows one table of every schema-mode tenant, with a tenant_id column,
-- to platform admins. It is a view over tenancy._union_rows(), which lists
-- the tenants' tables when it is read: a tenant created or dropped is in the
-- view or gone from it at once, and the view depends on no tenant's table,
-- so tenant migrations change and drop columns freely. Its columns are the
-- tables' columns when it was made or last refreshed (refresh_union_views(),
-- which tenantctl migrate calls after a run); a tenant whose table lacks one
-- shows NULL there.

-- The columns of a table across the tenant schemas that have it: each name
-- once (tenant_id, which the view adds, left out), with the type most tables
-- give it, in the order of the tables.
CREATE OR REPLACE FUNCTION tenancy._union_columns(table_name text)
RETURNS TABLE (column_name name, column_type regtype)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH columns AS (
        SELECT a.attname, a.atttypid, a.attnum
          FROM tenancy.tenants t
               JOIN pg_namespace n ON n.nspname = t.schema_name
               JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = _union_columns.table_name
                              AND c.relkind IN ('r', 'p')
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE t.isolation = 'schema' AND a.attname <> 'tenant_id'
    ), typed AS (
        SELECT attname, atttypid, count(*) AS tables,
               row_number() OVER (PARTITION BY attname ORDER BY count(*) DESC, atttypid) AS rank
          FROM columns GROUP BY attname, atttypid
    )
    SELECT t.attname, t.atttypid::regtype
      FROM typed t JOIN (SELECT attname, min(attnum) AS position FROM columns GROUP BY attname) p USING (attname)
     WHERE t.rank = 1
     ORDER BY p.position, t.attname
$$;
REVOKE ALL ON FUNCTION tenancy._union_columns(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._union_columns(text) IS
    'internal: the columns a union view of a table shows, from the tenant schemas that have the table';

CREATE OR REPLACE FUNCTION tenancy._read_tenant_schemas(query text) RETURNS SETOF record
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_read_tenant_schemas';
REVOKE ALL ON FUNCTION tenancy._read_tenant_schemas(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._read_tenant_schemas(text) IS
    'internal: the rows of one read-only query, with every tenant schema open to reading';

-- Raises unless a union view may have a column of this type: a domain
-- runs its CHECK constraints on the NULL of a tenant whose table lacks the
-- column, so only a superuser's domain is taken.
CREATE OR REPLACE FUNCTION tenancy._require_union_type(column_name name, column_type regtype) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_type ty JOIN pg_roles r ON r.oid = ty.typowner
                WHERE ty.oid = column_type AND ty.typtype = 'd' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('column "%s" of a union view cannot have domain type %s', column_name, column_type),
            DETAIL = 'A union view reads every tenant''s table with the rights of pg_tenancy, which never runs the '
                     'CHECK constraints of a domain that an ordinary role made.',
            HINT = 'Give the column its base type in the tenants'' tables, or leave the table out of union views.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._require_union_type(name, regtype) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._require_union_type(name, regtype) IS
    'internal: raises unless a union view may have a column of this type';

-- The rows of a union view: the table of every schema-mode tenant that has
-- it, each with the tenant's id; a column a tenant's table lacks is NULL. A
-- column of another type than the view's is refused, never cast (a cast may
-- be any role's code): the view is behind, and refresh_union_views() brings
-- it up to date. Nothing but the columns is read: no cast, no function, no
-- policy (pg_tenancy's owner bypasses row level security), no inheritance
-- child.
CREATE OR REPLACE FUNCTION tenancy._union_rows(table_name text, columns name[], types regtype[])
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    query text;
    definitions text;
    mismatch record;
BEGIN
    PERFORM tenancy._require_platform_admin('read a union view');
    IF table_name IS NULL OR columns IS NULL OR types IS NULL
       OR cardinality(columns) <> cardinality(types) OR array_position(types, NULL) IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'a union view needs a table name and one type per column';
    END IF;
    PERFORM tenancy._require_union_type(columns[i], types[i]) FROM generate_subscripts(columns, 1) i;
    SELECT t.slug, a.attname, a.atttypid::regtype AS found_type, types[i] AS wanted_type INTO mismatch
      FROM tenancy.tenants t
           JOIN pg_namespace n ON n.nspname = t.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = _union_rows.table_name
                          AND c.relkind IN ('r', 'p')
           JOIN generate_subscripts(columns, 1) i ON true
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = columns[i] AND NOT a.attisdropped
     WHERE t.isolation = 'schema' AND a.atttypid <> types[i]
     ORDER BY t.slug LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('column "%s" of table "%s" of tenant "%s" has type %s, the union view''s has %s',
                             mismatch.attname, table_name, mismatch.slug, mismatch.found_type, mismatch.wanted_type),
            HINT = 'Finish the migration that changes it in every tenant, then run SELECT * FROM '
                   'tenancy.refresh_union_views().';
    END IF;
    SELECT string_agg(format('SELECT %L::uuid, %s FROM %s %I.%I', t.id,
                             (SELECT string_agg(CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
                                                                   WHERE a.attrelid = c.oid
                                                                     AND a.attname = columns[i]
                                                                     AND NOT a.attisdropped)
                                                     THEN quote_ident(columns[i])
                                                     ELSE format('NULL::%s', types[i]) END, ', ' ORDER BY i)
                                FROM generate_subscripts(columns, 1) i),
                             CASE WHEN c.relkind = 'r' THEN 'ONLY' ELSE '' END,
                             t.schema_name, _union_rows.table_name),
                      ' UNION ALL ' ORDER BY t.slug)
      INTO query
      FROM tenancy.tenants t
           JOIN pg_namespace n ON n.nspname = t.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = _union_rows.table_name
                          AND c.relkind IN ('r', 'p')
     WHERE t.isolation = 'schema';
    IF query IS NULL THEN
        RETURN;
    END IF;
    SELECT string_agg(format('%I %s', columns[i], types[i]), ', ' ORDER BY i) INTO definitions
      FROM generate_subscripts(columns, 1) i;
    RETURN QUERY EXECUTE format('SELECT * FROM tenancy._read_tenant_schemas(%L) AS r(tenant_id uuid, %s)',
                                query, definitions);
END
$$;
-- Every reader of a union view calls it; it refuses all but platform admins.
GRANT EXECUTE ON FUNCTION tenancy._union_rows(text, name[], regtype[]) TO PUBLIC;
COMMENT ON FUNCTION tenancy._union_rows(text, name[], regtype[]) IS
    'internal: the rows of a union view (platform admins)';

-- The SELECT a union view of a table with these columns runs.
CREATE OR REPLACE FUNCTION tenancy._union_view_query(table_name text, columns name[], types regtype[])
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('SELECT r.tenant_id%s FROM tenancy._union_rows(%L, %L, %L) AS r(tenant_id uuid%s)',
                  (SELECT string_agg(format(', r.%I', columns[i]), '' ORDER BY i) FROM generate_subscripts(columns, 1) i),
                  table_name, columns, types,
                  (SELECT string_agg(format(', %I %s', columns[i], types[i]), '' ORDER BY i)
                     FROM generate_subscripts(columns, 1) i))
$$;
COMMENT ON FUNCTION tenancy._union_view_query(text, name[], regtype[]) IS
    'internal: the query of a union view';

-- Creates the union view schema.name of a table, or brings an existing one
-- up to the tables' columns; returns it. The view keeps its owner, grants and
-- comment; when columns went away or changed type it is made again, which
-- views built on it prevent (2BP01).
CREATE OR REPLACE FUNCTION tenancy._make_union_view(view_schema text, view_name text, table_name text)
RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller text := tenancy.db_role();
    qualified text := format('%I.%I', view_schema, view_name);
    existing pg_class;
    columns name[];
    types regtype[];
    query text;
    made regclass;
BEGIN
    SELECT array_agg(u.column_name), array_agg(u.column_type) INTO columns, types
      FROM tenancy._union_columns(table_name) u;
    IF columns IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_table',
            MESSAGE = format('no tenant schema has a table "%s"', tenancy._shown(table_name)),
            HINT = 'A union view takes its columns from the tenants'' tables: create a schema-mode tenant and '
                   'migrate it first.';
    END IF;
    PERFORM tenancy._require_union_type(columns[i], types[i]) FROM generate_subscripts(columns, 1) i;
    query := tenancy._union_view_query(table_name, columns, types);
    SELECT c.* INTO existing FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = view_schema AND c.relname = view_name;
    IF existing.oid IS NULL THEN
        EXECUTE format('CREATE VIEW %s AS %s', qualified, query);
        EXECUTE format('ALTER VIEW %s OWNER TO %I', qualified, caller);
    ELSE
        BEGIN
            EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', qualified, query);
        EXCEPTION WHEN invalid_table_definition THEN
            -- Columns went away or changed: the view is made again as it was.
            EXECUTE format('DROP VIEW %s', qualified);
            EXECUTE format('CREATE VIEW %s AS %s', qualified, query);
            EXECUTE format('ALTER VIEW %s OWNER TO %I', qualified, existing.relowner::regrole);
            PERFORM tenancy._grant_again(qualified::regclass, existing.relacl);
            EXECUTE format('COMMENT ON VIEW %s IS %L', qualified, obj_description(existing.oid, 'pg_class'));
            DELETE FROM tenancy.union_views v WHERE v.view_id = existing.oid;
        END;
    END IF;
    made := qualified::regclass;
    INSERT INTO tenancy.union_views AS v (view_id, table_name, created_by)
    VALUES (made, _make_union_view.table_name, caller)
    ON CONFLICT (view_id) DO UPDATE SET table_name = excluded.table_name, refreshed_at = now();
    RETURN made;
END
$$;
REVOKE ALL ON FUNCTION tenancy._make_union_view(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._make_union_view(text, text, text) IS
    'internal: creates or refreshes a union view';

-- Grants on a relation the privileges of an ACL (a relation made again).
CREATE OR REPLACE FUNCTION tenancy._grant_again(target regclass, acl aclitem[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(acl) a
                 WHERE a.grantee <> (SELECT c.relowner FROM pg_class c WHERE c.oid = target) LOOP
        EXECUTE format('GRANT %s ON %s TO %s%s', item.privilege_type, target,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(item.grantee)) END,
                       CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tenancy._grant_again(regclass, aclitem[]) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._grant_again(regclass, aclitem[]) IS
    'internal: grants again the privileges of an ACL on a relation made again';

-- Checks where a union view may go and who may make it there; returns
-- schema and name.
CREATE OR REPLACE FUNCTION tenancy._union_view_place(view_schema text, view_name text, OUT schema_name text,
                                                    OUT relation_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    caller text := tenancy.db_role();
    existing pg_class;
BEGIN
    PERFORM tenancy._require_platform_admin('make a union view');
    IF view_schema IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name', MESSAGE = 'no schema has been selected to create in',
            HINT = 'Name the view with its schema, for example reports.all_todos.';
    END IF;
    IF view_schema = 'tenancy' OR EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = view_schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('a union view cannot live in schema "%s"', view_schema),
            DETAIL = 'It belongs to pg_tenancy or to a tenant.',
            HINT = 'Put it in a shared schema, for example reports.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = view_schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name',
            MESSAGE = format('schema "%s" does not exist', view_schema);
    END IF;
    IF NOT has_schema_privilege(caller, view_schema, 'CREATE') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied for schema %s', view_schema),
            DETAIL = format('Role "%s" may not create objects in it.', caller);
    END IF;
    SELECT c.* INTO existing FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = view_schema AND c.relname = view_name;
    IF existing.oid IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM tenancy.union_views v WHERE v.view_id = existing.oid) THEN
            RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
                MESSAGE = format('relation "%s.%s" already exists', view_schema, view_name),
                DETAIL = 'It is not a union view, and a union view never replaces anything else.';
        END IF;
        IF NOT pg_has_role(caller, existing.relowner, 'USAGE') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('must be owner of view %s.%s', view_schema, view_name);
        END IF;
    END IF;
    schema_name := view_schema;
    relation_name := view_name;
END
$$;
REVOKE ALL ON FUNCTION tenancy._union_view_place(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._union_view_place(text, text) IS
    'internal: checks where a union view goes and that the caller may make it there';

-- Makes or refreshes the union view schema.name after checking the caller.
CREATE OR REPLACE FUNCTION tenancy._union_view_in(view_schema text, view_name text, table_name text)
RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place record;
BEGIN
    place := tenancy._union_view_place(view_schema, view_name);
    RETURN tenancy._make_union_view(place.schema_name, place.relation_name, table_name);
END
$$;
COMMENT ON FUNCTION tenancy._union_view_in(text, text, text) IS
    'internal: makes or refreshes a union view for a platform admin who may create it there';

-- Not SECURITY DEFINER, so that an unqualified view name goes into the
-- caller's current schema.
CREATE OR REPLACE FUNCTION tenancy.union_view("view" text, table_name text) RETURNS regclass
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    parts text[];
BEGIN
    IF "view" IS NULL OR table_name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'view and table_name must not be null';
    END IF;
    parts := pg_catalog.parse_ident("view");
    IF pg_catalog.array_length(parts, 1) > 2 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_name',
            MESSAGE = pg_catalog.format('improper view name "%s"', "view"),
            HINT = 'Name it as schema.view, or as view in the current schema.';
    END IF;
    RETURN tenancy._union_view_in(CASE WHEN pg_catalog.array_length(parts, 1) = 2 THEN parts[1]
                                       ELSE pg_catalog.current_schema() END,
                                  parts[pg_catalog.array_length(parts, 1)], table_name);
END
$$;
COMMENT ON FUNCTION tenancy.union_view(text, text) IS
    'creates (or refreshes) a view of one table of every schema-mode tenant with a tenant_id column; reads are '
    'for platform admins (platform admins)';

CREATE OR REPLACE FUNCTION tenancy.union_view("view" regclass, table_name text) RETURNS regclass
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    place record;
BEGIN
    IF "view" IS NULL OR table_name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'view and table_name must not be null';
    END IF;
    SELECT n.nspname::text AS schema_name, c.relname::text AS relation_name INTO place
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = "view";
    RETURN tenancy._union_view_in(place.schema_name, place.relation_name, table_name);
END
$$;
COMMENT ON FUNCTION tenancy.union_view(regclass, text) IS
    'refreshes an existing union view, or points it at another table (platform admins)';

CREATE OR REPLACE FUNCTION tenancy.refresh_union_views()
RETURNS TABLE ("view" regclass, table_name text, columns integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    made regclass;
BEGIN
    PERFORM tenancy._require_platform_admin('refresh union views');
    -- Views dropped by hand leave the list.
    DELETE FROM tenancy.union_views v WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = v.view_id);
    FOR entry IN SELECT n.nspname::text AS schema_name, c.relname::text AS relation_name, v.table_name
                   FROM tenancy.union_views v JOIN pg_class c ON c.oid = v.view_id
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                  ORDER BY 1, 2 LOOP
        IF EXISTS (SELECT 1 FROM tenancy._union_columns(entry.table_name)) THEN
            made := tenancy._make_union_view(entry.schema_name, entry.relation_name, entry.table_name);
            "view" := made;
            table_name := entry.table_name;
            columns := (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = made AND a.attnum > 0);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.refresh_union_views() IS
    'brings every union view up to its table''s columns (after migrations; tenantctl migrate calls it) and '
    'returns them (platform admins)';
-- pg_tenancy: every table in a tenant schema has row level security enabled,
-- with one policy that lets every row through (tenancy_schema_rows). The
-- rows need no filter (the schema is the tenant's), but PostgreSQL's
-- statistics views (pg_stats, pg_stats_ext) hide the column values of a
-- table whose row level security applies to the reader: without it, a role
-- that may read every tenant's tables would read other tenants' most common
-- values and histograms there, whatever tenant it is in. An event trigger
-- seals each table created in, or moved into, a tenant schema, and seals it
-- again after an ALTER TABLE that disabled it. Materialized views and
-- foreign tables, which cannot have row level security, are refused there.

-- Enables row level security on a table of a tenant schema, with the policy
-- that lets every row through, unless it has both.
CREATE OR REPLACE FUNCTION tenancy._seal_tenant_table(target regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = target) THEN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = target AND p.polname = 'tenancy_schema_rows') THEN
        EXECUTE format('CREATE POLICY tenancy_schema_rows ON %s USING (true) WITH CHECK (true)', target);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy._seal_tenant_table(regclass) FROM PUBLIC;
COMMENT ON FUNCTION tenancy._seal_tenant_table(regclass) IS
    'internal: enables row level security on a tenant schema''s table with a policy that lets every row through';

-- The tables of tenant schemas that are not sealed.
CREATE OR REPLACE FUNCTION tenancy._unsealed_tenant_tables()
RETURNS TABLE (relid regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN tenancy.tenants t ON t.schema_name = n.nspname
     WHERE c.relkind IN ('r', 'p')
       AND (NOT c.relrowsecurity
            OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenancy_schema_rows'))
$$;
REVOKE ALL ON FUNCTION tenancy._unsealed_tenant_tables() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._unsealed_tenant_tables() IS
    'internal: tables of tenant schemas without row level security or its policy';

-- Materialized views and foreign tables of tenant schemas: they cannot have
-- row level security, so pg_stats would show their values to other tenants.
CREATE OR REPLACE FUNCTION tenancy._unsealable_tenant_relations()
RETURNS TABLE (relid regclass, kind text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass, CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN tenancy.tenants t ON t.schema_name = n.nspname
     WHERE c.relkind IN ('m', 'f')
$$;
REVOKE ALL ON FUNCTION tenancy._unsealable_tenant_relations() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._unsealable_tenant_relations() IS
    'internal: materialized views and foreign tables in tenant schemas';

-- Looks at each relation of the command by its oid (index lookups only:
-- it runs after every CREATE and ALTER TABLE of the database).
CREATE OR REPLACE FUNCTION tenancy.seal_tenant_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target oid;
    relation record;
BEGIN
    FOR target IN SELECT DISTINCT d.objid FROM pg_event_trigger_ddl_commands() d
                   WHERE d.classid = 'pg_class'::regclass LOOP
        SELECT c.oid::regclass AS relid, c.relkind INTO relation
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = target AND c.relkind IN ('r', 'p', 'm', 'f')
           AND EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = n.nspname);
        CONTINUE WHEN NOT FOUND;
        IF relation.relkind IN ('m', 'f') THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = format('a %s cannot live in a tenant schema',
                                 CASE relation.relkind WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END),
                DETAIL = format('%s cannot have row level security, so pg_stats would show its values to the '
                                'roles of other tenants.', relation.relid),
                HINT = 'Use a table (filled by the application, or by a function the tenant''s roles call).';
        END IF;
        PERFORM tenancy._seal_tenant_table(relation.relid);
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.seal_tenant_tables() IS
    'event trigger: enables row level security, with a policy that lets every row through, on each table '
    'created in or moved into a tenant schema, so that pg_stats keeps its values from other tenants';
-- pg_tenancy: health findings about schema-mode tenants (part of
-- tenancy.health_check()): their schemas, the grants on them, the tables
-- in them, the migrations they miss, and the union views over them.

-- The relations of every tenant schema, with how many tenant schemas have
-- one of that name and kind, out of how many.
CREATE OR REPLACE FUNCTION tenancy._tenant_schema_objects()
RETURNS TABLE (slug text, schema_name text, relname name, relkind "char", holders bigint, schemas bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH present AS (
        SELECT t.slug::text, t.schema_name::text, n.oid AS nsp
          FROM tenancy.tenants t JOIN pg_namespace n ON n.nspname = t.schema_name
         WHERE t.isolation = 'schema'
    ), objects AS (
        SELECT p.slug, p.schema_name, c.relname, c.relkind
          FROM present p JOIN pg_class c ON c.relnamespace = p.nsp
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    ), counted AS (
        SELECT o.relname, o.relkind, count(*) AS holders FROM objects o GROUP BY o.relname, o.relkind
    )
    SELECT p.slug, p.schema_name, k.relname, k.relkind, k.holders, (SELECT count(*) FROM present)
      FROM present p CROSS JOIN counted k
     WHERE EXISTS (SELECT 1 FROM objects o WHERE o.slug = p.slug AND o.relname = k.relname AND o.relkind = k.relkind)
           <> (k.holders * 2 > (SELECT count(*) FROM present))
$$;
REVOKE ALL ON FUNCTION tenancy._tenant_schema_objects() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._tenant_schema_objects() IS
    'internal: relations that a tenant schema lacks while most have them, or has while most do not';

CREATE OR REPLACE FUNCTION tenancy._health_tenant_schemas()
RETURNS TABLE (severity text, object text, problem text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH schemas AS (
        SELECT t.id, t.slug::text AS slug, t.schema_name::text AS schema_name, n.oid AS nsp, n.nspowner, n.nspacl
          FROM tenancy.tenants t LEFT JOIN pg_namespace n ON n.nspname = t.schema_name
         WHERE t.isolation = 'schema'
    ), owner AS (
        SELECT d.datdba FROM pg_database d WHERE d.datname = current_database()
    )
    SELECT 'error', s.schema_name, format('the schema of tenant "%s" does not exist', s.slug),
           format('Restore it from a dump, or drop the tenant with tenancy.drop_tenant(%L).', s.slug)
      FROM schemas s WHERE s.nsp IS NULL
    UNION ALL
    SELECT 'warning', n.nspname::text,
           'schema is named like a tenant''s but belongs to no tenant: pg_tenancy does not close it',
           'Rename it (ALTER SCHEMA ... RENAME TO), or drop it if it is left over.'
      FROM pg_namespace n
     WHERE n.nspname LIKE 'tenant\_%' AND NOT EXISTS (SELECT 1 FROM tenancy.tenants t WHERE t.schema_name = n.nspname)
    UNION ALL
    SELECT 'warning', s.schema_name,
           format('schema belongs to %s, not to the database''s owner %s: tenant migrations run as the '
                  'database''s owner, and new tenants'' schemas belong to it',
                  pg_get_userbyid(s.nspowner), pg_get_userbyid(o.datdba)),
           format('ALTER SCHEMA %I OWNER TO %I', s.schema_name, pg_get_userbyid(o.datdba))
      FROM schemas s, owner o WHERE s.nsp IS NOT NULL AND s.nspowner <> o.datdba
    UNION ALL
    SELECT 'warning', s.schema_name,
           format('%s is granted %s on the tenant''s schema%s', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                  ELSE pg_get_userbyid(a.grantee) END, a.privilege_type,
                  CASE WHEN a.privilege_type = 'CREATE'
                       THEN ': objects it creates there exist in no other tenant and no migration made them'
                       ELSE ': every role is, grant it to the application''s roles instead' END),
           format('REVOKE %s ON SCHEMA %I FROM %s', a.privilege_type, s.schema_name,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
      FROM schemas s, LATERAL aclexplode(s.nspacl) a
     WHERE a.grantee <> s.nspowner AND (a.grantee = 0 OR a.privilege_type = 'CREATE')
    UNION ALL
    SELECT 'error', u.relid::text,
           'table in a tenant schema has no row level security: pg_stats shows its column values (most common '
           'values, histograms) to every role that may read it, in whatever tenant it is',
           format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY; CREATE POLICY tenancy_schema_rows ON %s USING (true) '
                  'WITH CHECK (true)', u.relid, u.relid)
      FROM tenancy._unsealed_tenant_tables() u
    UNION ALL
    SELECT 'error', u.relid::text,
           format('%s in a tenant schema: it cannot have row level security, so pg_stats shows its values to every '
                  'role that may read it, in whatever tenant it is', u.kind),
           'Replace it with a table.'
      FROM tenancy._unsealable_tenant_relations() u
    UNION ALL
    SELECT 'error', s.schema_name,
           format('tenant "%s" misses %s tenant migration%s: %s', s.slug, count(*),
                  CASE WHEN count(*) > 1 THEN 's' ELSE '' END,
                  string_agg(m.version, ', ' ORDER BY m.version)),
           format('Run tenantctl migrate DIR --tenant %s.', s.slug)
      FROM schemas s JOIN tenancy.migration_scripts m ON true
     WHERE s.nsp IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM tenancy.migrations l
                        WHERE l.scope = 'tenant' AND l.tenant_id = s.id AND l.version = m.version)
     GROUP BY s.schema_name, s.slug
    UNION ALL
    SELECT 'warning', format('%I.%I', o.schema_name, o.relname),
           CASE WHEN o.holders * 2 > o.schemas
                THEN format('%s of %s tenant schemas have %s %s, but not tenant "%s": a migration did not reach it',
                            o.holders, o.schemas, CASE o.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                            WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END, o.relname, o.slug)
                ELSE format('only %s of %s tenant schemas have it: no tenant migration made it', o.holders, o.schemas)
           END,
           'Make every tenant''s schema alike through tenant migrations (tenantctl migrate).'
      FROM tenancy._tenant_schema_objects() o
    UNION ALL
    SELECT 'warning', v.view_id::text,
           format('union view does not show the columns that the tables "%s" of the tenant schemas now have',
                  v.table_name),
           'Run SELECT * FROM tenancy.refresh_union_views() (tenantctl migrate does it after each run).'
      FROM tenancy.union_views v JOIN pg_class c ON c.oid = v.view_id
     WHERE ARRAY(SELECT (a.attname, a.atttypid::regtype)::text FROM pg_attribute a
                  WHERE a.attrelid = v.view_id AND a.attnum > 1 ORDER BY a.attnum)
           <> ARRAY(SELECT (u.column_name, u.column_type)::text FROM tenancy._union_columns(v.table_name) u)
$$;
REVOKE ALL ON FUNCTION tenancy._health_tenant_schemas() FROM PUBLIC;
COMMENT ON FUNCTION tenancy._health_tenant_schemas() IS 'internal: health findings about schema-mode tenants';
-- pg_tenancy: moving a tenant between row and schema mode. move_tenant()
-- does everything in the caller's transaction, so that a move that fails or
-- is interrupted leaves the tenant as it was, in its old mode:
--
--   1. it waits for the transactions writing into the tenant and keeps new
--      ones out until it ends (the tenant's lock, and in schema mode a lock
--      on every table of its schema that lets readers through);
--   2. it copies the tenant's rows, table by table, into temporary tables,
--      each read as the table's owner (in row mode deleted and returned by
--      one statement, which also waits for writers that bypass the
--      policies), and takes their count and checksum;
--   3. it removes the old copy (the schema, in schema mode), switches the
--      tenant's mode and loads the rows into their new tables as those
--      tables' owners, in foreign key order, keeping every value (keys
--      included) and moving sequences past the keys loaded;
--   4. it counts and checksums every new table and raises unless each equals
--      its source.
--
-- A row-mode table and a schema-mode table correspond by name: public.todo
-- and tenant_acme.todo, as the tenant migrations make them.

-- The columns a move copies from source to target: every column of the
-- source but tenant_id, dropped and generated ones, which the target must
-- have with the same type (a value left behind would be lost).
CREATE OR REPLACE FUNCTION tenancy._move_columns(source regclass, target regclass) RETURNS name[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    source_column record;
    target_type oid;
    columns name[] := '{}';
BEGIN
    FOR source_column IN SELECT * FROM tenancy._portable_columns(source) LOOP
        SELECT a.atttypid INTO target_type
          FROM pg_attribute a
         WHERE a.attrelid = target AND a.attname = source_column.column_name AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '';
        IF target_type IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('column %I of %s has no column in %s to go to', source_column.column_name, source,
                                 target),
                DETAIL = 'A move copies every column of the tenant''s tables; the values of this one would be lost.',
                HINT = 'Add the column with a migration (tenantctl migrate), or drop it, before the move.';
        ELSIF target_type <> source_column.type_oid THEN
            RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
                MESSAGE = format('column %I is of type %s in %s and of type %s in %s', source_column.column_name,
                                 source_column.type_oid::regtype, source, target_type::regtype, target),
                DETAIL = 'A move copies values without casting them.',
                HINT = 'Give both tables the same type with a migration before the move.';
        END IF;
        columns := columns || source_column.column_name;
    END LOOP;
    RETURN columns;
END
$$;

-- The rows of a table in a FROM clause: ONLY for a plain table (never its
-- inheritance children), the table itself for a partitioned one.
CREATE OR REPLACE FUNCTION tenancy._move_rows_of(target regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.relkind = 'p' THEN format('%s t', target) ELSE format('ONLY %s t', target) END
      FROM pg_class c WHERE c.oid = target
$$;

-- The expression of a table's count and checksum, "rows/sum": the sum of a
-- 64-bit hash of the text of each row's columns (in the order given), which
-- does not depend on the order the rows are read in.
CREATE OR REPLACE FUNCTION tenancy._move_checksum(columns name[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('pg_catalog.count(*)::pg_catalog.text OPERATOR(pg_catalog.||) ''/'' OPERATOR(pg_catalog.||) '
                  'coalesce(pg_catalog.sum(pg_catalog.hashtextextended(ROW(0%s)::pg_catalog.text, 0)'
                  '::pg_catalog.numeric), 0)::pg_catalog.text',
                  (SELECT coalesce(string_agg(format(', t.%I', c), '' ORDER BY n), '')
                     FROM unnest(columns) WITH ORDINALITY u(c, n)))
$$;

-- The sequences that fill columns of a table (serial and identity columns),
-- with the column.
CREATE OR REPLACE FUNCTION tenancy._move_sequences(target regclass)
RETURNS TABLE (column_name name, sequence regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.attname, d.objid::regclass
      FROM pg_depend d
      JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid = target AND d.deptype IN ('a', 'i')
$$;

-- Returns a table's owner.
CREATE OR REPLACE FUNCTION tenancy._owner_of(target regclass) RETURNS regrole
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = target
$$;

-- Runs a statement on a table of a tenant's schema as the table's owner,
-- with that tenant open; the statement names everything with its schema.
CREATE OR REPLACE FUNCTION tenancy._in_tenant_table(target regclass, tenant uuid, statement text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM tenancy._run_in_tenant(tenancy._owner_of(target), tenant, 'pg_catalog, pg_temp', statement);
END
$$;

-- Takes back a privilege on a temporary table of the session from a
-- table's owner (see _grant_to_owner()).
CREATE OR REPLACE FUNCTION tenancy._revoke_from_owner(temporary regclass, target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('REVOKE ALL ON TABLE %s FROM %I', temporary, tenancy._owner_of(target)::text);
END
$$;

-- Returns the one value a query gives, run as a table's owner (whose code
-- it may run) with one tenant open (its schema, and its rows of protected
-- tables). The value goes through a temporary table that only that one
-- statement may write to: exactly one row, or the owner's code wrote there
-- too.
CREATE OR REPLACE FUNCTION tenancy._value_as_owner(target regclass, tenant uuid, query text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    result_table regclass := tenancy._new_temporary_table('pg_temp.tenancy_move_value', 'value text');
    taken text[];
BEGIN
    PERFORM tenancy._grant_to_owner(result_table, 'INSERT', target);
    PERFORM tenancy._in_tenant_table(target, tenant, format('INSERT INTO %s %s', result_table, query));
    PERFORM tenancy._revoke_from_owner(result_table, target);
    taken := ARRAY(SELECT k.value FROM pg_temp.tenancy_move_value k);
    EXECUTE format('DROP TABLE %s', result_table);
    IF cardinality(taken) <> 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = format('a query on %s as its owner could not be answered', target),
            DETAIL = 'Code of the table''s owner wrote into the table the answer goes through.',
            HINT = 'Nothing was moved.';
    END IF;
    RETURN taken[1];
END
$$;

-- Returns the count and checksum ("rows/sum") of the columns of a table of
-- a tenant's schema, computed as the table's owner (whose types' output
-- functions run) with that tenant open.
CREATE OR REPLACE FUNCTION tenancy._checksum_in_tenant(target regclass, tenant uuid, columns name[]) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenancy._value_as_owner(target, tenant, format('SELECT %s FROM %s', tenancy._move_checksum(columns),
                                                          tenancy._move_rows_of(target)))
$$;

-- Raises unless a copy has the count and checksum ("rows/sum") of its
-- source.
CREATE OR REPLACE FUNCTION tenancy._require_same_copy(source text, target regclass, expected text, copied text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF copied IS DISTINCT FROM expected THEN
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = format('the copy of %s in %s differs from it', source, target),
            DETAIL = format('The source has %s row(s) with checksum %s; the copy has %s.', split_part(expected, '/', 1),
                            split_part(expected, '/', 2),
                            coalesce(replace(copied, '/', ' row(s) with checksum '), 'nothing')),
            HINT = 'Nothing was moved. A trigger or rule of the new table changed or kept out rows, or a '
                   'column''s type rounds its values: change it, then move the tenant again.';
    END IF;
END
$$;

-- Raises when a table of a tenant's schema has a column tenant_id: in row
-- mode that column holds the tenant, so its values would be lost.
CREATE OR REPLACE FUNCTION tenancy._refuse_tenant_id_column(target regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = target AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
            MESSAGE = format('table %s has a column tenant_id', target),
            DETAIL = 'In row mode the column tenant_id of a protected table holds the tenant; the values of this '
                     'table''s own column would be lost.',
            HINT = 'Rename the column with a tenant migration before the move.';
    END IF;
END
$$;

-- Raises when a row outside the tenant refers, through a foreign key, to a
-- row of the tenant in a protected table: deleting the tenant's rows would
-- fire the key's action (CASCADE, SET NULL, SET DEFAULT) on it, in another
-- tenant or in a table that is not protected. The tenant's referenced rows
-- are locked first (FOR UPDATE), so that no reference to them can be added
-- until the move ends. A protected referencing table is read by the
-- extension's owner (no policy hides another tenant's row; its planned code
-- is refused first, and the key's operators must be trusted); any other
-- table by its own owner, whose code it is.
CREATE OR REPLACE FUNCTION tenancy._refuse_outside_references(target tenancy.tenants) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    reference record;
    parent regclass;
    outside bigint;
BEGIN
    FOR parent IN SELECT DISTINCT con.confrelid::regclass FROM pg_constraint con
                   WHERE con.contype = 'f' AND con.confrelid IN (SELECT p.relid FROM tenancy.protected_tables p) LOOP
        PERFORM tenancy._rows_as_owner(parent, target.id, 'owner', format(
            'SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM (SELECT 1 FROM ONLY %s t '
            'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 FOR UPDATE) l', parent), NULL);
    END LOOP;
    FOR reference IN
        SELECT con.conname, con.conrelid::regclass AS child, con.confrelid::regclass AS parent,
               EXISTS (SELECT 1 FROM tenancy.protected_tables p WHERE p.relid = con.conrelid) AS child_protected,
               keys.matches, keys.trusted, keys.exact_types
          FROM pg_constraint con
          CROSS JOIN LATERAL (
              SELECT string_agg(format('t.%I OPERATOR(%I.%s) p.%I', ca.attname, n.nspname, o.oprname, pa.attname),
                                ' AND ') AS matches,
                     bool_and(tenancy._trusted_function(o.oprcode)) AS trusted,
                     bool_and(ca.atttypid = o.oprleft AND pa.atttypid = o.oprright) AS exact_types
                FROM unnest(con.conkey, con.confkey, con.conpfeqop) k(child_attnum, parent_attnum, op)
                JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.child_attnum
                JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.parent_attnum
                JOIN pg_operator o ON o.oid = k.op
                JOIN pg_namespace n ON n.oid = o.oprnamespace) keys
         WHERE con.contype = 'f' AND con.confrelid IN (SELECT p.relid FROM tenancy.protected_tables p)
           AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = con.conrelid AND c.relispartition)
         ORDER BY con.conrelid::regclass::text, con.conname LOOP
        IF reference.child_protected THEN
            -- Columns of exactly the operator's types: no cast (which could
            -- be an ordinary role's function) comes into the comparison.
            IF NOT reference.exact_types THEN
                RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                    MESSAGE = format('foreign key %I of %s compares columns of other types than its operator''s',
                                     reference.conname, reference.child),
                    DETAIL = 'A move looks for rows of other tenants that refer to the tenant''s rows as the '
                             'extension''s owner, and a comparison needing a cast could run code of an ordinary role.',
                    HINT = 'Give the referring columns the types of the columns they refer to.';
            END IF;
            IF NOT reference.trusted THEN
                RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                    MESSAGE = format('foreign key %I of %s compares with an operator of an ordinary role',
                                     reference.conname, reference.child),
                    DETAIL = 'A move looks for rows of other tenants that refer to the tenant''s rows as the '
                             'extension''s owner, which runs no code of ordinary roles.';
            END IF;
            PERFORM tenancy._refuse_owner_code(reference.child,
                                               'A move looks for rows of other tenants that refer to the tenant''s rows');
            PERFORM tenancy._refuse_owner_code(reference.parent,
                                               'A move looks for rows of other tenants that refer to the tenant''s rows');
            EXECUTE format('SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.tenant_id IS DISTINCT FROM $1 '
                           'AND EXISTS (SELECT 1 FROM ONLY %s p WHERE p.tenant_id OPERATOR(pg_catalog.=) $1 AND %s)',
                           reference.child, reference.parent, reference.matches)
               INTO outside USING target.id;
        ELSE
            outside := tenancy._value_as_owner(reference.child, target.id, format(
                'SELECT pg_catalog.count(*)::pg_catalog.text FROM %s WHERE EXISTS (SELECT 1 FROM ONLY %s p '
                'WHERE p.tenant_id OPERATOR(pg_catalog.=) %L::pg_catalog.uuid AND %s)',
                tenancy._move_rows_of(reference.child), reference.parent, target.id, reference.matches))::bigint;
        END IF;
        IF outside > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s row(s) of %s outside tenant "%s" refer to its rows in %s', outside, reference.child,
                                 target.slug, reference.parent),
                DETAIL = format('When the tenant''s rows leave %s, foreign key %I would change or delete them, or '
                                'fail.', reference.parent, reference.conname),
                HINT = 'Change those rows first, and make the foreign key include tenant_id, so that no row refers '
                       'across tenants.';
        END IF;
    END LOOP;
END
$$;

-- Returns the schema of an object of the kinds that live in a schema or on a
-- table, null for others.
CREATE OR REPLACE FUNCTION tenancy._object_schema(classid oid, objid oid) RETURNS oid
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE classid
        WHEN 'pg_class'::regclass THEN (SELECT c.relnamespace FROM pg_class c WHERE c.oid = objid)
        WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type t WHERE t.oid = objid)
        WHEN 'pg_proc'::regclass THEN (SELECT f.pronamespace FROM pg_proc f WHERE f.oid = objid)
        WHEN 'pg_constraint'::regclass THEN (SELECT c.connamespace FROM pg_constraint c WHERE c.oid = objid)
        WHEN 'pg_collation'::regclass THEN (SELECT c.collnamespace FROM pg_collation c WHERE c.oid = objid)
        WHEN 'pg_operator'::regclass THEN (SELECT o.oprnamespace FROM pg_operator o WHERE o.oid = objid)
        WHEN 'pg_opclass'::regclass THEN (SELECT o.opcnamespace FROM pg_opclass o WHERE o.oid = objid)
        WHEN 'pg_opfamily'::regclass THEN (SELECT o.opfnamespace FROM pg_opfamily o WHERE o.oid = objid)
        WHEN 'pg_conversion'::regclass THEN (SELECT c.connamespace FROM pg_conversion c WHERE c.oid = objid)
        WHEN 'pg_statistic_ext'::regclass THEN (SELECT x.stxnamespace FROM pg_statistic_ext x WHERE x.oid = objid)
        WHEN 'pg_ts_config'::regclass THEN (SELECT c.cfgnamespace FROM pg_ts_config c WHERE c.oid = objid)
        WHEN 'pg_ts_dict'::regclass THEN (SELECT d.dictnamespace FROM pg_ts_dict d WHERE d.oid = objid)
        WHEN 'pg_ts_parser'::regclass THEN (SELECT p.prsnamespace FROM pg_ts_parser p WHERE p.oid = objid)
        WHEN 'pg_ts_template'::regclass THEN (SELECT t.tmplnamespace FROM pg_ts_template t WHERE t.oid = objid)
        WHEN 'pg_default_acl'::regclass THEN (SELECT a.defaclnamespace FROM pg_default_acl a WHERE a.oid = objid)
        WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
                                           WHERE r.oid = objid)
        WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                                           WHERE g.oid = objid)
        WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy y JOIN pg_class c ON c.oid = y.polrelid
                                          WHERE y.oid = objid)
        WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid
                                           WHERE a.oid = objid)
    END
$$;

-- Raises when objects outside a tenant's schema depend on objects in it (a
-- view, a foreign key, a column of its row type), or a table in it belongs
-- to a table outside it (a partition, an inheritance child): dropping the
-- schema would drop them, or the outside table's rows in it, too.
CREATE OR REPLACE FUNCTION tenancy._refuse_outside_dependents(schema_name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    schema_oid oid := (SELECT n.oid FROM pg_namespace n WHERE n.nspname = schema_name);
    dependents text;
BEGIN
    SELECT string_agg(DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid), ', ') INTO dependents
      FROM (SELECT 'pg_namespace'::regclass::oid, schema_oid
            UNION ALL SELECT 'pg_class'::regclass, c.oid FROM pg_class c WHERE c.relnamespace = schema_oid
            UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t WHERE t.typnamespace = schema_oid
            UNION ALL SELECT 'pg_proc'::regclass, f.oid FROM pg_proc f WHERE f.pronamespace = schema_oid
            UNION ALL SELECT 'pg_collation'::regclass, c.oid FROM pg_collation c WHERE c.collnamespace = schema_oid
            UNION ALL SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o WHERE o.oprnamespace = schema_oid
            UNION ALL SELECT 'pg_opclass'::regclass, o.oid FROM pg_opclass o WHERE o.opcnamespace = schema_oid
            UNION ALL SELECT 'pg_opfamily'::regclass, o.oid FROM pg_opfamily o WHERE o.opfnamespace = schema_oid
            UNION ALL SELECT 'pg_conversion'::regclass, c.oid FROM pg_conversion c WHERE c.connamespace = schema_oid
            UNION ALL SELECT 'pg_ts_config'::regclass, c.oid FROM pg_ts_config c WHERE c.cfgnamespace = schema_oid
            UNION ALL SELECT 'pg_ts_dict'::regclass, d.oid FROM pg_ts_dict d WHERE d.dictnamespace = schema_oid
            UNION ALL SELECT 'pg_ts_parser'::regclass, p.oid FROM pg_ts_parser p WHERE p.prsnamespace = schema_oid
            UNION ALL SELECT 'pg_ts_template'::regclass, t.oid FROM pg_ts_template t WHERE t.tmplnamespace = schema_oid
           ) inside(classid, objid)
      JOIN pg_depend d ON d.refclassid = inside.classid AND d.refobjid = inside.objid
     WHERE d.deptype IN ('n', 'a')
       AND tenancy._object_schema(d.classid, d.objid) IS DISTINCT FROM schema_oid;
    -- A partition or inheritance child in the schema of a table outside it
    -- holds rows of that table.
    SELECT concat_ws(', ', dependents, string_agg(format('table %s (part of %s)', i.inhrelid::regclass,
                                                         i.inhparent::regclass), ', '))
      INTO dependents
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE c.relnamespace = schema_oid AND p.relnamespace <> schema_oid;
    dependents := nullif(dependents, '');
    IF dependents IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = format('objects outside schema %s depend on it', schema_name),
            DETAIL = format('Moving the tenant to row mode drops its schema, and with it: %s.', dependents),
            HINT = 'Drop or change them first.';
    END IF;
END
$$;

-- Raises when a protected table holds a row of a tenant whose rows left
-- (counted by a direct scan: no policy of an owner hides one): a trigger, a
-- rule or a policy kept one, or code wrote one afterwards.
CREATE OR REPLACE FUNCTION tenancy._require_no_rows_left(target tenancy.tenants) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    relid regclass;
    left_behind bigint;
BEGIN
    FOR relid IN SELECT p.relid FROM tenancy.protected_tables p ORDER BY p.relid::text LOOP
        left_behind := tenancy._count_tenant_rows(relid, target.id);
        IF left_behind > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s row(s) of tenant "%s" stayed in %s', left_behind, target.slug, relid),
                DETAIL = 'A trigger, rule or policy kept them from being deleted, or code of a table wrote them '
                         'during the move; a move takes every row.',
                HINT = 'Nothing was moved. Change what keeps or writes them (the table''s owner can), then move the '
                       'tenant again.';
        END IF;
    END LOOP;
END
$$;

-- Moves a row-mode tenant into a schema of its own: its rows leave the
-- protected tables for the tables of the same names that the tenant
-- migrations create in its new schema.
CREATE OR REPLACE FUNCTION tenancy._move_rows_to_schema(target tenancy.tenants) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    schema text := tenancy._schema_name_for(target.slug);
    relid regclass;
    staged jsonb := '[]';
    moved jsonb := '[]';
    item jsonb;
    counterpart regclass;
    columns name[];
    column_list text;
    definitions text;
    stage regclass;
    stages regclass[] := '{}';
    checksum text;
    targets regclass[] := '{}';
    sequence_item record;
    n integer := 0;
BEGIN
    PERFORM tenancy._require_free_schema(target.slug, schema);
    PERFORM tenancy._refuse_outside_references(target);
    -- The tenant's rows leave every protected table, children first, for a
    -- temporary table: deleted and returned by one statement as the table's
    -- owner, which waits for whoever writes a row (a role that bypasses the
    -- policies included) and takes its last version.
    FOR relid IN SELECT u.r FROM unnest(tenancy._load_order(ARRAY(SELECT p.relid FROM tenancy.protected_tables p)))
                                 WITH ORDINALITY u(r, k) ORDER BY u.k DESC LOOP
        PERFORM tenancy._refuse_owner_code(relid, 'A move deletes and copies the tenant''s rows as the table''s owner');
        SELECT coalesce(array_agg(pc.column_name ORDER BY pc.attnum), '{}'),
               string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY pc.attnum)
          INTO columns, definitions
          FROM tenancy._portable_columns(relid) pc;
        IF definitions IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
                MESSAGE = format('protected table %s has no column but tenant_id', relid),
                HINT = 'A move copies the columns of a table; give it one, or unprotect it.';
        END IF;
        n := n + 1;
        stage := tenancy._new_temporary_table(format('pg_temp.tenancy_move_%s', n), definitions);
        stages := stages || stage;
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        PERFORM tenancy._grant_to_owner(stage, 'SELECT, INSERT', relid);
        PERFORM tenancy._rows_as_owner(relid, target.id, 'owner', format(
            'WITH gone AS (DELETE FROM %s WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 RETURNING %s) '
            'INSERT INTO %s (%s) SELECT %s FROM gone', tenancy._move_rows_of(relid),
            array_to_string(ARRAY(SELECT 't.' || quote_ident(c) FROM unnest(columns) c), ', '), stage, column_list,
            column_list), NULL);
        SELECT f #>> '{}' INTO checksum
          FROM tenancy._rows_as_owner(relid, target.id, 'owner', format(
               'SELECT pg_catalog.to_jsonb(%s) FROM %s t', tenancy._move_checksum(columns), stage), NULL) f;
        PERFORM tenancy._revoke_from_owner(stage, relid);
        staged := staged || jsonb_build_object('source', relid::text, 'source_oid', relid::oid,
                                               'name', (SELECT c.relname FROM pg_class c WHERE c.oid = relid),
                                               'stage', stage::text, 'rows', split_part(checksum, '/', 1)::bigint,
                                               'checksum', split_part(checksum, '/', 2));
    END LOOP;
    PERFORM tenancy._require_no_rows_left(target);
    -- The tenant switches to schema mode and gets its schema.
    UPDATE tenancy.tenants SET isolation = 'schema', schema_name = schema WHERE id = target.id;
    PERFORM tenancy._create_tenant_schema(target.id);
    -- Each protected table's rows go to the table of its name there.
    FOR item IN SELECT e FROM jsonb_array_elements(staged) e LOOP
        counterpart := NULL;
        IF tenancy._protected_counterpart(item->>'name') = (item->>'source_oid')::oid THEN
            SELECT c.oid::regclass INTO counterpart
              FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE s.nspname = schema AND c.relname = item->>'name' AND c.relkind IN ('r', 'p');
        END IF;
        IF counterpart IS NULL THEN
            IF (item->>'rows')::bigint > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('%s row(s) of tenant "%s" in %s have no table to go to in its schema',
                                     item->>'rows', target.slug, item->>'source'),
                    DETAIL = format('A tenant''s schema has the tables of the tenant migrations; the rows of a '
                                    'protected table go to the one of its name when the table is the first of that '
                                    'name in the shared schemas (%s). A move copies every row of the tenant.',
                                    tenancy._shared_search_path()),
                    HINT = 'Create the table with a tenant migration (tenantctl migrate DIR), or remove those rows, '
                           'then move the tenant again.';
            END IF;
            CONTINUE;
        END IF;
        PERFORM tenancy._refuse_tenant_id_column(counterpart);
        targets := targets || counterpart;
        columns := tenancy._move_columns((item->>'source_oid')::oid::regclass, counterpart);
        moved := moved || (item || jsonb_build_object('target', counterpart::text, 'target_oid', counterpart::oid,
                                                      'columns', to_jsonb(columns)));
    END LOOP;
    -- The new tables hold the tenant's rows and nothing else: what the
    -- migrations put in them goes (children first), then the rows come
    -- (parents first).
    targets := tenancy._load_order(targets);
    FOR i IN REVERSE coalesce(cardinality(targets), 0) .. 1 LOOP
        PERFORM tenancy._in_tenant_table(targets[i], target.id,
                                         format('DELETE FROM %s', tenancy._move_rows_of(targets[i])));
    END LOOP;
    FOREACH counterpart IN ARRAY targets LOOP
        SELECT e INTO item FROM jsonb_array_elements(moved) e WHERE (e->>'target_oid')::oid = counterpart;
        columns := ARRAY(SELECT jsonb_array_elements_text(item->'columns'))::name[];
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        IF (item->>'rows')::bigint > 0 THEN
            PERFORM tenancy._grant_to_owner((item->>'stage')::regclass, 'SELECT', counterpart);
            PERFORM tenancy._in_tenant_table(counterpart, target.id, format(
                'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s', counterpart, column_list,
                column_list, item->>'stage'));
            PERFORM tenancy._revoke_from_owner((item->>'stage')::regclass, counterpart);
            FOR sequence_item IN SELECT * FROM tenancy._move_sequences(counterpart) s
                                  WHERE s.column_name = ANY (columns) LOOP
                PERFORM tenancy._in_tenant_table(counterpart, target.id, format(
                    'SELECT pg_catalog.setval(%L::pg_catalog.regclass, m) FROM (SELECT pg_catalog.max(t.%I) AS m '
                    'FROM %s) x WHERE m IS NOT NULL', sequence_item.sequence, sequence_item.column_name,
                    tenancy._move_rows_of(counterpart)));
            END LOOP;
        END IF;
        PERFORM tenancy._require_same_copy(item->>'source', counterpart,
                                           (item->>'rows') || '/' || (item->>'checksum'),
                                           tenancy._checksum_in_tenant(counterpart, target.id, columns));
    END LOOP;
    -- Again, now that the new tables' code ran too.
    PERFORM tenancy._require_no_rows_left(target);
    FOREACH stage IN ARRAY stages LOOP
        EXECUTE format('DROP TABLE %s', stage);
    END LOOP;
    RETURN moved;
END
$$;

-- Finds the protected table that corresponds to a table of a tenant's
-- schema: the protected table of that name in the shared schemas (where
-- tenant migrations run for row-mode tenants), the first in their order;
-- null when there is none.
CREATE OR REPLACE FUNCTION tenancy._protected_counterpart(relname name) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.relid
      FROM tenancy.protected_tables p
      JOIN pg_class c ON c.oid = p.relid
      JOIN pg_namespace s ON s.oid = c.relnamespace
      JOIN tenancy._shared_schemas() e ON e.schema_name = s.nspname
     WHERE c.relname = _protected_counterpart.relname
     ORDER BY e.search_order
     LIMIT 1
$$;

-- Moves a schema-mode tenant into the protected tables: the rows of each
-- table of its schema go to the protected table of the same name, and the
-- schema goes.
CREATE OR REPLACE FUNCTION tenancy._move_schema_to_rows(target tenancy.tenants) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    sources regclass[];
    source regclass;
    counterpart regclass;
    columns name[];
    column_list text;
    stage regclass;
    stages regclass[] := '{}';
    moved jsonb := '[]';
    item jsonb;
    checksum text;
    targets regclass[] := '{}';
    held bigint;
    all_rows bigint;
    sequence_item record;
    constraint_name text;
    problem text;
    n integer := 0;
BEGIN
    sources := ARRAY(SELECT c.oid::regclass
                       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                      WHERE s.nspname = target.schema_name AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                      ORDER BY c.relname);
    -- Writers of the tenant's tables (whoever they are) wait until the move
    -- ends, and then find the tables gone; readers go on.
    IF cardinality(sources) > 0 THEN
        PERFORM tenancy._run_in_tenant(current_user::regrole, target.id, 'pg_catalog, pg_temp',
                                       format('LOCK TABLE %s IN EXCLUSIVE MODE',
                                              (SELECT string_agg(r::text, ', ') FROM unnest(sources) r)));
    END IF;
    FOREACH source IN ARRAY sources LOOP
        PERFORM tenancy._refuse_tenant_id_column(source);
        columns := ARRAY(SELECT pc.column_name FROM tenancy._portable_columns(source) pc ORDER BY pc.attnum);
        checksum := tenancy._checksum_in_tenant(source, target.id, columns);
        -- Read as its owner, the table may hide rows by a policy of its own:
        -- the direct count sees them all.
        all_rows := tenancy._count_all_rows(source);
        IF all_rows <> split_part(checksum, '/', 1)::bigint THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s has %s row(s), its owner sees %s', source, all_rows, split_part(checksum, '/', 1)),
                DETAIL = 'A policy of the table hides rows from its owner (FORCE ROW LEVEL SECURITY); a move reads '
                         'the tenant''s tables as their owners and takes every row.',
                HINT = 'Nothing was moved. Drop or relax the policy (or ALTER TABLE ... NO FORCE ROW LEVEL SECURITY) '
                       'for the move.';
        END IF;
        counterpart := tenancy._protected_counterpart((SELECT c.relname FROM pg_class c WHERE c.oid = source));
        IF counterpart IS NULL THEN
            IF split_part(checksum, '/', 1)::bigint > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('%s row(s) of %s have no protected table to go to', split_part(checksum, '/', 1),
                                     source),
                    DETAIL = format('Row mode keeps a tenant''s rows in protected tables; no protected table of the '
                                    'shared schemas (%s) is named %I.', tenancy._shared_search_path(),
                                    (SELECT c.relname FROM pg_class c WHERE c.oid = source)),
                    HINT = 'Protect the shared table of that name (tenancy.protect()), or empty the tenant''s table, '
                           'then move the tenant again.';
            END IF;
            CONTINUE;
        END IF;
        PERFORM tenancy._refuse_owner_code(counterpart, 'A move writes the tenant''s rows as the table''s owner');
        columns := tenancy._move_columns(source, counterpart);
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        n := n + 1;
        stage := tenancy._new_temporary_table(format('pg_temp.tenancy_move_%s', n),
                     (SELECT string_agg(format('%I %s', pc.column_name, pc.type_name), ', ' ORDER BY pc.attnum)
                        FROM tenancy._portable_columns(source) pc));
        stages := stages || stage;
        IF column_list IS NOT NULL THEN
            PERFORM tenancy._grant_to_owner(stage, 'INSERT', source);
            PERFORM tenancy._in_tenant_table(source, target.id, format(
                'INSERT INTO %s (%s) SELECT %s FROM %s', stage, column_list,
                array_to_string(ARRAY(SELECT 't.' || quote_ident(c) FROM unnest(columns) c), ', '),
                tenancy._move_rows_of(source)));
            PERFORM tenancy._revoke_from_owner(stage, source);
        END IF;
        SELECT (f #>> '{}')::bigint INTO held
          FROM tenancy._rows_as_owner(counterpart, target.id,
                                      (SELECT p.read_role FROM tenancy.protected_tables p WHERE p.relid = counterpart),
                                      format('SELECT pg_catalog.to_jsonb(pg_catalog.count(*)) FROM %s '
                                             'WHERE t.tenant_id OPERATOR(pg_catalog.=) $1',
                                             tenancy._move_rows_of(counterpart)), NULL) f;
        IF held > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('%s already has %s row(s) of tenant "%s"', counterpart, held, target.slug),
                DETAIL = 'A schema-mode tenant''s rows belong in its schema; a move would mix them with these.',
                HINT = 'Remove those rows (or move them into the tenant''s schema), then move the tenant again.';
        END IF;
        targets := targets || counterpart;
        moved := moved || jsonb_build_object('source', source::text, 'target', counterpart::text,
                                             'target_oid', counterpart::oid, 'stage', stage::text,
                                             'columns', to_jsonb(columns),
                                             'rows', split_part(checksum, '/', 1)::bigint,
                                             'checksum', split_part(checksum, '/', 2));
    END LOOP;
    -- The old copy goes (with the tenant's schema open), and the tenant is in
    -- row mode from here on.
    PERFORM tenancy._refuse_outside_dependents(target.schema_name);
    PERFORM tenancy._run_in_tenant(current_user::regrole, target.id, 'pg_catalog, pg_temp',
                                   format('DROP SCHEMA %I CASCADE', target.schema_name));
    UPDATE tenancy.tenants SET isolation = 'row', schema_name = NULL WHERE id = target.id;
    DELETE FROM tenancy.migrations m WHERE m.scope = 'tenant' AND m.tenant_id = target.id;
    FOREACH counterpart IN ARRAY tenancy._load_order(targets) LOOP
        SELECT e INTO item FROM jsonb_array_elements(moved) e WHERE (e->>'target_oid')::oid = counterpart;
        columns := ARRAY(SELECT jsonb_array_elements_text(item->'columns'))::name[];
        column_list := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(columns) c), ', ');
        IF (item->>'rows')::bigint > 0 THEN
            PERFORM tenancy._grant_to_owner((item->>'stage')::regclass, 'SELECT', counterpart);
            BEGIN
                PERFORM tenancy._rows_as_owner(counterpart, target.id, 'owner', format(
                    'INSERT INTO %s (tenant_id%s) OVERRIDING SYSTEM VALUE SELECT $1%s FROM %s s', counterpart,
                    coalesce(', ' || column_list, ''),
                    coalesce(', ' || array_to_string(ARRAY(SELECT 's.' || quote_ident(c) FROM unnest(columns) c), ', '), ''),
                    item->>'stage'), NULL);
            EXCEPTION WHEN unique_violation THEN
                GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME, problem = PG_EXCEPTION_DETAIL;
                RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                    MESSAGE = format('the rows of %s cannot go into %s', item->>'source', counterpart),
                    DETAIL = format('Unique constraint "%s" holds across tenants, and another tenant''s row has a '
                                    'value of the tenant''s.%s', constraint_name,
                                    coalesce(' ' || nullif(problem, ''), '')),
                    HINT = 'A move keeps every value. Make the constraint include tenant_id, or change the '
                           'tenant''s values first.';
            END;
            -- The table's sequences go past the keys that came in (never back).
            FOR sequence_item IN SELECT * FROM tenancy._move_sequences(counterpart) s
                                  WHERE s.column_name = ANY (columns) LOOP
                PERFORM tenancy._rows_as_owner(counterpart, target.id, 'owner', format(
                    'SELECT pg_catalog.to_jsonb(pg_catalog.setval(%L::pg_catalog.regclass, x.m)) '
                    'FROM (SELECT pg_catalog.max(s.%I) AS m FROM %s s) x, %s q WHERE x.m >= q.last_value',
                    sequence_item.sequence, sequence_item.column_name, item->>'stage', sequence_item.sequence), NULL);
            END LOOP;
            PERFORM tenancy._revoke_from_owner((item->>'stage')::regclass, counterpart);
        END IF;
        SELECT f #>> '{}' INTO checksum
          FROM tenancy._rows_as_owner(counterpart, target.id,
                                      (SELECT p.read_role FROM tenancy.protected_tables p WHERE p.relid = counterpart),
                                      format('SELECT pg_catalog.to_jsonb(%s) FROM %s WHERE t.tenant_id OPERATOR(pg_catalog.=) $1',
                                             tenancy._move_checksum(columns), tenancy._move_rows_of(counterpart)), NULL) f;
        PERFORM tenancy._require_same_copy(item->>'source', counterpart,
                                           (item->>'rows') || '/' || (item->>'checksum'), checksum);
    END LOOP;
    FOREACH stage IN ARRAY stages LOOP
        EXECUTE format('DROP TABLE %s', stage);
    END LOOP;
    RETURN moved;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.move_tenant(tenant text, isolation tenancy.isolation) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target tenancy.tenants;
    refused text;
    started timestamptz := clock_timestamp();
    moved jsonb;
BEGIN
    PERFORM tenancy._require_platform_admin('move tenants');
    target := tenancy._find_tenant(tenant);
    IF move_tenant.isolation IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'isolation must not be null',
            HINT = 'The modes are row and schema.';
    END IF;
    refused := tenancy.isolation_problem(move_tenant.isolation::text);
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = refused,
            DETAIL = 'This version of pg_tenancy moves tenants between row and schema mode.';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_state',
            MESSAGE = 'tenancy.move_tenant() must run in a READ COMMITTED transaction',
            DETAIL = format('This transaction is %s: its snapshot, taken before the move waited for the tenant''s '
                            'writers, would not show their rows.', upper(current_setting('transaction_isolation'))),
            HINT = 'Move the tenant in a transaction of its own (READ COMMITTED is the default).';
    END IF;
    -- Every writer of the tenant is waited for and kept out; then the
    -- tenant's row, in its latest state, is held until the end.
    PERFORM tenancy._hold_tenant_rows(target.id);
    target := tenancy._find_tenant(target.id::text, true);
    IF target.isolation = move_tenant.isolation THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is already in %s mode', target.slug, target.isolation);
    END IF;
    IF target.status = 'terminating' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('tenant "%s" is being terminated', target.slug),
            HINT = 'Restore it first with tenancy.restore_tenant(), or let it be purged.';
    END IF;
    moved := CASE move_tenant.isolation
                  WHEN 'schema' THEN tenancy._move_rows_to_schema(target)
                  ELSE tenancy._move_schema_to_rows(target) END;
    RETURN jsonb_build_object(
        'tenant', target.slug, 'from', target.isolation, 'to', move_tenant.isolation,
        'schema', (SELECT t.schema_name FROM tenancy.tenants t WHERE t.id = target.id),
        'tables', (SELECT coalesce(jsonb_agg(jsonb_build_object('source', e->>'source', 'target', e->>'target',
                                                                 'rows', (e->>'rows')::bigint, 'checksum', e->>'checksum')
                                             ORDER BY e->>'target'), '[]')
                     FROM jsonb_array_elements(moved) e),
        'rows', (SELECT coalesce(sum((e->>'rows')::bigint), 0) FROM jsonb_array_elements(moved) e),
        'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END
$$;
COMMENT ON FUNCTION tenancy.move_tenant(text, tenancy.isolation) IS
    'moves a tenant between row and schema mode in the caller''s transaction: copies its rows into the tables of '
    'the same names, verifies their counts and checksums, switches the tenant and removes the old copy; returns '
    'what moved (platform admins only)';

CREATE OR REPLACE FUNCTION tenancy._count_all_rows(target regclass) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'tenancy_count_all_rows';
CREATE OR REPLACE FUNCTION tenancy._hold_tenant_rows(tenant uuid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'tenancy_hold_tenant_rows';

REVOKE ALL ON FUNCTION tenancy._move_columns(regclass, regclass), tenancy._move_rows_of(regclass),
    tenancy._move_checksum(name[]), tenancy._move_sequences(regclass), tenancy._owner_of(regclass),
    tenancy._in_tenant_table(regclass, uuid, text), tenancy._revoke_from_owner(regclass, regclass),
    tenancy._checksum_in_tenant(regclass, uuid, name[]), tenancy._require_same_copy(text, regclass, text, text),
    tenancy._refuse_tenant_id_column(regclass), tenancy._refuse_outside_references(tenancy.tenants),
    tenancy._object_schema(oid, oid), tenancy._refuse_outside_dependents(text),
    tenancy._value_as_owner(regclass, uuid, text), tenancy._require_no_rows_left(tenancy.tenants),
    tenancy._move_rows_to_schema(tenancy.tenants), tenancy._protected_counterpart(name),
    tenancy._move_schema_to_rows(tenancy.tenants), tenancy._hold_tenant_rows(uuid), tenancy._count_all_rows(regclass)
    FROM PUBLIC;
COMMENT ON FUNCTION tenancy._move_columns(regclass, regclass) IS 'internal: the columns a move copies, checked';
COMMENT ON FUNCTION tenancy._move_rows_of(regclass) IS 'internal: a table''s rows in a FROM clause, as t';
COMMENT ON FUNCTION tenancy._move_checksum(name[]) IS 'internal: the expression of a table''s count and checksum';
COMMENT ON FUNCTION tenancy._move_sequences(regclass) IS 'internal: the sequences that fill a table''s columns';
COMMENT ON FUNCTION tenancy._owner_of(regclass) IS 'internal: a table''s owner';
COMMENT ON FUNCTION tenancy._in_tenant_table(regclass, uuid, text) IS
    'internal: runs a statement as the owner of a table of a tenant''s schema, that tenant open';
COMMENT ON FUNCTION tenancy._revoke_from_owner(regclass, regclass) IS
    'internal: takes back a privilege on a temporary table from a table''s owner';
COMMENT ON FUNCTION tenancy._checksum_in_tenant(regclass, uuid, name[]) IS
    'internal: the count and checksum of a table of a tenant''s schema, taken as its owner';
COMMENT ON FUNCTION tenancy._require_same_copy(text, regclass, text, text) IS
    'internal: error unless a copy has its source''s count and checksum';
COMMENT ON FUNCTION tenancy._refuse_outside_references(tenancy.tenants) IS
    'internal: error when rows outside a tenant refer to its rows in protected tables';
COMMENT ON FUNCTION tenancy._value_as_owner(regclass, uuid, text) IS
    'internal: the one value of a query run as a table''s owner with one tenant open';
COMMENT ON FUNCTION tenancy._require_no_rows_left(tenancy.tenants) IS
    'internal: error when a protected table holds a row of the moved tenant';
COMMENT ON FUNCTION tenancy._object_schema(oid, oid) IS 'internal: the schema of an object, or of its table';
COMMENT ON FUNCTION tenancy._refuse_outside_dependents(text) IS
    'internal: error when objects outside a tenant''s schema depend on it';
COMMENT ON FUNCTION tenancy._refuse_tenant_id_column(regclass) IS
    'internal: error when a tenant table has a column tenant_id';
COMMENT ON FUNCTION tenancy._move_rows_to_schema(tenancy.tenants) IS 'internal: moves a row-mode tenant into its schema';
COMMENT ON FUNCTION tenancy._protected_counterpart(name) IS
    'internal: the protected table a tenant table''s rows go to in row mode';
COMMENT ON FUNCTION tenancy._move_schema_to_rows(tenancy.tenants) IS
    'internal: moves a schema-mode tenant into the protected tables';
COMMENT ON FUNCTION tenancy._count_all_rows(regclass) IS
    'internal: every row of a table (of its partitions), counted by direct scans';
COMMENT ON FUNCTION tenancy._hold_tenant_rows(uuid) IS
    'internal: waits for the tenant''s writers and keeps new ones out until the transaction ends';
-- pg_tenancy 0.2 -> 0.3, after the functions: the triggers, policies and
-- event triggers 0.3 adds or changes, and data changes that need the new
-- functions (see 0.2--0.3.before.sql for how the scripts are assembled).

-- Before DDL, the guard also loads the library for CREATE INDEX and ALTER
-- DOMAIN (its object access hook checks the code they would run); after DDL,
-- the outcome is judged by oid.
DROP EVENT TRIGGER IF EXISTS tenancy_guard_ddl;
DROP EVENT TRIGGER IF EXISTS tenancy_guard_ddl_outcome;
DROP EVENT TRIGGER IF EXISTS tenancy_guard_ddl_drops;
CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY', 'CREATE INDEX',
                 'ALTER DOMAIN')
    EXECUTE FUNCTION tenancy.guard_ddl();
CREATE EVENT TRIGGER tenancy_guard_ddl_outcome ON ddl_command_end
    EXECUTE FUNCTION tenancy.guard_ddl_outcome();
CREATE EVENT TRIGGER tenancy_guard_ddl_drops ON sql_drop
    EXECUTE FUNCTION tenancy.guard_ddl_outcome();

-- The permissive policy is now tenancy.installed() (protected tables fail
-- closed after DROP EXTENSION), and policies are re-created as 0.3 makes them.
DO $policies$
DECLARE
    p tenancy.protected_tables;
BEGIN
    FOR p IN SELECT * FROM tenancy.protected_tables LOOP
        PERFORM tenancy._install_policies(p.relid, p.read_role, p.write_role, p.delete_role);
    END LOOP;
END
$policies$;

-- The catalog, the denials and the platform grants: platform admins of this
-- database read them (with the SELECT grant_platform_admin() gives them);
-- these policies keep out pg_read_all_data.
CREATE POLICY platform_admins_read ON tenancy.tenants FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.memberships FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.domains FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.protected_tables FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.access_denials FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
CREATE POLICY platform_admins_read ON tenancy.platform_grants FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));

-- Platform rights per database: whoever was a member of the group roles of
-- 0.1 and 0.2 keeps the right in this database; superusers need none.
CREATE TRIGGER platform_grants_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.platform_grants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
DO $convert$
DECLARE
    holder record;
BEGIN
    FOR holder IN
        SELECT m.member::regrole AS role, g.kind
          FROM (VALUES ('tenancy_admin', 'platform_admin'), ('tenancy_service', 'service')) AS g (group_name, kind)
          JOIN pg_catalog.pg_roles r ON r.rolname = g.group_name
          JOIN pg_catalog.pg_auth_members m ON m.roleid = r.oid
          JOIN pg_catalog.pg_roles grantee ON grantee.oid = m.member
         WHERE NOT grantee.rolsuper AND grantee.rolname NOT LIKE 'tenancy\_%'
    LOOP
        PERFORM tenancy._set_platform_right(holder.role, holder.kind, true);
    END LOOP;
END
$convert$;
CREATE EVENT TRIGGER tenancy_forget_dropped_grants ON ddl_command_end
    WHEN TAG IN ('DROP OWNED')
    EXECUTE FUNCTION tenancy.forget_dropped_grants();
-- pg_tenancy 0.3 -> 0.4, after the functions: protected tables trade their
-- foreign key to tenancy.tenants for the tenancy_tenant_check trigger and
-- the tenant locks (extension/tenant_lock.hpp); tenancy.tenants gets the
-- triggers that remove a dropped tenant's rows and refuse TRUNCATE.

CREATE TRIGGER tenants_remove_rows AFTER DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy.remove_tenant_rows();
CREATE TRIGGER tenants_refuse_truncate BEFORE TRUNCATE ON tenancy.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy._refuse_tenant_rows_loss();
CREATE TRIGGER tenants_refuse_new_id BEFORE UPDATE OF id ON tenancy.tenants
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION tenancy._refuse_tenant_rows_loss();

-- The foreign key protect() added: on tenant_id, to tenancy.tenants, ON
-- DELETE CASCADE. Foreign keys of other shapes were the owners' own.
DO $tenant_check$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT p.relid, con.conname
          FROM tenancy.protected_tables p
          LEFT JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = p.relid AND a.attname = 'tenant_id' AND NOT a.attisdropped
          LEFT JOIN pg_catalog.pg_constraint con
                 ON con.conrelid = p.relid AND con.contype = 'f'
                AND con.confrelid = 'tenancy.tenants'::pg_catalog.regclass
                AND con.conkey = ARRAY[a.attnum] AND con.confdeltype = 'c'
    LOOP
        IF target.conname IS NOT NULL THEN
            EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', target.relid, target.conname);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                        WHERE t.tgrelid = target.relid AND t.tgname = 'tenancy_tenant_check') THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER tenancy_tenant_check AFTER INSERT OR UPDATE OF tenant_id '
                                      'ON %s FOR EACH ROW EXECUTE FUNCTION tenancy.tenant_check()', target.relid);
        END IF;
    END LOOP;
END
$tenant_check$;

-- The write policies call tenancy.tenant_for() directly (09_protect.sql).
SELECT tenancy._install_policies(p.relid, p.read_role, p.write_role, p.delete_role)
  FROM tenancy.protected_tables p;
-- pg_tenancy 0.4 -> 0.5, after the functions: the audit log takes one
-- BACKFILL row per backfilled table.
ALTER TABLE tenancy.audit_log DROP CONSTRAINT audit_log_operation_check;
ALTER TABLE tenancy.audit_log ADD CONSTRAINT audit_log_operation_check
    CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ENTER', 'BACKFILL'));
COMMENT ON TABLE tenancy.audit_log IS
    'pg_tenancy: one row per change of a protected row (UPDATE: old row, and new values of changed columns), '
    'per TRUNCATE, per platform admin entering a tenant (ENTER), and per table backfilled by protect() (BACKFILL)';
-- pg_tenancy 0.5 -> 0.6, after the functions: nothing to add.
-- pg_tenancy 0.6 -> 0.7, after the functions: the triggers that record
-- tenancy.tenant_events (new in 0.7) and who reads it.
CREATE TRIGGER tenants_events AFTER INSERT OR UPDATE OR DELETE ON tenancy.tenants
    FOR EACH ROW EXECUTE FUNCTION tenancy._record_tenant_event();
CREATE TRIGGER memberships_owner_events AFTER INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy._record_owner_event();
CREATE POLICY tenant_events_read ON tenancy.tenant_events FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
ALTER TABLE tenancy.tenant_events ALTER COLUMN actor SET DEFAULT tenancy.actor(),
    ALTER COLUMN db_role SET DEFAULT tenancy.db_role();

-- Plans (new in 0.7): platform admins read them like the rest of the catalog.
CREATE POLICY platform_admins_read ON tenancy.plans FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
DO $grants$
DECLARE
    admin regrole;
BEGIN
    FOR admin IN SELECT DISTINCT g.role FROM tenancy.platform_grants g
                   JOIN pg_catalog.pg_roles r ON r.oid = g.role WHERE g.kind = 'platform_admin' LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON tenancy.plans TO %s', admin);
    END LOOP;
END
$grants$;

-- The DDL guard also sees CREATE TRIGGER: the names of pg_tenancy's triggers
-- (tenancy_*) are refused to other triggers on protected tables.
DROP EVENT TRIGGER tenancy_guard_ddl;
CREATE EVENT TRIGGER tenancy_guard_ddl ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER', 'DROP TRIGGER', 'ALTER TRIGGER', 'DROP POLICY', 'ALTER POLICY',
                 'CREATE INDEX', 'ALTER DOMAIN')
    EXECUTE FUNCTION tenancy.guard_ddl();
-- pg_tenancy 0.7 -> 0.8, after the functions.

-- Regions (new in 0.8): platform admins read them like the rest of the catalog.
CREATE POLICY platform_admins_read ON tenancy.regions FOR SELECT TO PUBLIC
    USING ((SELECT tenancy.is_platform_admin()));
DO $grants$
DECLARE
    admin regrole;
BEGIN
    FOR admin IN SELECT DISTINCT g.role FROM tenancy.platform_grants g
                   JOIN pg_catalog.pg_roles r ON r.oid = g.role WHERE g.kind = 'platform_admin' LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON tenancy.regions TO %s', admin);
    END LOOP;
END
$grants$;

-- A change of plans or of setting definitions reaches every session's
-- statement_timeout, work_mem and TimeZone at its next statement.
CREATE TRIGGER plans_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.plans
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();
CREATE TRIGGER setting_definitions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.setting_definitions
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.catalog_changed();

-- Usage alerts: platform admins, and the owners and admins of the current
-- tenant for that tenant, read them (like the audit log); nobody edits them.
CREATE POLICY alerts_read ON tenancy.alerts FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));

-- Usage: read like the audit log; written only by the collector and
-- tenancy.collect_usage().
CREATE POLICY usage_daily_read ON tenancy.usage_daily FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
CREATE POLICY usage_actors_read ON tenancy.usage_actors FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
-- pg_tenancy 0.8 -> 0.9, after the functions.

-- Requests about persons (new in 0.9): read like the audit log; written only
-- by the functions of personal data.
CREATE POLICY subject_requests_read ON tenancy.subject_requests FOR SELECT TO PUBLIC
    USING (tenancy.audit_visible(tenant_id));
-- pg_tenancy 0.9 -> 0.10, after the functions: nothing to change.
-- pg_tenancy 0.10 -> 0.11, after the functions: nothing to change.
COMMENT ON TYPE tenancy.isolation IS
    'how a tenant''s data is isolated: rows in shared tables, a schema of its own, or a database of its own';

-- A schema-mode tenant's schema goes with it (wiring/01_triggers.sql).
CREATE TRIGGER tenants_drop_schema AFTER DELETE ON tenancy.tenants
    FOR EACH ROW WHEN (OLD.schema_name IS NOT NULL) EXECUTE FUNCTION tenancy._drop_tenant_schema();
-- pg_tenancy 0.11 -> 0.12, after the functions.

-- Tables in tenant schemas get row level security (wiring/01_triggers.sql),
-- those of 0.11 at once.
CREATE EVENT TRIGGER tenancy_seal_tenant_tables ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE', 'CREATE MATERIALIZED VIEW',
                 'ALTER MATERIALIZED VIEW', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE')
    EXECUTE FUNCTION tenancy.seal_tenant_tables();
SELECT tenancy._seal_tenant_table(u.relid) FROM tenancy._unsealed_tenant_tables() u;
-- pg_tenancy 0.12 -> 0.13, after the functions: nothing to change in the
-- tables; move_tenant() and its helpers come with the functions.
