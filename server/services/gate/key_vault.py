"""What the server keeps encrypted at rest (pass signing keys, the pass-id mask) under WUYE_SECRET_KEY.

The encryption key is derived from the secret, so rotating the secret must not lose them: every
secret listed in WUYE_SECRET_KEY_FALLBACKS still decrypts (MultiFernet), new values are encrypted
under the current one, and `flask wuye reencrypt-keys` moves the stored ones over, after which the
fallback can be dropped. A value no configured secret opens is a `KeyUnreadable` naming the settings.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select, update

from server.extensions import db
from server.models.checkins import PassSigningKey
from server.models.server_secrets import ServerSecret


class KeyUnreadable(RuntimeError):
    """A stored key that neither WUYE_SECRET_KEY nor any of WUYE_SECRET_KEY_FALLBACKS decrypts."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(
            f"{what} cannot be decrypted with WUYE_SECRET_KEY nor any of WUYE_SECRET_KEY_FALLBACKS: add the "
            "secret it was encrypted under to WUYE_SECRET_KEY_FALLBACKS (comma-separated), then run "
            "`flask wuye reencrypt-keys`")


@functools.lru_cache(maxsize=16)
def _fernet_for(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"wuye pass signing keys").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _secrets() -> tuple[str, ...]:
    cfg = current_app.config
    return (cfg["SECRET_KEY"], *cfg.get("SECRET_KEY_FALLBACKS", ()))


def vault() -> MultiFernet:
    """Encrypts under the current secret; decrypts under it or any fallback."""
    return MultiFernet([_fernet_for(secret) for secret in _secrets()])


def encrypt(raw: bytes) -> str:
    """Encrypt a value under the current secret."""
    return vault().encrypt(raw).decode()


def decrypt(token: str, what: str) -> bytes:
    """Decrypt a stored value; raises KeyUnreadable (naming ``what`` and the settings) when no secret opens it."""
    try:
        return vault().decrypt(token.encode())
    except InvalidToken:
        raise KeyUnreadable(what) from None


def _stored() -> list[tuple[str, object, str]]:
    """(description, row key, encrypted value) of everything kept under the secret."""
    keys = db.session.execute(select(PassSigningKey.kid, PassSigningKey.private_key_encrypted)
                              .order_by(PassSigningKey.kid)).all()
    named = db.session.execute(select(ServerSecret.name, ServerSecret.value_encrypted)
                               .order_by(ServerSecret.name)).all()
    return ([(f"pass signing key kid={kid}", ("kid", kid), value) for kid, value in keys]
            + [(f"server secret {name!r}", ("name", name), value) for name, value in named])


def unreadable() -> list[str]:
    """What no configured secret decrypts (empty when everything is readable)."""
    missing = []
    for what, _key, value in _stored():
        try:
            decrypt(value, what)
        except KeyUnreadable:
            missing.append(what)
    return missing


def check_readable() -> None:
    """Raise KeyUnreadable for the first stored key no configured secret opens (a start-up check)."""
    missing = unreadable()
    if missing:
        raise KeyUnreadable(", ".join(missing))


def reencrypt() -> int:
    """Re-encrypt every stored key under the current secret; answers how many changed. Commits.

    Refuses (KeyUnreadable, nothing changed) while any stored key is unreadable.
    """
    check_readable()
    current = _fernet_for(_secrets()[0])
    changed = 0
    for _what, (column, key), value in _stored():
        try:
            current.decrypt(value.encode())
            continue  # already under the current secret
        except InvalidToken:
            pass
        fresh = vault().rotate(value.encode()).decode()
        if column == "kid":
            statement = (update(PassSigningKey).where(PassSigningKey.kid == key,
                                                      PassSigningKey.private_key_encrypted == value)
                         .values(private_key_encrypted=fresh))
        else:
            statement = (update(ServerSecret).where(ServerSecret.name == key, ServerSecret.value_encrypted == value)
                         .values(value_encrypted=fresh))
        # Conditional: a value another process changed meanwhile is left to it.
        changed += db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed


def startup_check(app) -> None:
    """Refuse to serve (UnsafeConfiguration naming the settings) while a stored key cannot be decrypted.

    A database not migrated yet has nothing to check. The engine is disposed afterwards, so a server
    that forks its workers after this check hands them no open connection.
    """
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from server.config import UnsafeConfiguration

    with app.app_context():
        try:
            check_readable()
        except KeyUnreadable as exc:
            raise UnsafeConfiguration(str(exc)) from None
        except (OperationalError, ProgrammingError):
            db.session.rollback()
        finally:
            db.session.remove()
            db.engine.dispose()
