"""Home-quarantine orders: placed, extended and lifted by staff; they end by themselves at ends_at.

`active_order` is the question every other capability asks (is this person confined now?).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, or_, select, update

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.integrations.wechat import wechat_datetime
from server.messages import register
from server.models.compounds import Compound, Household
from server.models.health import QuarantineExtension, QuarantineOrder
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.notifications import enqueue
from server.services.people.consent import EMERGENCY, live_consent

DEFAULT_DAYS = 14
MAX_DAYS = 90
# An order may be dated back to the day of return, but not further than a full period.
MAX_BACKDATE = timedelta(days=DEFAULT_DAYS)
ORDER_STATUSES = ("scheduled", "active", "ended", "lifted")

register({
    "quarantine_subject": ("请指定一位居民或一户(二选一)", "Give either one resident or one household"),
    "quarantine_period": ("隔离期无效:结束须晚于开始与当前时间,且不超过 90 天",
                          "Invalid period: the end must follow the start and now, within 90 days"),
    "quarantine_exists": ("该对象已有重叠的隔离令", "An overlapping order already exists for this subject"),
    "quarantine_not_current": ("隔离令已结束或已解除", "The order has already ended or been lifted"),
    "quarantine_changed": ("隔离令刚被他人修改,请刷新后重试", "The order was just changed by someone else; reload"),
    "quarantine_consent_required": ("未宣布公共卫生紧急状态时,须每位被隔离人同意",
                                    "Without a declared emergency every person confined must consent"),
})


def active_at(at: datetime) -> ColumnElement[bool]:
    """SQL: an order confines its subject at this moment (started, not yet ended, not lifted)."""
    return ((QuarantineOrder.starts_at <= at) & (QuarantineOrder.ends_at > at)
            & QuarantineOrder.lifted_at.is_(None))


def active_order(user_id: int | None, household_id: int | None, at: datetime | None = None) -> QuarantineOrder | None:
    """The order confining a person (by themselves or their household) at a moment, if any."""
    at = at or utcnow()
    subjects = []
    if user_id is not None:
        subjects.append(QuarantineOrder.user_id == user_id)
    if household_id is not None:
        subjects.append((QuarantineOrder.household_id == household_id) & QuarantineOrder.user_id.is_(None))
    if not subjects:
        return None
    return db.session.scalar(
        select(QuarantineOrder)
        .where(or_(*subjects), active_at(at))
        .order_by(QuarantineOrder.ends_at.desc())
        .limit(1))


def household_under_quarantine(household_id: int, at: datetime | None = None) -> QuarantineOrder | None:
    """An active order on the household or on any one of its members."""
    at = at or utcnow()
    member_ids = select(User.id).where(User.household_id == household_id)
    return db.session.scalar(
        select(QuarantineOrder)
        .where(or_(QuarantineOrder.household_id == household_id, QuarantineOrder.user_id.in_(member_ids)),
               active_at(at))
        .order_by(QuarantineOrder.ends_at.desc())
        .limit(1))


def order_status(order: QuarantineOrder, at: datetime | None = None) -> str:
    """scheduled, active, ended (by itself at ends_at) or lifted (early, by staff)."""
    at = at or utcnow()
    if order.lifted_at is not None:
        return "lifted"
    if order.ends_at <= at:
        return "ended"
    return "active" if order.starts_at <= at else "scheduled"


def confined_user_ids(order: QuarantineOrder) -> list[int]:
    """The people an order confines: its person, or the approved members of its household."""
    if order.user_id is not None:
        return [order.user_id]
    return list(db.session.scalars(select(User.id).where(
        User.household_id == order.household_id, User.residency == "approved", User.role == "resident")
        .order_by(User.id)))


def place_quarantine(author: User, compound: Compound, *, user_id: int | None = None,
                     household_id: int | None = None, reason: str, from_city: str = "", note: str = "",
                     starts_at: datetime | None = None, ends_at: datetime | None = None,
                     days: int | None = None) -> QuarantineOrder:
    """Place a resident or a whole household of the compound under home quarantine (14 days by default)."""
    if (user_id is None) == (household_id is None):
        raise UnprocessableError("quarantine_subject")
    now = utcnow()
    if user_id is not None:
        person = _resident_of(compound, user_id)
        household_id = person.household_id
    else:
        _household_of(compound, household_id)
    starts_at = starts_at or now
    ends_at = ends_at or starts_at + timedelta(days=days or DEFAULT_DAYS)
    if (ends_at <= starts_at or ends_at <= now or ends_at - starts_at > timedelta(days=MAX_DAYS)
            or starts_at < now - MAX_BACKDATE):
        raise UnprocessableError("quarantine_period")
    _lock_household(household_id)
    _refuse_overlap(user_id, household_id, starts_at, ends_at)
    order = QuarantineOrder(
        compound_id=compound.id, household_id=household_id, user_id=user_id, reason=reason,
        from_city=from_city, note=note, starts_at=starts_at, ends_at=ends_at, created_by_id=author.id,
        created_at=now)
    order.lawful_basis = _lawful_basis(compound, order)
    db.session.add(order)
    db.session.flush()
    _notify(order, compound, "quarantine_placed", "居家隔离通知")
    return order


def extend_quarantine(author: User, order: QuarantineOrder, *, ends_at: datetime | None = None,
                      days: int | None = None, reason: str = "") -> QuarantineOrder:
    """Move a current order's end later (a new end, or a number of extra days)."""
    now = utcnow()
    if order_status(order, now) not in ("active", "scheduled"):
        raise ConflictError("quarantine_not_current", status=order_status(order, now))
    previous = order.ends_at
    new_end = ends_at or previous + timedelta(days=days or DEFAULT_DAYS)
    if new_end <= previous or new_end - order.starts_at > timedelta(days=MAX_DAYS):
        raise UnprocessableError("quarantine_period")
    # Conditional on the end we read: two staff extending at once do not silently overwrite each other.
    changed = db.session.execute(
        update(QuarantineOrder).where(QuarantineOrder.id == order.id, QuarantineOrder.ends_at == previous,
                                      QuarantineOrder.lifted_at.is_(None))
        .values(ends_at=new_end).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise ConflictError("quarantine_changed")
    db.session.add(QuarantineExtension(order_id=order.id, previous_ends_at=previous, new_ends_at=new_end,
                                       reason=reason, by_id=author.id, at=now))
    db.session.flush()
    db.session.refresh(order)
    _notify(order, db.session.get(Compound, order.compound_id), "quarantine_extended", "居家隔离延长")
    return order


def lift_quarantine(author: User, order: QuarantineOrder, reason: str) -> QuarantineOrder:
    """End a current order early, with a reason."""
    now = utcnow()
    if order_status(order, now) not in ("active", "scheduled"):
        raise ConflictError("quarantine_not_current", status=order_status(order, now))
    lifted = db.session.execute(
        update(QuarantineOrder).where(QuarantineOrder.id == order.id, QuarantineOrder.lifted_at.is_(None),
                                      QuarantineOrder.ends_at > now)
        .values(lifted_at=now, lifted_reason=reason, lifted_by_id=author.id)
        .execution_options(synchronize_session=False)).rowcount
    if lifted != 1:
        raise ConflictError("quarantine_changed")
    db.session.refresh(order)
    _notify(order, db.session.get(Compound, order.compound_id), "quarantine_lifted", "居家隔离已解除")
    return order


def extensions_of(order: QuarantineOrder) -> list[QuarantineExtension]:
    """The history of an order's extensions, oldest first."""
    return list(db.session.scalars(select(QuarantineExtension).where(QuarantineExtension.order_id == order.id)
                                   .order_by(QuarantineExtension.at, QuarantineExtension.id)))


def orders_query(compound_id: int, status: str | None = None, at: datetime | None = None) -> Select:
    """A compound's orders, newest first, optionally by status at a moment."""
    at = at or utcnow()
    query = select(QuarantineOrder).where(QuarantineOrder.compound_id == compound_id)
    live = QuarantineOrder.lifted_at.is_(None)
    conditions = {
        "active": active_at(at),
        "scheduled": live & (QuarantineOrder.starts_at > at),
        "ended": live & (QuarantineOrder.ends_at <= at),
        "lifted": QuarantineOrder.lifted_at.is_not(None),
    }
    if status is not None:
        query = query.where(conditions[status])
    return query.order_by(QuarantineOrder.starts_at.desc(), QuarantineOrder.id.desc())


def orders_of_person(user: User) -> list[QuarantineOrder]:
    """Every order on a resident or on their approved household, newest first."""
    subjects = [QuarantineOrder.user_id == user.id]
    if user.approved_household_id is not None:
        subjects.append((QuarantineOrder.household_id == user.approved_household_id)
                        & QuarantineOrder.user_id.is_(None))
    return list(db.session.scalars(select(QuarantineOrder).where(or_(*subjects))
                                   .order_by(QuarantineOrder.starts_at.desc(), QuarantineOrder.id.desc())))


def _resident_of(compound: Compound, user_id: int) -> User:
    person = db.session.scalar(
        select(User).join(Household, Household.id == User.household_id)
        .where(User.id == user_id, User.role == "resident", User.residency == "approved",
               Household.compound_id == compound.id))
    if person is None:
        raise NotFoundError("not_found")
    return person


def _household_of(compound: Compound, household_id: int) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or household.compound_id != compound.id:
        raise NotFoundError("not_found")
    return household


def _lock_household(household_id: int) -> None:
    """Serialise placements on one household (and its members) until the transaction ends.

    A write, not a SELECT ... FOR UPDATE: on PostgreSQL it takes the row lock, on SQLite the
    database's write lock, and on both the overlap check that follows sees any order placed by a
    request that held the lock before us.
    """
    db.session.execute(update(Household).where(Household.id == household_id).values(unit=Household.unit)
                       .execution_options(synchronize_session=False))


def _refuse_overlap(user_id: int | None, household_id: int, starts_at: datetime, ends_at: datetime) -> None:
    subject = (QuarantineOrder.user_id == user_id if user_id is not None
               else (QuarantineOrder.household_id == household_id) & QuarantineOrder.user_id.is_(None))
    clash = db.session.scalar(select(QuarantineOrder.id).where(
        subject, QuarantineOrder.lifted_at.is_(None), QuarantineOrder.starts_at < ends_at,
        QuarantineOrder.ends_at > starts_at).limit(1))
    if clash is not None:
        raise ConflictError("quarantine_exists", order_id=clash)


def _lawful_basis(compound: Compound, order: QuarantineOrder) -> str:
    if compound.health_emergency:
        return EMERGENCY
    people = confined_user_ids(order)
    if people and all(live_consent(uid) is not None for uid in people):
        return "consent"
    raise ConflictError("quarantine_consent_required")


def _notify(order: QuarantineOrder, compound: Compound, kind: str, title: str) -> None:
    """Tell each confined person about the order, in the inbox and on WeChat (once per order, kind and end)."""
    end = wechat_datetime(order.lifted_at or order.ends_at, compound.timezone)
    for user_id in confined_user_ids(order):
        enqueue(user_id, kind, {"thing1": title, "thing2": compound.name, "time3": end},
                page=f"pages/quarantine/index?id={order.id}",
                dedupe_key=f"{kind}:{order.id}:{int(order.ends_at.timestamp())}:{user_id}")
