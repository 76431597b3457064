"""The catalogue of supplies: the standard items every alliance starts with, and the admin's additions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import messages
from server.errors import ConflictError, NotFoundError
from server.extensions import db
from server.models.people import User
from server.models.supplies import SupplyItem
from server.plumbing import audit

# code: (name, unit). Counted in whole units: disinfectant by the bottle, thermometers by the piece.
STANDARD_ITEMS = {
    "masks": ("口罩", "只"),
    "disinfectant": ("消毒液", "瓶"),
    "gloves": ("手套", "副"),
    "thermometers": ("体温枪", "把"),
    "pumps": ("水泵", "台"),
    "sandbags": ("沙袋", "个"),
}

messages.register({
    "item_exists": ("物资目录中已有同名或同编号的物资", "The catalogue already has an item with this code or name"),
})


def ensure_standard_items(alliance_id: int) -> None:
    """Seed the standard items into the alliance's catalogue once (concurrent callers are fine)."""
    have = set(db.session.scalars(select(SupplyItem.code).where(SupplyItem.alliance_id == alliance_id,
                                                                SupplyItem.code.in_(STANDARD_ITEMS))))
    for code, (name, unit) in STANDARD_ITEMS.items():
        if code in have:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(SupplyItem(alliance_id=alliance_id, code=code, name=name, unit=unit))
        except IntegrityError:
            pass  # another request seeded it first (or the admin used the name): nothing to do


def list_items(user: User) -> list[SupplyItem]:
    """The alliance's catalogue, standard items first."""
    ensure_standard_items(user.alliance_id)
    return list(db.session.scalars(select(SupplyItem).where(SupplyItem.alliance_id == user.alliance_id)
                                   .order_by(SupplyItem.id)))


def find_item(user: User, code: str) -> SupplyItem:
    """An item of the caller's alliance by its code (or its id, given as digits), or 404."""
    if code in STANDARD_ITEMS:
        ensure_standard_items(user.alliance_id)
    query = select(SupplyItem).where(SupplyItem.alliance_id == user.alliance_id)
    if code.isascii() and code.isdigit() and len(code) < 10:
        query = query.where(SupplyItem.id == int(code))
    else:
        query = query.where(SupplyItem.code == code)
    item = db.session.scalar(query)
    if item is None:
        raise NotFoundError("not_found", errors={"json": {"item": ["no such item in the catalogue"]}})
    return item


def add_item(admin: User, code: str, name: str, unit: str) -> SupplyItem:
    """The alliance admin extends the catalogue with an item counted in `unit`."""
    ensure_standard_items(admin.alliance_id)
    item = SupplyItem(alliance_id=admin.alliance_id, code=code, name=name, unit=unit, created_by_id=admin.id)
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError as exc:
        raise ConflictError("item_exists") from exc
    audit.record("supplies.item_added", actor=admin, object_type="supply_item", object_id=item.id,
                 detail={"code": code, "name": name, "unit": unit})
    return item


def item_dict(item: SupplyItem) -> dict:
    """An item as the API shows it."""
    return {"id": item.id, "code": item.code, "name": item.name, "unit": item.unit}
