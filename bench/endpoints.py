"""Benchmark: every hot endpoint against /healthz, on one database, under gunicorn as `make run` starts it.

Creates a fresh database (SQLite in a temporary folder, or WUYE_DATABASE_URL when set, e.g. by
scripts/with-postgres.sh), loads the demo data and a modest synthetic district (`flask wuye synth`,
timed), flushes what the load left for the disk to write (`benchlib.settle_after_load`), starts
gunicorn with gunicorn.conf.py (2 sync workers) and drives each endpoint with wrk
(a 1 s warm-up, then the measured run). Each row: requests/s, p50, p99, the server's CPU per request
and the ratio to /healthz (measured first and last; their mean is the reference). After the run,
the resident set size of each worker; then the roster auto-fill through the database, timed.
Writes the rows as JSON (--json) for bench/table.py, which prints the one table of `make bench`.

    .venv/bin/python bench/endpoints.py [--duration 5] [--connections 16] [--json out.json] [--only TEXT]
                                        [--district] [--light]

`--district` loads a whole district (about 10 million check-ins) instead of the modest one. With it,
or with `--light` on the modest one, each staff read is also measured at two connections, where
issue #16's p95 budgets (lists 100 ms, statistics 500 ms) are checked.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    BIN,
    ROOT,
    Gunicorn,
    backend_of,
    free_port,
    http_json,
    lua_list,
    prepare_database,
    run_python,
    run_wrk,
    server_env,
    settle_after_load,
)
from checkin_load import MAX_P99_MS, MIN_RATIO, write_checkin_script  # noqa: E402

# /healthz's runs around each endpoint, the reference of its ratio (seconds each).
BRACKET_SECONDS = 2
# The synthetic district at the scale this benchmark loads (the full district is issue #16's point 1).
# 2.5 trips a household a day (the synth's default, 0.42, spreads 10 million check-ins over a whole district):
# the few compounds here carry a busy gate's traffic, about 105,000 check-ins, 11,500 at one gate.
SYNTH = {"compounds": 3, "households": 500, "days": 14, "trips": 2.5}
# `--district`: the whole district (issue #16's scale), at the synth's own trips a household a day: about
# 10 million check-ins, 30,000 of them at the listed gate.
DISTRICT = {"compounds": 200, "households": 1000, "days": 60}
# With --district or --light, the staff reads are also measured at two connections (one per worker).
LIGHT_CONNECTIONS = 2
STAFF_READS = ("GET gate check-in list", "GET person's history", "GET visitors inside", "GET exposure look-up",
               "GET delivery queue", "GET roster week", "GET hourly counts today", "GET alliance summary")
STATISTICS = ("GET hourly counts today", "GET alliance summary")
# Issue #16's budgets at district scale, on the p95 at LIGHT_CONNECTIONS: staff lists 100 ms, statistics 500 ms.
LIST_P95_MS, STATISTICS_P95_MS = 100.0, 500.0
RESIDENT_TOKENS = 2000  # self check-in allows 10 a minute per resident: enough residents for a run
RSS_BUDGET_MB = 150
PASSWORD = "bench-staff-password"

SETUP = """
import json
from sqlalchemy import func, select, text
from wsgi import app
from server.auth import start_session
from server.extensions import db
from server.models.checkins import CheckIn
from server.models.compounds import Compound, Gate, Household
from server.models.people import User
from server.services.people.people import create_password_user
with app.app_context():
    synth = db.session.scalar(select(Compound).where(Compound.name.like("合成小区%%")).order_by(Compound.id))
    gate = db.session.scalar(select(Gate).where(Gate.compound_id == synth.id, Gate.kind == "main"))
    create_password_user("staff", synth.alliance_id, {"username": "bench-staff", "password": "%(password)s"},
                         company_id=synth.company_id)
    residents = db.session.scalars(select(User).join(Household, Household.id == User.household_id)
                                   .where(Household.compound_id == synth.id).order_by(User.id)
                                   .limit(%(tokens)d)).all()
    tokens = [start_session(user).access_token for user in residents]
    # A resident's history (visitors' rows have no subject: grouped together they are often the largest).
    busiest = db.session.execute(select(CheckIn.subject_user_id, func.count()).where(CheckIn.compound_id == synth.id,
                                                                                   CheckIn.subject_user_id.is_not(None))
                                 .group_by(CheckIn.subject_user_id).order_by(func.count().desc()).limit(1)).first()
    gate_rows = db.session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.gate_id == gate.id))
    all_rows = db.session.scalar(select(func.count()).select_from(CheckIn))
    wanlong = db.session.scalar(select(Compound.id).where(Compound.name == "万龙小区"))
    size = None
    if db.engine.dialect.name == "postgresql":  # the table with its indexes and TOAST, for capacity on paper
        size = db.session.scalar(text("SELECT pg_total_relation_size('checkins')"))
    db.session.commit()
    print(json.dumps({"compound_id": synth.id, "gate_id": gate.id, "gate_code": gate.code, "tokens": tokens,
                      "subject_id": busiest[0], "subject_rows": busiest[1], "gate_rows": gate_rows,
                      "checkin_rows": all_rows, "wanlong_id": wanlong, "checkins_bytes": size}))
"""

# Every request its own resident (round robin), as phones are; `{path}`, `{method}`, `{body}` per endpoint.
RESIDENT_LUA = """
local tokens = dofile("{tokens}")
local counter = 0
local tid = 0
local started = 0
function setup(thread)
  started = started + 1
  thread:set("tid", started)
end
function request()
  counter = counter + 1
  local i = ((tid - 1) * 1000003 + counter) %% #tokens + 1
  local headers = {{}}
  headers["Authorization"] = "Bearer " .. tokens[i]
  headers["Content-Type"] = "application/json"
  local body = nil
  if "{method}" == "POST" then
    local direction = (counter %% 2 == 0) and "in" or "out"
    body = string.format('{body}', direction, "{run}-" .. tid .. "-" .. counter)
  end
  return wrk.format("{method}", "{path}", headers, body)
end
"""


def resident_script(workdir: Path, name: str, method: str, path: str, body: str = "") -> Path:
    """A wrk script sending each request as the next resident of the token list."""
    script = workdir / f"{name}.lua"
    script.write_text(RESIDENT_LUA.format(tokens=workdir / "tokens.lua", method=method, path=path, body=body,
                                          run=f"{name}-{time.time_ns()}").replace("%%", "%"))
    return script


def sign_in(base: str, username: str, password: str) -> str:
    """A password account's access token."""
    return http_json(base + "/api/v1/auth/password", {"username": username, "password": password})["access_token"]


def exposure_request(base: str, staff: str, admin: str, subject_id: int) -> int:
    """An approved exposure look-up of the busiest resident over the last 7 days."""
    now = datetime.now(UTC)
    created = http_json(base + "/api/v1/exposure-requests", {
        "subject_user_id": subject_id, "window_start": (now - timedelta(days=7)).isoformat(),
        "window_end": now.isoformat(), "minutes": 15, "reason": "benchmark"}, staff)
    http_json(base + f"/api/v1/exposure-requests/{created['id']}/approve", {"note": "benchmark"}, admin)
    return created["id"]


def timed(cmd: list, env: dict, check: bool = True) -> tuple[float, str, int]:
    """Run a command; its wall time in seconds, its last output line and its exit status."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, check=check, capture_output=True, text=True)
    return time.perf_counter() - t0, (done.stdout.strip().splitlines() or [""])[-1], done.returncode


def main() -> int:
    """Run every endpoint; 0 when the budgets hold."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json", type=Path, default=None, help="write the rows here for bench/table.py")
    parser.add_argument("--district", action="store_true",
                        help="load the whole district (200 compounds x 1,000 households, 60 days) instead")
    parser.add_argument("--light", action="store_true",
                        help="also measure the staff reads at two connections (always with --district)")
    parser.add_argument("--only", default="", help="run only the endpoints whose name contains this text "
                                                   "(and /healthz, the reference), e.g. --only /me/pass")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or scripts/system-packages.sh)")
    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-"))
    database_url = os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    backend = backend_of(database_url)
    env = server_env(database_url, free_port())
    rows, extra = [], {}
    try:
        prepare_database(env)
        synth = DISTRICT if args.district else SYNTH
        wall, counts, _ = timed([BIN / "flask", "wuye", "synth", *(f"--{k}={v}" for k, v in synth.items())], env)
        extra["synth"] = {"seconds": wall, "counts": counts}
        setup = run_python(env, SETUP % {"password": PASSWORD, "tokens": RESIDENT_TOKENS})
        (workdir / "tokens.lua").write_text(lua_list(setup.pop("tokens")))
        extra["data"] = setup
        print(f"[{backend}] synth {wall:.1f} s ({counts}); {setup['checkin_rows']} check-ins, "
              f"{setup['gate_rows']} at the listed gate, {setup['subject_rows']} of the listed person", flush=True)
        extra["settled"] = settle_after_load(env)
        print(f"[{backend}] {extra['settled']}", flush=True)
        with Gunicorn(env) as server:
            base, api = server.base, server.base + "/api/v1"
            guard = http_json(api + "/auth/wechat", {"code": "dev:guard-zhang"})["access_token"]
            staff = sign_in(base, "bench-staff", PASSWORD)
            wanlong = sign_in(base, "wanlong", "wuye-demo-2020")
            admin = sign_in(base, "admin", "wuye-demo-2020")
            exposure_id = exposure_request(base, staff, admin, setup["subject_id"])
            cid, wl = setup["compound_id"], setup["wanlong_id"]
            week = datetime.now(UTC).date().isoformat()
            self_body = '{"gate_code":"' + setup["gate_code"] + '","direction":"%s","client_id":"%s"}'
            endpoints = [
                ("GET /healthz", lambda: (base + "/healthz", None, None)),
                ("POST /checkins (guard scan)", lambda: (base, write_checkin_script(
                    workdir, env, guard, per_thread=600 * args.duration), None)),
                ("GET /me/pass (default)", lambda: (base, resident_script(workdir, "pass", "GET", "/api/v1/me/pass"),
                                                    None)),
                ("GET /me/pass?qr=none", lambda: (base, resident_script(workdir, "passnone", "GET",
                                                                          "/api/v1/me/pass?qr=none"), None)),
                ("GET /me/pass?qr=svg", lambda: (base, resident_script(workdir, "passsvg", "GET",
                                                                         "/api/v1/me/pass?qr=svg"), None)),
                ("POST /checkins/self", lambda: (base, resident_script(workdir, "self", "POST",
                                                                         "/api/v1/checkins/self", self_body), None)),
                ("GET gate check-in list", lambda: (api + f"/gates/{setup['gate_id']}/checkins", None, staff)),
                ("GET person's history", lambda: (api + f"/compounds/{cid}/checkins?user_id={setup['subject_id']}",
                                                  None, staff)),
                ("GET visitors inside", lambda: (api + f"/compounds/{wl}/visitors/inside", None, wanlong)),
                ("GET exposure look-up", lambda: (api + f"/exposure-requests/{exposure_id}/contacts", None, staff)),
                ("GET delivery queue", lambda: (api + f"/compounds/{wl}/delivery-queue", None, wanlong)),
                ("GET roster week", lambda: (api + f"/compounds/{wl}/roster?week={week}", None, wanlong)),
                ("GET hourly counts today", lambda: (api + f"/compounds/{cid}/checkins/hourly", None, staff)),
                ("GET alliance summary", lambda: (api + "/alliance", None, admin)),
                ("GET /healthz (again)", lambda: (base + "/healthz", None, None)),
            ]
            endpoints = [(n, m) for n, m in endpoints if args.only in n or n.startswith("GET /healthz")]
            # This machine's speed drifts by a third within minutes (a shared host), so each endpoint's
            # ratio is to /healthz measured just before and just after it (BRACKET_SECONDS each).
            brackets = [run_wrk(base + "/healthz", BRACKET_SECONDS, args.connections,
                                server_group=server.pid)["rps"]]
            for name, make in endpoints:
                results = []
                for duration in (1, args.duration):  # warm-up, then measured
                    url, script, token = make()
                    results.append(run_wrk(url, duration, args.connections, script, server_group=server.pid,
                                           headers={"Authorization": f"Bearer {token}"} if token else None))
                light = None
                if (args.district or args.light) and name in STAFF_READS:
                    # At 16 connections a list's latency is mostly its queue; two (one per worker) give its own.
                    url, script, token = make()
                    light = run_wrk(url, args.duration, LIGHT_CONNECTIONS, script, server_group=server.pid,
                                    headers={"Authorization": f"Bearer {token}"} if token else None)
                brackets.append(run_wrk(base + "/healthz", BRACKET_SECONDS, args.connections,
                                        server_group=server.pid)["rps"])
                rows.append({"backend": backend, "name": name, **results[-1],
                             "healthz_around": brackets[-2:]})
                if light is not None:
                    rows[-1]["light"] = {k: light[k] for k in ("rps", "p50", "p95", "p99", "non_2xx")}
                    print(f"[{backend}] {name:<30} at {LIGHT_CONNECTIONS} connections: {light['rps']:.1f} req/s  "
                          f"p50 {light['p50']:.2f} ms  p95 {light['p95']:.2f} ms  p99 {light['p99']:.2f} ms  "
                          f"non-2xx {light['non_2xx']}", flush=True)
                r = results[-1]
                cpu = f"{r['cpu_ms']:.2f}" if r["cpu_ms"] is not None else "-"
                print(f"[{backend}] {name:<30} {r['rps']:8.1f} req/s  p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms  "
                      f"CPU {cpu} ms  non-2xx {r['non_2xx']}  {r['socket_errors']}  "
                      f"ratio {r['rps'] / (sum(brackets[-2:]) / 2):.3f} (/healthz around: "
                      f"{brackets[-2]:.0f}, {brackets[-1]:.0f})", flush=True)
            extra["rss_mb"] = server.worker_rss_mb()
        if not args.only:  # last: it drops and recreates the tables of the database it is given
            wall, line, status = timed([BIN / "python", "bench/roster_autofill_db.py"], env, check=False)
            extra["autofill"] = {"seconds": wall, "line": line, "status": status}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for row in rows:
        row["ratio"] = row["rps"] / (sum(row["healthz_around"]) / 2)
    report = {"backend": backend, "district": args.district, "connections": args.connections,
              "duration": args.duration, "rows": rows, **extra}
    failures = budget_failures(report)
    report["failures"] = failures
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    for failure in failures:
        print(f"[{backend}] BUDGET MISSED: {failure}")
    return 1 if failures else 0


def budget_failures(report: dict) -> list[str]:
    """The budgets this run missed: errors, the check-in's, pass issuing's and the workers' memory."""
    backend, failures = report["backend"], []
    by_name = {r["name"]: r for r in report["rows"]}
    for row in report["rows"]:
        if row["non_2xx"]:
            failures.append(f"{row['name']}: {row['non_2xx']} non-2xx answers")
    checkin = by_name.get("POST /checkins (guard scan)")  # absent when --only left it out
    if checkin and (checkin["ratio"] < MIN_RATIO[backend] or checkin["p99"] > MAX_P99_MS):
        failures.append(f"check-in ratio {checkin['ratio']:.3f} (>= {MIN_RATIO[backend]}), "
                        f"p99 {checkin['p99']:.1f} ms (<= {MAX_P99_MS:.0f})")
    issuing = by_name.get("GET /me/pass (default)")
    if issuing and issuing["ratio"] < 0.5:
        failures.append(f"pass issuing ratio {issuing['ratio']:.3f} (>= 0.5)")
    for row in report["rows"]:
        budget = STATISTICS_P95_MS if row["name"] in STATISTICS else LIST_P95_MS
        if "light" in row and (row["light"]["p95"] > budget or row["light"]["non_2xx"]):
            failures.append(f"{row['name']}: p95 {row['light']['p95']:.1f} ms at {LIGHT_CONNECTIONS} connections "
                            f"(<= {budget:.0f}), {row['light']['non_2xx']} non-2xx")
    if any(mb > RSS_BUDGET_MB for mb in report.get("rss_mb", [])):
        failures.append(f"worker RSS {report['rss_mb']} MB (<= {RSS_BUDGET_MB})")
    if report.get("autofill", {}).get("status", 0):
        failures.append(f"roster auto-fill: {report['autofill']['line']}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
