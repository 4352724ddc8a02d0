#!/bin/sh
# Installs the Debian packages pg_tenancy needs to build, test and demo, but
# only those that are missing, so that a second run is instant and offline.
set -eu

# postgresql-15 brings pg_virtualenv (postgresql-common); server-dev brings
# PGXS, pg_regress and pg_isolation_regress; python3 drives the tenantctl
# tests (JSON, pseudo-terminal); pgbouncer is the real connection pooler the
# pooler tests (test/pooler/run.sh) put between service roles and the server;
# libicu-dev is what the extension checks actor names with (as PostgreSQL
# itself uses ICU for collations); python3-django and python3-psycopg2 run the
# Django integration's example and its tests (test/django/run.sh); man-db
# makes `man tenantctl` work after make install; libssl-dev (OpenSSL's
# SHA-256) and libxlsxwriter-dev write the checksums and the spreadsheets of
# tenant exports.
packages="postgresql-15 postgresql-server-dev-15 libpq-dev libssl-dev libpqxx-dev libcli11-dev libxlsxwriter-dev libicu-dev g++ make python3 pgbouncer
          python3-django python3-psycopg2 man-db"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
    sudo="sudo"
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists: update once when install fails.
if ! $sudo apt-get install -y -q --no-install-recommends $missing >/tmp/pg_tenancy-deps.log 2>&1; then
    $sudo apt-get update -q >>/tmp/pg_tenancy-deps.log 2>&1
    $sudo apt-get install -y -q --no-install-recommends $missing >>/tmp/pg_tenancy-deps.log 2>&1 || {
        cat /tmp/pg_tenancy-deps.log >&2
        echo "deps: apt-get install failed; see the log above" >&2
        exit 1
    }
fi
