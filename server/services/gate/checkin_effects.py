"""What follows a new check-in: a visitor's passage noted, and the returnee, fever and pass-reuse alerts."""

from __future__ import annotations

from datetime import datetime

from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import local_today
from server.services.gate import visitors
from server.services.gate.checkin_decisions import GateDecision
from server.services.gate.checkin_subjects import AnyCompound, InsertedCheckIn, Subject


def after_insert(checkin: InsertedCheckIn, subject: Subject, decision: GateDecision, at: datetime,
                 compound: AnyCompound) -> None:
    """The side effects of a check-in this request inserted."""
    if subject.visitor is not None and decision.allowed:
        visitors.note_passage(subject.visitor, checkin.direction, at)
    if decision.reason == "returnee_attention":
        if subject.visitor is not None:
            visitors.alert_returnee(subject.visitor)
        else:
            day = local_today(compound.timezone, at).isoformat()
            _alert(checkin, compound.id, "returnee", subject_user_id=subject.user_id,
                   household_id=subject.household_id,
                   detail={"returned_from": subject.returned_from, "checkin_id": checkin.id,
                           "gate_id": checkin.gate_id},
                   dedupe_key=f"returnee:user:{subject.user_id}:{day}")
    if decision.reason == "fever" and (subject.kind == "household" or "temperature_not_recorded" in checkin.flags):
        # services.temperatures alerts for the readings it stores; these ones only the check-in holds
        # (without a temperature when there was no lawful basis to keep one).
        detail = {"checkin_id": checkin.id, "gate_id": checkin.gate_id, "person_name": checkin.person_name}
        if checkin.temperature is not None:
            detail["celsius"] = str(checkin.temperature)
        _alert(checkin, compound.id, "fever", subject_user_id=subject.user_id, household_id=subject.household_id,
               detail=detail, dedupe_key=f"fever:checkin:{checkin.id}")
    if subject.pass_seen_before:
        # The first gate is named only when it is this compound's (null: another compound's gate).
        _alert(checkin, compound.id, "pass_reuse", subject_user_id=subject.user_id,
               detail={"pass_nonce": checkin.pass_nonce, "gates": [subject.first_seen_at_gate, checkin.gate_id],
                       "checkin_id": checkin.id},
               dedupe_key=f"pass_reuse:{compound.id}:{checkin.pass_nonce}:{checkin.pass_issued_at.timestamp():.0f}")


def _alert(checkin: InsertedCheckIn, compound_id: int, kind: str, **values) -> None:
    """Raise an alert about a check-in; staff are notified when this check-in raised it (not a dedupe hit)."""
    alert = raise_alert(compound_id, kind, **values)
    if (alert.detail or {}).get("checkin_id") == checkin.id:
        notify_staff(alert)
