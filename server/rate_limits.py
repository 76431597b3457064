"""Rate limits for the few routes that need them (sign-in), on the `limits` library.

Only views decorated with `rate_limited` pay for a check; the storage is configurable
(WUYE_RATELIMIT_STORAGE_URI), and must be shared (redis://) when several hosts serve.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import Flask, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from server.errors import TooManyRequestsError


class RateLimiter:
    """A moving-window limiter keyed by route and client address."""

    def __init__(self) -> None:
        self._strategy: MovingWindowRateLimiter | None = None
        self._storage = None

    def init_app(self, app: Flask) -> None:
        """Bind the storage named in the app's settings."""
        self._storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        self._strategy = MovingWindowRateLimiter(self._storage)

    def hit(self, item: RateLimitItem, key: str) -> None:
        """Count one request; 429 with Retry-After once the limit is reached."""
        if self._strategy is None or self._strategy.hit(item, key):
            return
        reset_at, _remaining = self._strategy.get_window_stats(item, key)
        retry_after = max(1, int(reset_at - time.time()) + 1)
        raise TooManyRequestsError("rate_limited", headers={"Retry-After": str(retry_after)})

    def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._storage is not None:
            self._storage.reset()


limiter = RateLimiter()


def rate_limited(limit: str) -> Callable:
    """Limit a view per client address, e.g. `@rate_limited("10/minute")`."""
    item = parse(limit)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            limiter.hit(item, f"{request.endpoint}:{request.remote_addr}")
            return view(*args, **kwargs)

        return wrapper

    return decorator
