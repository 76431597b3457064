"""Gates: main or side, open or closed, each with a short opaque code."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from server.errors import ConflictError
from server.extensions import db
from server.models.compounds import Compound, Gate

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 12


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


def regenerate_code(gate: Gate) -> Gate:
    """Give the gate a new code: old posters stop working."""
    gate.code = new_gate_code()
    db.session.flush()
    return gate


def gate_by_code(code: str) -> Gate | None:
    """The gate a scanned code names."""
    return db.session.scalar(select(Gate).where(Gate.code == code))
