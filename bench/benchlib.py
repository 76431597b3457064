"""What every HTTP benchmark here shares: a fresh database, gunicorn as `make run` starts it, wrk, /proc.

The server's CPU per request is the user + system time of gunicorn's process group read from /proc
before and after a wrk run, divided by the requests wrk counted; a worker's resident set size is
VmRSS from /proc/<pid>/status. wrk runs with `--latency` so p50 and p99 come from its histogram.
"""

from __future__ import annotations

import json
import os
import re
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
WRK_THREADS = 2

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


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backend_of(database_url: str) -> str:
    """'postgresql' or 'sqlite'."""
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def server_env(database_url: str, port: int) -> dict:
    """The environment gunicorn and the set-up scripts run in (development: demo sign-in codes work)."""
    env = {**os.environ, "WUYE_ENV": "development", "WUYE_DATABASE_URL": database_url, "FLASK_APP": "wsgi:app",
           "WUYE_BIND": f"127.0.0.1:{port}"}
    env.pop("WUYE_ACCESS_LOG", None)
    return env


def prepare_database(env: dict) -> None:
    """Create the schema as `make run` does (`flask db upgrade`), from the models while migrations lag; demo data."""
    versions = ROOT / "migrations" / "versions"
    if versions.is_dir() and any(versions.glob("*.py")):
        subprocess.run([BIN / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([BIN / "python", "-c", SCHEMA_FROM_MODELS], env=env, cwd=ROOT, check=True)
    subprocess.run([BIN / "flask", "wuye", "demo-data", "--if-empty"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


SETTLE = """
import json
from wsgi import app
from server.extensions import db
with app.app_context():
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("CHECKPOINT")
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
print(json.dumps({}))
"""


def dirty_mb() -> float:
    """The kernel's page cache waiting to be written back to disk (/proc/meminfo's Dirty), in MB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Dirty:"):
            return int(line.split()[1]) / 1024
    return 0.0


def settle_after_load(env: dict) -> str:
    """Checkpoint the database and flush the kernel's dirty pages after a bulk load; answers what it took.

    A district loaded minutes before leaves gigabytes for the disk to write (PostgreSQL's checkpoint, the
    kernel's writeback), and every durable commit's fsync queues behind them. A deployment whose rows came
    over weeks is never in that state, so the endpoints are measured after it is flushed.
    """
    dirty, started = dirty_mb(), time.monotonic()
    run_python(env, SETTLE)
    os.sync()
    return f"settled after the load: {dirty:.0f} MB dirty, checkpoint and sync took {time.monotonic() - started:.1f} s"


def run_python(env: dict, script: str) -> dict:
    """Run a script in the app's environment; its last output line is JSON, answered as a dict."""
    out = subprocess.run([BIN / "python", "-c", script], env=env, cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def http_json(url: str, body: dict | None = None, token: str | None = None) -> dict:
    """GET (no body) or POST JSON; answer JSON."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict) -> dict:
    """POST JSON, answer JSON."""
    return http_json(url, body)


class Gunicorn:
    """gunicorn with gunicorn.conf.py in its own process group; `with Gunicorn(env) as server:`.

    `app` is the WSGI app to serve (the product's by default; `bench/floor_app.py` is `floor_app:app`,
    found through `pythonpath`)."""

    def __init__(self, env: dict, app: str = "wsgi:app", pythonpath: str | None = None):
        self.env = env
        self.base = "http://" + env["WUYE_BIND"]
        self.process: subprocess.Popen | None = None
        self.command = [BIN / "gunicorn", "-c", "gunicorn.conf.py",
                        *(["--pythonpath", pythonpath] if pythonpath else []), app]

    def __enter__(self) -> Gunicorn:
        self.process = subprocess.Popen(self.command, cwd=ROOT,
                                        env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_ready(self.base, self.process)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_rss_mb(self) -> list[float]:
        """Resident set size of each worker (the master's children), in MB."""
        return [rss_mb(pid) for pid in children(self.pid)]

    def __exit__(self, *exc) -> None:
        stop_group(self.process)


def stop_group(process: subprocess.Popen | None) -> None:
    """SIGTERM a process group started with start_new_session, SIGKILL after 15 s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


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


def _stat_fields(pid: str | int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(parent: int) -> list[int]:
    """Pids whose parent is `parent`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat_fields(pid)
        if fields and int(fields[1]) == parent:  # fields[1] is ppid
            found.append(int(pid))
    return sorted(found)


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB."""
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) / 1024 if match else 0.0


def server_cpu_seconds(process_group: int) -> float:
    """User + system CPU time used so far by the live processes of a process group (gunicorn and workers)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat_fields(pid)
        if fields and int(fields[2]) == process_group:  # fields[2] is pgrp; utime and stime at 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(process_group: int, window: float = 0.5, busy_share: float = 0.1, limit: float = 60.0) -> float:
    """Wait until the server has finished what a previous run left queued (sync workers answer every
    accepted request, even after wrk hung up): its CPU under `busy_share` of a `window`. Seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = server_cpu_seconds(process_group)
        time.sleep(window)
        if server_cpu_seconds(process_group) - before < busy_share * window:
            break
    return time.monotonic() - t0


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def lua_list(values: list[str]) -> str:
    """A Lua chunk returning the strings as a table (for `dofile` in a wrk script)."""
    return "return {" + ",".join(json.dumps(v) for v in values) + "}\n"


P95_HOOK = """
function done(summary, latency, requests)
  io.write(string.format("p95 %d\\n", latency:percentile(95)))
end
"""


def run_wrk(url: str, duration: int, connections: int, script: Path | None = None,
            server_group: int | None = None, headers: dict | None = None) -> dict:
    """Run wrk; answer requests/s, p50, p99 (ms), the count of non-2xx answers and the server's CPU ms
    per request (when its process group is given)."""
    if server_group:
        wait_idle(server_group)
    cpu_before = server_cpu_seconds(server_group) if server_group else None
    # A slow answer is measured (up to 30 s), not dropped as a timeout at wrk's default 2 s.
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    # wrk prints p50/p75/p90/p99; a done() hook (run once, after the run) adds the p95 of the budgets.
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as combined:
        combined.write((script.read_text() if script is not None else "") + P95_HOOK)
    cmd += ["-s", combined.name]
    try:
        result = subprocess.run([*cmd, url], capture_output=True, text=True, check=True)
    finally:
        os.unlink(combined.name)
    cpu = server_cpu_seconds(server_group) - cpu_before if server_group else None
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p95 = re.search(r"^p95 (\d+)$", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": _ms(*p50.groups()), "p95": int(p95.group(1)) / 1000, "p99": _ms(*p99.groups()),
            "requests": requests,
            "cpu_ms": cpu * 1000 / requests if cpu is not None and requests else None,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "stderr": result.stderr[-500:]}


def machine() -> str:
    """nproc, CPU model and memory of this machine, one line."""
    model = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return (f"{os.cpu_count()} CPUs ({model.group(1) if model else 'unknown'}), "
            f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB memory; load average {os.getloadavg()[0]:.2f} at start")


if __name__ == "__main__":
    print(machine(), file=sys.stderr)
