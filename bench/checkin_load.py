"""Benchmark: the guard-scan check-in against /healthz, under gunicorn as `make run` starts it.

Creates a fresh database (SQLite in a temporary folder, or WUYE_DATABASE_URL when set, e.g. by
scripts/with-postgres.sh), loads the demo data, starts gunicorn with gunicorn.conf.py (2 sync
workers), signs the demo guard in, pre-issues pass codes of the demo residents, then drives both
endpoints with wrk at 16 connections. Prints requests per second, p50 and p99 of each endpoint and
the ratio; stops everything it started. Exit status 1 when a budget is missed or a request failed.

    .venv/bin/python bench/checkin_load.py [--duration 10] [--connections 16] [--min-ratio 0.20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

WRK_THREADS = 2
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


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SCHEMA_FROM_MODELS = """
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from wsgi import app
from server.extensions import db
with app.app_context():
    with db.engine.connect() as conn:
        behind = compare_metadata(MigrationContext.configure(conn), db.metadata)
    if behind:
        print("note: the migrations are behind the models; the bench schema is created from the models")
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
"""


def prepare_database(env: dict) -> None:
    """Create the schema as `make run` does (`flask db upgrade`), from the models while migrations lag; demo data."""
    versions = ROOT / "migrations" / "versions"
    if versions.is_dir() and any(versions.glob("*.py")):
        subprocess.run([BIN / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([BIN / "python", "-c", SCHEMA_FROM_MODELS], env=env, cwd=ROOT, check=True)
    subprocess.run([BIN / "flask", "wuye", "demo-data", "--if-empty"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


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
    out = subprocess.run([BIN / "python", "-c", script], env=env, cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["codes"], data["gate_id"]


def post_json(url: str, body: dict) -> dict:
    """POST JSON, answer JSON."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_ready(base: str, server: subprocess.Popen, seconds: float = 30) -> None:
    """Wait until /healthz answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def server_cpu_seconds(process_group: int) -> float:
    """User + system CPU time used so far by the live processes of a process group (gunicorn and workers)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == process_group:  # fields[2] is pgrp; utime and stime follow at 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, duration: int, connections: int, script: Path | None = None,
            server_group: int | None = None) -> dict:
    """Run wrk; answer requests/s, p50, p99 (ms), the count of non-2xx answers and the server's CPU ms
    per request (when its process group is given)."""
    cpu_before = server_cpu_seconds(server_group) if server_group else None
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    result = subprocess.run([*cmd, url], capture_output=True, text=True, check=True)
    cpu = server_cpu_seconds(server_group) - cpu_before if server_group else None
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": _ms(*p50.groups()), "p99": _ms(*p99.groups()),
            "cpu_ms": cpu * 1000 / requests if cpu is not None and requests else None,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "stderr": result.stderr[-500:]}


def main() -> int:
    """Run the benchmark; 0 when the budgets hold."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--min-ratio", type=float, default=None,
                        help="default 0.20 on SQLite, 0.12 on PostgreSQL")
    parser.add_argument("--max-p99-ms", type=float, default=50.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or scripts/system-packages.sh)")

    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-"))
    database_url = os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    min_ratio = args.min_ratio if args.min_ratio is not None else (0.12 if backend == "postgresql" else 0.20)
    port = free_port()
    env = {**os.environ, "WUYE_ENV": "development", "WUYE_DATABASE_URL": database_url, "FLASK_APP": "wsgi:app",
           "WUYE_BIND": f"127.0.0.1:{port}"}
    env.pop("WUYE_ACCESS_LOG", None)
    base = f"http://127.0.0.1:{port}"
    server = None
    try:
        prepare_database(env)
        server = subprocess.Popen([BIN / "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_ready(base, server)
        token = post_json(base + "/api/v1/auth/wechat", {"code": "dev:guard-zhang"})["access_token"]
        results = {}
        for phase in ("warmup", "measure"):
            duration = 2 if phase == "warmup" else args.duration
            results["healthz"] = run_wrk(base + "/healthz", duration, args.connections, server_group=server.pid)
            # Fresh codes for each run: a pass lives 60 s, and must still be valid at the last request.
            codes, gate_id = issue_codes(env, WRK_THREADS * CODES_PER_THREAD)
            script = workdir / "checkin.lua"
            (workdir / "codes.lua").write_text("return {" + ",".join(f'"{c}"' for c in codes) + "}\n")
            script.write_text(LUA.format(codes=workdir / "codes.lua", gate_id=gate_id, token=token, threads=WRK_THREADS,
                                         run=secrets.token_hex(4)))
            results["checkin"] = run_wrk(base, duration, args.connections, script, server_group=server.pid)
        health, checkin = results["healthz"], results["checkin"]
        ratio = checkin["rps"] / health["rps"]
        print(f"backend: {backend}; gunicorn.conf.py (2 sync workers); wrk -t2 -c{args.connections} "
              f"-d{args.duration}s")
        for name, r in (("GET /healthz", health), ("POST /api/v1/checkins", checkin)):
            print(f"  {name:<24} {r['rps']:9.1f} req/s   p50 {r['p50']:7.2f} ms   p99 {r['p99']:7.2f} ms"
                  f"   server CPU {r['cpu_ms']:.2f} ms/request   non-2xx {r['non_2xx']}{'   socket errors ' + r['socket_errors'] if r['socket_errors'] else ''}")
        print(f"  ratio check-in / healthz: {ratio:.3f} (budget >= {min_ratio:.2f}); "
              f"check-in p99 {checkin['p99']:.1f} ms (budget <= {args.max_p99_ms:.0f} ms)")
        failed = checkin["non_2xx"] or health["non_2xx"] or ratio < min_ratio or checkin["p99"] > args.max_p99_ms
        if checkin["non_2xx"]:
            print("  check-in errors:", checkin["stderr"])
        print("  RESULT:", "FAIL" if failed else "OK")
        return 1 if failed else 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
