"""Delivery requests as each viewer may see them, a page at a time in a fixed number of queries.

Residents see their own request; staff and runners also get the address, a masked requester name
and how long it has waited. The full phone number goes only to the runner who has claimed the
request, and only while they must still reach the door (claimed to delivered); everyone else,
and the runner afterwards, sees it masked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from server.extensions import db
from server.models.compounds import Building, Household
from server.models.deliveries import DeliveryItem, DeliveryRating, DeliveryRequest
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.masking import mask_name, mask_phone
from server.scope import acting_role
from server.services.delivery.deliveries import urgency_tags
from server.services.delivery.delivery_lifecycle import delivery_number
from server.services.organisation.compounds import household_label

RUNNERS = ("staff", "guard")
# While the runner still has to reach the door they may call the resident.
PHONE_VISIBLE_STATUSES = ("claimed", "purchasing", "on_the_way", "delivered")


def contact_phone(viewer: User, request: DeliveryRequest, phone: str | None) -> str | None:
    """The requester's phone as this viewer may see it: whole for the active runner, else masked."""
    if request.claimed_by_id == viewer.id and request.status in PHONE_VISIBLE_STATUSES:
        return phone
    return mask_phone(phone)


def present_delivery(viewer: User, request: DeliveryRequest) -> dict:
    """One request as this viewer may see it."""
    return present_deliveries(viewer, [request])[0]


def present_deliveries(viewer: User, requests: Sequence[DeliveryRequest]) -> list[dict]:
    """Requests as this viewer may see them (items, rating, runner and, for runners, the household)."""
    if not requests:
        return []
    ids = [r.id for r in requests]
    items: dict[int, list[DeliveryItem]] = defaultdict(list)
    for item in db.session.scalars(select(DeliveryItem).where(DeliveryItem.request_id.in_(ids))
                                   .order_by(DeliveryItem.request_id, DeliveryItem.position)):
        items[item.request_id].append(item)
    confirmed = [r.id for r in requests if r.status == "confirmed"]
    ratings = {rating.request_id: rating for rating in db.session.scalars(
        select(DeliveryRating).where(DeliveryRating.request_id.in_(confirmed)))} if confirmed else {}
    runner_view = acting_role(viewer) in RUNNERS
    user_ids = {r.claimed_by_id for r in requests if r.claimed_by_id}
    if runner_view:
        user_ids |= {r.requester_id for r in requests}
    people = {uid: (name, phone) for uid, name, phone in db.session.execute(
        select(User.id, User.display_name, User.phone).where(User.id.in_(user_ids)))} if user_ids else {}
    addresses: dict[int, str] = {}
    if runner_view:
        for household, building_name in db.session.execute(
                select(Household, Building.name).join(Building, Building.id == Household.building_id)
                .where(Household.id.in_({r.household_id for r in requests}))):
            addresses[household.id] = household_label(household, building_name)
    now = utcnow()
    bodies = []
    for request in requests:
        body = {c.key: getattr(request, c.key) for c in DeliveryRequest.__table__.columns}
        runner = people.get(request.claimed_by_id)
        body.update(number=delivery_number(request), items=items.get(request.id, []), urgency=urgency_tags(request),
                    rating=ratings.get(request.id), runner_name=mask_name(runner[0]) if runner else None)
        if runner_view:
            name, phone = people.get(request.requester_id, ("", None))
            body.update(household_address=addresses.get(request.household_id, ""), requester_name=mask_name(name),
                        waited_seconds=int((now - request.created_at).total_seconds()),
                        contact_phone=contact_phone(viewer, request, phone))
        bodies.append(body)
    return bodies
