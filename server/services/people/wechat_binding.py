"""Binding a staff or admin password account to a WeChat, so alerts reach them there.

The signed-in account asks for a bind code (shown once, kept only as its SHA-256, valid ten
minutes, one use, a few per hour); the mini-program redeems it with its wx.login code, which is
exchanged through code2session as at sign-in. The WeChat is then bound (an openid already bound to
another account is refused) and the mini-program is signed in as that account, so it can report
the subscriptions its user accepts. Unbinding forgets the openid, its acceptances and every other
sign-in session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from server.auth import TokenPair, start_session
from server.errors import ConflictError, ForbiddenError, TooManyRequestsError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.notifications import WeChatSubscription
from server.models.people import User
from server.models.sessions import AuthSession
from server.models.wechat_bindings import WeChatBindCode
from server.plumbing import audit
from server.plumbing.clock import utcnow
from server.services.people.sign_in import wechat_identity

BIND_CODE_TTL = timedelta(minutes=10)
BIND_CODES_PER_HOUR = 5
BINDABLE_ROLES = ("staff", "alliance_admin")
# Easy to read aloud and type: no 0/O, 1/I/L. 10 characters: about 49 bits.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10

register({
    "bind_code_invalid": ("绑定码无效、已使用或已过期", "The bind code is invalid, used or expired"),
    "bind_codes_exhausted": ("绑定码申请过于频繁,请稍后再试", "Too many bind codes asked for; try again later"),
    "wechat_already_bound": ("该微信已绑定其他账号", "This WeChat is already bound to another account"),
    "wechat_not_bindable": ("该账号无需绑定微信", "This account signs in with WeChat already"),
})


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """A bind code as typed (spaces, dashes, lower case) in its stored form."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def issue_bind_code(user: User, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh bind code for the signed-in account (earlier unused ones stop working); (code, expires_at)."""
    if user.role not in BINDABLE_ROLES:
        raise ForbiddenError("wechat_not_bindable")
    now = now or utcnow()
    since = now - timedelta(hours=1)
    recent = db.session.scalars(select(WeChatBindCode.created_at).where(
        WeChatBindCode.user_id == user.id, WeChatBindCode.created_at > since)
        .order_by(WeChatBindCode.created_at)).all()
    if len(recent) >= BIND_CODES_PER_HOUR:
        wait = int((recent[0] + timedelta(hours=1) - now).total_seconds()) + 1
        raise TooManyRequestsError("bind_codes_exhausted", headers={"Retry-After": str(max(1, wait))})
    db.session.execute(update(WeChatBindCode).where(
        WeChatBindCode.user_id == user.id, WeChatBindCode.used_at.is_(None), WeChatBindCode.expires_at > now)
        .values(expires_at=now).execution_options(synchronize_session=False))
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + BIND_CODE_TTL
    db.session.add(WeChatBindCode(user_id=user.id, code_hash=_hash(code), created_at=now, expires_at=expires_at))
    db.session.flush()
    return code, expires_at


def _invalid() -> UnprocessableError:
    return UnprocessableError("bind_code_invalid", errors={"json": {"bind_code": ["invalid, used or expired"]}})


def redeem_bind_code(bind_code: str, wechat_code: str) -> tuple[User, TokenPair]:
    """Bind the WeChat of a wx.login code to the account that asked for the bind code; sign it in there."""
    now = utcnow()
    row = db.session.scalar(select(WeChatBindCode).where(WeChatBindCode.code_hash == _hash(normalise_code(bind_code))))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise _invalid()
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active or user.role not in BINDABLE_ROLES:
        raise _invalid()
    # The bind code is spent only once WeChat has answered: a WeChat hiccup leaves it usable.
    openid, session_key = wechat_identity(wechat_code)
    holder = db.session.scalar(select(User.id).where(User.openid == openid))
    if holder is not None and holder != user.id:
        raise ConflictError("wechat_already_bound")
    spent = db.session.execute(update(WeChatBindCode).where(
        WeChatBindCode.id == row.id, WeChatBindCode.used_at.is_(None), WeChatBindCode.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if spent != 1:
        raise _invalid()
    if user.openid != openid:
        _forget_subscriptions(user.id)
        try:
            with db.session.begin_nested():
                user.openid = openid
                db.session.flush()
        except IntegrityError:
            raise ConflictError("wechat_already_bound") from None  # bound elsewhere at the same moment
    audit.record("wechat_bound", actor=user, object_type="user", object_id=user.id)
    return user, start_session(user, wechat_session_key=session_key)


def unbind_wechat(user: User, keep_session_id: str | None = None) -> None:
    """Forget the account's WeChat, its acceptances, and every sign-in session but the caller's."""
    if user.role not in BINDABLE_ROLES:
        raise ForbiddenError("wechat_not_bindable")
    if user.openid is None:
        return
    user.openid = None
    _forget_subscriptions(user.id)
    now = utcnow()
    db.session.execute(update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.id != (keep_session_id or ""))
        .values(revoked_at=now, revoked_reason="wechat_unbound").execution_options(synchronize_session=False))
    db.session.flush()
    audit.record("wechat_unbound", actor=user, object_type="user", object_id=user.id)


def _forget_subscriptions(user_id: int) -> None:
    # Acceptances belong to the WeChat that gave them, not to the account.
    db.session.execute(delete(WeChatSubscription).where(WeChatSubscription.user_id == user_id)
                       .execution_options(synchronize_session=False))
