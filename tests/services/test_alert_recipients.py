"""Every alert of every compound reaches whoever acts for it: the company's staff, the caretaking
company's staff while the compound is entrusted, and the alliance admins for a compound with neither."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models.caretaking import Caretaking
from server.models.compounds import Compound
from server.models.notifications import Notification
from server.models.people import User
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.caretakers import acting_company_id, compound_actors
from server.plumbing.clock import utcnow
from tests.factories import build_world, make_user


def _actors(compound_id: int) -> set[int]:
    compound = db.session.get(Compound, compound_id)
    return set(db.session.scalars(select(User.id).where(compound_actors(compound))))


def _queued_to(alert_id: int) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.dedupe_key.like(f"alert:{alert_id}:%"))))


def test_recipients_follow_who_acts_for_the_compound(ctx):
    w = build_world()
    second_admin = make_user(w.alliance, "alliance_admin")
    gone = make_user(w.alliance, "staff", company=w.company_b, is_active=False)
    # Bound to WeChat, so that the alert's subscribe message is queued for them.
    for user in (w.admin, second_admin, w.staff_a, w.staff_b, gone):
        user.openid = f"openid-bound-{user.id}"
    db.session.flush()

    assert _actors(w.compound_a.id) == {w.staff_a.id}
    assert _actors(w.compound_orphan.id) == {w.admin.id, second_admin.id}
    fever = raise_alert(w.compound_orphan.id, "fever", subject_user_id=w.resident_a.id)
    assert notify_staff(fever) == 2 and _queued_to(fever.id) == {w.admin.id, second_admin.id}

    now = utcnow()
    db.session.add(Caretaking(compound_id=w.compound_orphan.id, company_id=w.company_b.id, starts_at=now,
                              ends_at=now + timedelta(days=30), handed_over_by_id=w.admin.id))
    db.session.flush()
    orphan = db.session.get(Compound, w.compound_orphan.id)
    assert acting_company_id(orphan) == w.company_b.id
    assert acting_company_id(orphan, now + timedelta(days=31)) is None
    assert _actors(orphan.id) == {w.staff_b.id}  # not the inactive one
    welfare = raise_alert(orphan.id, "welfare", subject_user_id=w.resident_a.id)
    assert notify_staff(welfare) == 1 and _queued_to(welfare.id) == {w.staff_b.id}
    assert gone.id not in _queued_to(welfare.id)
