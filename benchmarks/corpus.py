"""The mixed corpus the benchmarks sync: every common kind of refund, one refund per BigCommerce order.

The kinds come round in turn, so any count of refunds carries them in equal shares: line items with
shipping, a partial quantity, shipping split over two consignments, items from two consignments, a
custom (goodwill) amount, handling, a discounted line, and a record-only refund NetSuite already paid.
Amounts and tax follow the demo's catalogue (10 % tax), so every refund syncs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from refund_sync.domain.money import ZERO
from refund_sync.domain.netsuite import NetSuiteRefund, PaidOut, PaidOutMethod, RefundLine
from refund_sync_sandbox.bigcommerce import Order
from refund_sync_sandbox.netsuite import BillingType, NetSuiteAccount
from refund_sync_sandbox.scenarios import CAP, DEMO_SETTINGS, MUG, SOCKS, TEE, address, order, other_line

D = Decimal
# The engine settings the corpus needs beyond the defaults: the items that mean handling and goodwill.
CORPUS_SETTINGS: dict[str, str] = dict(DEMO_SETTINGS)


@dataclass(frozen=True)
class RefundSpec:
    """What the NetSuite refund holds: its lines, shipping, handling and who paid it out."""

    lines: list[RefundLine]
    shipping: Decimal = ZERO
    handling: Decimal = ZERO
    cash: bool = False  # a cash refund (from a cash sale) rather than a credit memo
    paid_by_netsuite: bool = False


@dataclass(frozen=True)
class CorpusEntry:
    kind: str
    order: Order
    refund: RefundSpec

    def add_to(self, account: NetSuiteAccount) -> NetSuiteRefund:
        """Record the refund in the simulated NetSuite account, from its own sales order and billing."""
        sales_order = account.add_sales_order(bigcommerce_order_id=str(self.order.id))
        billing = account.add_billing(
            sales_order, BillingType.CASH_SALE if self.refund.cash else BillingType.INVOICE
        )
        paid_out = (
            PaidOut(by_netsuite=True, method=PaidOutMethod.PAYMENT_GATEWAY, reference=f"PN-{self.order.id}")
            if self.refund.paid_by_netsuite
            else None
        )
        tax = D("0.10")
        return account.create_refund(
            billing,
            self.refund.lines,
            shipping_amount=self.refund.shipping,
            shipping_tax=(self.refund.shipping * tax).quantize(D("0.01")),
            handling_amount=self.refund.handling,
            handling_tax=(self.refund.handling * tax).quantize(D("0.01")),
            paid_out=paid_out,
        )


def _lines_and_shipping(order_id: int, base: int) -> CorpusEntry:
    bc = order(
        order_id,
        [TEE.order_line(base, 2, base), MUG.order_line(base + 1, 1, base)],
        [address(base, D("8.00"))],
    )
    return CorpusEntry(
        "line items + shipping",
        bc,
        RefundSpec([TEE.refund_line(1, 2), MUG.refund_line(2, 1)], shipping=D("8.00")),
    )


def _partial_quantity(order_id: int, base: int) -> CorpusEntry:
    bc = order(order_id, [CAP.order_line(base, 3, base)], [address(base, D("5.00"))])
    return CorpusEntry("partial quantity (1 of 3)", bc, RefundSpec([CAP.refund_line(1, 1)], cash=True))


def _shipping_two_consignments(order_id: int, base: int) -> CorpusEntry:
    bc = order(
        order_id,
        [TEE.order_line(base, 1, base), MUG.order_line(base + 1, 1, base + 1)],
        [address(base, D("6.00")), address(base + 1, D("4.00"))],
    )
    return CorpusEntry("shipping over two consignments", bc, RefundSpec([], shipping=D("10.00")))


def _items_two_consignments(order_id: int, base: int) -> CorpusEntry:
    bc = order(
        order_id,
        [TEE.order_line(base, 1, base), MUG.order_line(base + 1, 2, base + 1)],
        [address(base, D("6.00")), address(base + 1, D("4.00"))],
    )
    return CorpusEntry(
        "items from two consignments", bc, RefundSpec([TEE.refund_line(1, 1), MUG.refund_line(2, 2)])
    )


def _custom_amount(order_id: int, base: int) -> CorpusEntry:
    bc = order(order_id, [TEE.order_line(base, 1, base)], [address(base, D("5.00"))])
    return CorpusEntry(
        "custom amount (goodwill)", bc, RefundSpec([other_line(1, "Goodwill Credit", D("5.00"))])
    )


def _handling(order_id: int, base: int) -> CorpusEntry:
    bc = order(order_id, [SOCKS.order_line(base, 2, base)], [address(base, D("5.00"), handling=D("2.00"))])
    return CorpusEntry(
        "handling",
        bc,
        RefundSpec([other_line(1, "Handling Fee", D("2.00"), tax=D("0.20"))], cash=True),
    )


def _discounted_line(order_id: int, base: int) -> CorpusEntry:
    bc = order(order_id, [CAP.order_line(base, 1, base, discount=D("3.00"))], [address(base, D("5.00"))])
    discount = other_line(2, "Spring sale", D("-3.00"), item_type="Discount", tax=D("-0.30"))
    return CorpusEntry("discounted line", bc, RefundSpec([CAP.refund_line(1, 1), discount]))


def _record_only(order_id: int, base: int) -> CorpusEntry:
    bc = order(order_id, [MUG.order_line(base, 1, base)], [address(base, D("5.00"))])
    return CorpusEntry(
        "record-only (NetSuite paid it)",
        bc,
        RefundSpec([MUG.refund_line(1, 1)], cash=True, paid_by_netsuite=True),
    )


KINDS: tuple[Callable[[int, int], CorpusEntry], ...] = (
    _lines_and_shipping,
    _partial_quantity,
    _shipping_two_consignments,
    _items_two_consignments,
    _custom_amount,
    _handling,
    _discounted_line,
    _record_only,
)


def mixed_corpus(count: int, *, first_order_id: int = 100_000) -> list[CorpusEntry]:
    """`count` refunds, the kinds in turn, each on its own order (ids from `first_order_id`)."""
    entries = []
    for index in range(count):
        order_id = first_order_id + index
        # line and address ids unique across the store, as BigCommerce's are
        entries.append(KINDS[index % len(KINDS)](order_id, order_id * 10))
    return entries
