"""Reading the supplies ledger: stock per holder with what is in transit, entries with running totals,
where each item went per holder, and the ledger as an audited CSV export."""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy import func, select

from server.extensions import db
from server.models.people import User
from server.models.supplies import SupplyEntry, SupplyItem, SupplyStock, SupplyTransfer
from server.plumbing import audit
from server.plumbing.csv_export import Sheet
from server.plumbing.masking import mask_name
from server.plumbing.pagination import paginate
from server.plumbing.replica import reads
from server.services.alliance.supply_catalogue import item_dict
from server.services.alliance.supply_holders import Holder, holder_names, holder_of, visible_holder_condition
from server.services.alliance.supply_transfers import IN_TRANSIT

MAX_EXPORT_ROWS = 50_000
CSV_HEADER = ["时间", "持有方类型", "持有方", "物资", "单位", "变动类型", "收入", "发出", "结存", "对方", "调拨单号",
              "来源", "说明/原因", "经办人"]
KIND_NAMES = {"receipt": "入库", "use": "使用", "transfer_out": "调出", "transfer_in": "调入",
              "transfer_return": "退回", "adjustment": "盘点调整"}
HOLDER_KIND_NAMES = {"company": "企业仓库", "compound": "小区"}


def _in_transit(user: User, item_ids: set[int] | None = None) -> dict[tuple, dict[str, int]]:
    """Quantities in transit by (item id, holder kind, holder id): {"out": n, "in": n}."""
    query = select(SupplyTransfer).where(SupplyTransfer.alliance_id == user.alliance_id,
                                         SupplyTransfer.status.in_(IN_TRANSIT))
    if item_ids is not None:
        query = query.where(SupplyTransfer.item_id.in_(item_ids))
    moving: dict[tuple, dict[str, int]] = defaultdict(lambda: {"out": 0, "in": 0})
    for t in db.session.scalars(query):
        giver = holder_of(t.from_company_id, t.from_compound_id)
        receiver = holder_of(t.to_company_id, t.to_compound_id)
        moving[(t.item_id, giver.kind, giver.id)]["out"] += t.quantity
        moving[(t.item_id, receiver.kind, receiver.id)]["in"] += t.quantity
    return moving


def stock_list(user: User, item: SupplyItem | None = None, holder: Holder | None = None) -> list[dict]:
    """Stock of every holder the caller may see (or of one), with thresholds and what is in transit."""
    query = select(SupplyStock, SupplyItem).join(SupplyItem, SupplyItem.id == SupplyStock.item_id).where(
        SupplyStock.alliance_id == user.alliance_id,
        visible_holder_condition(user, SupplyStock.company_id, SupplyStock.compound_id))
    if item is not None:
        query = query.where(SupplyStock.item_id == item.id)
    if holder is not None:
        query = query.where(*[getattr(SupplyStock, k) == v for k, v in holder.columns().items() if v is not None])
    rows = db.session.execute(query.order_by(func.coalesce(SupplyStock.compound_id, 0),
                                             func.coalesce(SupplyStock.company_id, 0), SupplyStock.item_id)).all()
    names = holder_names(user.alliance_id)
    moving = _in_transit(user, {i.id for _, i in rows})
    result = []
    for stock, stock_item in rows:
        who = holder_of(stock.company_id, stock.compound_id, names)
        transit = moving.get((stock_item.id, who.kind, who.id), {"out": 0, "in": 0})
        result.append({"item": item_dict(stock_item), "holder": who.as_dict(), "quantity": stock.quantity,
                       "low_threshold": stock.low_threshold,
                       "low": stock.low_threshold is not None and stock.quantity < stock.low_threshold,
                       "in_transit_out": transit["out"], "in_transit_in": transit["in"],
                       "updated_at": stock.updated_at})
    return result


def _entries_query(user: User, item: SupplyItem, holder: Holder | None):
    query = (select(SupplyEntry, SupplyTransfer, User.display_name, User.company_id, User.role)
             .outerjoin(SupplyTransfer, SupplyTransfer.id == SupplyEntry.transfer_id)
             .outerjoin(User, User.id == SupplyEntry.actor_id)
             .where(SupplyEntry.alliance_id == user.alliance_id, SupplyEntry.item_id == item.id,
                    visible_holder_condition(user, SupplyEntry.company_id, SupplyEntry.compound_id)))
    if holder is not None:
        query = query.where(*[getattr(SupplyEntry, k) == v for k, v in holder.columns().items() if v is not None])
    # By holder (companies' warehouses first, then compounds), each in the order the stock changed.
    return query.order_by(func.coalesce(SupplyEntry.compound_id, 0), func.coalesce(SupplyEntry.company_id, 0),
                          SupplyEntry.id)


def _actor_name(viewer: User, name: str | None, company_id: int | None, role: str | None) -> str | None:
    # Colleagues and the alliance admin see names; another company's staff see them masked.
    if name is None or viewer.role == "alliance_admin" or role == "alliance_admin" or company_id == viewer.company_id:
        return name
    return mask_name(name)


def _entry_row(viewer: User, names: dict, entry: SupplyEntry, transfer: SupplyTransfer | None,
               actor_name: str | None, actor_company: int | None, actor_role: str | None) -> dict:
    who = holder_of(entry.company_id, entry.compound_id, names)
    counterpart = None
    if transfer is not None:
        giver = holder_of(transfer.from_company_id, transfer.from_compound_id, names)
        receiver = holder_of(transfer.to_company_id, transfer.to_compound_id, names)
        counterpart = (receiver if (giver.kind, giver.id) == (who.kind, who.id) else giver).as_dict()
    return {"id": entry.id, "created_at": entry.created_at, "holder": who.as_dict(), "kind": entry.kind,
            "quantity": entry.quantity, "balance_after": entry.balance_after, "transfer_id": entry.transfer_id,
            "counterpart": counterpart, "source": entry.source, "reason": entry.reason,
            "actor_id": entry.actor_id, "actor_name": _actor_name(viewer, actor_name, actor_company, actor_role)}


def holder_summaries(user: User, item: SupplyItem, holder: Holder | None = None) -> list[dict]:
    """Where the item went, per holder the caller may see: received, used, given, got, returned, adjusted."""
    query = (select(SupplyEntry.company_id, SupplyEntry.compound_id, SupplyEntry.kind, func.sum(SupplyEntry.quantity))
             .where(SupplyEntry.alliance_id == user.alliance_id, SupplyEntry.item_id == item.id,
                    visible_holder_condition(user, SupplyEntry.company_id, SupplyEntry.compound_id))
             .group_by(SupplyEntry.company_id, SupplyEntry.compound_id, SupplyEntry.kind))
    if holder is not None:
        query = query.where(*[getattr(SupplyEntry, k) == v for k, v in holder.columns().items() if v is not None])
    names = holder_names(user.alliance_id)
    totals: dict[tuple, dict[str, int]] = {}
    for company_id, compound_id, kind, total in db.session.execute(query):
        who = holder_of(company_id, compound_id, names)
        totals.setdefault((who.kind, who.id), {k: 0 for k in KIND_NAMES})[kind] = int(total)
    on_hand = {(s["holder"]["kind"], s["holder"]["id"]): s for s in stock_list(user, item, holder)}
    moving = _in_transit(user, {item.id})
    summaries = []
    for key in sorted(totals, key=lambda k: (k[0] != "company", k[1])):
        sums, transit = totals[key], moving.get((item.id, *key), {"out": 0, "in": 0})
        summaries.append({
            "holder": Holder(key[0], key[1], names.get(key, "")).as_dict(),
            "on_hand": on_hand[key]["quantity"] if key in on_hand else 0,
            "received": sums["receipt"], "used": -sums["use"], "transferred_in": sums["transfer_in"],
            "transferred_out": -sums["transfer_out"], "returned": sums["transfer_return"],
            "adjusted": sums["adjustment"], "in_transit_out": transit["out"], "in_transit_in": transit["in"],
        })
    return summaries


def ledger_page(user: User, item: SupplyItem, holder: Holder | None, args: dict) -> dict:
    """The item's ledger by holder with running totals, a page of entries, and each holder's summary."""
    names = holder_names(user.alliance_id)
    body = paginate(_entries_query(user, item, holder), args, rows=True,
                    each=lambda row: _entry_row(user, names, *row))
    return {"item": item_dict(item), "holders": holder_summaries(user, item, holder), **body}


def ledger_sheet(user: User, item: SupplyItem, holder: Holder | None) -> Sheet:
    """The item's ledger as a spreadsheet (local times, Chinese headers; CSV or .xlsx); the export is audited.

    In and out are two columns of whole numbers (收入 / 发出 / 结存, as a paper ledger has them): a negative
    number would start with "-" and be exported as text by the formula escaping."""
    names = holder_names(user.alliance_id)
    rows = reads().execute(_entries_query(user, item, holder).limit(MAX_EXPORT_ROWS)).all()
    lines = []
    for row in rows:
        entry = _entry_row(user, names, *row)
        counterpart = entry["counterpart"]
        lines.append([entry["created_at"], HOLDER_KIND_NAMES[entry["holder"]["kind"]], entry["holder"]["name"],
                      item.name, item.unit, KIND_NAMES[entry["kind"]], max(entry["quantity"], 0) or None,
                      max(-entry["quantity"], 0) or None, entry["balance_after"],
                      counterpart["name"] if counterpart else "", entry["transfer_id"] or None, entry["source"],
                      entry["reason"], entry["actor_name"] or ""])
    audit.record("supplies.ledger_export", actor=user, object_type="supply_item", object_id=item.id,
                 detail={"item": item.code, "holder": f"{holder.kind}:{holder.id}" if holder else "all",
                         "rows": len(lines)})
    return Sheet(f"{item.name}台账", CSV_HEADER, lines, current_app.config["DEFAULT_TIMEZONE"])
