"""What BigCommerce's documentation leaves open about reading refunds back, as switches of the simulator.

The engine must be right under every reading, so the tests and `make soak` run under each:

- Reasons. The `Refund` and `RefundItem` schemas list `reason` (orders.v3.yml, components/schemas/Refund,
  RefundItem), but the read-back example of "Get a Refund" (RefundID_Get, x-examples) shows a top-level
  reason and none on the items, and how item reasons become the top-level one is not documented.
  ITEMS: item reasons echoed, the top-level reason joined from them; TOP_ONLY: only the top-level one;
  NONE: no reason anywhere (neither in the create's answer nor in any read-back).
- Lists that lag. Nothing documents that a refund shows in "Get Refunds for Order" / "Get All Refunds" as
  soon as its create has answered; `list_lag_seconds` hides a refund from the lists for that long.
- Late commits. "Create Refund" says the payment request is *scheduled* (processing is asynchronous);
  whether a create the client gave up on can still commit afterwards is not said. A late-commit stall
  (BigCommerceStore.commit_late) holds the answer until the client times out and commits the refund
  only some seconds after that.
- Amounts read back. The `RefundItem` schema gives `requested_amount` (an Amount), but the "Get a Refund"
  example shows `requested_amount: null` (on a PRODUCT item) and its schema marks it nullable.
  `amounts_echoed=False` reads every item's `requested_amount` back as null.
- Concurrent refunds. The refund endpoints say "Processing multiple concurrent refunds on the same order
  is not yet supported" (orders.v3.yml, Create a Refund Quote / Create a Refund), and document no 409.
  `concurrent_refunds=REFUSE` answers a create or quote on an order whose refund is still being
  processed with 409 (what a careful API would do); ACCEPT processes it as if nothing else were (what
  "not supported" may also mean): a second create made while one is pending then refunds twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonEcho(StrEnum):
    ITEMS = "items"
    TOP_ONLY = "top_only"
    NONE = "none"


class ConcurrentRefunds(StrEnum):
    REFUSE = "refuse"
    ACCEPT = "accept"


@dataclass(frozen=True)
class ReadBack:
    reason_echo: ReasonEcho = ReasonEcho.ITEMS
    list_lag_seconds: float = 0.0
    amounts_echoed: bool = True
    concurrent_refunds: ConcurrentRefunds = ConcurrentRefunds.REFUSE

    @property
    def name(self) -> str:
        parts = [f"reasons: {self.reason_echo.value}"]
        if self.list_lag_seconds:
            parts.append(f"lists lag {self.list_lag_seconds:g} s")
        if not self.amounts_echoed:
            parts.append("amounts read back null")
        if self.concurrent_refunds is ConcurrentRefunds.ACCEPT:
            parts.append("concurrent refunds accepted")
        return ", ".join(parts)
