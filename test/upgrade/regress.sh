#!/bin/bash
# The pg_regress suite, run a second time on a database that was installed
# at the oldest version from the script kept in sql/, filled
# (test/upgrade/fill.sql), updated with ALTER EXTENSION pg_tenancy UPDATE and
# emptied of its tenants through the product's functions (empty.sql). The
# suite's first test, install, is replaced by updated. Runs after the first
# pass of the suite, whose database (contrib_regression) and roles it drops
# to take their names. Writes "passed failed" into the file named by $1.
set -u
cd "$(dirname "$0")/../.."
. test/lib.sh
summary=$1
# The oldest version whose install script is kept: the longest way up.
previous=$(ls sql/pg_tenancy--*.sql | sed -n 's/^sql\/pg_tenancy--\([0-9.]*\)\.sql$/\1/p' | sort -V | head -1)
database=contrib_regression
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The roles the suite creates (the first pass left them in the cluster).
suite_roles=$(grep -ho "CREATE ROLE [a-z_]*" test/sql/*.sql | awk '{print $3}' | sort -u)
dropdb --force --if-exists "$database" >/dev/null 2>&1
for role in $suite_roles; do
    if ! out=$(psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" 2>&1); then
        result failed "drop role $role of the first pass" "$out"
    fi
done
createdb "$database"
if ! out=$(run_psql "$database" -c "CREATE EXTENSION pg_tenancy VERSION '$previous'" -f test/upgrade/fill.sql \
          -c "ALTER EXTENSION pg_tenancy UPDATE" -f test/upgrade/empty.sql 2>&1); then
    result failed "install $previous, fill, update and empty $database" "$out"
    write_summary "$summary"; exit 0
fi

# pg_regress looks for expected outputs under its output directory first.
ln -s "$PWD/expected" "$work/expected"
sed 's/^test: install$/test: updated/' test/schedule >"$work/schedule"
"$pgxs_dir/test/regress/pg_regress" --inputdir=test --outputdir="$work" --bindir="$bindir" \
    --use-existing --dbname="$database" --schedule="$work/schedule" 2>&1 | tee "$work/regress.log"
count_results "$work/regress.log" "${PIPESTATUS[0]}"
[ -f "$work/regression.diffs" ] && cp "$work/regression.diffs" updated-regression.diffs
write_summary "$summary"
