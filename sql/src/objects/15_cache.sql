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
