"""Rate limits for the few routes that need them (sign-in, invites, self check-in), on `limits`.

Only views decorated with `rate_limited` pay for a check; the storage is configurable
(WUYE_RATELIMIT_STORAGE_URI), and must be shared (redis://) when several hosts serve. Limits are
keyed by account first (`key="user"`) and by address only loosely: carriers put many phones behind
one address. Counters that only failures feed (sign-in) use `check`, `count` and `clear`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import Flask, g, request
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

    def hit(self, item: RateLimitItem, key: str, reason: str = "rate_limited") -> None:
        """Count one request; 429 with Retry-After once the limit is reached."""
        if self._strategy is None or self._strategy.hit(item, key):
            return
        self._refuse(item, key, reason)

    def check(self, item: RateLimitItem, key: str, reason: str = "rate_limited") -> None:
        """429 with Retry-After when the limit is already reached; counts nothing."""
        if self._strategy is not None and not self._strategy.test(item, key):
            self._refuse(item, key, reason)

    def count(self, item: RateLimitItem, key: str) -> None:
        """Count one event (a failure) against the limit without refusing anything now."""
        if self._strategy is not None:
            self._strategy.hit(item, key)

    def clear(self, item: RateLimitItem, key: str) -> None:
        """Forget one key's counter (a success ends a run of failures)."""
        if self._strategy is not None:
            self._strategy.clear(item, key)

    def _refuse(self, item: RateLimitItem, key: str, reason: str):
        reset_at, _remaining = self._strategy.get_window_stats(item, key)
        retry_after = max(1, int(reset_at - time.time()) + 1)
        raise TooManyRequestsError(reason, headers={"Retry-After": str(retry_after)})

    def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._storage is not None:
            self._storage.reset()


limiter = RateLimiter()


KEYS = ("address", "user")


def rate_limited(limit: str, key: str = "address") -> Callable:
    """Limit a view per client address (`@rate_limited("10/minute")`) or per signed-in user
    (`key="user"`, placed below `roles_required`, which authenticated the caller)."""
    if key not in KEYS:
        raise ValueError(f"rate limit key must be one of {KEYS}")
    item = parse(limit)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if key == "user":
                caller = g.get("caller")
                if caller is None:
                    raise RuntimeError("rate_limited(key='user') needs an authenticated caller")
                limiter.hit(item, f"{request.endpoint}:user:{caller.id}")
            else:
                limiter.hit(item, f"{request.endpoint}:{request.remote_addr}")
            return view(*args, **kwargs)

        return wrapper

    return decorator
