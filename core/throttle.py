"""The API's request-rate limit: a sliding-window counter per user (or per address when anonymous).

Each user has one counter per window of `duration` seconds in the cache. A request is let through while

    previous window's count × (share of the previous window still inside the last `duration` seconds)
    + this window's count  <  limit

and then counted; a refused request is not counted, so a client that waits gets through again. This is
the usual sliding-window approximation: constant work and two small integers per user, whatever the rate.
(django-ninja's own throttle keeps every request's time in a list that it reads and writes back through
the cache on each request: at the default of 100,000 a minute that list is thousands of entries long, and
unpickling and pickling it cost more than the rest of a one-contact read.)

With the default local-memory cache each web process counts on its own; a shared cache (`CACHES`, e.g.
Redis or the database cache) makes the limit hold across processes.
"""

from __future__ import annotations

import math
import re
import threading
import time

from django.core.cache import caches
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

KEY_PREFIX = "crm-rate"
PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """`1000/m`, `50/10s`, `100000/min` → (requests, seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", rate or "")
    if not match or match[3] not in PERIODS or int(match[1]) < 1 or match[2] == "0":
        raise ValueError(f"Invalid rate {rate!r}: expected requests/period, e.g. '1000/m' or '50/10s'.")
    return int(match[1]), int(match[2] or 1) * PERIODS[match[3]]


class SlidingWindowThrottle(BaseThrottle):
    timer = staticmethod(time.time)

    def __init__(self, rate: str, *, cache_alias: str = "default") -> None:
        self.rate = rate
        self.num_requests, self.duration = parse_rate(rate)
        self.cache_alias = cache_alias
        # One instance serves every request of the process: the wait of a refusal is per thread (ninja asks
        # for it right after allow_request, on the same thread).
        self._local = threading.local()

    def ident(self, request: HttpRequest) -> str:
        auth = getattr(request, "auth", None)
        pk = getattr(auth, "pk", None)
        return f"u{pk}" if pk is not None else f"a{self.get_ident(request)}"

    def allow_request(self, request: HttpRequest) -> bool:
        cache = caches[self.cache_alias]
        now = self.timer()
        window, offset = divmod(now, self.duration)
        window = int(window)
        ident = self.ident(request)
        current_key = f"{KEY_PREFIX}:{ident}:{window}"
        previous_key = f"{KEY_PREFIX}:{ident}:{window - 1}"
        counts = cache.get_many([previous_key, current_key])
        previous, current = counts.get(previous_key, 0), counts.get(current_key, 0)
        weight = 1.0 - offset / self.duration
        if previous * weight + current >= self.num_requests:
            self._local.wait = self._wait_for(previous, current, offset)
            return False
        try:
            cache.incr(current_key)
        except ValueError:  # the window's first request (or its counter expired)
            if not cache.add(current_key, 1, timeout=2 * self.duration + 1):
                cache.incr(current_key)
        return True

    def _wait_for(self, previous: int, current: int, offset: float) -> float:
        """Seconds until a request would pass: the previous window's share shrinking is all that helps
        within this window; failing that, the next window starts with this one as its previous."""
        if previous and current < self.num_requests:
            # previous × (1 − t/d) + current < limit  ⇔  t > d × (1 − (limit − current) / previous)
            target = self.duration * (1 - (self.num_requests - current) / previous)
            return max(target - offset, 0.0) + 0.001
        rest = self.duration - offset
        # In the next window, this window's count is the previous one; its weight must fall far enough.
        share = 1 - self.num_requests / current if current else 0.0
        return rest + max(share, 0.0) * self.duration + 0.001

    def wait(self) -> float | None:
        wait = getattr(self._local, "wait", None)
        return None if wait is None else math.ceil(wait * 1000) / 1000
