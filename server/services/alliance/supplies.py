"""Stock changes of the supplies ledger: every change is an entry, and the stock row moves with it.

Taking stock is one conditional statement, ``UPDATE supply_stocks SET quantity = quantity - :n WHERE
id = :id AND quantity >= :n``: of two racing withdrawals that together ask for more than is there,
one finds no row to change and answers 409 ``stock_insufficient`` with what is available; the CHECK
``quantity >= 0`` is the database's last word. The same statement returns the new balance (the row
stays locked until the commit), so each entry's ``balance_after`` is the exact running total, and it
counts a crossing below the holder's low-stock threshold, so each crossing raises exactly one alert.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, select, update
from sqlalchemy.exc import IntegrityError

from server import messages
from server.errors import ConflictError
from server.extensions import db
from server.models.people import User
from server.models.supplies import SupplyEntry, SupplyItem, SupplyStock, SupplyTransfer
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import utcnow
from server.plumbing.notifications import enqueue
from server.services.alliance.supply_holders import Holder

messages.register({
    "stock_insufficient": ("库存不足", "Not enough in stock"),
})

LOW_STOCK_TITLE = "防疫物资库存不足"


def _holder_where(holder: Holder):
    return and_(SupplyStock.company_id == holder.company_id) if holder.kind == "company" \
        else and_(SupplyStock.compound_id == holder.compound_id)


def stock_row_id(item: SupplyItem, holder: Holder, *, create: bool = False) -> int | None:
    """The id of the holder's stock row of the item (created empty when asked and missing)."""
    row_id = db.session.scalar(select(SupplyStock.id).where(SupplyStock.item_id == item.id, _holder_where(holder)))
    if row_id is not None or not create:
        return row_id
    row = SupplyStock(alliance_id=item.alliance_id, item_id=item.id, quantity=0, updated_at=utcnow(),
                      **holder.columns())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # Another request created it between our look and our insert.
        return db.session.scalar(select(SupplyStock.id).where(SupplyStock.item_id == item.id, _holder_where(holder)))
    return row.id


def available(item: SupplyItem, holder: Holder) -> int:
    """What the holder has of the item now."""
    return db.session.scalar(select(SupplyStock.quantity).where(SupplyStock.item_id == item.id,
                                                                _holder_where(holder))) or 0


def _entry(item: SupplyItem, holder: Holder, kind: str, quantity: int, balance: int, actor: User | None,
           transfer: SupplyTransfer | None, source: str, reason: str, stamp: dict | None) -> SupplyEntry:
    entry = SupplyEntry(alliance_id=item.alliance_id, item_id=item.id, kind=kind, quantity=quantity,
                        balance_after=balance, transfer_id=transfer.id if transfer else None, source=source,
                        reason=reason, actor_id=actor.id if actor else None, created_at=utcnow(),
                        **holder.columns(), **(stamp or {}))
    db.session.add(entry)
    db.session.flush()
    return entry


def take(item: SupplyItem, holder: Holder, quantity: int, kind: str, actor: User | None, *,
         transfer: SupplyTransfer | None = None, reason: str = "", row_id: int | None = None,
         stamp: dict | None = None) -> SupplyEntry:
    """Take `quantity` out of the holder's stock (never below zero: 409 with what is available)."""
    row_id = row_id or stock_row_id(item, holder)
    crossed = case((and_(SupplyStock.low_threshold.is_not(None), SupplyStock.quantity >= SupplyStock.low_threshold,
                         SupplyStock.quantity - quantity < SupplyStock.low_threshold), 1), else_=0)
    changed = None
    if row_id is not None:
        changed = db.session.execute(
            update(SupplyStock).where(SupplyStock.id == row_id, SupplyStock.quantity >= quantity)
            .values(quantity=SupplyStock.quantity - quantity, low_crossings=SupplyStock.low_crossings + crossed,
                    updated_at=utcnow())
            .returning(SupplyStock.quantity, SupplyStock.low_threshold, SupplyStock.low_crossings)
            .execution_options(synchronize_session=False)).first()
    if changed is None:
        raise ConflictError("stock_insufficient", available=available(item, holder), requested=quantity,
                            item=item.code)
    balance, threshold, crossings = changed
    entry = _entry(item, holder, kind, -quantity, balance, actor, transfer, "", reason, stamp)
    if threshold is not None and balance < threshold <= balance + quantity:
        _low_stock(item, holder, row_id, balance, threshold, crossings)
    return entry


def put(item: SupplyItem, holder: Holder, quantity: int, kind: str, actor: User | None, *,
        transfer: SupplyTransfer | None = None, source: str = "", reason: str = "",
        row_id: int | None = None, stamp: dict | None = None) -> SupplyEntry:
    """Add `quantity` to the holder's stock (its row is created on the first receipt)."""
    row_id = row_id or stock_row_id(item, holder, create=True)
    balance = db.session.execute(
        update(SupplyStock).where(SupplyStock.id == row_id)
        .values(quantity=SupplyStock.quantity + quantity, updated_at=utcnow())
        .returning(SupplyStock.quantity).execution_options(synchronize_session=False)).scalar_one()
    return _entry(item, holder, kind, quantity, balance, actor, transfer, source, reason, stamp)


def move_between(item: SupplyItem, giver: Holder, receiver: Holder, quantity: int, actor: User,
                 transfer: SupplyTransfer) -> tuple[SupplyEntry, SupplyEntry]:
    """Take from the giver and put to the receiver at once, locking the two rows in id order (no
    deadlock between two moves in opposite directions); nothing changes when the giver is short."""
    from_id = stock_row_id(item, giver)
    if from_id is None:
        raise ConflictError("stock_insufficient", available=0, requested=quantity, item=item.code)
    to_id = stock_row_id(item, receiver, create=True)
    with db.session.begin_nested():
        if to_id < from_id:
            inflow = put(item, receiver, quantity, "transfer_in", actor, transfer=transfer, row_id=to_id)
            outflow = take(item, giver, quantity, "transfer_out", actor, transfer=transfer, row_id=from_id)
        else:
            outflow = take(item, giver, quantity, "transfer_out", actor, transfer=transfer, row_id=from_id)
            inflow = put(item, receiver, quantity, "transfer_in", actor, transfer=transfer, row_id=to_id)
    return outflow, inflow


def _low_stock(item: SupplyItem, holder: Holder, row_id: int, balance: int, threshold: int, crossing: int) -> None:
    """Tell someone who can act: an alert at a compound, a message to a company's staff."""
    key = f"low_stock:{row_id}:{crossing}"
    detail = {"item": item.code, "item_name": item.name, "unit": item.unit, "quantity": balance,
              "threshold": threshold}
    if holder.kind == "compound":
        notify_staff(raise_alert(holder.id, "low_stock", detail=detail, dedupe_key=key))
        return
    staff_ids = db.session.scalars(select(User.id).where(
        User.role == "staff", User.company_id == holder.id, User.is_active.is_(True))).all()
    now = utcnow().astimezone(ZoneInfo("Asia/Shanghai"))
    data = {"thing1": f"{LOW_STOCK_TITLE}:{item.name}"[:20], "thing2": (holder.name or "本公司仓库")[:20],
            "number3": str(balance), "number4": str(threshold), "time5": now.strftime("%Y-%m-%d %H:%M")}
    for user_id in staff_ids:
        enqueue(user_id, "low_stock", data, page=f"pages/supplies/stock?item={item.code}",
                dedupe_key=f"{key}:user:{user_id}")


def record_receipt(user: User, item: SupplyItem, holder: Holder, quantity: int, source: str, note: str,
                   stamp: dict | None = None) -> SupplyEntry:
    """Items arrived from outside the alliance (a purchase, the street office, a donor)."""
    return put(item, holder, quantity, "receipt", user, source=source, reason=note, stamp=stamp)


def record_use(user: User, item: SupplyItem, holder: Holder, quantity: int, note: str,
               stamp: dict | None = None) -> SupplyEntry:
    """Items used up (handed to guards, worn, spent on a flood)."""
    return take(item, holder, quantity, "use", user, reason=note, stamp=stamp)


def record_adjustment(user: User, item: SupplyItem, holder: Holder, delta: int, reason: str,
                      stamp: dict | None = None) -> SupplyEntry:
    """A correction after a count (damaged, expired, miscounted), with its reason; never below zero."""
    if delta > 0:
        return put(item, holder, delta, "adjustment", user, reason=reason, stamp=stamp)
    return take(item, holder, -delta, "adjustment", user, reason=reason, stamp=stamp)


def set_threshold(user: User, item: SupplyItem, holder: Holder, threshold: int | None) -> SupplyStock:
    """Set (or clear with None) the holder's low-stock threshold for the item."""
    row_id = stock_row_id(item, holder, create=True)
    db.session.execute(update(SupplyStock).where(SupplyStock.id == row_id).values(low_threshold=threshold)
                       .execution_options(synchronize_session=False))
    return db.session.get(SupplyStock, row_id, populate_existing=True)


def entry_dict(entry: SupplyEntry, item: SupplyItem, holder: Holder) -> dict:
    """A new entry as the write that made it answers: the change and the balance right after it."""
    return {"id": entry.id, "kind": entry.kind, "item": {"id": item.id, "code": item.code, "name": item.name,
                                                         "unit": item.unit},
            "holder": holder.as_dict(), "quantity": entry.quantity, "balance_after": entry.balance_after,
            "transfer_id": entry.transfer_id, "source": entry.source, "reason": entry.reason,
            "actor_id": entry.actor_id, "created_at": entry.created_at}
