"""Synthetic rosters: three eight-hour shifts a day at every gate, each with its guard, for the last
two weeks and the next one."""

from __future__ import annotations

from datetime import time, timedelta

from server.demo.synth import GUARDS_PER_GATE

PAST_DAYS, FUTURE_DAYS = 14, 7
SHIFT_HOURS = 24 // GUARDS_PER_GATE


def extend(district) -> dict[str, int]:
    """Add shift templates, shifts and assignments for every gate."""
    loader, now = district.loader, district.now
    templates, shifts, assignments = [], [], []
    for compound_id in district.compound_ids:
        guards = district.guard_ids_by_compound[compound_id]
        for g, gate_id in enumerate(district.gate_ids_by_compound[compound_id]):
            first_template = loader.next_id("shift_templates", GUARDS_PER_GATE)
            for slot in range(GUARDS_PER_GATE):
                templates.append((first_template + slot, compound_id, gate_id, time(slot * SHIFT_HOURS),
                                  SHIFT_HOURS * 60, 1, now))
            for days_ago in range(PAST_DAYS, -FUTURE_DAYS, -1):
                day_start = district.day_start(days_ago)
                first_shift = loader.next_id("shifts", GUARDS_PER_GATE)
                first_assignment = loader.next_id("shift_assignments", GUARDS_PER_GATE)
                for slot in range(GUARDS_PER_GATE):
                    starts = day_start + timedelta(hours=slot * SHIFT_HOURS)
                    ends = starts + timedelta(hours=SHIFT_HOURS)
                    shifts.append((first_shift + slot, compound_id, gate_id, first_template + slot, starts, ends, 1,
                                   "open", now))
                    assignments.append((first_assignment + slot, first_shift + slot, guards[g * GUARDS_PER_GATE + slot],
                                        compound_id, gate_id, starts, ends, "autofill", now))
    loader.write("shift_templates", ("id", "compound_id", "gate_id", "start_time", "duration_minutes",
                                     "guards_needed", "created_at"), templates)
    loader.write("shifts", ("id", "compound_id", "gate_id", "template_id", "starts_at", "ends_at", "guards_needed",
                            "status", "created_at"), shifts)
    loader.write("shift_assignments", ("id", "shift_id", "guard_id", "compound_id", "gate_id", "starts_at", "ends_at",
                                       "source", "created_at"), assignments)
    return {"shifts": len(shifts), "shift_assignments": len(assignments)}
