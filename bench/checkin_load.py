"""Benchmark: the guard-scan check-in against /healthz, under gunicorn as `make run` starts it.

Creates a fresh database (SQLite in a temporary folder, or WUYE_DATABASE_URL when set, e.g. by
scripts/with-postgres.sh), loads the demo data, starts gunicorn with gunicorn.conf.py (2 sync
workers), signs the demo guard in, pre-issues pass codes of the demo residents, then drives both
endpoints with wrk at 16 connections. Prints requests per second, p50 and p99 of each endpoint and
the ratio; stops everything it started. Exit status 1 when a budget is missed or a request failed.

    .venv/bin/python bench/checkin_load.py [--duration 10] [--connections 16] [--min-ratio 0.20] [--floor]

`--floor` then serves `bench/floor_app.py` (a bare Flask endpoint that decodes a JWT and inserts one
check-in row, the floor issue #3 gave for scale) on the same database and measures it the same way:
its rate against /healthz, and the check-in's rate against it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    WRK_THREADS,
    Gunicorn,
    backend_of,
    free_port,
    lua_list,
    post_json,
    prepare_database,
    run_python,
    run_wrk,
    server_env,
)

# The check-in's budgets (issue #3): requests/s as a share of /healthz's in the same run.
MIN_RATIO = {"sqlite": 0.20, "postgresql": 0.12}
MAX_P99_MS = 50.0
# More passes than a thread sends in a run (about 600 a second for 10 s), so none is shown twice.
CODES_PER_THREAD = 10_000

LUA = """
local codes = dofile("{codes}")
local gate_id = {gate_id}
local token = "{token}"
local run = "{run}"
local counter = 0
local thread_no = 0
local threads = {{}}

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  -- each thread its own slice: every request shows a pass no one has scanned yet, as at a real gate
  local per_thread = math.floor(#codes / {threads})
  local code = codes[(tid - 1) * per_thread + (counter % per_thread) + 1]
  local direction = (counter % 2 == 0) and "in" or "out"
  local body = string.format(
    '{{"pass_code":"%s","gate_id":%d,"direction":"%s","client_id":"%s-%s-%d"}}',
    code, gate_id, direction, run, tid, counter)
  return wrk.format(nil, "/api/v1/checkins", nil, body)
end

"""


def issue_codes(env: dict, count: int) -> tuple[list[str], int]:
    """Pass codes of the demo residents of 黄平路8号院 (valid 60 s) and the id of its open gate."""
    script = f"""
import json
from sqlalchemy import select
from wsgi import app
from server.extensions import db
from server.models.compounds import Compound, Gate, Household
from server.models.people import User
from server.services.gate.passes import issue_for
with app.app_context():
    compound = db.session.scalar(select(Compound).where(Compound.name == "黄平路8号院"))
    gate = db.session.scalar(select(Gate).where(Gate.compound_id == compound.id, Gate.is_open.is_(True)))
    residents = db.session.scalars(select(User).join(Household, Household.id == User.household_id)
                                   .where(Household.compound_id == compound.id, User.residency == "approved")).all()
    codes = [issue_for(residents[i % len(residents)]).code for i in range({count})]
    db.session.commit()
    print(json.dumps({{"codes": codes, "gate_id": gate.id}}))
"""
    data = run_python(env, script)
    return data["codes"], data["gate_id"]


def write_checkin_script(workdir: Path, env: dict, token: str, per_thread: int = CODES_PER_THREAD) -> Path:
    """A wrk script that scans fresh pass codes (a pass lives 60 s: write it just before each run)."""
    codes, gate_id = issue_codes(env, WRK_THREADS * per_thread)
    (workdir / "codes.lua").write_text(lua_list(codes))
    script = workdir / "checkin.lua"
    script.write_text(LUA.format(codes=workdir / "codes.lua", gate_id=gate_id, token=token, threads=WRK_THREADS,
                                 run=secrets.token_hex(4)))
    return script


FLOOR_LUA = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def measure_floor(workdir: Path, env: dict, guard_token: str, duration: int, connections: int) -> dict:
    """`bench/floor_app.py` under gunicorn on the same database: its hello and its JWT + one insert."""
    secret = secrets.token_hex(32)
    guard_id = jwt.decode(guard_token, options={"verify_signature": False})["sub"]
    token = jwt.encode({"sub": guard_id, "exp": int(time.time()) + 3600}, secret, algorithm="HS256")
    script = workdir / "floor.lua"
    script.write_text(FLOOR_LUA.format(token=token))
    floor_env = {**env, "WUYE_FLOOR_SECRET": secret, "WUYE_BIND": f"127.0.0.1:{free_port()}"}
    with Gunicorn(floor_env, app="floor_app:app", pythonpath="bench") as server:
        results = {}
        for phase in ("warmup", "measure"):
            seconds = 2 if phase == "warmup" else duration
            results["hello"] = run_wrk(server.base + "/healthz", seconds, connections, server_group=server.pid)
            results["floor"] = run_wrk(server.base + "/floor", seconds, connections, script, server_group=server.pid)
    return results


def main() -> int:
    """Run the benchmark; 0 when the budgets hold."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--min-ratio", type=float, default=None,
                        help="default 0.20 on SQLite, 0.12 on PostgreSQL")
    parser.add_argument("--max-p99-ms", type=float, default=MAX_P99_MS)
    parser.add_argument("--floor", action="store_true",
                        help="also measure bench/floor_app.py (JWT + one insert) on the same database")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or scripts/system-packages.sh)")

    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-"))
    database_url = os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    backend = backend_of(database_url)
    min_ratio = args.min_ratio if args.min_ratio is not None else MIN_RATIO[backend]
    env = server_env(database_url, free_port())
    try:
        prepare_database(env)
        with Gunicorn(env) as server:
            base = server.base
            token = post_json(base + "/api/v1/auth/wechat", {"code": "dev:guard-zhang"})["access_token"]
            results = {}
            for phase in ("warmup", "measure"):
                duration = 2 if phase == "warmup" else args.duration
                results["healthz"] = run_wrk(base + "/healthz", duration, args.connections, server_group=server.pid)
                script = write_checkin_script(workdir, env, token)
                results["checkin"] = run_wrk(base, duration, args.connections, script, server_group=server.pid)
        if args.floor:
            results.update(measure_floor(workdir, env, token, args.duration, args.connections))
        health, checkin = results["healthz"], results["checkin"]
        ratio = checkin["rps"] / health["rps"]
        print(f"backend: {backend}; gunicorn.conf.py (2 sync workers); wrk -t2 -c{args.connections} "
              f"-d{args.duration}s")
        rows = [("GET /healthz", health), ("POST /api/v1/checkins", checkin)]
        if args.floor:
            rows += [("floor: GET /healthz", results["hello"]), ("floor: JWT + one insert", results["floor"])]
        for name, r in rows:
            print(f"  {name:<24} {r['rps']:9.1f} req/s   p50 {r['p50']:7.2f} ms   p99 {r['p99']:7.2f} ms"
                  f"   server CPU {r['cpu_ms']:.2f} ms/request   non-2xx {r['non_2xx']}"
                  f"{'   socket errors ' + r['socket_errors'] if r['socket_errors'] else ''}")
        print(f"  ratio check-in / healthz: {ratio:.3f} (budget >= {min_ratio:.2f}); "
              f"check-in p99 {checkin['p99']:.1f} ms (budget <= {args.max_p99_ms:.0f} ms)")
        if args.floor:
            floor = results["floor"]
            print(f"  floor / healthz: {floor['rps'] / health['rps']:.3f} (floor / its own hello "
                  f"{floor['rps'] / results['hello']['rps']:.3f}); check-in / floor: {checkin['rps'] / floor['rps']:.3f}")
        failed = checkin["non_2xx"] or health["non_2xx"] or ratio < min_ratio or checkin["p99"] > args.max_p99_ms
        if checkin["non_2xx"]:
            print("  check-in errors:", checkin["stderr"])
        print("  RESULT:", "FAIL" if failed else "OK")
        return 1 if failed else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
