#!/bin/bash
# Runs inside pg_virtualenv (PGHOST, PGPORT, PGUSER, PGPASSWORD point at the
# throwaway cluster): the pg_regress suite, the isolation specs, the
# tenantctl and upgrade tests, the pg_regress suite again on a database
# updated from the previous version, the dump/restore, standby, pooler and
# Django tests. Writes "passed failed" into $TENANCY_SUMMARY.
set -u
cd "$(dirname "$0")/.."
. test/lib.sh

rm -rf results regression.diffs regression.out isolation.diffs updated-regression.diffs
echo "== regression tests"
"$pgxs_dir/test/regress/pg_regress" --inputdir=test --outputdir=. --bindir="$bindir" \
    --dbname=contrib_regression --schedule=test/schedule 2>&1 | tee /tmp/pg_tenancy-regress.log
count_results /tmp/pg_tenancy-regress.log "${PIPESTATUS[0]}"

[ -f regression.diffs ] && mv regression.diffs regression.diffs.keep
echo "== isolation tests"
"$pgxs_dir/test/isolation/pg_isolation_regress" --inputdir=test --outputdir=. --bindir="$bindir" \
    --dbname=isolation_regression --load-extension=pg_tenancy \
    $(cd test/specs && ls *.spec | sed 's/\.spec$//') 2>&1 | tee /tmp/pg_tenancy-isolation.log
count_results /tmp/pg_tenancy-isolation.log "${PIPESTATUS[0]}"
[ -f regression.diffs ] && mv regression.diffs isolation.diffs
[ -f regression.diffs.keep ] && mv regression.diffs.keep regression.diffs

# Runs a suite script that writes "passed failed" into the file named by its
# first argument, and adds its counts; a suite that dies counts as a failure.
run_suite() {
    local title=$1 script=$2 suite_summary suite_passed suite_failed
    echo "== $title"
    suite_summary=$(mktemp)
    "$script" "$suite_summary"
    read -r suite_passed suite_failed < "$suite_summary" || { suite_passed=0; suite_failed=1; }
    passed=$((passed + suite_passed))
    failed=$((failed + suite_failed))
    rm -f "$suite_summary"
}

run_suite "tenantctl tests" test/cli/run.sh
run_suite "online protection tests" test/cli/online.sh
run_suite "export, import and clone tests" test/cli/portability.sh
run_suite "migration tests" test/cli/migrate.sh
run_suite "upgrade tests" test/upgrade/run.sh
run_suite "regression tests on an updated database" test/upgrade/regress.sh
run_suite "dump and restore tests" test/restore/run.sh
run_suite "standby tests" test/standby/run.sh
run_suite "pooler tests" test/pooler/run.sh
run_suite "Django tests" test/django/run.sh

echo "$passed $failed" > "$TENANCY_SUMMARY"
