"""Grocery delivery requests: who may ask, the open-request limit, scope, the staff queue, ratings.

The state changes after submission live in `delivery_lifecycle`; the service figures in
`delivery_figures`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from server import messages
from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.extensions import db
from server.models.compounds import Building, Compound, Household
from server.models.deliveries import (
    OPEN_STATUSES,
    DeliveryEvent,
    DeliveryItem,
    DeliveryRating,
    DeliveryRequest,
    DeliverySettings,
)
from server.models.health import QuarantineOrder
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.idempotency import IdempotentWrite, client_id_of, fingerprint
from server.scope import acting_role, compound_condition
from server.services.delivery.delivery_lifecycle import guards_may_run, record_submission
from server.services.organisation.compounds import household_label

DEFAULT_MAX_OPEN_DELIVERIES = 3
MAX_ITEMS = 30
# Queue order: medicine before infants before the elderly; tags add up.
URGENCY_WEIGHTS = {"medicine": 4, "infant": 2, "elderly": 1}
TAG_COLUMNS = {"medicine": "needs_medicine", "infant": "for_infant", "elderly": "for_elderly"}

messages.register({
    "delivery_not_eligible": ("仅居家隔离中的住户或封控小区的住户可以申请送菜上门",
                              "Only households in home quarantine or in a compound in lockdown may ask for groceries"),
    "too_many_open_deliveries": ("您家未完成的送菜申请已达上限,请等待完成或取消后再提交",
                                 "Your household has too many open delivery requests; wait or cancel one first"),
    "already_rated": ("该申请已评价过", "This delivery was already rated"),
})


def max_open_deliveries() -> int:
    """How many open requests a household may have at once (WUYE_MAX_OPEN_DELIVERIES)."""
    if has_app_context():
        return int(current_app.config.get("MAX_OPEN_DELIVERIES", DEFAULT_MAX_OPEN_DELIVERIES))
    return DEFAULT_MAX_OPEN_DELIVERIES


def create_delivery(requester: User, payload: dict) -> DeliveryRequest:
    """Submit a household's request; a retry with the same client id returns the stored request."""
    return submit_delivery(requester, payload)[0]


def submit_delivery(requester: User, payload: dict) -> tuple[DeliveryRequest, bool]:
    """Submit a household's request; returns it and whether it was a replay of a stored one.

    A retry with the same client id returns the stored request (the same body) or 409 (another
    body), also while the first attempt is still being committed: the household's lock makes the
    retry wait for it, and a unique-key clash on insert is answered with the row that won.
    """
    client_id = client_id_of(payload)
    fp = fingerprint(payload)
    write = _delivery_write(requester.id, client_id, fp)
    existing = write.stored()
    if existing is not None:
        return existing, True
    if requester.role != "resident" or requester.approved_household_id is None:
        raise ForbiddenError("not_registered")
    # The row lock serialises a household's submissions on PostgreSQL (SQLite serialises all writers).
    household = db.session.scalar(
        select(Household).where(Household.id == requester.approved_household_id).with_for_update())
    existing = write.stored()  # a first attempt that committed while we waited for the lock
    if existing is not None:
        return existing, True
    lockdown = db.session.scalar(select(Compound.lockdown).where(Compound.id == household.compound_id))
    if not lockdown and not household_quarantined(household.id, utcnow()):
        raise ForbiddenError("delivery_not_eligible")

    tags = set(payload.get("urgency", ()))
    request = DeliveryRequest(
        compound_id=household.compound_id, household_id=household.id, requester_id=requester.id,
        client_id=client_id, fingerprint=fp, status="submitted",
        budget_note=payload.get("budget_note", ""), preferred_from=payload.get("preferred_from"),
        preferred_until=payload.get("preferred_until"), drop_point=payload.get("drop_point", "door"),
        contactless=payload.get("contactless", True), note=payload.get("note", ""),
        urgency=sum(URGENCY_WEIGHTS[t] for t in tags), created_at=utcnow(),
        **{column: tag in tags for tag, column in TAG_COLUMNS.items()},
        items=[DeliveryItem(position=i, name=item["name"], quantity=item["quantity"], unit=item["unit"],
                            note=item.get("note", "")) for i, item in enumerate(payload["items"], start=1)],
    )
    # The same retry, sent at once, may be inserted by another request between our look-up and the
    # insert: the unique key answers the row that won.
    request, replayed = write.insert(partial(_insert_within_limit, request, household.id, max_open_deliveries()))
    if not replayed:
        record_submission(request, requester)
    return request, replayed


def _insert_within_limit(request: DeliveryRequest, household_id: int, limit: int) -> DeliveryRequest:
    """Insert the request; 409 too_many_open_deliveries when the household would have more open than the limit."""
    db.session.add(request)
    db.session.flush()
    # Counted after the insert, so of two concurrent submissions the later one sees the earlier; over the
    # limit, leaving the savepoint with the error undoes the insert.
    open_count = db.session.scalar(select(func.count()).where(
        DeliveryRequest.household_id == household_id, DeliveryRequest.status.in_(OPEN_STATUSES)))
    if open_count > limit:
        raise ConflictError("too_many_open_deliveries", limit=limit)
    return request


def _delivery_write(requester_id: int, client_id: str, fp: str) -> IdempotentWrite[DeliveryRequest]:
    """A delivery request under its (requester, client id) key, a retry compared on its fingerprint."""
    return IdempotentWrite.by_fingerprint(lambda: db.session.scalar(select(DeliveryRequest).where(
        DeliveryRequest.requester_id == requester_id, DeliveryRequest.client_id == client_id)), fp)


def household_quarantined(household_id: int, at: datetime) -> bool:
    """An active order on the household, or on one of its members whose binding staff approved.

    A person whose binding is still pending does not make the household eligible: staff have not
    confirmed that they live there.
    """
    members = select(User.id).where(User.household_id == household_id, User.residency == "approved")
    return db.session.scalar(
        select(QuarantineOrder.id)
        .where(or_(and_(QuarantineOrder.household_id == household_id, QuarantineOrder.user_id.is_(None)),
                   QuarantineOrder.user_id.in_(members)),
               QuarantineOrder.starts_at <= at, QuarantineOrder.ends_at > at, QuarantineOrder.lifted_at.is_(None))
        .limit(1)) is not None


def delivery_condition(user: User) -> ColumnElement[bool]:
    """A SQL condition on DeliveryRequest: the requests this user may see."""
    if user.role == "resident":
        household_id = user.approved_household_id
        return DeliveryRequest.household_id == household_id if household_id is not None else false()
    if acting_role(user) == "staff":
        return compound_condition(user, DeliveryRequest.compound_id)
    if user.role == "guard":
        allowed = select(DeliverySettings.compound_id).where(DeliverySettings.guards_may_run.is_(True))
        return and_(compound_condition(user, DeliveryRequest.compound_id), DeliveryRequest.compound_id.in_(allowed))
    return false()  # the alliance admin sees figures only


def get_delivery(user: User, delivery_id: int) -> DeliveryRequest:
    """A request in the caller's scope, or 404."""
    request = db.session.scalar(select(DeliveryRequest).where(DeliveryRequest.id == delivery_id,
                                                              delivery_condition(user)))
    if request is None:
        raise NotFoundError("not_found")
    return request


def deliveries_query(user: User, filters: dict) -> Select:
    """The caller's requests, newest first (residents: their household's; staff: their compounds')."""
    query = select(DeliveryRequest).where(delivery_condition(user))
    if "compound_id" in filters:
        query = query.where(DeliveryRequest.compound_id == filters["compound_id"])
    if "status" in filters:
        query = query.where(DeliveryRequest.status == filters["status"])
    return query.order_by(DeliveryRequest.created_at.desc(), DeliveryRequest.id.desc())


def queue_query(user: User, compound: Compound, filters: dict) -> Select:
    """A compound's open requests, most urgent first, then oldest first; filters narrow it."""
    if user.role == "guard" and not guards_may_run(compound.id):
        raise ForbiddenError("guards_may_not_run")
    statuses = [filters["status"]] if "status" in filters else list(OPEN_STATUSES)
    query = select(DeliveryRequest).where(DeliveryRequest.compound_id == compound.id,
                                          DeliveryRequest.status.in_(statuses))
    if "tag" in filters:
        query = query.where(getattr(DeliveryRequest, TAG_COLUMNS[filters["tag"]]).is_(True))
    if "contactless" in filters:
        query = query.where(DeliveryRequest.contactless.is_(filters["contactless"]))
    if filters.get("mine"):
        query = query.where(DeliveryRequest.claimed_by_id == user.id)
    return query.order_by(DeliveryRequest.urgency.desc(), DeliveryRequest.created_at, DeliveryRequest.id)


def delivery_history(request: DeliveryRequest) -> list[DeliveryEvent]:
    """Every change of a request, oldest first."""
    return list(db.session.scalars(select(DeliveryEvent).where(DeliveryEvent.request_id == request.id)
                                   .order_by(DeliveryEvent.at, DeliveryEvent.id)))


def urgency_tags(request: DeliveryRequest) -> list[str]:
    """The urgency tags of a request, most urgent first."""
    return [tag for tag, column in TAG_COLUMNS.items() if getattr(request, column)]


def household_address(request: DeliveryRequest) -> str:
    """Where the runner goes: 3号楼2单元101."""
    household = db.session.get(Household, request.household_id)
    building_name = db.session.scalar(select(Building.name).where(Building.id == household.building_id))
    return household_label(household, building_name)


def rate_delivery(rater: User, request: DeliveryRequest, score: int, comment: str = "") -> DeliveryRating:
    """The resident rates a confirmed delivery, once."""
    if rater.role != "resident" or rater.approved_household_id != request.household_id:
        raise ForbiddenError("not_requester")
    if request.status != "confirmed":
        raise ConflictError("delivery_state", current_status=request.status)
    if db.session.get(DeliveryRating, request.id) is not None:
        raise ConflictError("already_rated")
    rating = DeliveryRating(request_id=request.id, rated_by_id=rater.id, score=score, comment=comment,
                            created_at=utcnow())
    db.session.add(rating)
    db.session.flush()
    return rating


def rating_of(request: DeliveryRequest) -> DeliveryRating | None:
    """The rating of a request, if the resident gave one."""
    return db.session.get(DeliveryRating, request.id)


def delivery_settings(compound: Compound) -> DeliverySettings:
    """A compound's delivery settings (the defaults when staff never set them)."""
    settings = db.session.get(DeliverySettings, compound.id)
    return settings or DeliverySettings(compound_id=compound.id, guards_may_run=False)


def set_delivery_settings(editor: User, compound: Compound, data: dict) -> DeliverySettings:
    """Staff decide whether guards may claim and run deliveries in their compound."""
    settings = db.session.get(DeliverySettings, compound.id)
    if settings is None:
        settings = DeliverySettings(compound_id=compound.id)
        db.session.add(settings)
    settings.guards_may_run = data["guards_may_run"]
    settings.updated_by_id = editor.id
    settings.updated_at = utcnow()
    db.session.flush()
    return settings
