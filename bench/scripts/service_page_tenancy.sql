-- A service role reads a page of 10 rows of one tenant by primary key, with
-- actor and tenant set for the transaction.
\set t random(1, :tenants)
\set k random(0, :rows - 10)
\set id0 (:k + 0) * :tenants + :t
\set id1 (:k + 1) * :tenants + :t
\set id2 (:k + 2) * :tenants + :t
\set id3 (:k + 3) * :tenants + :t
\set id4 (:k + 4) * :tenants + :t
\set id5 (:k + 5) * :tenants + :t
\set id6 (:k + 6) * :tenants + :t
\set id7 (:k + 7) * :tenants + :t
\set id8 (:k + 8) * :tenants + :t
\set id9 (:k + 9) * :tenants + :t
BEGIN;
SELECT set_config('tenancy.actor', 'bench_user', true), set_config('tenancy.tenant', md5(:t::text)::uuid::text, true);
SELECT amount, note FROM bench.items WHERE id IN (:id0, :id1, :id2, :id3, :id4, :id5, :id6, :id7, :id8, :id9);
END;
