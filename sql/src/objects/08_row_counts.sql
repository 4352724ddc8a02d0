-- pg_tenancy: the rows each tenant has in each protected table that a row
-- limit names (plans.limits->'rows', tenants.limits->'rows'), maintained by
-- statement triggers on those tables (tenancy_row_count*) so that a limit is
-- checked without counting. A tenant's count starts from one direct count
-- the first time it writes into the table after a limit names it. Derived
-- data: not dumped (a restore starts the counts again), removed with the
-- tenant.

CREATE TABLE tenancy.row_counts (
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    relid     oid NOT NULL,
    rows      bigint NOT NULL,
    CONSTRAINT row_counts_pkey PRIMARY KEY (tenant_id, relid)
);
CREATE INDEX row_counts_relid_idx ON tenancy.row_counts (relid);
COMMENT ON TABLE tenancy.row_counts IS
    'pg_tenancy: rows per tenant of the protected tables a row limit names, kept by triggers (not dumped)';

REVOKE ALL ON tenancy.row_counts FROM PUBLIC;
ALTER TABLE tenancy.row_counts ENABLE ROW LEVEL SECURITY;
