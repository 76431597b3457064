"""A gate's mini-program code (小程序码): WeChat's getwxacodeunlimit with the gate code as its scene,
fetched once through the WeChat client and cached in the database (every host shares it).

The scanned code opens ``GATE_PAGE`` of our mini-program with ``scene`` = the gate code (12 characters,
within WeChat's 32), which the page hands to ``POST /api/v1/checkins/self`` as ``gate_code``.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.errors import ApiError
from server.extensions import db
from server.models.compounds import Gate
from server.models.wechat_codes import MiniProgramCode
from server.plumbing.clock import utcnow
from server.plumbing.wechat_token import access_token
from server.services.gate.gates import poster_wording
from server.services.people.sign_in import wechat_client

# The mini-program's check-in page (a path of our own mini-program: no leading slash, no query).
GATE_PAGE = "pages/gate/index"
CODE_WIDTH = 430
_REASONS = {429: "wechat_rate_limited", 503: "wechat_unavailable"}


def gate_miniprogram_code(gate: Gate) -> tuple[bytes, str]:
    """The gate's mini-program code image and its mimetype, from the cache or fetched from WeChat.

    A gate on rotating codes has none (409 gate_rotating_no_poster, as for its printed poster).
    """
    poster_wording(gate)
    key = dict(app_id=current_app.config["WECHAT_APP_ID"], scene=gate.code, page=GATE_PAGE, width=CODE_WIDTH)
    cached = _cached(key)
    if cached is not None:
        return cached.image, cached.mimetype
    image = _fetch(wechat_client(), gate.code)
    mimetype = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    try:
        with db.session.begin_nested():
            db.session.add(MiniProgramCode(**key, image=image, mimetype=mimetype, fetched_at=utcnow()))
    except IntegrityError:
        pass  # another host cached the same code a moment ago: WeChat answers the same image
    return image, mimetype


def _cached(key: dict) -> MiniProgramCode | None:
    return db.session.scalar(select(MiniProgramCode).where(*(getattr(MiniProgramCode, k) == v for k, v in key.items())))


def _fetch(client, scene: str) -> bytes:
    from server.integrations.wechat import WeChatError, WeChatTokenExpired

    try:
        token = access_token(client)
        try:
            return client.unlimited_wxacode(token, scene, page=GATE_PAGE, width=CODE_WIDTH)
        except WeChatTokenExpired:
            # 40001/42001: refresh once (unless another process already did) and ask again.
            fresh = access_token(client, force_refresh=True, stale=token)
            return client.unlimited_wxacode(fresh, scene, page=GATE_PAGE, width=CODE_WIDTH)
    except WeChatError as exc:
        db.session.rollback()  # the token refresh may have left its row lock open
        status = exc.http_status if exc.http_status in _REASONS else 502
        headers = {"Retry-After": "5"} if status in (429, 503) else None
        raise ApiError(_REASONS.get(status, "wechat_unavailable"), code=status, headers=headers,
                       wechat_errcode=exc.errcode) from exc
    finally:
        client.close()
