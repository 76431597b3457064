"""Transfers of supplies between holders: offered -> accepted -> received, or declined / cancelled.

The stock leaves the giver when the transfer is offered, not when it is accepted: an offer is a
promise of goods set aside (Sahana Eden's "committed"), so the giver cannot promise the same masks to
two companies, and the receiver's acceptance can never fail for a shortfall on the giver's side that
the receiver cannot see or fix. From the offer until it is received the quantity is in transit: it
is in nobody's stock, and the transfer (shown with every holder's stock) says where it is. A declined
or cancelled transfer returns it to the giver with a `transfer_return` entry. Every status change is a
conditional update, so of a decline and a cancel racing only one applies and the stock returns once.

A move between two holders the caller runs (a company's warehouse and its compounds) is received at once.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update

from server import messages
from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.models.people import User
from server.models.supplies import SupplyItem, SupplyTransfer
from server.plumbing import audit
from server.plumbing.clock import utcnow
from server.plumbing.pagination import paginate
from server.services.alliance.supplies import move_between, put, take
from server.services.alliance.supply_catalogue import item_dict
from server.services.alliance.supply_holders import (
    Holder,
    holder_names,
    holder_of,
    may_act,
    visible_holder_condition,
)

IN_TRANSIT = ("offered", "accepted")

messages.register({
    "transfer_not_open": ("该调拨已不可进行此操作", "This transfer can no longer be acted on"),
    "transfer_to_own_holder": ("本单位内部调配请使用内部调拨", "Within your own holders, use a move"),
    "move_outside_own_holders": ("内部调拨只能在本单位的仓库和小区之间进行",
                                 "A move is between holders you run; offer a transfer to others"),
    "same_holder": ("调出方和调入方不能相同", "The giver and the receiver must differ"),
})


def _check_pair(giver: Holder, receiver: Holder) -> None:
    if giver == receiver or (giver.kind, giver.id) == (receiver.kind, receiver.id):
        raise UnprocessableError("same_holder", errors={"json": {"to": ["the same holder as the giver"]}})


def offer_transfer(user: User, item: SupplyItem, giver: Holder, receiver: Holder, quantity: int,
                   note: str, stamp: dict | None = None) -> SupplyTransfer:
    """Offer items of a holder the caller runs to another holder of the alliance; they leave the giver now."""
    _check_pair(giver, receiver)
    if may_act(user, receiver):
        raise UnprocessableError("transfer_to_own_holder", errors={"json": {"to": ["a holder you run: use a move"]}})
    now = utcnow()
    transfer = SupplyTransfer(alliance_id=user.alliance_id, item_id=item.id, kind="transfer", quantity=quantity,
                              status="offered", note=note, offered_by_id=user.id, offered_at=now,
                              **giver.columns("from_"), **receiver.columns("to_"), **(stamp or {}))
    with db.session.begin_nested():
        db.session.add(transfer)
        db.session.flush()
        take(item, giver, quantity, "transfer_out", user, transfer=transfer, reason=note)
    return transfer


def move(user: User, item: SupplyItem, giver: Holder, receiver: Holder, quantity: int, note: str,
         stamp: dict | None = None) -> SupplyTransfer:
    """Move items between two holders the caller runs (warehouse to compound ...): received at once."""
    _check_pair(giver, receiver)
    if not may_act(user, receiver):
        raise UnprocessableError("move_outside_own_holders",
                                 errors={"json": {"to": ["not a holder you run: offer a transfer"]}})
    now = utcnow()
    transfer = SupplyTransfer(alliance_id=user.alliance_id, item_id=item.id, kind="move", quantity=quantity,
                              status="received", note=note, offered_by_id=user.id, offered_at=now,
                              accepted_by_id=user.id, accepted_at=now, received_by_id=user.id, received_at=now,
                              **giver.columns("from_"), **receiver.columns("to_"), **(stamp or {}))
    with db.session.begin_nested():
        db.session.add(transfer)
        db.session.flush()
        move_between(item, giver, receiver, quantity, user, transfer)
    return transfer


def giver_of(transfer: SupplyTransfer) -> Holder:
    """The holder the transfer takes from."""
    return holder_of(transfer.from_company_id, transfer.from_compound_id)


def receiver_of(transfer: SupplyTransfer) -> Holder:
    """The holder the transfer goes to."""
    return holder_of(transfer.to_company_id, transfer.to_compound_id)


def visible_condition(user: User):
    """A SQL condition: the caller may see the transfer (they may see its giver or its receiver)."""
    return or_(visible_holder_condition(user, SupplyTransfer.from_company_id, SupplyTransfer.from_compound_id),
               visible_holder_condition(user, SupplyTransfer.to_company_id, SupplyTransfer.to_compound_id))


def get_transfer(user: User, transfer_id: int) -> SupplyTransfer:
    """A transfer the caller may see, or 404."""
    transfer = db.session.scalar(select(SupplyTransfer).where(
        SupplyTransfer.id == transfer_id, SupplyTransfer.alliance_id == user.alliance_id, visible_condition(user)))
    if transfer is None:
        raise NotFoundError("not_found")
    return transfer


def _change_status(transfer: SupplyTransfer, sources: tuple[str, ...], **values) -> None:
    """``UPDATE ... WHERE id = :id AND status IN :sources``: of two racing changes one applies, the other 409s."""
    applied = db.session.execute(
        update(SupplyTransfer).where(SupplyTransfer.id == transfer.id, SupplyTransfer.status.in_(sources))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(transfer)
    if applied != 1:
        raise ConflictError("transfer_not_open", status=transfer.status)


def _receiver_side(user: User, transfer: SupplyTransfer) -> None:
    if not may_act(user, receiver_of(transfer)):
        raise NotFoundError("not_found") if not may_act(user, giver_of(transfer)) else \
            UnprocessableError("transfer_receiver_only", errors={"json": {"transfer": ["for the receiver"]}})


def _giver_side(user: User, transfer: SupplyTransfer) -> None:
    if not may_act(user, giver_of(transfer)):
        raise NotFoundError("not_found") if not may_act(user, receiver_of(transfer)) else \
            UnprocessableError("transfer_giver_only", errors={"json": {"transfer": ["for the giver"]}})


messages.register({
    "transfer_receiver_only": ("只有调入方可以进行此操作", "Only the receiver may do this"),
    "transfer_giver_only": ("只有调出方可以进行此操作", "Only the giver may do this"),
})


def accept(user: User, transfer: SupplyTransfer) -> SupplyTransfer:
    """The receiver accepts the offer (the items are on their way)."""
    _receiver_side(user, transfer)
    _change_status(transfer, ("offered",), status="accepted", accepted_by_id=user.id, accepted_at=utcnow())
    return transfer


def receive(user: User, transfer: SupplyTransfer) -> SupplyTransfer:
    """The receiver confirms the items arrived: they enter the receiver's stock."""
    _receiver_side(user, transfer)
    _change_status(transfer, ("accepted",), status="received", received_by_id=user.id, received_at=utcnow())
    item = db.session.get(SupplyItem, transfer.item_id)
    put(item, receiver_of(transfer), transfer.quantity, "transfer_in", user, transfer=transfer, reason=transfer.note)
    return transfer


def decline(user: User, transfer: SupplyTransfer, reason: str) -> SupplyTransfer:
    """The receiver turns the offer down: the items return to the giver."""
    _receiver_side(user, transfer)
    return _close(user, transfer, ("offered",), "declined", reason)


def cancel(user: User, transfer: SupplyTransfer, reason: str) -> SupplyTransfer:
    """The giver calls the transfer off before it is received: the items return to the giver."""
    _giver_side(user, transfer)
    return _close(user, transfer, IN_TRANSIT, "cancelled", reason)


def _close(user: User, transfer: SupplyTransfer, sources: tuple[str, ...], status: str, reason: str) -> SupplyTransfer:
    _change_status(transfer, sources, status=status, closed_by_id=user.id, closed_at=utcnow(), close_reason=reason)
    item = db.session.get(SupplyItem, transfer.item_id)
    put(item, giver_of(transfer), transfer.quantity, "transfer_return", user, transfer=transfer,
        reason=reason or status)
    audit.record(f"supplies.transfer_{status}", actor=user, object_type="supply_transfer", object_id=transfer.id,
                 reason=reason, detail={"item": item.code, "quantity": transfer.quantity})
    return transfer


def transfer_page(user: User, args: dict, filters: dict) -> dict:
    """A page of the transfers the caller may see, newest first (``status=in_transit``: offered or accepted)."""
    query = select(SupplyTransfer).where(SupplyTransfer.alliance_id == user.alliance_id, visible_condition(user))
    status = filters.get("status")
    if status == "in_transit":
        query = query.where(SupplyTransfer.status.in_(IN_TRANSIT))
    elif status:
        query = query.where(SupplyTransfer.status == status)
    if filters.get("item") is not None:
        query = query.where(SupplyTransfer.item_id == filters["item"].id)
    if filters.get("kind"):
        query = query.where(SupplyTransfer.kind == filters["kind"])
    body = paginate(query.order_by(SupplyTransfer.id.desc()), args)
    return {**body, "items": transfer_rows(user, body["items"])}


def transfer_rows(user: User, transfers: list[SupplyTransfer]) -> list[dict]:
    """Transfers as the API shows them: item, giver and receiver by name, who did what when."""
    names = holder_names(user.alliance_id)
    items = {i.id: i for i in db.session.scalars(select(SupplyItem).where(
        SupplyItem.id.in_({t.item_id for t in transfers})))}
    return [{
        "id": t.id, "kind": t.kind, "status": t.status, "in_transit": t.status in IN_TRANSIT,
        "item": item_dict(items[t.item_id]), "quantity": t.quantity, "note": t.note,
        "from": holder_of(t.from_company_id, t.from_compound_id, names).as_dict(),
        "to": holder_of(t.to_company_id, t.to_compound_id, names).as_dict(),
        "offered_at": t.offered_at, "offered_by_id": t.offered_by_id,
        "accepted_at": t.accepted_at, "accepted_by_id": t.accepted_by_id,
        "received_at": t.received_at, "received_by_id": t.received_by_id,
        "closed_at": t.closed_at, "closed_by_id": t.closed_by_id, "close_reason": t.close_reason,
    } for t in transfers]


def transfer_row(user: User, transfer: SupplyTransfer) -> dict:
    """One transfer as the API shows it."""
    return transfer_rows(user, [transfer])[0]
