"""Quarantine orders: placing, extending, lifting, expiry with a frozen clock, and the lawful basis."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.models.compounds import Compound
from server.models.health import QuarantineExtension
from server.models.notifications import Notification
from server.models.people import User
from server.services.health.quarantine import (
    active_order,
    extend_quarantine,
    household_under_quarantine,
    lift_quarantine,
    order_status,
    place_quarantine,
)
from server.services.people.consent import give_consent
from tests.factories import build_world, make_user

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def w(ctx):
    """The standard world with a public-health emergency declared at compound A."""
    world = build_world()
    db.session.get(Compound, world.compound_a.id).health_emergency = True
    db.session.flush()
    return world


def _compound(w):
    return db.session.get(Compound, w.compound_a.id)


def test_a_person_order_lasts_14_days_and_ends_by_itself(w):
    with time_machine.travel(T0, tick=False):
        order = place_quarantine(w.staff_a, _compound(w), user_id=w.resident_a.id, reason="returned_from_city",
                                 from_city="武汉")
    assert order.ends_at == T0 + timedelta(days=14) and order.household_id == w.household_a.id
    assert order.lawful_basis == "public_health_emergency"
    end = order.ends_at
    assert active_order(w.resident_a.id, w.household_a.id, end - timedelta(seconds=1)).id == order.id
    assert active_order(w.resident_a.id, w.household_a.id, end) is None
    assert active_order(w.resident_a.id, w.household_a.id, T0 - timedelta(seconds=1)) is None
    # A person's order does not confine the rest of the household...
    housemate = make_user(w.alliance, "resident", household=db.session.get(type(w.household_a), w.household_a.id))
    assert active_order(housemate.id, w.household_a.id, T0 + timedelta(days=1)) is None
    # ...but the household counts as under quarantine (for grocery delivery).
    assert household_under_quarantine(w.household_a.id, T0 + timedelta(days=1)).id == order.id
    with time_machine.travel(end, tick=False):
        assert order_status(order) == "ended"


def test_a_household_order_confines_every_member(w):
    housemate = make_user(w.alliance, "resident", household=db.session.get(type(w.household_a), w.household_a.id))
    with time_machine.travel(T0, tick=False):
        order = place_quarantine(w.staff_a, _compound(w), household_id=w.household_a.id, reason="close_contact",
                                 days=7)
    at = T0 + timedelta(days=6, hours=23)
    assert active_order(w.resident_a.id, w.household_a.id, at).id == order.id
    assert active_order(housemate.id, w.household_a.id, at).id == order.id
    assert active_order(w.resident_b.id, w.household_b.id, at) is None
    assert active_order(w.resident_a.id, w.household_a.id, T0 + timedelta(days=7)) is None


def test_overlapping_orders_are_refused(w):
    with time_machine.travel(T0, tick=False):
        place_quarantine(w.staff_a, _compound(w), user_id=w.resident_a.id, reason="other")
        with pytest.raises(ConflictError) as err:
            place_quarantine(w.staff_a, _compound(w), user_id=w.resident_a.id, reason="other",
                             starts_at=T0 + timedelta(days=13, hours=23))
    assert err.value.reason == "quarantine_exists"


@pytest.mark.parametrize("kwargs", [
    {}, {"user_id": 1, "household_id": 1},
    {"user_id": "me", "ends_at": T0},
    {"user_id": "me", "starts_at": T0 - timedelta(days=15)},
    {"user_id": "me", "days": 91},
])
def test_bad_subjects_and_periods_are_422(w, kwargs):
    if kwargs.get("user_id") == "me":
        kwargs["user_id"] = w.resident_a.id
    with time_machine.travel(T0, tick=False), pytest.raises(UnprocessableError):
        place_quarantine(w.staff_a, _compound(w), reason="other", **kwargs)


def test_residents_of_another_compound_are_not_found(w):
    with pytest.raises(NotFoundError):
        place_quarantine(w.staff_a, _compound(w), user_id=w.resident_b.id, reason="other")
    with pytest.raises(NotFoundError):
        place_quarantine(w.staff_a, _compound(w), household_id=w.household_b.id, reason="other")


def test_extend_moves_the_end_and_keeps_the_history(w):
    with time_machine.travel(T0, tick=False):
        order = place_quarantine(w.staff_a, _compound(w), user_id=w.resident_a.id, reason="other")
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        extend_quarantine(w.staff_a, order, days=7, reason="复查阳性")
    assert order.ends_at == T0 + timedelta(days=21)
    [ext] = db.session.scalars(select(QuarantineExtension)).all()
    assert (ext.previous_ends_at, ext.new_ends_at, ext.reason) == (T0 + timedelta(days=14), order.ends_at, "复查阳性")
    assert active_order(w.resident_a.id, None, T0 + timedelta(days=20)).id == order.id
    with time_machine.travel(T0 + timedelta(days=21), tick=False), pytest.raises(ConflictError):
        extend_quarantine(w.staff_a, order, days=1)
    with time_machine.travel(T0 + timedelta(days=11), tick=False), pytest.raises(UnprocessableError):
        extend_quarantine(w.staff_a, order, ends_at=T0 + timedelta(days=20))


def test_lift_ends_the_order_early_once(w):
    with time_machine.travel(T0, tick=False):
        order = place_quarantine(w.staff_a, _compound(w), user_id=w.resident_a.id, reason="other")
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        lift_quarantine(w.staff_a, order, "核酸阴性")
        assert order_status(order) == "lifted"
        with pytest.raises(ConflictError) as err:
            lift_quarantine(w.staff_a, order, "again")
    assert err.value.reason == "quarantine_not_current"
    assert order.lifted_reason == "核酸阴性" and order.lifted_by_id == w.staff_a.id
    assert active_order(w.resident_a.id, w.household_a.id, T0 + timedelta(days=3, seconds=1)) is None


def test_without_emergency_every_confined_person_must_consent(w):
    _compound(w).health_emergency = False
    with pytest.raises(ConflictError) as err:
        place_quarantine(w.staff_a, _compound(w), household_id=w.household_a.id, reason="other")
    assert err.value.reason == "quarantine_consent_required"
    give_consent(db.session.get(User, w.resident_a.id))
    order = place_quarantine(w.staff_a, _compound(w), household_id=w.household_a.id, reason="other")
    assert order.lawful_basis == "consent"


def test_confined_people_with_wechat_are_notified_once(w):
    order = place_quarantine(w.staff_a, _compound(w), user_id=w.resident_a.id, reason="other")
    [note] = db.session.scalars(select(Notification)).all()
    assert (note.user_id, note.kind, note.status) == (w.resident_a.id, "quarantine_placed", "pending")
    assert str(order.id) in note.page
