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
