#!/usr/bin/env bash
# The check-in benchmark on SQLite, then on a throwaway PostgreSQL 15 with fsync on (as deployed).
# Each run starts gunicorn (gunicorn.conf.py, 2 sync workers) and wrk itself and stops them after.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "== check-in benchmark on SQLite =="
env -u WUYE_DATABASE_URL .venv/bin/python bench/checkin_load.py "$@" || status=1
echo "== check-in benchmark on PostgreSQL 15 (fsync on) =="
WUYE_PG_FSYNC=on bash scripts/with-postgres.sh .venv/bin/python bench/checkin_load.py "$@" || status=1
exit $status
