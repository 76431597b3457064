"""Times every statistics request on a synthetic district (budget: 500 ms each, issue #14).

    WUYE_DATABASE_URL=sqlite:////tmp/stats-bench.db .venv/bin/python bench/statistics_bench.py
    bash scripts/with-postgres.sh .venv/bin/python bench/statistics_bench.py

Steps: `flask db upgrade`; `flask wuye synth --compounds C --households H --days D` (skipped with
--reuse when the database already holds a district); an alliance admin and a company's staff
signed in; each request timed in process through the Flask test client (routing, auth, the
queries, JSON or the file), after one warm-up, --repeat times: median, p95 and max. Prints
`RESULT: OK` or `FAIL` (exit 1) against --budget-ms.
"""

from __future__ import annotations

import argparse
import os
import statistics  # the standard library (this file is not named statistics.py: it would shadow it)
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from server import create_app  # noqa: E402
from server.auth import start_session  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models.alliance import Alliance  # noqa: E402
from server.models.checkins import CheckIn  # noqa: E402
from server.models.companies import Company  # noqa: E402
from server.models.compounds import Compound, Household  # noqa: E402
from server.models.people import User  # noqa: E402
from server.models.statistics import CheckinHourly  # noqa: E402


def _user(role: str, alliance_id: int, company_id: int | None = None) -> User:
    user = User(role=role, alliance_id=alliance_id, display_name="压测", company_id=company_id,
                username=f"bench-{role}-{time.time_ns()}")
    db.session.add(user)
    db.session.flush()
    return user


def _time(client, url: str, headers: dict, repeat: int) -> tuple[int, list[float]]:
    client.get(url, headers=headers)  # warm-up
    timings, status = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        status = response.status_code
    return status, timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=200)
    parser.add_argument("--households", type=int, default=1000, help="households per compound")
    parser.add_argument("--days", type=int, default=1, help="days of gate traffic")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--budget-ms", type=float, default=500)
    parser.add_argument("--reuse", action="store_true", help="keep a district already in the database")
    args = parser.parse_args()

    url = os.environ.get("WUYE_DATABASE_URL", "sqlite:////tmp/stats-bench.db")
    app = create_app({"WUYE_ENV": "development", "WUYE_DATABASE_URL": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        if not (args.reuse and db.session.scalar(select(func.count()).select_from(Compound))):
            start = time.perf_counter()
            result = app.test_cli_runner().invoke(args=[
                "wuye", "synth", "--compounds", str(args.compounds), "--households", str(args.households),
                "--days", str(args.days)])
            print(f"synth: {result.output.strip()} ({time.perf_counter() - start:.0f} s)")
            if result.exit_code != 0:
                print(result.output, result.exception)
                return 1
        alliance_id = db.session.scalar(select(Alliance.id).order_by(Alliance.id))
        company_id = db.session.scalar(select(Company.id).where(Company.alliance_id == alliance_id).order_by(Company.id))
        compound_id = db.session.scalar(select(Compound.id).where(Compound.company_id == company_id).order_by(Compound.id))
        sizes = {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in (
            ("compounds", Compound), ("households", Household), ("users", User), ("checkins", CheckIn),
            ("checkin_hourly", CheckinHourly))}
        admin = start_session(_user("alliance_admin", alliance_id)).access_token
        staff = start_session(_user("staff", alliance_id, company_id)).access_token
        db.session.commit()
    print(f"database: {url.split('?')[0].split('@')[-1]}; " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))

    requests = [
        ("admin", "/api/v1/statistics/alliance"),
        ("admin", f"/api/v1/statistics/companies/{company_id}"),
        ("admin", f"/api/v1/statistics/compounds/{compound_id}"),
        ("staff", f"/api/v1/statistics/companies/{company_id}"),
        ("admin", "/api/v1/statistics/alliance/export?format=csv"),
        ("admin", "/api/v1/statistics/alliance/export?format=xlsx"),
        ("admin", "/api/v1/statistics/alliance/export?format=chart"),
        ("admin", "/api/v1/ratings/rankings"),
        ("admin", "/api/v1/ratings/rankings/export?format=xlsx"),
    ]
    tokens = {"admin": admin, "staff": staff}
    client = app.test_client()
    failed = False
    print(f"{'as':6} {'request':55} {'status':>6} {'median':>9} {'p95':>9} {'max':>9}")
    for who, path in requests:
        status, timings = _time(client, path, {"Authorization": f"Bearer {tokens[who]}"}, args.repeat)
        p95 = sorted(timings)[max(0, round(0.95 * len(timings)) - 1)]
        over = status != 200 or p95 > args.budget_ms
        failed |= over
        print(f"{who:6} {path:55} {status:>6} {statistics.median(timings):7.1f}ms {p95:7.1f}ms "
              f"{max(timings):7.1f}ms{'  OVER' if over else ''}")
    print("RESULT:", "FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
