"""The one-time subscriptions (一次性订阅) a user accepted in the mini-program, as its client reports them.

wx.requestSubscribeMessage answers, per template, "accept", "reject", "ban" or "filter"; each
"accept" allows WeChat to deliver one message of that template. The client reports what was
accepted (by template id or by our notification kind) and the outbox spends one per message sent.
A client that over-reports only wastes attempts: WeChat answers 43101 and the count is zeroed.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.notifications import WeChatSubscription
from server.models.people import User
from server.plumbing.clock import utcnow

# More than anyone will use; bounds what a client can claim.
MAX_HELD = 50

register({
    "wechat_not_bound": ("请先绑定微信", "Bind a WeChat to this account first"),
    "template_unknown": ("未知的订阅消息模板", "Unknown subscribe-message template"),
})


def _templates() -> dict[str, str]:
    return current_app.config.get("WECHAT_TEMPLATES", {})


def _resolve(item: dict, index: int) -> str:
    templates = _templates()
    if item.get("template_id"):
        if item["template_id"] not in templates.values():
            raise UnprocessableError("template_unknown",
                                     errors={"json": {"accepted": {str(index): {"template_id": ["not configured"]}}}})
        return item["template_id"]
    if item.get("kind") not in templates:
        raise UnprocessableError("template_unknown",
                                 errors={"json": {"accepted": {str(index): {"kind": ["no template for this kind"]}}}})
    return templates[item["kind"]]


def report_acceptances(user: User, accepted: list[dict], results: dict[str, str] | None = None) -> list[dict]:
    """Add what the user accepted (items of template_id or kind, and count; or wx.requestSubscribeMessage's
    results map, template id -> "accept"/...) to their unspent acceptances; answers the holdings."""
    if user.openid is None:
        raise ConflictError("wechat_not_bound")
    counts: dict[str, int] = {}
    for index, item in enumerate(accepted):
        template_id = _resolve(item, index)
        counts[template_id] = counts.get(template_id, 0) + item.get("count", 1)
    configured = set(_templates().values())
    for template_id, answer in (results or {}).items():
        if template_id == "errMsg" or answer != "accept":
            continue  # "reject", "ban", "filter": nothing to spend
        if template_id not in configured:
            raise UnprocessableError("template_unknown", errors={"json": {"results": {template_id: ["not configured"]}}})
        counts[template_id] = counts.get(template_id, 0) + 1
    for template_id, count in counts.items():
        _add(user.id, template_id, count)
    db.session.flush()
    return holdings(user)


def _add(user_id: int, template_id: str, count: int) -> None:
    now = utcnow()
    # The drain spends concurrently: add in the database, never read-modify-write here.
    added = (update(WeChatSubscription)
             .where(WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id)
             .values(remaining=_capped(WeChatSubscription.remaining + count), updated_at=now)
             .execution_options(synchronize_session=False))
    if db.session.execute(added).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(WeChatSubscription(user_id=user_id, template_id=template_id,
                                              remaining=min(count, MAX_HELD), updated_at=now))
    except IntegrityError:
        db.session.execute(added)  # another report made the row at the same moment


def _capped(expression):
    return case((expression > MAX_HELD, MAX_HELD), else_=expression)


def holdings(user: User) -> list[dict]:
    """The user's unspent acceptances per configured template, with the kinds each template serves."""
    kinds_by_template: dict[str, list[str]] = {}
    for kind, template_id in sorted(_templates().items()):
        kinds_by_template.setdefault(template_id, []).append(kind)
    held = dict(db.session.execute(select(WeChatSubscription.template_id, WeChatSubscription.remaining)
                                   .where(WeChatSubscription.user_id == user.id)).all())
    return [{"template_id": template_id, "kinds": kinds, "remaining": held.get(template_id, 0)}
            for template_id, kinds in sorted(kinds_by_template.items())]
