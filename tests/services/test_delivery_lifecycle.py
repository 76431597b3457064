"""A stateful property test of the delivery lifecycle, against a model of what each action may do.

Invariants: a request never has two claimants, a delivered request never goes back, every action
either applies exactly as the model says or raises 403/409 with nothing changed in the database,
other households and companies never see the request, and every change notifies the resident.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.extensions import db
from server.integrations.wechat import fit_subscribe_data
from server.models.deliveries import DeliveryEvent, DeliveryRequest, DeliverySettings
from server.models.health import QuarantineOrder
from server.models.notifications import Notification
from server.plumbing.clock import utcnow
from server.services.delivery import delivery_lifecycle as lifecycle
from server.services.delivery.deliveries import create_delivery, get_delivery, max_open_deliveries
from tests.factories import build_world, make_user
from tests.fakes.wechat_server import FakeWeChat

ACTORS = ("resident", "staff", "staff2", "guard", "guard2")
ACTIONS = {
    "claim": lifecycle.claim_delivery,
    "start": lifecycle.start_purchasing,
    "dispatch": lifecycle.dispatch_delivery,
    "deliver": lifecycle.mark_delivered,
    "confirm": lifecycle.confirm_delivery,
    "cancel": lifecycle.cancel_delivery,
    "reject": lambda actor, request: lifecycle.reject_delivery(actor, request, "超市关门"),
    "substitute": None,
}
AFTER_DELIVERY = {"delivered", "confirmed"}
NEXT = {"submitted": "claim", "claimed": "start", "purchasing": "dispatch", "on_the_way": "deliver",
        "delivered": "confirm"}
# The model's own table (not the implementation's): action -> (allowed from, leads to).
MODEL = {
    "claim": ({"submitted"}, "claimed"),
    "start": ({"claimed"}, "purchasing"),
    "dispatch": ({"purchasing"}, "on_the_way"),
    "deliver": ({"on_the_way"}, "delivered"),
    "confirm": ({"delivered"}, "confirmed"),
    "cancel": ({"submitted", "claimed"}, "cancelled"),
    "reject": ({"submitted", "claimed", "purchasing"}, "rejected"),
}


def _snapshot(request_id: int) -> tuple:
    db.session.flush()
    row = db.session.execute(select(DeliveryRequest.__table__).where(DeliveryRequest.id == request_id)).one()
    events = db.session.scalar(select(func.count()).where(DeliveryEvent.request_id == request_id))
    notes = db.session.scalar(select(func.count()).select_from(Notification))
    return tuple(row), events, notes


class DeliveryLifecycle(RuleBasedStateMachine):
    """Residents submit; staff, guards and residents act in any order; a model predicts every answer."""

    requests = Bundle("requests")

    @initialize()
    def build(self):
        world = build_world()
        now = utcnow()
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(days=1),
                                       ends_at=now + timedelta(days=13)))
        db.session.add(DeliverySettings(compound_id=world.compound_a.id, guards_may_run=True))
        self.world = world
        self.actors = {
            "resident": world.resident_a, "staff": world.staff_a, "guard": world.guard_a,
            "staff2": make_user(world.alliance, "staff", company=world.company_a, name="甲二"),
            "guard2": make_user(world.alliance, "guard", company=world.company_a, compound=world.compound_a),
        }
        db.session.flush()
        self.status: dict[int, str] = {}
        self.claimant: dict[int, int | None] = {}
        self.count = 0

    def _open(self) -> int:
        return sum(1 for s in self.status.values() if s in ("submitted", "claimed", "purchasing", "on_the_way"))

    def _payload(self, tags: list[str]) -> dict:
        self.count += 1
        return {"client_id": f"sm-{self.count}", "items": [{"name": "青菜", "quantity": 1, "unit": "斤"}],
                "urgency": tags}

    @precondition(lambda self: self._open() < max_open_deliveries())
    @rule(target=requests, tags=st.lists(st.sampled_from(["medicine", "infant", "elderly"]), max_size=3))
    def submit(self, tags):
        request = create_delivery(self.actors["resident"], self._payload(tags))
        self.status[request.id] = "submitted"
        self.claimant[request.id] = None
        return request.id

    @precondition(lambda self: self._open() >= max_open_deliveries())
    @rule()
    def submit_over_the_limit(self):
        before = db.session.scalar(select(func.count()).select_from(DeliveryRequest))
        with pytest.raises(ConflictError) as refused:
            create_delivery(self.actors["resident"], self._payload([]))
        assert refused.value.reason == "too_many_open_deliveries"
        assert db.session.scalar(select(func.count()).select_from(DeliveryRequest)) == before

    def _permitted(self, action: str, who: str, request_id: int) -> bool:
        actor = self.actors[who]
        if action in ("confirm", "cancel"):
            return who == "resident"
        if action == "reject":
            return actor.role == "staff"
        if action == "claim":
            return actor.role in ("staff", "guard")
        return actor.role == "staff" or (actor.role == "guard" and self.claimant[request_id] == actor.id)

    def _natural(self, action: str, request_id: int) -> str:
        """The actor who would normally take this action, so that runs reach the later states."""
        if action in ("confirm", "cancel"):
            return "resident"
        claimant = self.claimant[request_id]
        return next((k for k, u in self.actors.items() if u.id == claimant and k != "resident"), "staff")

    @rule(request_id=requests, steps=st.integers(min_value=0, max_value=5),
          action=st.sampled_from(sorted(ACTIONS)), who=st.sampled_from(("natural",) + ACTORS))
    def drive(self, request_id, steps, action, who):
        """Take the usual next steps by the usual actors, then any action by anyone: reaches every state."""
        for _ in range(steps):
            if self.status[request_id] not in NEXT:
                break
            self.act(request_id, NEXT[self.status[request_id]], "natural")
        self.act(request_id, action, who)

    @rule(request_id=requests, action=st.sampled_from(sorted(ACTIONS)),
          who=st.sampled_from(ACTORS + ("natural",) * 5))
    def act(self, request_id, action, who):
        """Any action by anyone."""
        if who == "natural":
            who = self._natural(action, request_id)
        actor = self.actors[who]
        request = db.session.get(DeliveryRequest, request_id)
        before = _snapshot(request_id)
        current = self.status[request_id]
        if action == "substitute":
            sources, target = {"claimed", "purchasing"}, current
            call = lambda: lifecycle.record_substitutions(  # noqa: E731
                actor, request, [{"item_id": request.items[0].id, "outcome": "substituted", "substitute": "菠菜"}])
        else:
            sources, target = MODEL[action]
            call = lambda: ACTIONS[action](actor, request)  # noqa: E731
        if not self._permitted(action, who, request_id):
            with pytest.raises(ForbiddenError):
                call()
            assert _snapshot(request_id) == before
        elif current not in sources:
            with pytest.raises(ConflictError) as conflict:
                call()
            assert conflict.value.extra["current_status"] == current
            assert _snapshot(request_id) == before
        else:
            call()
            self.status[request_id] = target
            if action == "claim":
                self.claimant[request_id] = actor.id

    @rule(hours=st.sampled_from([1, 23, 25]))
    def cron(self, hours):
        confirmed = lifecycle.confirm_overdue_deliveries(utcnow() + timedelta(hours=hours))
        due = [i for i, s in self.status.items() if s == "delivered"] if hours >= 24 else []
        assert confirmed == len(due)
        for request_id in due:
            self.status[request_id] = "confirmed"

    @rule(request_id=requests)
    def others_cannot_see_it(self, request_id):
        for outsider in (self.world.resident_b, self.world.staff_b, self.world.guard_b, self.world.admin):
            with pytest.raises(NotFoundError):
                get_delivery(outsider, request_id)

    def teardown(self):
        db.session.rollback()

    @invariant()
    def database_matches_the_model(self):
        if not hasattr(self, "status"):
            return
        for request_id, status in self.status.items():
            row = db.session.get(DeliveryRequest, request_id)
            assert row.status == status
            assert row.claimed_by_id == self.claimant[request_id]

    @invariant()
    def one_claimant_and_no_way_back(self):
        if not hasattr(self, "status"):
            return
        for request_id in self.status:
            events = db.session.scalars(select(DeliveryEvent).where(DeliveryEvent.request_id == request_id)
                                        .order_by(DeliveryEvent.id)).all()
            assert sum(e.action == "claim" for e in events) <= 1
            previous, delivered = None, False
            for event in events:
                assert event.from_status == previous or event.action == "substitute"
                if delivered:
                    assert event.to_status in AFTER_DELIVERY
                delivered = delivered or event.to_status == "delivered"
                previous = event.to_status
            notes = db.session.scalars(select(Notification).where(
                Notification.dedupe_key.in_([f"delivery-event:{e.id}" for e in events]))).all()
            assert len(notes) == len(events)
            assert all(FakeWeChat._invalid_field(as_sent(n.data)) is None for n in notes)


def test_delivery_lifecycle_state_machine(app):
    with app.app_context():
        try:
            run_state_machine_as_test(DeliveryLifecycle, settings=settings(
                max_examples=30, stateful_step_count=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
        finally:
            db.session.rollback()


def test_quarantine_still_applies_to_dates(app):
    """The model above starts every household in quarantine; one that ended is refused."""
    with app.app_context():
        world = build_world()
        past = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=past, ends_at=past + timedelta(days=14)))
        db.session.flush()
        with pytest.raises(ForbiddenError) as refused:
            create_delivery(world.resident_a, {"client_id": "late", "items": [
                {"name": "米", "quantity": 1, "unit": "袋"}]})
        assert refused.value.reason == "delivery_not_eligible"
        db.session.rollback()


def as_sent(data: dict) -> dict:
    """Notification data as the outbox sends it: fitted, in WeChat's {"key": {"value": ...}} shape."""
    return {key: {"value": value} for key, value in fit_subscribe_data(data).items()}
