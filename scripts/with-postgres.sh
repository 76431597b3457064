#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 cluster: initdb in a temporary folder, a private
# Unix socket (no TCP), fsync off (it is thrown away), stopped and removed afterwards, also on failure.
# The command sees WUYE_TEST_DATABASE_URL (and WUYE_DATABASE_URL unless already set).
# WUYE_PG_OPTIONS adds server settings, e.g. "-c shared_buffers=4GB" for a district-scale benchmark.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
dir=$(mktemp -d /tmp/wuye-pg.XXXXXX)
port=${WUYE_PG_PORT:-$((20000 + RANDOM % 20000))}
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
"${as_pg[@]}" "$PGBIN/initdb" -D "$dir/data" -U wuye --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -p $port -c listen_addresses='' -c fsync=${WUYE_PG_FSYNC:-off} -c max_connections=100 ${WUYE_PG_OPTIONS:-}" start >/dev/null
"$PGBIN/createdb" -h "$dir" -p "$port" -U wuye wuye
export WUYE_TEST_DATABASE_URL="postgresql+psycopg://wuye@/wuye?host=$dir&port=$port"
export WUYE_DATABASE_URL="${WUYE_DATABASE_URL:-$WUYE_TEST_DATABASE_URL}"
"$@"
