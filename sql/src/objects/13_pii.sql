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
