"""Gates: main or side, open or closed, each with a short opaque code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select

from server.errors import ConflictError
from server.extensions import db
from server.messages import message_for, register, wants_english
from server.models.compounds import Compound, Gate
from server.models.wechat_codes import MiniProgramCode

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LETTERS = frozenset(CODE_ALPHABET)
CODE_LENGTH = 12

register({
    "gate_rotating_no_poster": ("此门使用动态门禁码,请在保安屏幕上显示,不提供固定海报",
                                "This gate uses a rotating code shown on the guard's screen; it has no static poster"),
})


def new_gate_code() -> str:
    """A random code of 12 unambiguous characters: fits a mini-program scene (<= 32) and a URL."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_gate(compound: Compound, data: dict) -> Gate:
    """Add a gate to a compound."""
    if db.session.scalar(select(Gate.id).where(Gate.compound_id == compound.id, Gate.name == data["name"])):
        raise ConflictError("duplicate", errors={"json": {"name": ["already used in this compound"]}})
    gate = Gate(compound_id=compound.id, code=new_gate_code(), **data)
    db.session.add(gate)
    db.session.flush()
    return gate


# Called as hook(gate) when a gate closes; create_app wires the roster here (releasing its shifts).
GATE_CLOSED_HOOKS: list = []


def update_gate(gate: Gate, data: dict) -> Gate:
    """Edit a gate; closing it runs the hooks (the roster releases its future shifts)."""
    closing = data.get("is_open") is False and gate.is_open
    if "name" in data and data["name"] != gate.name and db.session.scalar(
            select(Gate.id).where(Gate.compound_id == gate.compound_id, Gate.name == data["name"])):
        raise ConflictError("duplicate", errors={"json": {"name": ["already used in this compound"]}})
    for key, value in data.items():
        setattr(gate, key, value)
    db.session.flush()
    if closing:
        for hook in GATE_CLOSED_HOOKS:
            hook(gate)
    return gate


def open_gates_of(compound_id: int) -> list[dict]:
    """The compound's open gates as {"id", "name"}, main gates first: where a closed gate sends people."""
    rows = db.session.execute(select(Gate.id, Gate.name).where(Gate.compound_id == compound_id, Gate.is_open)
                              .order_by((Gate.kind == "main").desc(), Gate.id)).all()
    return [{"id": row.id, "name": row.name} for row in rows]


def closed_gate_message(open_gates: list[dict]) -> str:
    """"此门已关闭,请走南门" (or "南门或北门"), in the caller's language; the plain gate_closed text when none is open."""
    names = [gate["name"] for gate in open_gates]
    if not names:
        return message_for("gate_closed")
    if wants_english():
        return f"This gate is closed; use {' or '.join(names)}"
    listed = names[0] if len(names) == 1 else "、".join(names[:-1]) + "或" + names[-1]
    return f"此门已关闭,请走{listed}"


def poster_wording(gate: Gate) -> tuple[str, str | None]:
    """The gate's name line and instruction on its printed poster (None: the usual instruction).

    A gate on rotating codes has no static poster (its printed code would only answer "expired"):
    409 gate_rotating_no_poster. A closed gate's poster says so and names the open gates.
    """
    if gate.rotating_code:
        raise ConflictError("gate_rotating_no_poster", gate_id=gate.id)
    if gate.is_open:
        return gate.name, None
    names = [g["name"] for g in open_gates_of(gate.compound_id)]
    instruction = f"此门已关闭,请走{'、'.join(names)}" if names else "此门已关闭"
    return f"{gate.name}(已关闭)", instruction


def regenerate_code(gate: Gate) -> Gate:
    """Give the gate a new code: old posters (and its cached mini-program codes) stop working."""
    db.session.execute(delete(MiniProgramCode).where(MiniProgramCode.scene == gate.code))
    gate.code = new_gate_code()
    db.session.flush()
    return gate


def gate_code_in(scanned: str) -> str:
    """The gate code in what a scanner handed over: the poster's URL (https://HOST/g/<code>) or the code."""
    try:
        path = urlsplit(scanned).path
    except ValueError:  # not a URL at all (e.g. "http://[x"): no code
        return ""
    return path.rsplit("/g/", 1)[-1]


def printed_code_in(code: str) -> str | None:
    """The printed gate code a scanned code starts with (a rotating code adds a window and a mac), or None
    when it cannot be one: anything else (a NUL from a URL included) names no gate, without asking the database."""
    static = code.split("-", 1)[0] if isinstance(code, str) else ""
    if not static or len(static) > CODE_LENGTH or not set(static) <= _CODE_LETTERS:
        return None
    return static


def gate_by_code(code: str) -> Gate | None:
    """The gate a scanned code names (its printed code, or a rotating code of any age)."""
    static = printed_code_in(code)
    return None if static is None else db.session.scalar(select(Gate).where(Gate.code == static))


# A rotating code shown on a guard's screen: "<gate code>-<window, hex>-<mac>", windows of 30 s;
# the current and the previous window are accepted, so a code is good for at most 60 seconds.
ROTATION_SECONDS = 30


def _rotation_mac(gate_code: str, window: int, secret: str | None = None) -> str:
    key = (secret or current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"gate:{gate_code}:{window}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:5]).decode().lower()


def _mac_matches(gate_code: str, window: int, mac: str) -> bool:
    # A screen that drew its code just before the secret rotated shows a mac of a fallback secret.
    secrets_ = (current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", ()))
    return any(hmac.compare_digest(mac.encode(), _rotation_mac(gate_code, window, s).encode()) for s in secrets_)


def rotating_code(gate: Gate, now: datetime) -> tuple[str, datetime]:
    """The gate's current rotating code and the moment it stops being accepted."""
    window = int(now.timestamp()) // ROTATION_SECONDS
    expires_at = datetime.fromtimestamp((window + 2) * ROTATION_SECONDS, UTC)
    return f"{gate.code}-{window:x}-{_rotation_mac(gate.code, window)}", expires_at


def resolve_gate_code(code: str, now: datetime) -> tuple[Gate | None, bool]:
    """(gate, fresh): the gate a scanned code names, and whether the code is acceptable now.

    A gate with `rotating_code` accepts only a current rotating code (a photo of the poster or an
    old screen is stale); a gate without it accepts its printed code. A forged mac names no gate.
    """
    gate = gate_by_code(code)
    fresh = None if gate is None else code_freshness(code, gate.code, gate.rotating_code, now)
    return (None, False) if fresh is None else (gate, fresh)


def code_freshness(code: str, gate_code: str, rotating: bool, now: datetime) -> bool | None:
    """Whether a scanned code of the gate whose printed code is `gate_code` is acceptable now; None when
    it is forged (a rotating code whose mac does not match), which names no gate (`resolve_gate_code`)."""
    parts = code.split("-")
    if len(parts) == 1:
        return not rotating
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{1,12}", parts[1]):
        return None
    window = int(parts[1], 16)
    if not _mac_matches(gate_code, window, parts[2]):
        return None
    current = int(now.timestamp()) // ROTATION_SECONDS
    return current - 1 <= window <= current
