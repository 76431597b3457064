"""Draining the outbox against the fake WeChat: token cache, refresh-and-retry, 43101, at-most-once."""

import itertools
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import select, update

from server.extensions import db
from server.models.notifications import Notification, WeChatAccessToken, WeChatSubscription
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.notifications import enqueue
from server.plumbing.notify_drain import MAX_ATTEMPTS, drain
from server.services.people.sign_in import wechat_client
from tests.factories import build_world, make_user
from tests.fakes.wechat_server import STABLE_TOKEN, SUBSCRIBE_SEND

TEMPLATE = "tmpl-alert-0001"


@pytest.fixture
def outbox(app, wechat_app):
    """The standard world committed, the app pointed at the fake, with a template for kind "alert"."""
    app.config["WECHAT_TEMPLATES"] = {"alert": TEMPLATE}
    with app.app_context():
        world = build_world()
        db.session.commit()
        resident = db.session.get(User, world.resident_a.id)
        _accept(wechat_app, resident)
        yield world, resident
        db.session.rollback()
    app.config["WECHAT_TEMPLATES"] = {}


_keys = itertools.count()


def _accept(fake, user, times=100):
    """The user accepted the template `times` times: WeChat knows it, and the client reported it to us."""
    fake.subscribe(user.openid, TEMPLATE)
    db.session.add(WeChatSubscription(user_id=user.id, template_id=TEMPLATE, remaining=times))
    db.session.commit()


def _queue(user, n=1, **data):
    ids = []
    for _ in range(n):
        note = enqueue(user.id, "alert",
                       data or {"thing1": "发热预警:复测体温仍偏高,请立即处理,谢谢配合", "time3": "2026-03-02 09:00"},
                       dedupe_key=f"t:{next(_keys)}")
        ids.append(note.id)
    db.session.commit()
    return ids


def _statuses():
    db.session.expire_all()
    return [n.status for n in db.session.scalars(select(Notification).order_by(Notification.id))]


def _sends(fake):
    return [r for r in fake.requests if r["path"] == SUBSCRIBE_SEND]


def _token_calls(fake):
    return [r for r in fake.requests if r["path"] == STABLE_TOKEN]


def test_sends_once_with_fitted_values_and_caches_the_token(outbox, wechat_app):
    _, resident = outbox
    _queue(resident)
    assert drain(wechat_client())["sent"] == 1
    [message] = wechat_app.sent_messages
    assert message["touser"] == resident.openid and message["template_id"] == TEMPLATE
    assert len(message["data"]["thing1"]["value"]) == 20 and message["data"]["thing1"]["value"].endswith("…")
    assert _statuses() == ["sent"]
    # Nothing left: a second run sends nothing; a new message reuses the cached token.
    assert drain(wechat_client()).total() == 0
    _queue(resident, **{"thing1": "again"})
    assert drain(wechat_client())["sent"] == 1
    assert len(_token_calls(wechat_app)) == 1
    cached = db.session.get(WeChatAccessToken, "wx-fake-appid")
    assert cached.value == wechat_app.issued_tokens[0] and cached.expires_at > utcnow() + timedelta(hours=1)


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_expired_token_is_refreshed_and_the_send_retried_once(outbox, wechat_app, errcode):
    _, resident = outbox
    _queue(resident)
    wechat_app.fail_next(SUBSCRIBE_SEND, errcode)
    assert drain(wechat_client())["sent"] == 1
    calls = _token_calls(wechat_app)
    assert [c["json"]["force_refresh"] for c in calls] == [False, True]
    assert len(_sends(wechat_app)) == 2 and len(wechat_app.sent_messages) == 1
    assert db.session.get(WeChatAccessToken, "wx-fake-appid").value == wechat_app.issued_tokens[-1]


def test_a_token_expired_at_wechat_is_replaced_in_the_shared_cache(outbox, wechat_app):
    _, resident = outbox
    _queue(resident)
    drain(wechat_client())
    wechat_app.expire_all_tokens()
    _queue(resident, **{"thing1": "二次"})
    assert drain(wechat_client())["sent"] == 1
    assert len(wechat_app.sent_messages) == 2 and len(wechat_app.issued_tokens) == 2


def test_twice_expired_waits_for_a_later_attempt(outbox, wechat_app):
    _, resident = outbox
    [note_id] = _queue(resident)
    wechat_app.fail_next(SUBSCRIBE_SEND, 40001, times=2)
    assert drain(wechat_client())["retry"] == 1
    note = db.session.get(Notification, note_id)
    assert note.status == "pending" and note.next_attempt_at > utcnow() and note.attempts == 1
    assert drain(wechat_client()).total() == 0, "not due yet"
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert drain(wechat_client())["sent"] == 1
    assert len(wechat_app.sent_messages) == 1


def test_transient_failures_give_up_after_max_attempts(outbox, wechat_app):
    _, resident = outbox
    [note_id] = _queue(resident)
    wechat_app.fail_next(SUBSCRIBE_SEND, -1, times=MAX_ATTEMPTS)
    moment = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        with time_machine.travel(moment + timedelta(hours=attempt)):
            drain(wechat_client())
    note = db.session.get(Notification, note_id, populate_existing=True)
    assert (note.status, note.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(_sends(wechat_app)) == MAX_ATTEMPTS and wechat_app.sent_messages == []


def test_43101_is_recorded_and_not_retried(outbox, wechat_app):
    world, resident = outbox
    other = db.session.get(User, world.resident_b.id)
    wechat_app.subscribe(other.openid, "another-template")  # known to WeChat, not subscribed to ours
    # The client reported two acceptances WeChat does not hold (turned off in settings since).
    db.session.add(WeChatSubscription(user_id=other.id, template_id=TEMPLATE, remaining=2))
    db.session.commit()
    _queue(other, n=2)
    outcome = drain(wechat_client())
    assert outcome["unsubscribed"] == 1 and outcome["inbox_only"] == 1
    assert sorted(_statuses()) == ["inbox_only", "unsubscribed"]
    # WeChat holds none: our count is zeroed, so the second message did not even try.
    assert db.session.scalar(select(WeChatSubscription.remaining).where(WeChatSubscription.user_id == other.id)) == 0
    with time_machine.travel(utcnow() + timedelta(days=1)):
        drain(wechat_client())
    assert len(_sends(wechat_app)) == 1


def test_a_send_whose_sender_died_is_never_resent(outbox, wechat_app):
    _, resident = outbox
    [note_id] = _queue(resident)
    db.session.execute(update(Notification).values(status="sending", locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert drain(wechat_client())["abandoned"] == 1
    assert _statuses() == ["failed"] and _sends(wechat_app) == []


def test_a_timed_out_send_is_not_resent(outbox, wechat_app, app):
    _, resident = outbox
    _queue(resident)
    app.config["WECHAT_TIMEOUT"] = 0.3
    wechat_app.delay_next(SUBSCRIBE_SEND, 1.0)
    try:
        drain(wechat_client())
    finally:
        app.config["WECHAT_TIMEOUT"] = 5.0
    assert _statuses() == ["failed"]
    drain(wechat_client())
    assert len(_sends(wechat_app)) == 1


def test_unknown_kind_or_missing_openid_stay_in_the_inbox_without_calling_wechat(outbox, wechat_app):
    world, resident = outbox
    staff = db.session.get(User, world.staff_a.id)  # signs in with a password and bound no WeChat
    enqueue(staff.id, "alert", {"thing1": "x"})
    enqueue(resident.id, "no_such_kind", {"thing1": "x"})
    db.session.commit()
    assert drain(wechat_client())["inbox_only"] == 2
    assert _sends(wechat_app) == []
    # Nothing was spent on them.
    assert db.session.scalar(select(WeChatSubscription.remaining)) == 100


def test_two_workers_draining_at_once_never_send_twice(outbox, wechat_app, app):
    world, _ = outbox
    household = world.household_a
    people = [make_user(world.alliance, "resident", household=household) for _ in range(8)]
    for person in people:
        _accept(wechat_app, person)
        _queue(person, n=4)
    errors = []

    def worker():
        try:
            with app.app_context():
                drain(wechat_client(), batch=5)
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _statuses() == ["sent"] * 32
    sent = [(m["touser"], m["data"]["thing1"]["value"]) for m in wechat_app.sent_messages]
    assert len(sent) == 32 == len(_sends(wechat_app))
    assert len({m["touser"] for m in wechat_app.sent_messages}) == 8


def test_a_claimed_row_cannot_be_claimed_again(outbox):
    from server.plumbing.notify_drain import claim

    _, resident = outbox
    ids = _queue(resident, n=3)
    first = claim(10)
    assert sorted(i for i, _ in first) == sorted(ids) and len({t for _, t in first}) == 3
    assert claim(10) == []
    assert _statuses() == ["sending"] * 3


def test_a_worker_that_loses_every_row_it_picked_claims_the_next_ones(outbox, monkeypatch):
    """Two drains read the same first rows; the one whose updates all lose looks again instead of stopping
    with rows still pending (it used to answer "none due" and leave the other drain to send them all)."""
    from server.plumbing import notify_drain

    _, resident = outbox
    ids = _queue(resident, n=4)
    # The other worker claims the first two between this worker's SELECT and its UPDATEs.
    db.session.execute(update(Notification).where(Notification.id.in_(ids[:2])).values(status="sending"))
    db.session.commit()
    scalars, picks = db.session.scalars, []

    def first_read_sees_them_pending(statement, *args, **kwargs):
        picks.append(statement)
        return SimpleNamespace(all=lambda: ids[:2]) if len(picks) == 1 else scalars(statement, *args, **kwargs)

    monkeypatch.setattr(notify_drain.db.session, "scalars", first_read_sees_them_pending)
    claimed = notify_drain.claim(2)
    assert sorted(i for i, _ in claimed) == ids[2:] and len(picks) == 2


def test_the_notify_command_drains(outbox, wechat_app, app):
    _, resident = outbox
    _queue(resident, n=2)
    result = app.test_cli_runner().invoke(args=["wuye", "notify"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and len(wechat_app.sent_messages) == 2


@pytest.mark.parametrize("errcode", [-1, 40013, 45009])
def test_a_failed_token_fetch_sends_nothing_and_waits_for_a_later_attempt(outbox, wechat_app, errcode):
    _, resident = outbox
    [note_id] = _queue(resident)
    wechat_app.fail_next(STABLE_TOKEN, errcode)
    assert drain(wechat_client())["retry"] == 1
    note = db.session.get(Notification, note_id, populate_existing=True)
    assert (note.status, note.attempts) == ("pending", 1) and note.next_attempt_at > utcnow()
    assert str(errcode) in note.last_error and _sends(wechat_app) == []
    assert db.session.get(WeChatAccessToken, wechat_client().app_id) is None
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert drain(wechat_client())["sent"] == 1
    assert len(wechat_app.sent_messages) == 1


def test_a_timed_out_token_fetch_is_retried_not_failed(outbox, wechat_app, app):
    _, resident = outbox
    [note_id] = _queue(resident)
    app.config["WECHAT_TIMEOUT"] = 0.3
    wechat_app.delay_next(STABLE_TOKEN, 1.0)
    try:
        assert drain(wechat_client())["retry"] == 1
    finally:
        app.config["WECHAT_TIMEOUT"] = 5.0
    note = db.session.get(Notification, note_id, populate_existing=True)
    assert note.status == "pending" and _sends(wechat_app) == []
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert drain(wechat_client())["sent"] == 1


def test_a_failed_forced_refresh_after_40001_is_retried(outbox, wechat_app):
    _, resident = outbox
    [note_id] = _queue(resident)
    assert drain(wechat_client())["sent"] == 1  # a token is cached
    [note_id] = _queue(resident)
    wechat_app.fail_next(SUBSCRIBE_SEND, 40001)
    wechat_app.fail_next(STABLE_TOKEN, -1)
    assert drain(wechat_client())["retry"] == 1
    assert db.session.get(Notification, note_id, populate_existing=True).status == "pending"
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert drain(wechat_client())["sent"] == 1
    assert len(wechat_app.sent_messages) == 2


def test_a_token_that_never_comes_gives_up_after_max_attempts(outbox, wechat_app):
    _, resident = outbox
    [note_id] = _queue(resident)
    wechat_app.fail_next(STABLE_TOKEN, -1, times=MAX_ATTEMPTS)
    moment = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        with time_machine.travel(moment + timedelta(hours=attempt)):
            drain(wechat_client())
    note = db.session.get(Notification, note_id, populate_existing=True)
    assert (note.status, note.attempts) == ("failed", MAX_ATTEMPTS) and _sends(wechat_app) == []


def test_two_drains_never_spend_one_acceptance_twice(outbox, wechat_app, app):
    from tests.concurrency import run_together

    world, _ = outbox
    person = make_user(world.alliance, "resident", household=world.household_a)
    _accept(wechat_app, person, times=3)
    ids = _queue(person, n=8)

    def worker():
        with app.app_context():
            try:
                return drain(wechat_client(), batch=1)
            finally:
                db.session.remove()

    outcomes = run_together([worker, worker, worker])
    assert sum(o["sent"] for o in outcomes) == 3 and sum(o["inbox_only"] for o in outcomes) == 5
    db.session.expire_all()
    rows = db.session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    assert sorted(r.status for r in rows) == ["inbox_only"] * 5 + ["sent"] * 3
    assert len([m for m in wechat_app.sent_messages if m["touser"] == person.openid]) == 3
    assert db.session.scalar(select(WeChatSubscription.remaining)
                             .where(WeChatSubscription.user_id == person.id)) == 0


def test_the_last_acceptance_goes_to_exactly_one_of_many_spenders(outbox, app):
    from server.plumbing.notify_drain import spend_acceptance
    from tests.concurrency import run_together

    _, resident = outbox
    db.session.execute(update(WeChatSubscription).values(remaining=1))
    db.session.commit()

    def spend():
        with app.app_context():
            try:
                return spend_acceptance(resident.id, TEMPLATE)
            finally:
                db.session.remove()

    assert sorted(run_together([spend] * 6)) == [False] * 5 + [True]
    db.session.expire_all()
    assert db.session.scalar(select(WeChatSubscription.remaining)) == 0


def test_an_acceptance_wechat_did_not_use_is_given_back(outbox, wechat_app):
    _, resident = outbox
    db.session.execute(update(WeChatSubscription).values(remaining=1))
    db.session.commit()
    _queue(resident)
    wechat_app.fail_next(SUBSCRIBE_SEND, -1)  # busy: nothing delivered
    assert drain(wechat_client())["retry"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(WeChatSubscription.remaining)) == 1
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert drain(wechat_client())["sent"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(WeChatSubscription.remaining)) == 0


def test_the_most_important_messages_go_first_when_acceptances_are_short(outbox, wechat_app):
    from server.plumbing.notifications import IMPORTANT, ROUTINE, URGENT

    _, resident = outbox
    db.session.execute(update(WeChatSubscription).values(remaining=2))
    db.session.commit()
    for label, priority in (("routine", ROUTINE), ("important", IMPORTANT), ("urgent", URGENT)):
        enqueue(resident.id, "alert", {"thing1": label}, priority=priority)
    db.session.commit()
    drain(wechat_client())
    assert [m["data"]["thing1"]["value"] for m in wechat_app.sent_messages] == ["urgent", "important"]
    assert _statuses() == ["inbox_only", "sent", "sent"]
