"""Synthetic gate traffic: residents' trips out and back with a morning and an evening peak, guard scans
with temperatures (a few fevers) and the matching temperature readings, oldest day first."""

from __future__ import annotations

from datetime import timedelta

# Share of trips leaving in each local hour (0-23): the morning rush out, a flat afternoon.
OUT_BY_HOUR = (1, 0, 0, 0, 1, 3, 10, 22, 18, 10, 8, 7, 6, 5, 5, 5, 6, 7, 6, 4, 3, 2, 1, 1)
HOURS = tuple(range(24))
# Errands come back within hours; a day's work comes back in the evening rush.
SHORT_TRIP_SHARE = 0.55
GUARD_SCAN_SHARE = 0.3
FEVER_RATE = 1 / 3000
CHECKIN_COLUMNS = ("id", "compound_id", "gate_id", "subject_user_id", "household_id", "person_name", "direction",
                   "method", "decision", "reason", "flags", "temperature", "note", "guard_id", "author_id",
                   "client_id", "fingerprint", "server_time", "occurred_at", "lawful_basis", "reply")
READING_COLUMNS = ("id", "compound_id", "subject_user_id", "household_id", "gate_id", "author_id", "source",
                   "celsius", "high", "outcome", "lawful_basis", "client_id", "measured_at", "created_at",
                   "passer_by", "note")


def extend(district) -> dict[str, int]:
    """Add `district.days` days of traffic (today's up to now); answers the counts written."""
    totals = {"checkins": 0, "temperature_readings": 0, "fevers": 0}
    for days_ago in range(district.days - 1, -1, -1):
        checkins, readings = [], []
        for compound_id in district.compound_ids:
            _compound_day(district, compound_id, days_ago, checkins, readings, totals)
        checkins.sort(key=lambda row: row[17])  # ids follow the server time, as they do when written live
        first = district.loader.next_id("checkins", len(checkins))
        district.loader.write("checkins", CHECKIN_COLUMNS, [(first + i, *row[1:]) for i, row in enumerate(checkins)])
        first = district.loader.next_id("temperature_readings", len(readings))
        district.loader.write("temperature_readings", READING_COLUMNS,
                              [(first + i, *row[1:]) for i, row in enumerate(readings)])
        totals["checkins"] += len(checkins)
        totals["temperature_readings"] += len(readings)
        done = district.days - days_ago
        if done % 5 == 0 or days_ago == 0:
            district.progress(f"gate traffic: day {done}/{district.days}, {totals['checkins']} check-ins")
    return totals


def _compound_day(district, compound_id: int, days_ago: int, checkins: list, readings: list, totals: dict) -> None:
    rng, now = district.rng, district.now
    residents = district.residents_by_compound[compound_id]
    gates = district.gate_ids_by_compound[compound_id]
    guards = district.guard_ids_by_compound[compound_id]
    day_start = district.day_start(days_ago)
    households = len(district.household_ids_by_compound[compound_id])
    trips = int(households * district.trips_per_household + rng.random())
    out_hours = rng.choices(HOURS, OUT_BY_HOUR, k=trips)
    for hour in out_hours:
        user_id, household_id = residents[rng.randrange(len(residents))]
        gate_index = 0 if rng.random() < 0.6 else rng.randrange(1, len(gates))
        out_at = day_start + timedelta(hours=hour, seconds=rng.randrange(3600))
        away = (rng.randrange(20 * 60, 150 * 60) if rng.random() < SHORT_TRIP_SHARE
                else rng.randrange(6 * 3600, 10 * 3600))
        for direction, at in (("out", out_at), ("in", out_at + timedelta(seconds=away))):
            if at > now:
                break
            local_hour = (hour + (0 if direction == "out" else away // 3600)) % 24
            guard_id = guards[gate_index * 3 + local_hour // 8] if rng.random() < GUARD_SCAN_SHARE else None
            temperature, decision, reason = None, "allowed", "ok"
            if guard_id is not None and direction == "in":
                fever = rng.random() < FEVER_RATE
                temperature = round(rng.uniform(37.5, 38.9) if fever else min(37.2, max(35.8, rng.gauss(36.5, 0.25))), 1)
                if fever:
                    decision, reason = "denied", "fever"
                    totals["fevers"] += 1
                readings.append((0, compound_id, user_id, household_id, gates[gate_index], guard_id, "gate",
                                 temperature, fever, "fever" if fever else "normal", "public_health_emergency",
                                 f"s{len(readings)}-{days_ago}", at, at, False, ""))
            author = guard_id or user_id
            checkins.append((0, compound_id, gates[gate_index], user_id, household_id, "", direction,
                             "guard_scan" if guard_id else "self_scan", decision, reason, [], temperature, "",
                             guard_id, author, f"s{days_ago}-{len(checkins)}", "synth", at, at,
                             "public_health_emergency", {}))
            if decision == "denied":
                break
