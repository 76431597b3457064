"""Personal pass codes (通行码): short-lived, Ed25519-signed, verifiable offline at the gate.

A resident's app shows a pass code as a QR and refreshes it before it expires; a guard's device
checks it offline with the public keys the API publishes (`public_keys_jwks`). The code carries
no readable personal data: its 8-byte pass id is a fresh 4-byte random nonce followed by the
holder's user id masked with a keyed PRF of that nonce (`passes.encode_pass_id`), so only the
server can tell whose it is and every code looks unrelated to the last. This module treats the
pass id as opaque bytes; a pass id seen in two scans is flagged (`checkin_subjects`).

The wire format is `WIRE_FORMAT` below (also published in the OpenAPI document).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

WIRE_FORMAT = """Pass code wire format, version 1 (everything big-endian):

```
    code      = "WY1." BASE32(token)   RFC 4648 alphabet A-Z 2-7, uppercase, no padding
    token     = payload signature      80 bytes, so BASE32 gives exactly 128 characters
    payload   = version  u8            1
                kid      u16           key id, 0..65535
                pass_id  8 bytes       opaque: nonce (4 random bytes) + masked user id (4)
                iat      u32           issue time, Unix seconds (UTC)
                ttl      u8            lifetime in seconds, 1..60; expiry = iat + ttl
    signature = 64 bytes               Ed25519 (RFC 8032, pure) over the 16 payload bytes
```

A code is always exactly 132 characters, all in the QR alphanumeric set, so it fits a
version 6 QR (41x41 modules) at error correction M. 80 is a multiple of 5, so the base32 text has
no padding and no spare bits: every token has exactly one spelling.

To verify a code (what `verify_pass` does, and what a device implements):

1. it is exactly 132 characters: "WY1." then 128 of [A-Z2-7]; base32-decode the 128 to 80 bytes;
2. byte 0 is 1, else invalid;
3. kid (bytes 1-2) is in the key set (JWK "kid" is the decimal string) and the key is not past
   its "exp" (Unix seconds, optional), else invalid;
4. the Ed25519 signature (bytes 16-79) over bytes 0-15 verifies with the key's "x", else invalid;
5. ttl is 1..60, else invalid;
6. now > iat + ttl + leeway, or iat > now + leeway (a code from the future): expired (the
   server's leeway is 5 seconds).

The key set is `GET /api/v1/passes/keys`: a JWKS of OKP keys, "crv" "Ed25519", "x" the 32-byte
public key in base64url without padding (RFC 8037), "kid" the decimal kid, "exp" optional.

Keys rotate with overlapping kids: sign with the newest key, keep publishing the older public
key until every code it signed has expired (a minute and the leeway), then drop it or let its
`not_after` pass. Naive datetimes are read as UTC, the way the database stores them.
"""

SCHEME = "WY1."
VERSION = 1
PASS_ID_BYTES = 8
MAX_TTL_SECONDS = 60
MAX_KID = 0xFFFF

_PAYLOAD = struct.Struct(">BH8sIB")
_SIGNATURE_BYTES = 64
TOKEN_BYTES = _PAYLOAD.size + _SIGNATURE_BYTES  # 80
CODE_LENGTH = len(SCHEME) + TOKEN_BYTES * 8 // 5  # 132
_BODY = re.compile(rf"[A-Z2-7]{{{CODE_LENGTH - len(SCHEME)}}}")

_RAW = serialization.Encoding.Raw


class PassError(Exception):
    """A pass code was refused; `reason` is the gate's reason code, `detail` is for logs."""

    reason = "pass_error"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class PassInvalid(PassError):
    """Malformed, unknown or retired key, bad signature, wrong version, out-of-policy ttl."""

    reason = "pass_invalid"


class PassExpired(PassError):
    """Genuine but expired, or issued further in the future than the leeway allows."""

    reason = "pass_expired"


@dataclass(frozen=True)
class SigningKey:
    kid: int
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_kid(self.kid)

    @classmethod
    def from_private_bytes(cls, kid: int, raw: bytes) -> SigningKey:
        """The signing key from the 32 raw private bytes `generate_keypair` returned."""
        return cls(kid, Ed25519PrivateKey.from_private_bytes(raw))

    def verify_key(self, not_after: datetime | None = None) -> VerifyKey:
        """The matching public key, to publish and verify with."""
        return VerifyKey(self.kid, self.private_key.public_key(), not_after)


@dataclass(frozen=True)
class VerifyKey:
    kid: int
    public_key: Ed25519PublicKey
    not_after: datetime | None = None

    def __post_init__(self) -> None:
        _check_kid(self.kid)

    @classmethod
    def from_public_bytes(cls, kid: int, raw: bytes, not_after: datetime | None = None) -> VerifyKey:
        """The verify key from the 32 raw public bytes `generate_keypair` returned."""
        return cls(kid, Ed25519PublicKey.from_public_bytes(raw), not_after)

    def public_bytes(self) -> bytes:
        """The 32 raw public key bytes (the JWK "x" before base64url)."""
        return self.public_key.public_bytes(_RAW, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class IssuedPass:
    code: str
    pass_id: bytes
    kid: int
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class VerifiedPass:
    pass_id: bytes
    kid: int
    issued_at: datetime
    expires_at: datetime


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (32 raw private bytes, 32 raw public bytes)."""
    private_key = Ed25519PrivateKey.generate()
    private_raw = private_key.private_bytes(
        _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return private_raw, private_key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def keyring(keys: Iterable[VerifyKey]) -> dict[int, VerifyKey]:
    """The key set for `verify_pass`, by kid; refuses two keys with one kid."""
    ring: dict[int, VerifyKey] = {}
    for key in keys:
        if key.kid in ring:
            raise ValueError(f"duplicate kid {key.kid}")
        ring[key.kid] = key
    return ring


def issue_pass(
    key: SigningKey, pass_id: bytes, now: datetime, ttl_seconds: int = MAX_TTL_SECONDS
) -> IssuedPass:
    """Sign a pass code valid from `now` (whole seconds) for `ttl_seconds` (1..60)."""
    if not isinstance(pass_id, bytes) or len(pass_id) != PASS_ID_BYTES:
        raise ValueError(f"pass_id must be {PASS_ID_BYTES} bytes")
    if (
        isinstance(ttl_seconds, bool)
        or not isinstance(ttl_seconds, int)
        or not 1 <= ttl_seconds <= MAX_TTL_SECONDS
    ):
        raise ValueError(f"ttl_seconds must be an int in 1..{MAX_TTL_SECONDS}")
    iat = math.floor(_utc(now).timestamp())
    if not 0 <= iat <= 0xFFFFFFFF:
        raise ValueError("now is outside the representable range")
    payload = _PAYLOAD.pack(VERSION, key.kid, pass_id, iat, ttl_seconds)
    token = payload + key.private_key.sign(payload)
    issued_at = datetime.fromtimestamp(iat, UTC)
    return IssuedPass(
        code=SCHEME + base64.b32encode(token).decode("ascii"),
        pass_id=pass_id,
        kid=key.kid,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=ttl_seconds),
    )


def verify_pass(
    code: str, keys: Mapping[int, VerifyKey], now: datetime, leeway_seconds: int = 5
) -> VerifiedPass:
    """Check a scanned code; raise PassInvalid or PassExpired, else return what it carries."""
    if leeway_seconds < 0:
        raise ValueError("leeway_seconds must not be negative")
    token = _decode(code)
    payload, signature = token[: _PAYLOAD.size], token[_PAYLOAD.size :]
    version, kid, pass_id, iat, ttl = _PAYLOAD.unpack(payload)
    if version != VERSION:
        raise PassInvalid("unsupported_version")
    key = keys.get(kid)
    if key is None:
        raise PassInvalid("unknown_kid")
    now = _utc(now)
    if key.not_after is not None and now > _utc(key.not_after):
        raise PassInvalid("retired_kid")
    try:
        key.public_key.verify(signature, payload)
    except InvalidSignature:
        raise PassInvalid("bad_signature") from None
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise PassInvalid("bad_ttl")
    issued_at = datetime.fromtimestamp(iat, UTC)
    expires_at = issued_at + timedelta(seconds=ttl)
    leeway = timedelta(seconds=leeway_seconds)
    if now > expires_at + leeway:
        raise PassExpired("expired")
    if issued_at > now + leeway:
        raise PassExpired("not_yet_valid")
    return VerifiedPass(pass_id=pass_id, kid=kid, issued_at=issued_at, expires_at=expires_at)


def public_keys_jwks(keys: Mapping[int, VerifyKey] | Iterable[VerifyKey]) -> dict:
    """The published key set as a JWKS (OKP/Ed25519 JWKs; "exp" is a key's not_after)."""
    values = keys.values() if isinstance(keys, Mapping) else keys
    jwks = []
    for key in sorted(values, key=lambda k: k.kid):
        jwk = {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": base64.urlsafe_b64encode(key.public_bytes()).rstrip(b"=").decode("ascii"),
            "kid": str(key.kid),
            "use": "sig",
            "alg": "EdDSA",
        }
        if key.not_after is not None:
            jwk["exp"] = math.floor(_utc(key.not_after).timestamp())
        jwks.append(jwk)
    return {"keys": jwks}


def _decode(code: object) -> bytes:
    if not isinstance(code, str) or len(code) != CODE_LENGTH or not code.startswith(SCHEME):
        raise PassInvalid("malformed")
    body = code[len(SCHEME) :]
    if not _BODY.fullmatch(body):
        raise PassInvalid("malformed")
    try:
        return base64.b32decode(body)
    except (binascii.Error, ValueError):  # unreachable after the pattern check; kept as a guard
        raise PassInvalid("malformed") from None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_kid(kid: int) -> None:
    if isinstance(kid, bool) or not isinstance(kid, int) or not 0 <= kid <= MAX_KID:
        raise ValueError(f"kid must be an int in 0..{MAX_KID}")
