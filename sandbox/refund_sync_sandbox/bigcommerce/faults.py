"""The store-wide request quota, and the faults a rehearsal can inject."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TypeVar

from refund_sync_sandbox.bigcommerce.models import DropRule, FaultRule, LateCommitRule, StallRule

DEFAULT_QUOTA = 150  # Standard and Plus plans: 150 requests per 30 s, shared by every app on the store
DEFAULT_WINDOW_MS = 30_000

_RuleT = TypeVar("_RuleT", FaultRule, DropRule)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """A fixed window that opens with the first request, like BigCommerce's per-store quota.

    The clock is injected (seconds, as a float) so tests can move time instead of sleeping.
    """

    def __init__(
        self, clock: Callable[[], float], quota: int = DEFAULT_QUOTA, window_ms: int = DEFAULT_WINDOW_MS
    ):
        self._clock = clock
        self._lock = threading.Lock()
        self.quota = quota
        self.window_ms = window_ms
        self._window_start: float | None = None
        self._used = 0
        self._forced = 0

    def configure(self, *, quota: int | None = None, window_ms: int | None = None) -> None:
        with self._lock:
            self.quota = quota if quota is not None else self.quota
            self.window_ms = window_ms if window_ms is not None else self.window_ms
            self._window_start = None
            self._used = 0

    def force(self, count: int) -> None:
        """Answer the next `count` requests with 429, whatever is left of the quota."""
        with self._lock:
            self._forced += count

    def clear_forced(self) -> None:
        with self._lock:
            self._forced = 0

    def admit(self) -> RateDecision:
        """Spend one request of the quota, or refuse it."""
        with self._lock:
            now = self._roll_window()
            if self._forced:
                self._forced -= 1
                return RateDecision(False, self._headers(now, left=0))
            if self._used >= self.quota:
                return RateDecision(False, self._headers(now))
            self._used += 1
            return RateDecision(True, self._headers(now))

    def peek(self) -> dict[str, str]:
        """The headers for a response that spends nothing (e.g. a 401)."""
        with self._lock:
            return self._headers(self._roll_window())

    def _roll_window(self) -> float:
        now = self._clock()
        if self._window_start is None or (now - self._window_start) * 1000 >= self.window_ms:
            self._window_start = now
            self._used = 0
        return now

    def _headers(self, now: float, *, left: int | None = None) -> dict[str, str]:
        start = self._window_start if self._window_start is not None else now
        reset_ms = max(0, math.ceil((start * 1000 + self.window_ms) - now * 1000))
        return {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(max(self.quota - self._used, 0) if left is None else left),
        }


class FaultPlan:
    """Injected failures, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._drops: list[DropRule] = []
        self._stalls: list[StallRule] = []
        self._late: list[LateCommitRule] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule.model_copy())

    def add_drop(self, rule: DropRule) -> None:
        with self._lock:
            self._drops.append(rule.model_copy())

    def add_stall(self, rule: StallRule) -> None:
        with self._lock:
            self._stalls.append(rule.model_copy())

    def add_late_commit(self, rule: LateCommitRule) -> None:
        with self._lock:
            self._late.append(rule.model_copy())

    def take_late_commit(self, order_id: int) -> LateCommitRule | None:
        with self._lock:
            for rule in self._late:
                if rule.order_id is None or rule.order_id == order_id:
                    self._late.remove(rule)
                    return rule
            return None

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first error rule matching the request, spending one of its `count`."""
        return self._take(self._rules, method, path)

    def take_drop(self, method: str, path: str) -> DropRule | None:
        """The first dropped-connection rule matching the request, spending one of its `count`."""
        return self._take(self._drops, method, path)

    def _take(self, rules: list[_RuleT], method: str, path: str) -> _RuleT | None:
        with self._lock:
            for rule in rules:
                method_matches = rule.method == "*" or rule.method.upper() == method.upper()
                if method_matches and fnmatchcase(path, rule.path):
                    taken = rule.model_copy(update={"count": 1})
                    if rule.count == 1:
                        rules.remove(rule)
                    else:
                        rule.count -= 1
                    return taken
            return None

    def take_stall(self, order_id: int) -> StallRule | None:
        with self._lock:
            for rule in self._stalls:
                if rule.order_id is None or rule.order_id == order_id:
                    self._stalls.remove(rule)
                    return rule
            return None

    def pending(self) -> dict[str, list[dict[str, object]]]:
        with self._lock:
            return {
                "faults": [rule.model_dump() for rule in self._rules],
                "drops": [rule.model_dump() for rule in self._drops],
                "stalls": [rule.model_dump() for rule in self._stalls],
                "late_commits": [rule.model_dump() for rule in self._late],
            }

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._drops.clear()
            self._stalls.clear()
            self._late.clear()


class StallGate:
    """Holds stalled responses until released or their time is up; tests can wait for a stall to begin."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._release = threading.Event()
        self._stalled = 0
        self._started = 0

    def hold(self, seconds: float) -> None:
        with self._condition:
            release = self._release
            self._stalled += 1
            self._started += 1
            self._condition.notify_all()
        try:
            release.wait(seconds)
        finally:
            with self._condition:
                self._stalled -= 1
                self._condition.notify_all()

    def wait_until_stalled(self, timeout: float) -> bool:
        """True once some response is being held (it may have started before the call)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._stalled > 0, timeout)

    @property
    def started(self) -> int:
        with self._condition:
            return self._started

    def release_all(self) -> None:
        with self._condition:
            self._release.set()
            self._release = threading.Event()
