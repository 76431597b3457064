"""Scans run by cron through the CLI: missed quarantine self-reports, and people living alone gone quiet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from server.extensions import db
from server.integrations.wechat import wechat_datetime
from server.models.alerts import Alert
from server.models.checkins import CheckIn
from server.models.compounds import Compound, Household
from server.models.health import QuarantineOrder, TemperatureReading
from server.models.people import User
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import utcnow
from server.plumbing.notifications import enqueue
from server.services.health.quarantine import confined_user_ids

# Twice a day: a report is due in each half of the compound's local day.
HALVES = ((time(0), "am"), (time(12), "pm"))
# Slots looked back on, so a cron run missed now and then still catches every slot.
SLOTS_CHECKED = 2


@dataclass(frozen=True)
class ReportSlot:
    """Half a local day in which one self-report is due."""

    day: date
    half: str
    start: datetime
    end: datetime


def report_slot(tz_name: str, at: datetime) -> ReportSlot:
    """The half-day slot containing a moment, in a compound's time zone."""
    tz = ZoneInfo(tz_name)
    local = at.astimezone(tz)
    day = local.date()
    noon = datetime.combine(day, time(12), tzinfo=tz)
    if local < noon:
        start, end, half = datetime.combine(day, time(0), tzinfo=tz), noon, "am"
    else:
        start, end, half = noon, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz), "pm"
    return ReportSlot(day, half, start.astimezone(at.tzinfo), end.astimezone(at.tzinfo))


def completed_slots(tz_name: str, now: datetime, count: int = SLOTS_CHECKED) -> list[ReportSlot]:
    """The last `count` slots that have ended by now, newest first."""
    slots = []
    current = report_slot(tz_name, now)
    for _ in range(count):
        current = report_slot(tz_name, current.start - timedelta(seconds=1))
        slots.append(current)
    return slots


def reports_in_slot(user_id: int, slot: ReportSlot) -> int:
    """How many readings of the person fall in a slot."""
    return db.session.scalar(select(func.count()).select_from(TemperatureReading).where(
        TemperatureReading.subject_user_id == user_id, TemperatureReading.measured_at >= slot.start,
        TemperatureReading.measured_at < slot.end)) or 0


def check_missed_reports(now: datetime | None = None) -> list[Alert]:
    """Raise a missed_report alert (once per person and slot) for each person confined for a whole
    recent slot who sent no reading in it; staff are notified and the person reminded."""
    now = now or utcnow()
    horizon = now - timedelta(days=1, hours=1)
    orders = db.session.scalars(select(QuarantineOrder).where(
        QuarantineOrder.starts_at < now, QuarantineOrder.ends_at > horizon,
        or_(QuarantineOrder.lifted_at.is_(None), QuarantineOrder.lifted_at > horizon))).all()
    raised = []
    for order in orders:
        compound = db.session.get(Compound, order.compound_id)
        for slot in completed_slots(compound.timezone, now):
            end = order.lifted_at or order.ends_at
            if order.starts_at > slot.start or end < slot.end:
                continue
            for user_id in confined_user_ids(order):
                if reports_in_slot(user_id, slot) == 0:
                    raised.append(_missed(order, compound, user_id, slot))
    return raised


def _missed(order: QuarantineOrder, compound: Compound, user_id: int, slot: ReportSlot) -> Alert:
    alert = raise_alert(compound.id, "missed_report", subject_user_id=user_id, household_id=order.household_id,
                        detail={"order_id": order.id, "day": slot.day.isoformat(), "half": slot.half},
                        dedupe_key=f"missed_report:{user_id}:{slot.day.isoformat()}:{slot.half}")
    notify_staff(alert)
    enqueue(user_id, "report_reminder", {"thing1": "请按时上报体温", "thing2": compound.name,
                                         "time3": wechat_datetime(slot.end, compound.timezone)},
            page="pages/temperature/report", dedupe_key=f"report_reminder:{user_id}:{slot.day}:{slot.half}")
    return alert


def last_activity(user: User) -> datetime:
    """The latest sign of life: a gate passage, a temperature reading, or else the account's creation."""
    moments = [user.created_at, db.session.scalar(select(func.max(TemperatureReading.measured_at))
                                                  .where(TemperatureReading.subject_user_id == user.id))]
    moments.append(db.session.scalar(select(func.max(CheckIn.server_time)).where(CheckIn.subject_user_id == user.id)))
    return max(m for m in moments if m is not None)


def check_welfare(days: int, now: datetime | None = None) -> list[Alert]:
    """Raise a welfare check-on task for each approved resident living alone who has passed no gate and
    sent no report for `days` days (once per quiet stretch); staff are notified."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    people = db.session.execute(
        select(User, Household.compound_id).join(Household, Household.id == User.household_id)
        .where(User.role == "resident", User.lives_alone.is_(True), User.is_active.is_(True),
               User.residency == "approved", User.created_at <= cutoff)).all()
    raised = []
    for person, compound_id in people:
        seen = last_activity(person)
        if seen > cutoff:
            continue
        alert = raise_alert(compound_id, "welfare", subject_user_id=person.id, household_id=person.household_id,
                            detail={"last_seen": seen.isoformat(), "days": days},
                            dedupe_key=f"welfare:{person.id}:{int(seen.timestamp())}")
        notify_staff(alert)
        raised.append(alert)
    return raised


def reports_today(user_id: int, tz_name: str, now: datetime | None = None) -> int:
    """How many readings of the person fall in today's local day."""
    now = now or utcnow()
    day = now.astimezone(ZoneInfo(tz_name)).date()
    first = report_slot(tz_name, datetime.combine(day, time(0), tzinfo=ZoneInfo(tz_name)))
    second = report_slot(tz_name, first.end)
    return reports_in_slot(user_id, first) + reports_in_slot(user_id, second)
