"""Draining the notification outbox: claim rows, spend an acceptance, send WeChat subscribe messages.

Every row is already in its user's inbox; the drain decides whether it also goes out on WeChat. It
does only while the user holds an unspent one-time acceptance of the row's template (more than the
row's `reserve`), spending one by a conditional UPDATE, so two drains never spend one acceptance twice;
rows are claimed most important first. Without an acceptance, a bound WeChat or a template, the row
is `inbox_only`. An acceptance WeChat did not use (an answer proving nothing was delivered) is given
back; a 43101 means WeChat holds none, so the count is zeroed.

At most once: a row is claimed by a conditional UPDATE (pending -> sending, with a lease and a
claim token), so two workers never both own it; a row whose lease ran out with its outcome unknown
(the worker died mid-send) is marked failed, never sent again. A timed-out send is treated the
same way, since WeChat may have delivered it. Only answers that prove nothing was delivered
(busy, quota, unreachable, expired token) are retried. Fetching the access token is kept apart
from the send: any failure there (an error answer or a timeout) happens before anything is sent,
so the row goes back to pending with back-off.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from server.extensions import db
from server.integrations.wechat import (
    WeChatBusy,
    WeChatClient,
    WeChatError,
    WeChatNotSubscribed,
    WeChatRateLimited,
    WeChatTokenExpired,
    WeChatUnavailable,
    fit_subscribe_data,
)
from server.models.notifications import Notification, WeChatSubscription
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.wechat_token import access_token

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """How long a transient failure waits before its next attempt: 1, 2, 4, 8 ... minutes."""
    return timedelta(minutes=2 ** max(0, attempts - 1))


def drain(client: WeChatClient, *, batch: int = BATCH, limit: int | None = None) -> Counter:
    """Send every due notification (up to ``limit``); answers counts by outcome. Commits per row."""
    outcomes: Counter = Counter()
    abandoned = abandon_stale()
    handled = 0
    while limit is None or handled < limit:
        claimed = claim(batch if limit is None else min(batch, limit - handled))
        if not claimed:
            break
        for notification_id, token in claimed:
            outcomes[send_one(client, notification_id, token)] += 1
            handled += 1
    if abandoned:
        outcomes["abandoned"] = abandoned
    return outcomes


def abandon_stale() -> int:
    """Mark rows whose sender vanished mid-send (lease over) as failed: their outcome is unknown."""
    done = db.session.execute(
        update(Notification).where(Notification.status == "sending", Notification.locked_until < utcnow())
        .values(status="failed", last_error="outcome unknown: the sender stopped mid-send; not resent")
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done


def claim(batch: int) -> list[tuple[int, str]]:
    """Claim up to ``batch`` due rows for this worker; answers (id, claim token) pairs. Commits.

    Empty only when nothing is due: when another worker wins every row this one picked (both read the
    same first rows), it looks again past them rather than stopping while rows are still pending.
    """
    while True:
        now = utcnow()
        candidates = db.session.scalars(
            select(Notification.id).where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.priority.desc(), Notification.next_attempt_at, Notification.id)
            .limit(batch)).all()
        db.session.commit()
        if not candidates:
            return []
        claimed = []
        for notification_id in candidates:
            token = secrets.token_hex(16)
            # Of two workers racing for a row, the database lets exactly one UPDATE match.
            won = db.session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == "pending")
                .values(status="sending", claim_token=token, locked_until=now + LEASE,
                        attempts=Notification.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            if won == 1:
                claimed.append((notification_id, token))
        if claimed:
            return claimed
        # Every one went to another worker: those rows are no longer pending, so the next look moves on.


def send_one(client: WeChatClient, notification_id: int, claim_token: str) -> str:
    """Send one claimed row and record its outcome: sent, inbox_only, unsubscribed, failed or retry."""
    row = db.session.get(Notification, notification_id, populate_existing=True)
    openid = db.session.scalar(select(User.openid).where(User.id == row.user_id))
    template_id = current_app.config.get("WECHAT_TEMPLATES", {}).get(row.kind)
    data, page, attempts = fit_subscribe_data(dict(row.data or {})), row.page or None, row.attempts
    user_id, reserve = row.user_id, row.reserve
    db.session.commit()
    if not openid:
        return _finish(notification_id, claim_token, "inbox_only", "the user has no WeChat bound")
    if not template_id:
        return _finish(notification_id, claim_token, "inbox_only", f"no template configured for kind {row.kind!r}")
    if not spend_acceptance(user_id, template_id, reserve):
        return _finish(notification_id, claim_token, "inbox_only",
                       "no acceptance held" if reserve == 0 else f"acceptances kept for {reserve} later messages",
                       template_id=template_id)
    try:
        _send_with_fresh_token(client, openid, template_id, data, page)
    except _TokenUnavailable as exc:
        db.session.rollback()  # the token refresh may have left its row lock open
        _give_back(user_id, template_id)
        return _retry_or_fail(notification_id, claim_token, attempts, f"access token: {exc.__cause__}", template_id)
    except WeChatNotSubscribed as exc:
        _forget_acceptances(user_id, template_id)
        return _finish(notification_id, claim_token, "unsubscribed", str(exc), template_id=template_id)
    except (WeChatBusy, WeChatRateLimited, WeChatTokenExpired) as exc:
        _give_back(user_id, template_id)
        return _retry_or_fail(notification_id, claim_token, attempts, str(exc), template_id)
    except WeChatUnavailable as exc:
        if exc.errmsg.endswith("timed out"):
            # WeChat may have delivered it (and used the acceptance): sending again could send it twice.
            return _finish(notification_id, claim_token, "failed", f"{exc}; not resent", template_id=template_id)
        _give_back(user_id, template_id)
        return _retry_or_fail(notification_id, claim_token, attempts, str(exc), template_id)
    except WeChatError as exc:
        _give_back(user_id, template_id)  # refused (e.g. 47003): nothing was delivered
        return _finish(notification_id, claim_token, "failed", str(exc), template_id=template_id)
    return _finish(notification_id, claim_token, "sent", None, template_id=template_id)


def spend_acceptance(user_id: int, template_id: str, reserve: int = 0) -> bool:
    """Spend one of the user's acceptances of a template, if more than ``reserve`` are held. Commits.

    A conditional UPDATE: of two drains racing for the last acceptance, exactly one gets it.
    """
    spent = db.session.execute(
        update(WeChatSubscription)
        .where(WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id,
               WeChatSubscription.remaining > reserve)
        .values(remaining=WeChatSubscription.remaining - 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return spent == 1


def _give_back(user_id: int, template_id: str) -> None:
    # WeChat answered that nothing was delivered, so its acceptance is still there.
    db.session.execute(
        update(WeChatSubscription)
        .where(WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id)
        .values(remaining=WeChatSubscription.remaining + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()


def _forget_acceptances(user_id: int, template_id: str) -> None:
    # 43101: WeChat holds no acceptance (the user turned the template off, or the client over-reported).
    db.session.execute(
        update(WeChatSubscription)
        .where(WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id)
        .values(remaining=0, updated_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


class _TokenUnavailable(Exception):
    """The access token could not be fetched: nothing was sent (the WeChat error is the cause)."""


def _token(client: WeChatClient, **kwargs) -> str:
    try:
        return access_token(client, **kwargs)
    except WeChatError as exc:
        raise _TokenUnavailable() from exc


def _send_with_fresh_token(client: WeChatClient, openid: str, template_id: str, data: dict, page: str | None):
    token = _token(client)
    try:
        client.send_subscribe_message(token, openid, template_id, data, page=page)
    except WeChatTokenExpired:
        # 40001/42001 (nothing delivered): refresh once (unless another process already did), send once more.
        fresh = _token(client, force_refresh=True, stale=token)
        client.send_subscribe_message(fresh, openid, template_id, data, page=page)


def _retry_or_fail(notification_id: int, claim_token: str, attempts: int, error: str, template_id: str) -> str:
    if attempts >= MAX_ATTEMPTS:
        return _finish(notification_id, claim_token, "failed", f"{error} (after {attempts} attempts)",
                       template_id=template_id)
    _record(notification_id, claim_token, status="pending", last_error=error, template_id=template_id,
            next_attempt_at=utcnow() + backoff(attempts), locked_until=None, claim_token=None)
    return "retry"


def _finish(notification_id: int, claim_token: str, status: str, error: str | None, template_id: str = "") -> str:
    values = {"status": status, "last_error": error, "locked_until": None, "template_id": template_id}
    if status == "sent":
        values["sent_at"] = utcnow()
    _record(notification_id, claim_token, **values)
    return status


def _record(notification_id: int, owner: str, **values) -> None:
    # Only the claimant may write the outcome, and only while the row is still its own.
    db.session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.status == "sending",
                                   Notification.claim_token == owner)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()

