"""The WeChat access token, cached in the database so every process and host shares one.

stable_token hands out the same token to every caller until it nears expiry, so a plain refresh
is harmless; a forced refresh invalidates the old token, so it is done once per stale token: a
process that finds the cache already moved on uses the newer token instead of forcing again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.integrations.wechat import WeChatClient
from server.models.notifications import WeChatAccessToken
from server.plumbing.clock import utcnow

# Refresh a little before WeChat's expiry, so a token never dies in flight.
EXPIRY_MARGIN = timedelta(minutes=5)


def access_token(client: WeChatClient, *, force_refresh: bool = False, stale: str | None = None) -> str:
    """A valid access token for the client's app, from the shared cache or freshly fetched.

    With ``force_refresh`` (after a 40001/42001 answer for ``stale``), WeChat is asked for a new
    token unless another process already replaced ``stale``. Commits: the cache outlives the caller.
    """
    now = utcnow()
    cached = db.session.get(WeChatAccessToken, client.app_id)
    if cached is not None and not force_refresh and cached.expires_at - EXPIRY_MARGIN > now:
        return cached.value
    # Serialise refreshers on PostgreSQL (the row lock); SQLite serialises writers anyway.
    locked = db.session.scalar(select(WeChatAccessToken).where(WeChatAccessToken.app_id == client.app_id)
                               .with_for_update().execution_options(populate_existing=True))
    if locked is not None and locked.expires_at - EXPIRY_MARGIN > now:
        if not force_refresh or (stale is not None and locked.value != stale):
            value = locked.value
            db.session.commit()
            return value
    token = client.stable_token(force_refresh=force_refresh)
    expires_at = now + timedelta(seconds=token.expires_in)
    if locked is None:
        db.session.add(WeChatAccessToken(app_id=client.app_id, value=token.value, expires_at=expires_at,
                                         fetched_at=now))
    else:
        locked.value, locked.expires_at, locked.fetched_at = token.value, expires_at, now
    try:
        db.session.commit()
    except IntegrityError:
        # Another process cached the first token at the same moment; stable_token gave us the same one.
        db.session.rollback()
    return token.value
