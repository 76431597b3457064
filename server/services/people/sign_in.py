"""Signing in: WeChat code for residents and guards, password for staff and admins, dev login."""

from __future__ import annotations

import hashlib

from flask import current_app, request
from limits import RateLimitItemPerMinute
from sqlalchemy import select
from werkzeug.security import check_password_hash

from server.auth import TokenPair, start_session
from server.errors import ApiError, ForbiddenError, UnauthorizedError, UnavailableError
from server.extensions import db
from server.messages import register
from server.models.alliance import Alliance
from server.models.people import User
from server.rate_limits import limiter

register({"sign_in_throttled": ("登录失败次数过多,请稍后再试", "Too many failed sign-ins; try again later")})

DEV_PREFIX = "dev:"
# Compared against when the username is unknown, so both paths cost one hash check.
_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummys$" + "0" * 128


def wechat_client():
    """The WeChat client built from settings."""
    from server.integrations.wechat import WeChatClient

    cfg = current_app.config
    if not cfg["WECHAT_APP_ID"] or not cfg["WECHAT_APP_SECRET"]:
        raise UnavailableError("wechat_not_configured")
    return WeChatClient(cfg["WECHAT_API_BASE"], cfg["WECHAT_APP_ID"], cfg["WECHAT_APP_SECRET"],
                        timeout=cfg["WECHAT_TIMEOUT"])


def wechat_identity(code: str) -> tuple[str, str | None]:
    """The openid and session key a mini-program login code (or `dev:<openid>` in development) stands for."""
    if code.startswith(DEV_PREFIX):
        if current_app.config["WUYE_ENV"] != "development":
            raise ForbiddenError("dev_login_disabled")
        openid = code.removeprefix(DEV_PREFIX).strip()
        if not openid:
            raise UnauthorizedError("wechat_code_invalid")
        return openid, None
    return _code2session(code)


def sign_in_with_wechat(code: str) -> tuple[User, TokenPair]:
    """Exchange a mini-program login code for our tokens; the first login creates the user."""
    openid, session_key = wechat_identity(code)
    user = db.session.scalar(select(User).where(User.openid == openid))
    if user is None:
        user = User(role="resident", alliance_id=_the_alliance_id(), openid=openid)
        db.session.add(user)
        db.session.flush()
    if not user.is_active:
        raise ForbiddenError("account_disabled")
    return user, start_session(user, wechat_session_key=session_key)


def _code2session(code: str) -> tuple[str, str]:
    from server.integrations.wechat import WeChatError

    reasons = {401: "wechat_code_invalid", 429: "wechat_rate_limited", 503: "wechat_busy"}
    client = wechat_client()
    try:
        session = client.code2session(code)
    except WeChatError as exc:
        status = exc.http_status if exc.http_status in reasons else 503
        headers = {"Retry-After": "5"} if status in (429, 503) else None
        raise ApiError(reasons.get(status, "wechat_unavailable"), code=status, headers=headers) from exc
    finally:
        client.close()
    return session.openid, session.session_key


def _the_alliance_id() -> int:
    alliance_id = db.session.scalar(select(Alliance.id).order_by(Alliance.id).limit(1))
    if alliance_id is None:
        raise UnavailableError("unavailable", "no alliance configured: run `flask wuye create-admin`")
    return alliance_id


def sign_in_with_password(username: str, password: str) -> tuple[User, TokenPair]:
    """Check a staff or admin password; repeated failures throttle that name, known or not.

    Failures are counted per name and address (LOGIN_MAX_FAILURES in LOGIN_LOCKOUT_MINUTES: an
    attacker's guesses from one address do not shut the owner out elsewhere) and, more loosely, per
    name from everywhere (LOGIN_ACCOUNT_MAX_FAILURES). Known and unknown names answer alike, so the
    answers tell nobody which accounts exist; the counters live in the shared rate-limit storage.
    """
    throttles = _failure_throttles(username)
    for item, key in throttles:
        limiter.check(item, key, "sign_in_throttled")
    user = db.session.scalar(select(User).where(User.username == username))
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    if user is None or not ok:
        for item, key in throttles:
            limiter.count(item, key)
        raise UnauthorizedError("bad_credentials")
    if not user.is_active:
        raise ForbiddenError("account_disabled")
    item, key = throttles[0]
    limiter.clear(item, key)  # the owner's run of typos ends here; the per-name ceiling is kept
    return user, start_session(user)


def _failure_throttles(username: str) -> list[tuple[RateLimitItemPerMinute, str]]:
    # The name is hashed: the key is the same length whatever was typed, and no name sits in the store.
    cfg = current_app.config
    name = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    minutes = max(1, cfg["LOGIN_LOCKOUT_MINUTES"])
    return [
        (RateLimitItemPerMinute(max(1, cfg["LOGIN_MAX_FAILURES"]), minutes),
         f"login-failures:{name}:{request.remote_addr}"),
        (RateLimitItemPerMinute(max(1, cfg["LOGIN_ACCOUNT_MAX_FAILURES"]), minutes), f"login-failures:{name}"),
    ]
