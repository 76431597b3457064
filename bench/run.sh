#!/usr/bin/env bash
# Every benchmark, each starting and stopping what it measures (figures go to bench/README.md):
# the gate check-in under gunicorn + wrk on SQLite, then on a throwaway PostgreSQL 15 with fsync on,
# and the roster auto-fill (630 shifts, 120 guards), pure and through the database.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "== check-in benchmark on SQLite =="
env -u WUYE_DATABASE_URL .venv/bin/python bench/checkin_load.py "$@" || status=1
echo "== check-in benchmark on PostgreSQL 15 (fsync on) =="
WUYE_PG_FSYNC=on bash scripts/with-postgres.sh .venv/bin/python bench/checkin_load.py "$@" || status=1
echo "== roster auto-fill: the solver alone =="
.venv/bin/python bench/roster_autofill.py --runs 3 || status=1
echo "== roster auto-fill: through the database (SQLite) =="
env -u WUYE_DATABASE_URL .venv/bin/python bench/roster_autofill_db.py || status=1
exit $status
