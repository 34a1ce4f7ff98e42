"""What is left to refund on an order, derived from the refunds recorded against it.

Rules (the simulator's reading of BigCommerce's behaviour):
- a refund whose every payment was declined gives everything back: quantities and amounts;
- a refund with only some payments declined keeps its items refunded, but the declined money returns
  to the order's remainder (it can still be refunded, e.g. as an ORDER amount);
- a tender's remainder counts only the payments made back to that tender.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from refund_sync_sandbox.bigcommerce.models import (
    Fee,
    Order,
    ProductLine,
    RefundRecord,
    ShippingAddress,
    Tender,
)
from refund_sync_sandbox.bigcommerce.money import ZERO, total


class OrderLedger:
    def __init__(self, order: Order, refunds: Sequence[RefundRecord]) -> None:
        self.order = order
        self.refunds = tuple(refund for refund in refunds if refund.order_id == order.id)
        self._quantity: dict[int, int] = defaultdict(int)
        self._wrapped: dict[int, int] = defaultdict(int)
        self._consumed: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        self._tax: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        self._tender_paid_back: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for refund in self.refunds:
            for payment in refund.payments:
                if payment.tender_provider_id is not None and not payment.declined:
                    self._tender_paid_back[payment.tender_provider_id] += payment.amount
            if refund.fully_declined:
                continue
            for item in refund.items:
                key = (item.item_type, item.item_id)
                self._consumed[key] += item.consumed
                self._tax[key] += item.tax
                if item.item_type == "PRODUCT" and item.quantity is not None:
                    self._quantity[item.item_id] += item.quantity
                if item.item_type == "GIFT_WRAPPING" and item.quantity is not None:
                    self._wrapped[item.item_id] += item.quantity
        self.refunded_amount = total(refund.effective_amount for refund in self.refunds)

    # -- products

    def quantity_refunded(self, line: ProductLine) -> int:
        return self._quantity[line.id]

    def remaining_quantity(self, line: ProductLine) -> int:
        return line.quantity - self._quantity[line.id]

    def remaining_line_amount(self, line: ProductLine) -> Decimal:
        return line.paid_inc_tax - self._consumed["PRODUCT", line.id]

    def remaining_line_tax(self, line: ProductLine) -> Decimal:
        return line.paid_tax - self._tax["PRODUCT", line.id]

    # -- gift wrapping: per order line, by wrapped unit

    def remaining_wrapped_quantity(self, line: ProductLine) -> int:
        return line.quantity - self._wrapped[line.id] if line.wrapping else 0

    def remaining_wrapping(self, line: ProductLine) -> tuple[Decimal, Decimal]:
        return self._remaining("GIFT_WRAPPING", line.id, line.wrapping_inc_tax, line.wrapping_tax)

    # -- amount-bound items: (remaining amount including tax, remaining tax)

    def remaining_shipping(self, address: ShippingAddress) -> tuple[Decimal, Decimal]:
        return self._remaining("SHIPPING", address.id, address.cost_inc_tax, address.cost_tax)

    def remaining_handling(self, address: ShippingAddress) -> tuple[Decimal, Decimal]:
        return self._remaining(
            "HANDLING", address.id, address.handling_cost_inc_tax, address.handling_cost_tax
        )

    def remaining_fee(self, fee: Fee) -> tuple[Decimal, Decimal]:
        return self._remaining("FEE", fee.id, fee.cost_inc_tax, fee.cost_tax)

    def _remaining(
        self, item_type: str, item_id: int, amount: Decimal, tax: Decimal
    ) -> tuple[Decimal, Decimal]:
        key = (item_type, item_id)
        return amount - self._consumed[key], tax - self._tax[key]

    # -- the order and its tenders

    @property
    def order_remaining(self) -> Decimal:
        return max(self.order.total_inc_tax - self.refunded_amount, ZERO)

    def tender_remaining(self, tender: Tender) -> Decimal:
        return max(tender.amount - self._tender_paid_back[tender.provider_id], ZERO)

    @property
    def has_refunds(self) -> bool:
        return self.refunded_amount > 0

    @property
    def fully_refunded(self) -> bool:
        return self.has_refunds and self.order_remaining == 0
