"""Synthetic gate traffic for benchmarks: each resident goes out and comes back on each day, bulk-inserted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from server.extensions import db
from server.models.checkins import CheckIn
from server.plumbing.clock import utcnow

CHUNK = 5000


def extend(district) -> dict[str, int]:
    """Add `district.days` days of self-scanned passages (out in the morning, in at night) per resident."""
    rng = district.rng
    now = utcnow()
    total = 0
    rows: list[dict] = []
    for compound_id in district.compound_ids:
        gates = district.gate_ids_by_compound[compound_id]
        for resident_id in district.resident_ids_by_compound.get(compound_id, []):
            for day in range(district.days):
                day_start = now - timedelta(days=day + 1)
                for leg, direction in enumerate(("out", "in")):
                    at = day_start + timedelta(hours=7 + 11 * leg, seconds=rng.randint(0, 3 * 3600))
                    rows.append({
                        "compound_id": compound_id, "gate_id": rng.choice(gates), "subject_user_id": resident_id,
                        "direction": direction, "method": "self_scan", "decision": "allowed", "reason": "ok",
                        "flags": [], "author_id": resident_id, "client_id": f"synth-{day}-{leg}",
                        "fingerprint": "synth", "server_time": at, "occurred_at": at, "device_time": None,
                        "lawful_basis": "public_health_emergency", "person_name": "", "note": "", "reply": {}})
                    if len(rows) >= CHUNK:
                        db.session.execute(insert(CheckIn), rows)
                        total += len(rows)
                        rows = []
    if rows:
        db.session.execute(insert(CheckIn), rows)
        total += len(rows)
    return {"checkins": total}
