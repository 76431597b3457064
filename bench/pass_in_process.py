"""Benchmark: the worker's CPU for one pass refresh (`GET /api/v1/me/pass`) and one /healthz, in-process.

Calls the WSGI app directly, without gunicorn or wrk, so the figure is the application's own share and
does not drift with the load generator: what a change to the pass's path saves shows here first.
Creates a fresh database as `make run` does (SQLite in a temporary folder, or WUYE_DATABASE_URL when
set, e.g. by scripts/with-postgres.sh), signs in the first approved demo resident, then times
`--passes` refreshes with `time.process_time` (this process only: not the database server's share).
`--against REV` instead alternates, in this one process, the hot reads' `_fetch` of this code and of
`server/plumbing/hot_read.py` at git revision REV, 12 rounds of 1,500 passes, and prints both medians
and each round's difference: the machine's drift (a quarter within minutes) cancels out of the pairs.

    .venv/bin/python bench/pass_in_process.py [--passes 8000] [--against cb29cd4~1]
    WUYE_DATABASE_URL= WUYE_PG_FSYNC=on bash scripts/with-postgres.sh .venv/bin/python bench/pass_in_process.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.benchlib import backend_of, free_port, prepare_database, server_env  # noqa: E402


def main() -> None:
    """Prepare the database, then print the CPU a pass and a /healthz cost through the WSGI app."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=8000)
    parser.add_argument("--against", default="", help="a git revision whose hot_read._fetch to alternate with")
    args = parser.parse_args()
    database_url = os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='wuye-bench-')}/bench.db"
    env = server_env(database_url, free_port())
    prepare_database(env)
    os.environ.update(env)

    from sqlalchemy import select
    from werkzeug.test import EnvironBuilder

    from server.auth import start_session
    from server.extensions import db
    from server.models.people import User
    from wsgi import app

    with app.app_context():
        resident = db.session.scalar(select(User).where(User.role == "resident", User.residency == "approved",
                                                        User.household_id.is_not(None)).order_by(User.id))
        token = start_session(resident).access_token
        db.session.commit()

    def start_response(status: str, _headers: list, _exc_info: object = None) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"answered {status}")

    def cpu_us(path: str, headers: dict, calls: int = args.passes) -> float:
        environ = EnvironBuilder(path=path, headers=headers).get_environ()
        for _ in range(500):  # warm: prepared statements, caches, the key snapshot
            b"".join(app(dict(environ), start_response))
        started = time.process_time()
        for _ in range(calls):
            b"".join(app(dict(environ), start_response))
        return 1e6 * (time.process_time() - started) / calls

    if args.against:
        compare(args.against, lambda: cpu_us("/api/v1/me/pass", {"Authorization": f"Bearer {token}"}, 1500))
        return
    pass_us = cpu_us("/api/v1/me/pass", {"Authorization": f"Bearer {token}"})
    health_us = cpu_us("/healthz", {})
    print(f"[{backend_of(database_url)}] GET /me/pass {pass_us:.0f} us of CPU, GET /healthz {health_us:.0f} us "
          f"({args.passes} calls each, in-process)")


def compare(revision: str, measure: Callable[[], float]) -> None:
    """Alternate this code's `hot_read._fetch` with the one at `revision`; print medians and paired differences."""
    from server.plumbing import hot_read

    source = subprocess.run(["git", "show", f"{revision}:server/plumbing/hot_read.py"], check=True,
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1]).stdout
    spec = importlib.util.spec_from_loader("hot_read_then", loader=None)
    then = importlib.util.module_from_spec(spec)
    sys.modules["hot_read_then"] = then  # dataclasses look their module up
    exec(compile(source, f"{revision}:hot_read.py", "exec"), then.__dict__)
    fetches = {"this code": hot_read._fetch, revision: then._fetch}
    times: dict[str, list[float]] = {name: [] for name in fetches}
    for round_ in range(12):
        for name in list(fetches)[:: 1 if round_ % 2 == 0 else -1]:
            hot_read._fetch = fetches[name]
            times[name].append(measure())
    hot_read._fetch = fetches["this code"]
    for name, runs in times.items():
        print(f"{name}: median {statistics.median(runs):.0f} us of CPU a pass; rounds "
              + " ".join(f"{run:.0f}" for run in runs))
    pairs = [now - then_ for now, then_ in zip(times["this code"], times[revision], strict=True)]
    print(f"this code minus {revision}, round by round: " + " ".join(f"{pair:+.0f}" for pair in pairs)
          + f" (median {statistics.median(pairs):+.0f} us)")


if __name__ == "__main__":
    main()
