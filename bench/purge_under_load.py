"""Benchmark: the guard-scan check-in's p99 without and with the 28-day retention purge running at once.

Creates a fresh database (SQLite in a temporary folder, or WUYE_DATABASE_URL when set, e.g. by
scripts/with-postgres.sh) as bench/checkin_load.py does (`flask db upgrade`, the demo data), adds a
synthetic district with `flask wuye synth` (default a tenth of Licang: 20 compounds x 1,000
households, 60 days of traffic, so about half the rows are past the 28 days kept), starts gunicorn
with gunicorn.conf.py (2 sync workers), and drives `POST /api/v1/checkins` with wrk twice: alone, then
while `flask wuye purge` (its defaults: batches sized to take about 10 ms, at most 500 rows, 50 ms
apart, each its own transaction) deletes the old rows. Prints requests/s, p50 and p99 of each run, how long the purge took and what it
deleted; stops everything it started. Exit status 1 when a check-in failed or the p99 under the purge
misses the budget.

    .venv/bin/python bench/purge_under_load.py [--compounds 20] [--households 1000] [--days 60]
        [--duration 10] [--connections 16] [--max-p99-ms 50] [--batch-ms 10] [--pause 0.05]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as base  # noqa: E402 - the benchmarks' shared machinery, from the same folder
from checkin_load import write_checkin_script  # noqa: E402

BIN, ROOT = base.BIN, base.ROOT


def synthesise(env: dict, compounds: int, households: int, days: int) -> str:
    """Add the synthetic district; answers the command's last lines (counts, time, size)."""
    out = subprocess.run([BIN / "flask", "wuye", "synth", "--compounds", str(compounds), "--households",
                          str(households), "--days", str(days)], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return "\n".join(out.strip().splitlines()[-2:])


def main() -> int:
    """Run the benchmark; 0 when every check-in succeeded and the p99 under the purge keeps its budget."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--compounds", type=int, default=20)
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-p99-ms", type=float, default=50.0)
    parser.add_argument("--batch-ms", type=float, default=None, help="passed to `flask wuye purge` (its default: 10)")
    parser.add_argument("--pause", type=float, default=None, help="passed to `flask wuye purge` (its default: 0.05 s)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or scripts/system-packages.sh)")

    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-purge-"))
    database_url = os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    port = base.free_port()
    env = {**os.environ, "WUYE_ENV": "development", "WUYE_DATABASE_URL": database_url, "FLASK_APP": "wsgi:app",
           "WUYE_BIND": f"127.0.0.1:{port}"}
    env.pop("WUYE_ACCESS_LOG", None)
    base_url = f"http://127.0.0.1:{port}"
    server = purger = None
    try:
        base.prepare_database(env)
        started = time.monotonic()
        synth_report = synthesise(env, args.compounds, args.households, args.days)
        print(f"backend: {backend}; district {args.compounds} x {args.households} households, {args.days} days "
              f"(synthesised in {time.monotonic() - started:.0f} s)\n  {synth_report.replace(chr(10), chr(10) + '  ')}")
        server = subprocess.Popen([BIN / "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        base.wait_ready(base_url, server)
        token = base.post_json(base_url + "/api/v1/auth/wechat", {"code": "dev:guard-zhang"})["access_token"]
        base.run_wrk(base_url, 2, args.connections, write_checkin_script(workdir, env, token))  # warm-up
        # Right after the bulk load the database's pages are cold: the first run shows that start, the
        # second the steady state the purge is compared with.
        first = base.run_wrk(base_url, args.duration, args.connections, write_checkin_script(workdir, env, token),
                             server_group=server.pid)
        alone = base.run_wrk(base_url, args.duration, args.connections, write_checkin_script(workdir, env, token),
                             server_group=server.pid)
        # Codes are issued before the purge starts, so that it runs only while wrk does.
        script = write_checkin_script(workdir, env, token)
        purge_started = time.monotonic()
        purge_options = [*(["--batch-ms", str(args.batch_ms)] if args.batch_ms is not None else []),
                         *(["--pause", str(args.pause)] if args.pause is not None else [])]
        purger = subprocess.Popen([BIN / "flask", "wuye", "purge", *purge_options], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        # Measured from its first batch: loading the app (a second or two of one core) is the job's
        # start, not the batches running beside the check-ins.
        first_line = purger.stdout.readline().strip()
        loading_seconds = time.monotonic() - purge_started
        during = base.run_wrk(base_url, args.duration, args.connections, script, server_group=server.pid)
        outlasted = purger.poll() is None
        print(f"  gunicorn.conf.py (2 sync workers); wrk -t2 -c{args.connections} -d{args.duration}s")
        for name, r in (("check-in, first run", first), ("check-in alone", alone), ("check-in during purge", during)):
            print(f"  {name:<24} {r['rps']:9.1f} req/s   p50 {r['p50']:7.2f} ms   p99 {r['p99']:7.2f} ms"
                  f"   server CPU {r['cpu_ms']:.2f} ms/request   non-2xx {r['non_2xx']}", flush=True)
        purge_output = purger.communicate()[0].strip()  # the purge goes on to the end: its time is measured
        purge_seconds = time.monotonic() - purge_started
        print(f"  purge: \"{first_line}\" after {loading_seconds:.1f} s loading the app, then the load began;")
        print(f"  purge: {purge_output.splitlines()[-1] if purge_output else '(no output)'}; took {purge_seconds:.1f} s"
              f" ({'it outlasted the load' if outlasted else 'NOTE: it ended before the load did'})")
        failed = bool(first["non_2xx"] or alone["non_2xx"] or during["non_2xx"] or purger.returncode or during["p99"] > args.max_p99_ms)
        print(f"  check-in p99 {first['p99']:.1f} ms in the first run, {alone['p99']:.1f} ms alone after it, "
              f"{during['p99']:.1f} ms during the purge "
              f"(budget <= {args.max_p99_ms:.0f} ms)")
        print("  RESULT:", "FAIL" if failed else "OK")
        return 1 if failed else 0
    finally:
        for process in (purger, server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
