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
