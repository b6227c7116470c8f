"""Per-client rate limiting on the ``limits`` engine, and a cheap in-process counter store. Pure (no Flask).

``limits``' own ``memory://`` storage starts a new timer thread every 10 ms
under load to expire counters, which costs more than answering a nearest
query. ``LazyMemoryStorage`` (``RATELIMIT_STORAGE_URI = "lazy-memory://"``)
keeps the same counters but drops expired ones when they are read, and sweeps
the rest at most once per ``SWEEP_SECONDS`` inline, so memory stays bounded.
Fixed and sliding window strategies only (as ``memory://``, per process).

Both take a ``clock`` (``time.time`` by default) so tests can step time
instead of sleeping. It drives the fixed-window paths (counting, expiry,
the reset time); the sliding-window paths are ``limits``' own and always read
``time.time``, so a stepped clock is for the fixed window only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from limits.storage import MemoryStorage

from locator.errors import InvalidParameter

__all__ = ["ClientLimiter", "FixedWindows", "LazyMemoryStorage", "check_limits"]

SWEEP_SECONDS = 1.0


class LazyMemoryStorage(MemoryStorage):
    """``memory://`` without the expiry timer thread: ``lazy-memory://``."""

    STORAGE_SCHEME = ["lazy-memory"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: str,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self.clock = clock
        self._incr_lock = threading.Lock()
        self._next_sweep = clock() + SWEEP_SECONDS

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_SECONDS
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:  # type: ignore[override]
        now = self.clock()
        with self._incr_lock:
            if now >= self._next_sweep:
                self._sweep(now)
            if self.expirations.get(key, 0.0) <= now:
                self.storage[key] = 0
                self.expirations[key] = now + expiry
            self.storage[key] += amount
            return self.storage[key]

    def get(self, key: str) -> int:
        if self.expirations.get(key, 0.0) <= self.clock():  # expired: dropped on read, as memory:// does
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
        return self.storage.get(key, 0)

    def get_expiry(self, key: str) -> float:
        return self.expirations.get(key, self.clock())


def check_limits(spec: str, strategy: str) -> None:
    """Check ``RATELIMIT_DEFAULT`` and ``RATELIMIT_STRATEGY``; raise ``InvalidParameter`` quoting a bad one."""
    from limits import parse_many
    from limits.strategies import STRATEGIES

    if strategy not in STRATEGIES:
        raise InvalidParameter(
            "RATELIMIT_STRATEGY", f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}"
        )
    try:
        parse_many(spec)
    except ValueError:
        raise InvalidParameter(
            "RATELIMIT_DEFAULT", f"{spec!r} is not a rate limit like '6000 per minute' (';' between several)"
        ) from None


class FixedWindows:
    """One fixed-window limit's counts per client, in this process: ``limits``' fixed window on ``lazy-memory://``.

    The same counts, windows and reset times as ``limits``'
    ``FixedWindowRateLimiter`` over :class:`LazyMemoryStorage` (a window opens
    at a client's first hit and lasts the limit's period; every hit counts,
    over the limit too), without building the storage key and going through
    the strategy and storage on each request: ~0.6 µs a hit instead of ~3.5,
    on every request but the probes. ``tests/test_http.py`` holds it to
    ``limits``' own (``limits`` is pinned to its major version for that).
    """

    def __init__(self, amount: int, period_s: int, clock: Callable[[], float] = time.time) -> None:
        self.amount, self.period_s, self.clock = amount, period_s, clock
        self.windows: dict[str, list[float]] = {}  # client: [window end, hits]
        self.lock = threading.Lock()
        self.next_sweep = clock() + SWEEP_SECONDS

    def hit(self, client: str) -> float | None:
        """Count a hit of ``client``: None while within the limit, else the time its window ends."""
        now = self.clock()
        with self.lock:
            if now >= self.next_sweep:
                self.next_sweep = now + SWEEP_SECONDS
                for key in [k for k, w in self.windows.items() if w[0] <= now]:
                    del self.windows[key]
            window = self.windows.get(client)
            if window is None or window[0] <= now:
                window = self.windows[client] = [now + self.period_s, 0]
            window[1] += 1
            return None if window[1] <= self.amount else window[0]


class ClientLimiter:
    """Per-client limits on the ``limits`` engine (the one flask-limiter runs on), minus its per-request overhead.

    flask-limiter's own ``before_request`` resolves, filters and re-evaluates
    its limits on every request (~80 µs here, a third of a nearest answer);
    this does one ``hit`` per configured limit (~3.5 µs), or, for the default
    fixed window in this process (``lazy-memory://``), counts in
    :class:`FixedWindows` (~0.6 µs).
    """

    def __init__(
        self,
        spec: str,
        storage_uri: str = "lazy-memory://",
        strategy: str = "fixed-window",
        clock: Callable[[], float] = time.time,
    ) -> None:
        from limits import parse_many
        from limits.storage import storage_from_string
        from limits.strategies import STRATEGIES

        if strategy not in STRATEGIES:
            raise ValueError(f"unknown rate-limit strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
        self.items = parse_many(spec)
        self.clock = clock
        lazy = storage_uri.startswith("lazy-memory://")
        self.windows = (
            [(str(item), FixedWindows(item.amount, item.get_expiry(), clock)) for item in self.items]
            if lazy and strategy == "fixed-window"
            else None
        )
        storage = LazyMemoryStorage(storage_uri, clock=clock) if lazy else storage_from_string(storage_uri)
        self.strategy = STRATEGIES[strategy](storage)

    def hit(self, client: str) -> tuple[str, int] | None:
        """Count one request of ``client``: None if allowed, else (the limit, seconds until it resets)."""
        if self.windows is not None:
            for text, windows in self.windows:
                ends = windows.hit(client)
                if ends is not None:
                    return text, min(windows.period_s, max(1, int(ends - self.clock() + 0.999)))
            return None
        for item in self.items:
            if not self.strategy.hit(item, "locator", client):
                reset = self.strategy.get_window_stats(item, "locator", client).reset_time
                return str(item), min(item.get_expiry(), max(1, int(reset - self.clock() + 0.999)))
        return None
