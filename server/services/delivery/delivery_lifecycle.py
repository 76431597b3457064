"""The life of a delivery request: claim, purchase, dispatch, deliver, confirm; cancel and reject.

Every transition is a conditional UPDATE on the status the caller saw, so of two concurrent changes
exactly one applies and the other answers 409 with the current status, having changed nothing.
Every change is written to the request's history and notifies the resident through the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from server import messages
from server.errors import ConflictError, ForbiddenError, UnprocessableError
from server.extensions import db
from server.integrations.wechat import wechat_amount, wechat_datetime
from server.models.compounds import Compound
from server.models.deliveries import (
    CLAIMED_STATUSES,
    DeliveryEvent,
    DeliveryItem,
    DeliveryRequest,
    DeliverySettings,
)
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.masking import mask_name
from server.plumbing.notifications import IMPORTANT, ROUTINE, enqueue
from server.scope import acting_role

AUTO_CONFIRM_AFTER = timedelta(hours=24)
NOTIFICATION_KIND = "delivery_status"
SUBSTITUTABLE_STATUSES = ("claimed", "purchasing")

# action: (the statuses it may start from, the status it leads to, the timestamp column it sets)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "claim": (("submitted",), "claimed", "claimed_at"),
    "start": (("claimed",), "purchasing", "purchasing_at"),
    "dispatch": (("purchasing",), "on_the_way", "dispatched_at"),
    "deliver": (("on_the_way",), "delivered", "delivered_at"),
    "confirm": (("delivered",), "confirmed", "confirmed_at"),
    "auto_confirm": (("delivered",), "confirmed", "confirmed_at"),
    "cancel": (("submitted", "claimed"), "cancelled", "closed_at"),
    "reject": (("submitted", "claimed", "purchasing"), "rejected", "closed_at"),
}

# WeChat "phrase" values: at most five characters.
STATUS_PHRASES = {
    "submitted": "已提交", "claimed": "已接单", "purchasing": "采购中", "on_the_way": "配送中",
    "delivered": "已送达", "confirmed": "已完成", "cancelled": "已取消", "rejected": "已拒绝",
}
SUBSTITUTION_PHRASE = "商品调整"
# What a resident waits for: these reach WeChat whenever an acceptance is held; routine progress
# (received, purchasing, an item changed, confirmed) only while acceptances remain for the milestones ahead.
MILESTONES = ("claimed", "on_the_way", "delivered")
CLOSINGS = ("cancelled", "rejected")
_FLOW = ("submitted", "claimed", "purchasing", "on_the_way", "delivered", "confirmed")
DROP_POINT_LABELS = {"door": "家门口", "unit_entrance": "单元门口"}

messages.register({
    "delivery_state": ("当前状态下不能进行此操作", "This cannot be done in the request's current state"),
    "delivery_claimed": ("该申请已被其他工作人员接单", "Someone else has already claimed this request"),
    "not_claimant": ("只有接单人或物业工作人员可以处理该申请", "Only the claimant or property staff may do this"),
    "guards_may_not_run": ("本小区未允许保安代为送菜", "Guards may not run deliveries in this compound"),
    "not_requester": ("只有申请住户可以进行此操作", "Only the requesting household may do this"),
    "unknown_item": ("申请中没有该商品", "The request has no such item"),
})


def guards_may_run(compound_id: int) -> bool:
    """Whether staff allowed guards to claim and run deliveries in this compound."""
    return bool(db.session.scalar(
        select(DeliverySettings.guards_may_run).where(DeliverySettings.compound_id == compound_id)))


def claim_delivery(actor: User, request: DeliveryRequest) -> DeliveryRequest:
    """Claim a submitted request as its runner; a concurrent second claim answers 409."""
    if actor.role == "guard":
        if not guards_may_run(request.compound_id):
            raise ForbiddenError("guards_may_not_run")
    elif acting_role(actor) != "staff":
        raise ForbiddenError("forbidden")
    runner = mask_name(actor.display_name) or "工作人员"
    return _apply(actor, request, "claim", {"claimed_by_id": actor.id}, remark=f"{runner}已接单,将为您采购")


def start_purchasing(actor: User, request: DeliveryRequest) -> DeliveryRequest:
    """The runner goes shopping: the resident may no longer cancel."""
    _require_handler(actor, request)
    return _apply(actor, request, "start", {}, remark="正在为您采购")


def dispatch_delivery(actor: User, request: DeliveryRequest, cost: dict | None = None) -> DeliveryRequest:
    """The groceries are bought and on the way; the cost may be recorded now."""
    _require_handler(actor, request)
    values = _cost_values(cost)
    place = DROP_POINT_LABELS.get(request.drop_point, "")
    return _apply(actor, request, "dispatch", values, remark=_with_cost(f"正在送往{place}", values, request))


def mark_delivered(actor: User, request: DeliveryRequest, cost: dict | None = None) -> DeliveryRequest:
    """The groceries are at the drop point; the resident confirms, or it confirms itself after 24 h."""
    _require_handler(actor, request)
    values = _cost_values(cost)
    place = DROP_POINT_LABELS.get(request.drop_point, "")
    remark = f"已放至{place},请及时取回" if request.contactless else f"已送至{place}"
    return _apply(actor, request, "deliver", values, remark=_with_cost(remark, values, request))


def confirm_delivery(actor: User, request: DeliveryRequest) -> DeliveryRequest:
    """The resident confirms receipt."""
    _require_household(actor, request)
    return _apply(actor, request, "confirm", {}, remark="感谢确认,欢迎评价本次服务")


def cancel_delivery(actor: User, request: DeliveryRequest, reason: str = "") -> DeliveryRequest:
    """The resident withdraws the request, before purchasing starts."""
    _require_household(actor, request)
    return _apply(actor, request, "cancel", {"close_reason": reason}, note=reason, remark="您已取消本次申请")


def reject_delivery(actor: User, request: DeliveryRequest, reason: str) -> DeliveryRequest:
    """Staff decline the request, saying why."""
    if acting_role(actor) != "staff":
        raise ForbiddenError("forbidden")
    return _apply(actor, request, "reject", {"close_reason": reason}, note=reason, remark=f"原因:{reason}")


def record_substitutions(actor: User, request: DeliveryRequest, changes: list[dict]) -> DeliveryRequest:
    """Record what the shop had: items bought, out of stock, or replaced by something else."""
    _require_handler(actor, request)
    if request.status not in SUBSTITUTABLE_STATUSES:
        raise ConflictError("delivery_state", current_status=request.status)
    items = {item.id: item for item in request.items}
    unknown = [c["item_id"] for c in changes if c["item_id"] not in items]
    if unknown:
        raise UnprocessableError("unknown_item", errors={"json": {"items": {"item_id": unknown}}})
    # Lock the row on the status seen, so a concurrent dispatch and these changes do not interleave.
    touched = db.session.execute(
        update(DeliveryRequest).where(DeliveryRequest.id == request.id, DeliveryRequest.status == request.status)
        .values(status=request.status).execution_options(synchronize_session=False)).rowcount
    if touched != 1:
        db.session.refresh(request)
        raise ConflictError("delivery_state", current_status=request.status)
    for change in changes:
        item = items[change["item_id"]]
        item.outcome = change["outcome"]
        item.substitute = change.get("substitute") if change["outcome"] == "substituted" else None
        item.outcome_note = change.get("note", "")
    db.session.flush()
    remark = _substitution_summary(list(items.values())) or "商品采购情况已更新"
    _record(request, actor, "substitute", request.status, request.status, note="", remark=remark,
            phrase=SUBSTITUTION_PHRASE)
    return request


def confirm_overdue_deliveries(now: datetime | None = None) -> int:
    """Confirm every request delivered more than 24 hours ago (run by cron); returns how many."""
    now = now or utcnow()
    overdue = db.session.scalars(
        select(DeliveryRequest).where(DeliveryRequest.status == "delivered",
                                      DeliveryRequest.delivered_at <= now - AUTO_CONFIRM_AFTER)
        .order_by(DeliveryRequest.id)).all()
    confirmed = 0
    for request in overdue:
        try:
            _apply(None, request, "auto_confirm", {"auto_confirmed": True}, now=now, remark="送达超过24小时,已自动确认")
        except ConflictError:
            continue  # the resident confirmed it meanwhile
        confirmed += 1
    return confirmed


def record_submission(request: DeliveryRequest, actor: User) -> DeliveryEvent:
    """Write the first history entry of a new request and tell the resident it arrived."""
    return _record(request, actor, "submit", None, "submitted", note="", remark="我们会尽快安排工作人员接单")


def _apply(actor: User | None, request: DeliveryRequest, action: str, values: dict, *, note: str = "",
           remark: str = "", now: datetime | None = None) -> DeliveryRequest:
    sources, target, stamp = TRANSITIONS[action]
    seen = request.status
    if seen not in sources:
        raise _conflict(action, seen)
    now = now or utcnow()
    applied = db.session.execute(
        update(DeliveryRequest).where(DeliveryRequest.id == request.id, DeliveryRequest.status == seen)
        .values(status=target, **{stamp: now}, **values).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(request)
    if applied != 1:
        raise _conflict(action, request.status)
    _record(request, actor, action, seen, target, note=note, remark=remark, at=now)
    return request


def _conflict(action: str, current: str) -> ConflictError:
    reason = "delivery_claimed" if action == "claim" and current in CLAIMED_STATUSES else "delivery_state"
    return ConflictError(reason, current_status=current)


def _record(request: DeliveryRequest, actor: User | None, action: str, from_status: str | None, to_status: str,
            *, note: str, remark: str, phrase: str | None = None, at: datetime | None = None) -> DeliveryEvent:
    event = DeliveryEvent(request_id=request.id, actor_id=actor.id if actor else None, action=action,
                          from_status=from_status, to_status=to_status, note=note[:200], at=at or utcnow())
    db.session.add(event)
    db.session.flush()
    notify_resident(request, event, remark, phrase or STATUS_PHRASES[to_status])
    return event


def notify_resident(request: DeliveryRequest, event: DeliveryEvent, remark: str, phrase: str) -> None:
    """Queue the WeChat subscribe message telling the requester about one change of their request."""
    tz = db.session.scalar(select(Compound.timezone).where(Compound.id == request.compound_id)) or "Asia/Shanghai"
    data = {
        "character_string1": delivery_number(request),
        "thing2": items_summary(request),
        "phrase3": phrase,
        "time4": wechat_datetime(event.at, tz),
        "thing5": remark,
    }
    priority, reserve = notification_weight(event)
    enqueue(request.requester_id, NOTIFICATION_KIND, data, page=f"pages/delivery/detail?id={request.id}",
            dedupe_key=f"delivery-event:{event.id}", priority=priority, reserve=reserve)


def notification_weight(event: DeliveryEvent) -> tuple[int, int]:
    """(priority, reserve) of the message about an event: a milestone or a closing goes whenever an
    acceptance is held; routine progress keeps one acceptance back for each milestone still ahead."""
    if event.action != "substitute" and event.to_status in MILESTONES + CLOSINGS:
        return IMPORTANT, 0
    if event.to_status == "confirmed":
        return ROUTINE, 1  # the resident confirmed it (or it was confirmed for them): keep one for next time
    position = _FLOW.index(event.to_status) if event.to_status in _FLOW else len(_FLOW)
    return ROUTINE, sum(1 for status in MILESTONES if _FLOW.index(status) > position)


def delivery_number(request: DeliveryRequest) -> str:
    """The number a resident and a runner quote for a request: SC000123."""
    return f"SC{request.id:06d}"


def items_summary(request: DeliveryRequest) -> str:
    """A short description of what was asked for: 白菜 等3件."""
    names = [item.name for item in request.items]
    if not names:
        return "送菜上门"
    return names[0] if len(names) == 1 else f"{names[0]} 等{len(names)}件"


def _require_handler(actor: User, request: DeliveryRequest) -> None:
    if acting_role(actor) == "staff":
        return
    if actor.role == "guard" and request.claimed_by_id == actor.id and guards_may_run(request.compound_id):
        return
    raise ForbiddenError("not_claimant")


def _require_household(actor: User, request: DeliveryRequest) -> None:
    if actor.role != "resident" or actor.approved_household_id != request.household_id:
        raise ForbiddenError("not_requester")


def _cost_values(cost: dict | None) -> dict:
    if not cost:
        return {}
    return {key: cost[key] for key in ("cost_cents", "cost_note") if key in cost}


def _with_cost(remark: str, values: dict, request: DeliveryRequest) -> str:
    # The amount first: WeChat's 20-character thing field cuts the end, and an amount is never cut.
    cents = values.get("cost_cents", request.cost_cents)
    return f"费用{wechat_amount(Decimal(cents) / 100)},{remark}" if cents is not None else remark


def _substitution_summary(items: list[DeliveryItem]) -> str:
    parts = []
    for item in items:
        if item.outcome == "out_of_stock":
            parts.append(f"{item.name}缺货")
        elif item.outcome == "substituted":
            parts.append(f"{item.name}换为{item.substitute}")
    return ";".join(parts)
