"""Print the one table of `make bench` from the JSON reports of bench/endpoints.py (one per database).

    .venv/bin/python bench/table.py sqlite.json postgresql.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine  # noqa: E402

LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL 15 (fsync on)"}


def cpu(row: dict) -> str:
    """Server CPU ms per request, or '-' when no request finished."""
    return f"{row['cpu_ms']:.2f}" if row.get("cpu_ms") is not None else "-"


def main(paths: list[str]) -> int:
    """Print the table; 1 when a report is missing or missed a budget."""
    reports = [json.loads(Path(p).read_text()) for p in paths if Path(p).exists()]
    print(f"Machine: {machine()}")
    if reports:
        r = reports[0]
        print(f"gunicorn.conf.py (2 sync workers); wrk -t2 -c{r['connections']} -d{r['duration']}s after a 1 s "
              f"warm-up; ratio = req/s over the mean of the 2 s /healthz runs just before and just after it, on "
              f"the same server (this machine's speed drifts by a third within minutes)")
    print()
    print("| database | endpoint | req/s | p50 ms | p99 ms | server CPU ms/req | ratio to /healthz | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for report in reports:
        for row in report["rows"]:
            errors = ", ".join(filter(None, [f"{row['non_2xx']} non-2xx" if row["non_2xx"] else "",
                                             row["socket_errors"] if "timeout 0" not in row["socket_errors"] else ""]))
            print(f"| {LABEL[report['backend']]} | {row['name']} | {row['rps']:.1f} | {row['p50']:.1f} | "
                  f"{row['p99']:.1f} | {cpu(row)} | {row['ratio']:.3f} | {errors} |")
    print()
    failed = len(reports) < len(paths)
    for report in reports:
        label = LABEL[report["backend"]]
        data = report.get("data", {})
        print(f"- {label}: synth load {report['synth']['seconds']:.1f} s ({report['synth']['counts']}); "
              f"{data.get('checkin_rows')} check-ins in all, {data.get('gate_rows')} at the listed gate"
              + (f"; the check-in table with its indexes: {data['checkins_bytes'] / data['checkin_rows']:.0f} bytes "
                 "a row" if data.get("checkins_bytes") else ""))
        rss = ", ".join(f"{mb:.0f}" for mb in report.get("rss_mb", []))
        print(f"- {label}: worker RSS after the run: {rss} MB (budget <= 150 MB each)")
        if "autofill" in report:
            print(f"- {label}: roster auto-fill through the database: {report['autofill']['line']}")
        for failure in report.get("failures", []):
            print(f"- {label}: BUDGET MISSED: {failure}")
        failed = failed or bool(report.get("failures"))
    for path in paths:
        if not Path(path).exists():
            print(f"- no report {path}: that run failed before it finished (see its output above)")
    print("RESULT:", "FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
