"""Personal passes (通行码): signing keys in the database, issuing a resident's code, reading a scanned one.

The database rows (PassSigningKey) are the truth every worker and host shares. Each process keeps
an immutable snapshot of them, replaced whole after WUYE_PASS_KEY_REFRESH_SECONDS (30) or when a code names a kid it
has not seen (at most once per UNKNOWN_KID_REFRESH_SECONDS, so forged kids cannot hammer the DB).

The pass id is 8 bytes: a 4-byte random nonce and the holder's user id masked with a keyed PRF of
that nonce. Nothing personal is readable without the server's secret, every code looks unrelated to
the last, and issuing a code writes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, UnavailableError
from server.extensions import db
from server.messages import register
from server.models.checkins import PassSigningKey
from server.models.people import User, UserRow
from server.models.server_secrets import ServerSecret
from server.plumbing.clock import utcnow
from server.services.gate import key_vault, pass_tokens
from server.services.gate.pass_tokens import IssuedPass, PassInvalid, SigningKey, VerifiedPass, VerifyKey

# A pass is accepted at most 60 s after it was issued: 55 s of life plus 5 s for clocks and transit.
PASS_TTL_SECONDS = 55
VERIFY_LEEWAY_SECONDS = 5
KEY_CACHE_SECONDS = 30  # the default of WUYE_PASS_KEY_REFRESH_SECONDS
UNKNOWN_KID_REFRESH_SECONDS = 2
# A retired key stays published until every code it signed has expired, with margin.
RETIRE_GRACE = timedelta(seconds=PASS_TTL_SECONDS + VERIFY_LEEWAY_SECONDS + 60)
# A guard's device uploads scans it queued offline up to this long after; they are verified at their device
# time, so a retired key's row is kept this long after its retire_at.
OFFLINE_MAX_AGE = timedelta(days=7)

register({
    "no_signing_key": ("通行码密钥不可用,请稍后重试", "No pass signing key is available; retry later"),
    "pass_keys_unreadable": ("通行码密钥无法解密,请联系管理员检查服务器密钥配置",
                             "The pass keys cannot be decrypted: the server's secret settings need attention"),
})


@dataclass(frozen=True)
class KeySnapshot:
    """The key rows as one process saw them at `loaded_at` (monotonic seconds)."""

    db_key: str
    loaded_at: float
    verify_keys: dict[int, VerifyKey]
    signing_rows: tuple[tuple[int, datetime, datetime | None, str], ...]  # kid, activates_at, retire_at, private


_snapshot: KeySnapshot | None = None
_last_unknown_refresh = 0.0
_lock = threading.Lock()
# The pass-id mask by database: made once, never changes, so a process keeps it.
_masks: dict[str, bytes] = {}
MASK_SECRET = "pass_id_mask"
# Decrypted signing keys by (database, kid, encrypted value, the secrets that open it): decrypting on every
# pass cost more than signing it.
_signing_keys: dict[tuple, SigningKey] = {}
# The database's name by engine: rendering an engine's URL costs as much as the HMAC it keys.
_db_keys: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def forget_cached_keys() -> None:
    """Drop this process's snapshot and mask (after a rotation here, and between tests)."""
    global _snapshot
    _snapshot = None
    _masks.clear()
    _signing_keys.clear()


def _decrypt(encrypted: str, what: str) -> bytes:
    """A stored key in the clear; a key no configured secret opens is a 503 naming the settings in the log."""
    try:
        return key_vault.decrypt(encrypted, what)
    except key_vault.KeyUnreadable as exc:
        current_app.logger.error("%s", exc)
        raise UnavailableError("pass_keys_unreadable") from None


def _mask_key(db_key: str | None = None) -> bytes:
    """The key that masks user ids in pass ids: kept in the database, so rotating WUYE_SECRET_KEY keeps it.

    A deployment that had none made it from the secret, as earlier versions did, so their codes still read.
    """
    db_key = db_key or _db_key()
    mask = _masks.get(db_key)
    if mask is not None:
        return mask
    # Read and made on connections of their own: the request's transaction may predate the row.
    query = select(ServerSecret.value_encrypted).where(ServerSecret.name == MASK_SECRET)
    with db.engine.connect() as conn:
        row = conn.scalar(query)
    if row is None:
        legacy = hmac.new(current_app.config["SECRET_KEY"].encode(), b"wuye pass id mask", hashlib.sha256).digest()
        try:
            with db.engine.begin() as conn:
                conn.execute(insert(ServerSecret).values(name=MASK_SECRET, value_encrypted=key_vault.encrypt(legacy),
                                                         created_at=utcnow()))
        except IntegrityError:
            pass  # another process made it at the same moment: read theirs
        with db.engine.connect() as conn:
            row = conn.scalar(query)
    mask = _decrypt(row, f"server secret {MASK_SECRET!r}")
    _masks[db_key] = mask
    return mask


def _db_key() -> str:
    engine = db.engine
    key = _db_keys.get(engine)
    if key is None:
        key = _db_keys[engine] = str(engine.url)
    return key


def _load_snapshot() -> KeySnapshot:
    rows = db.session.execute(select(PassSigningKey.kid, PassSigningKey.public_key, PassSigningKey.retire_at,
                                     PassSigningKey.activates_at, PassSigningKey.private_key_encrypted)).all()
    verify = {row.kid: VerifyKey.from_public_bytes(row.kid, bytes(row.public_key), row.retire_at) for row in rows}
    signing = tuple(sorted(((row.kid, row.activates_at, row.retire_at, row.private_key_encrypted) for row in rows),
                           key=lambda r: (r[1], r[0])))
    return KeySnapshot(_db_key(), time.monotonic(), verify, signing)


def key_snapshot(refresh: bool = False, db_key: str | None = None) -> KeySnapshot:
    """The current snapshot of the key rows, reloaded when stale, for another database, or on demand."""
    global _snapshot
    snap = _snapshot
    if (refresh or snap is None or snap.db_key != (db_key or _db_key())
            or time.monotonic() - snap.loaded_at > _refresh_seconds()):
        snap = _load_snapshot()
        _snapshot = snap
    return snap


def _refresh_seconds() -> float:
    # A rotation on any host reaches this process within this time (the snapshot's age limit).
    return current_app.config.get("PASS_KEY_REFRESH_SECONDS", KEY_CACHE_SECONDS)


def verify_keys(now: datetime | None = None) -> dict[int, VerifyKey]:
    """The published verify keys, by kid (retired ones included until their retire_at passes)."""
    now = now or utcnow()
    return {kid: key for kid, key in key_snapshot().verify_keys.items()
            if key.not_after is None or key.not_after > now}


def public_keys(now: datetime | None = None) -> dict:
    """The JWKS a guard's device downloads to verify passes offline."""
    return pass_tokens.public_keys_jwks(verify_keys(now))


def new_key_values(kid: int, now: datetime, activates_at: datetime) -> dict:
    """The column values of a fresh key row (private half encrypted)."""
    private_raw, public_raw = pass_tokens.generate_keypair()
    return {"kid": kid, "public_key": public_raw, "private_key_encrypted": key_vault.encrypt(private_raw),
            "created_at": now, "activates_at": activates_at}


def add_key_in_session(now: datetime | None = None) -> PassSigningKey:
    """Add a key row to the current transaction (demo data: committed with everything else)."""
    now = now or utcnow()
    kid = (db.session.scalar(select(func.max(PassSigningKey.kid))) or 0) % 0xFFFF + 1
    row = PassSigningKey(**new_key_values(kid, now, now))
    db.session.add(row)
    db.session.flush()
    forget_cached_keys()
    return row


def _create_key(now: datetime, activates_at: datetime) -> int:
    """Insert a new key row in its own committed transaction (a key must never live in one process only)."""
    for _attempt in range(5):
        try:
            with db.engine.begin() as conn:
                kid = (conn.scalar(select(func.max(PassSigningKey.kid))) or 0) % 0xFFFF + 1
                conn.execute(insert(PassSigningKey).values(**new_key_values(kid, now, activates_at)))
        except IntegrityError:
            continue  # another process took this kid at the same moment; take the next
        return kid
    raise ConflictError("no_signing_key")


def rotate_signing_key(lead: timedelta = timedelta(0), now: datetime | None = None) -> int:
    """Create a new key that signs from now + lead; older keys stop signing then and retire after the grace.

    A lead gives offline guard devices time to download the new public key before codes use it.
    """
    now = now or utcnow()
    activates_at = now + lead
    kid = _create_key(now, activates_at)
    with db.engine.begin() as conn:
        conn.execute(update(PassSigningKey)
                     .where(PassSigningKey.kid != kid, PassSigningKey.retire_at.is_(None))
                     .values(retire_at=activates_at + RETIRE_GRACE))
    forget_cached_keys()
    return kid


def drop_retired_keys(now: datetime | None = None) -> int:
    """Delete keys retired more than OFFLINE_MAX_AGE ago (an offline scan of a code they signed may still be
    uploaded until then, and is verified at its device time); answers how many."""
    now = now or utcnow()
    with db.engine.begin() as conn:
        removed = conn.execute(PassSigningKey.__table__.delete()
                               .where(PassSigningKey.retire_at.is_not(None),
                                      PassSigningKey.retire_at < now - OFFLINE_MAX_AGE)).rowcount
    forget_cached_keys()
    return removed


def signing_key(now: datetime | None = None) -> SigningKey:
    """The key that signs now: the newest active one; creates the first key of a new deployment."""
    return _signing_key(now or utcnow(), _db_key())


def _signing_key(now: datetime, snap_key: str) -> SigningKey:
    choice = _active_row(key_snapshot(db_key=snap_key), now)
    if choice is None:
        choice = _active_row(key_snapshot(refresh=True), now)
    if choice is None:
        _create_key(now, now)
        choice = _active_row(key_snapshot(refresh=True), now)
    if choice is None:
        raise ConflictError("no_signing_key")
    kid, encrypted = choice
    config = current_app.config
    cache_key = (snap_key, kid, encrypted, config["SECRET_KEY"],
                 tuple(config.get("SECRET_KEY_FALLBACKS") or ()))
    key = _signing_keys.get(cache_key)
    if key is None:
        key = SigningKey.from_private_bytes(kid, _decrypt(encrypted, f"pass signing key kid={kid}"))
        # Only the keys of the current rows: a retired or rotated key leaves with the next change.
        for old in [k for k in _signing_keys if k[0] == snap_key]:
            del _signing_keys[old]
        _signing_keys[cache_key] = key
    return key


def ensure_signing_key(now: datetime | None = None) -> None:
    """Make the first key of a new deployment (without decrypting any), so its public half is published."""
    now = now or utcnow()
    if _active_row(key_snapshot(), now) is None and _active_row(key_snapshot(refresh=True), now) is None:
        _create_key(now, now)
        key_snapshot(refresh=True)


def _active_row(snap: KeySnapshot, now: datetime) -> tuple[int, str] | None:
    # The newest key already active whose public half outlives the codes it would sign now.
    last_signing = now + timedelta(seconds=PASS_TTL_SECONDS + VERIFY_LEEWAY_SECONDS)
    active = [(kid, enc) for kid, activates_at, retire_at, enc in snap.signing_rows
              if activates_at <= now and (retire_at is None or retire_at > last_signing)]
    return active[-1] if active else None


def encode_pass_id(user_id: int, db_key: str | None = None) -> bytes:
    """A fresh opaque pass id for a user: random nonce + user id masked by a keyed PRF of it."""
    nonce = os.urandom(4)
    pad = hmac.new(_mask_key(db_key), nonce, hashlib.sha256).digest()[:4]
    masked = bytes(a ^ b for a, b in zip(struct.pack(">I", user_id), pad, strict=True))
    return nonce + masked


def decode_pass_id(pass_id: bytes) -> int:
    """The user id an opaque pass id stands for."""
    nonce, masked = pass_id[:4], pass_id[4:]
    pad = hmac.new(_mask_key(), nonce, hashlib.sha256).digest()[:4]
    return struct.unpack(">I", bytes(a ^ b for a, b in zip(masked, pad, strict=True)))[0]


def issue_for(user: User | UserRow, now: datetime | None = None) -> IssuedPass:
    """A resident's pass code, valid PASS_TTL_SECONDS; only an approved resident gets one.

    `user` is a `User` or the caller's `UserRow` (`auth.current_caller`: no ORM instance built).
    """
    if user.household_id is None or user.residency != "approved":
        raise ConflictError("not_registered")
    now = now or utcnow()
    db_key = _db_key()
    return pass_tokens.issue_pass(_signing_key(now, db_key), encode_pass_id(user.id, db_key), now, PASS_TTL_SECONDS)


@dataclass(frozen=True)
class ScannedPass:
    """A verified code: whose it is and its nonce (hex)."""

    user_id: int
    nonce: str
    verified: VerifiedPass


def read_pass(code: str, at: datetime) -> ScannedPass:
    """Verify a scanned code at a moment; raises PassInvalid or PassExpired (reason codes for the gate)."""
    keys = key_snapshot().verify_keys
    try:
        verified = pass_tokens.verify_pass(code, keys, at, VERIFY_LEEWAY_SECONDS)
    except PassInvalid as exc:
        if exc.detail != "unknown_kid" or not _may_refresh_for_unknown_kid():
            raise
        verified = pass_tokens.verify_pass(code, key_snapshot(refresh=True).verify_keys, at, VERIFY_LEEWAY_SECONDS)
    return ScannedPass(decode_pass_id(verified.pass_id), verified.pass_id.hex(), verified)


def _may_refresh_for_unknown_kid() -> bool:
    global _last_unknown_refresh
    with _lock:
        now = time.monotonic()
        if now - _last_unknown_refresh < UNKNOWN_KID_REFRESH_SECONDS:
            return False
        _last_unknown_refresh = now
        return True
