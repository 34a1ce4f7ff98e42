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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonEcho(StrEnum):
    ITEMS = "items"
    TOP_ONLY = "top_only"
    NONE = "none"


@dataclass(frozen=True)
class ReadBack:
    reason_echo: ReasonEcho = ReasonEcho.ITEMS
    list_lag_seconds: float = 0.0

    @property
    def name(self) -> str:
        parts = [f"reasons: {self.reason_echo.value}"]
        if self.list_lag_seconds:
            parts.append(f"lists lag {self.list_lag_seconds:g} s")
        return ", ".join(parts)
