"""Missed twice-daily reports in home quarantine, and check-on tasks for people living alone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.checkins import CheckIn
from server.models.compounds import Compound
from server.models.notifications import Notification
from server.models.people import User
from server.services.health.quarantine import place_quarantine
from server.services.health.temperatures import record_reading
from server.services.health.welfare import check_missed_reports, check_welfare, completed_slots
from tests.factories import build_world

# 2026-03-02 08:00 in Shanghai (UTC+8).
MORNING = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def w(ctx):
    """The standard world with an emergency declared at compound A."""
    world = build_world()
    db.session.get(Compound, world.compound_a.id).health_emergency = True
    db.session.flush()
    return world


def _self_report(w, at, celsius=36.6):
    resident = db.session.get(User, w.resident_a.id)
    with time_machine.travel(at, tick=False):
        record_reading(resident, compound_id=w.compound_a.id, subject_user_id=resident.id, household_id=None,
                       visitor_id=None, gate_id=None, celsius=celsius, source="self", client_id=None,
                       device_time=None)


def _quarantine(w, at):
    with time_machine.travel(at, tick=False):
        return place_quarantine(w.staff_a, db.session.get(Compound, w.compound_a.id), user_id=w.resident_a.id,
                                reason="close_contact")


def _alerts(kind):
    return db.session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)).all()


def test_slots_are_local_half_days():
    at = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai
    [am, pm] = completed_slots("Asia/Shanghai", at)
    assert (am.day.isoformat(), am.half) == ("2026-03-02", "am")
    assert am.start == datetime(2026, 3, 1, 16, 0, tzinfo=UTC) and am.end == datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    assert (pm.day.isoformat(), pm.half) == ("2026-03-01", "pm")


def test_a_missed_half_day_raises_one_alert_and_a_reminder(w):
    db.session.get(User, w.staff_a.id).openid = "openid-staff"
    _quarantine(w, MORNING - timedelta(days=1))
    # Reported in the morning half (08:00 local) but not in the afternoon one.
    _self_report(w, MORNING)
    at = MORNING + timedelta(hours=16, minutes=5)  # 00:05 the next local day
    with time_machine.travel(at, tick=False):
        raised = check_missed_reports()
        assert check_missed_reports() == raised, "running twice changes nothing"
    assert [(a.detail["day"], a.detail["half"]) for a in raised] == [("2026-03-02", "pm")]
    assert len(_alerts("missed_report")) == 1
    kinds = sorted(n.kind for n in db.session.scalars(select(Notification)))
    assert kinds == ["alert", "quarantine_placed", "report_reminder"]


def test_a_report_in_each_half_raises_nothing(w):
    _quarantine(w, MORNING - timedelta(days=1))
    _self_report(w, MORNING)  # 08:00 local
    _self_report(w, MORNING + timedelta(hours=11, minutes=59))  # 19:59 local
    with time_machine.travel(MORNING + timedelta(hours=16, minutes=5), tick=False):
        assert check_missed_reports() == []


def test_no_alert_for_a_slot_the_order_did_not_cover_whole(w):
    _quarantine(w, MORNING)  # starts at 08:00 local: the morning slot is not owed
    with time_machine.travel(MORNING + timedelta(hours=4, minutes=1), tick=False):
        assert check_missed_reports() == []
    with time_machine.travel(MORNING + timedelta(hours=16, minutes=1), tick=False):
        assert [a.detail["half"] for a in check_missed_reports()] == ["pm"]


def test_no_alert_without_an_order(w):
    with time_machine.travel(MORNING + timedelta(days=2), tick=False):
        assert check_missed_reports() == []


def _loner(w):
    person = db.session.get(User, w.resident_a.id)
    person.lives_alone = True
    person.created_at = MORNING - timedelta(days=30)
    db.session.flush()
    return person


def _checkin(w, at):
    db.session.add(CheckIn(compound_id=w.compound_a.id, gate_id=w.gate_a.id, subject_user_id=w.resident_a.id,
                           direction="out", method="guard_scan", decision="allowed", reason="ok",
                           author_id=w.guard_a.id, client_id=f"c-{at.isoformat()}", fingerprint="f",
                           lawful_basis="consent", server_time=at))
    db.session.flush()


def test_welfare_at_the_boundary_of_n_days(w):
    _loner(w)
    _checkin(w, MORNING)
    with time_machine.travel(MORNING + timedelta(days=3) - timedelta(seconds=1), tick=False):
        assert check_welfare(3) == []
    with time_machine.travel(MORNING + timedelta(days=3), tick=False):
        [alert] = check_welfare(3)
        assert check_welfare(3) == [alert] and len(_alerts("welfare")) == 1
    assert alert.subject_user_id == w.resident_a.id and alert.compound_id == w.compound_a.id
    # Seen again, then quiet again: a new check-on task.
    _checkin(w, MORNING + timedelta(days=4))
    with time_machine.travel(MORNING + timedelta(days=8), tick=False):
        check_welfare(3)
    assert len(_alerts("welfare")) == 2


def test_a_temperature_report_counts_as_a_sign_of_life(w):
    _loner(w)
    _self_report(w, MORNING + timedelta(days=2))
    with time_machine.travel(MORNING + timedelta(days=3), tick=False):
        assert check_welfare(2) == []


def test_people_not_living_alone_are_left_alone(w):
    db.session.get(User, w.resident_a.id).created_at = MORNING - timedelta(days=30)
    with time_machine.travel(MORNING + timedelta(days=10), tick=False):
        assert check_welfare(2) == []


def test_the_commands_run(app, w):
    runner = app.test_cli_runner()
    assert "missed reports: 0" in runner.invoke(args=["wuye", "check-reports"]).output
    assert "welfare checks: 0" in runner.invoke(args=["wuye", "welfare", "--days", "3"]).output
    assert runner.invoke(args=["wuye", "welfare", "--days", "0"]).exit_code != 0
