"""Tokens, the current user, and role checks on views.

Access tokens are short-lived JWTs (HS256 pinned) carrying the sign-in session id, so logging out
ends them at once; refresh tokens rotate, and a reused one revokes its whole session.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import jwt
from cachetools import TLRUCache
from flask import current_app, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from server.errors import ForbiddenError, UnauthorizedError
from server.extensions import db, transaction_begun
from server.models.people import ROLES, User, UserRow
from server.models.sessions import AuthSession, RefreshToken
from server.plumbing.clock import utcnow
from server.plumbing.hot_read import HotRead
from server.scope import admit_as_staff

ALGORITHMS = ["HS256"]
ISSUER = "wuye"
AUDIENCE = "wuye-api"
PUBLIC = "public"


@dataclass(frozen=True)
class TokenPair:
    """What a sign-in or a refresh answers."""

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def _encode(claims: dict) -> str:
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHMS[0])


# Access tokens already verified in this process, by (secrets, token), each kept until its own `exp`.
# A device sends the same token for its whole life, and verifying its signature and claims again on
# every request cost a quarter of authentication; whether its session is still live is read from the
# database on every request all the same (`authenticate`), so a logout still ends it at once.
_VERIFIED_ACCESS = TLRUCache(maxsize=4096, ttu=lambda _key, claims, _now: claims["exp"], timer=time.time)
_VERIFIED_ACCESS_LOCK = threading.Lock()


def _verified_access_claims(token: str) -> dict:
    """The claims of a valid access token (from the cache when this process verified it before)."""
    cfg = current_app.config
    key = (cfg["SECRET_KEY"], tuple(cfg.get("SECRET_KEY_FALLBACKS", ())), token)
    with _VERIFIED_ACCESS_LOCK:
        claims = _VERIFIED_ACCESS.get(key)
    if claims is None:
        claims = _decode(token, "access")
        with _VERIFIED_ACCESS_LOCK:
            _VERIFIED_ACCESS[key] = claims
    return claims


def _decode(token: str, typ: str) -> dict:
    # Signed with the current secret, or with a previous one still listed in WUYE_SECRET_KEY_FALLBACKS.
    secrets_ = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", ())]
    for index, secret in enumerate(secrets_):
        try:
            claims = jwt.decode(
                token, secret, algorithms=ALGORITHMS, audience=AUDIENCE,
                issuer=ISSUER, options={"require": ["exp", "iat", "iss", "aud", "sub", "typ", "sid"]},
            )
        except jwt.InvalidSignatureError as exc:
            if index + 1 < len(secrets_):
                continue
            raise UnauthorizedError("token_invalid") from exc
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError("token_expired") from exc
        except jwt.PyJWTError as exc:
            raise UnauthorizedError("token_invalid") from exc
        break
    if claims.get("typ") != typ or not _claim_types_valid(claims):
        raise UnauthorizedError("token_invalid")
    return claims


# pyjwt checks `exp` and `iat` by reading them as numbers, so "exp": "9999999999" passes its check;
# the types are checked here, before the claims are cached or compared with anything.
_INTEGER_CLAIMS = ("exp", "iat", "nbf")
_STRING_CLAIMS = ("iss", "aud", "sub", "typ", "sid", "role", "jti")


def _claim_types_valid(claims: dict) -> bool:
    for name in _INTEGER_CLAIMS:
        if name in claims and (type(claims[name]) is not int):
            return False
    return all(isinstance(claims[name], str) for name in _STRING_CLAIMS if name in claims)


def start_session(user: User, wechat_session_key: str | None = None) -> TokenPair:
    """Open a sign-in session for the user and issue its first token pair."""
    session = AuthSession(id=secrets.token_hex(16), user_id=user.id, wechat_session_key=wechat_session_key)
    db.session.add(session)
    db.session.flush()
    return _issue_pair(user, session)


def _issue_pair(user: User, session: AuthSession) -> TokenPair:
    now = utcnow()
    minutes = current_app.config["ACCESS_TOKEN_MINUTES"]
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user.id), "sid": session.id,
            "iat": int(now.timestamp())}
    access = _encode({**base, "typ": "access", "role": user.role,
                      "exp": int((now + timedelta(minutes=minutes)).timestamp())})
    jti = secrets.token_hex(16)
    refresh_expires = now + timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])
    db.session.add(RefreshToken(jti=jti, session_id=session.id, expires_at=refresh_expires))
    refresh = _encode({**base, "typ": "refresh", "jti": jti, "exp": int(refresh_expires.timestamp())})
    db.session.flush()
    return TokenPair(access, refresh, minutes * 60)


def rotate_refresh_token(token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; a second use revokes the whole session."""
    claims = _decode(token, "refresh")
    row = db.session.execute(
        select(RefreshToken, AuthSession, User)
        .join(AuthSession, AuthSession.id == RefreshToken.session_id)
        .join(User, User.id == AuthSession.user_id)
        .where(RefreshToken.jti == claims.get("jti"))
    ).one_or_none()
    if row is None:
        raise UnauthorizedError("token_invalid")
    refresh, session, user = row
    if session.revoked_at is not None or not user.is_active:
        raise UnauthorizedError("token_invalid")
    now = utcnow()
    # Conditional update: of two concurrent uses of the same token exactly one rotates it.
    used = db.session.execute(
        RefreshToken.__table__.update()
        .where(RefreshToken.jti == refresh.jti, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if used != 1:
        session.revoked_at = now
        session.revoked_reason = "refresh_reused"
        db.session.flush()
        # The revocation must survive the error answer, so it is committed here on purpose.
        db.session.commit()
        raise UnauthorizedError("refresh_reused")
    return _issue_pair(user, session)


def end_session(session_id: str, reason: str = "logout") -> None:
    """Revoke a sign-in session: its refresh tokens and access tokens stop working."""
    session = db.session.get(AuthSession, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = utcnow()
        session.revoked_reason = reason
        db.session.flush()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value, or None."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# Built once: every authenticated request runs it. The caller's columns as a named tuple: an ORM
# instance is only built when a view asks for one (`current_user`).
_CALLER = HotRead(select(*User.__table__.c).join(AuthSession, AuthSession.user_id == User.id)
                  .where(User.id == bindparam("user_id"), AuthSession.id == bindparam("session_id"),
                         AuthSession.revoked_at.is_(None), User.is_active.is_(True)), "Caller")


def authenticate() -> UserRow:
    """The caller's `users` row, from the bearer token, with one query for user and session; raises 401."""
    if "caller" in g:
        return g.caller
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        raise UnauthorizedError("unauthorized", headers={"WWW-Authenticate": "Bearer"})
    g.caller, g.session_id = caller_for_token(token)
    return g.caller


def caller_for_token(token: str) -> tuple[UserRow, str]:
    """The caller's row and session id for an access token of a live session; raises 401; keeps nothing in `g`."""
    claims = _verified_access_claims(token)
    caller = _read_caller({"user_id": _int_sub(claims), "session_id": claims["sid"]})
    if caller is None:
        raise UnauthorizedError("token_invalid")
    return caller, claims["sid"]


def _read_caller(params: dict) -> UserRow | None:
    """The caller's row if the session is live: read fresh on every request, so a revocation counts at once."""
    if transaction_begun():
        row = db.session.connection().execute(_CALLER.statement, params).one_or_none()
        return None if row is None else _CALLER.row_type._make(row)
    # Outside the request's transaction: on READ COMMITTED (and in SQLite's WAL) each statement sees
    # the latest commits, so a caller read just before the transaction begins is no staler than one
    # read inside it. A request that reads nothing else (the pass refresh) makes this one round trip.
    return _CALLER.one_or_none(db.engine, params)


def _int_sub(claims: dict) -> int:
    try:
        return int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise UnauthorizedError("token_invalid") from exc


def current_caller() -> UserRow:
    """The authenticated caller's `users` row as read at authentication: every column, read-only.

    Enough for a view that only needs who is calling (id, role, scope columns) and saves building an
    ORM instance; the guard scan, answered hundreds of times a second, uses it.
    """
    return authenticate()


def current_user() -> User:
    """The authenticated caller as a `User` of this request's session (from the row already read)."""
    if "current_user" not in g:
        caller = authenticate()
        user = db.session.identity_map.get(identity_key(User, caller.id))
        if user is None:
            user = User(**caller._asdict())
            # Persistent as if loaded by a query: no second SELECT, changes flush as UPDATEs.
            make_transient_to_detached(user)
            db.session.add(user)
        g.current_user = user
    return g.current_user


def admits(roles: frozenset[str] | tuple[str, ...], role: str) -> bool:
    """Whether a view for ``roles`` admits a caller of ``role``.

    A staff view also admits the alliance admin, as the caretaker of the company-less compounds
    nobody else runs: there the admin acts as staff, and their scope narrows to those compounds
    (`server.scope.acting_role`), so elsewhere they find nothing (404).
    """
    return role in roles or (role == "alliance_admin" and "staff" in roles)


def roles_required(*roles: str) -> Callable:
    """Allow a view to the given roles only (401 without a token, 403 for another role); a staff view
    admits the alliance admin acting as staff of the compounds they run (see `admits`)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticate()
            if user.role not in roles:
                if not admits(roles, user.role):
                    raise ForbiddenError("forbidden")
                admit_as_staff(user.id)
            return view(*args, **kwargs)

        wrapper.wuye_roles = frozenset(roles)
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone (the route matrix test requires every view to say)."""
    view.wuye_roles = PUBLIC
    return view

