#!/usr/bin/env bash
# Every benchmark, each starting and stopping what it measures, and ONE table at the end (its figures go
# to bench/README.md): bench/endpoints.py on SQLite, then on a throwaway PostgreSQL 15 with fsync on
# (every hot endpoint against /healthz under gunicorn + wrk, the synthetic district's load, the workers'
# memory, the roster auto-fill through the database), then the roster solver alone; bench/table.py prints
# the table. About 6-8 minutes on the 2-core machine. Options go to endpoints.py (--duration, --connections).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
out=$(mktemp -d /tmp/wuye-bench-table.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "== every endpoint on SQLite =="
env -u WUYE_DATABASE_URL .venv/bin/python bench/endpoints.py --json "$out/sqlite.json" "$@" || status=1
echo "== every endpoint on PostgreSQL 15 (fsync on) =="
WUYE_PG_FSYNC=on bash scripts/with-postgres.sh .venv/bin/python bench/endpoints.py --json "$out/postgresql.json" "$@" \
  || status=1
echo "== roster auto-fill: the solver alone =="
.venv/bin/python bench/roster_autofill.py --runs 1 || status=1
echo
echo "== the table =="
.venv/bin/python bench/table.py "$out/sqlite.json" "$out/postgresql.json" || status=1
exit $status
