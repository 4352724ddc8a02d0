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
