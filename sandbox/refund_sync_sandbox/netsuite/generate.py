"""Plausible refunds in bulk (for demos and load tests), each made from its own order and billing record."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from refund_sync.domain.money import ZERO, to_cents
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync_sandbox.netsuite.account import BillingType, NetSuiteAccount

DEFAULT_TAX_RATE = Decimal("0.0825")
_CATALOGUE: tuple[tuple[str, str, str, Decimal], ...] = (
    ("201", "Canvas Tote", "TOTE-CNV", Decimal("24.00")),
    ("202", "Enamel Mug", "MUG-ENM", Decimal("12.50")),
    ("203", "Wool Beanie", "BEAN-WL", Decimal("19.99")),
    ("204", "Linen Apron", "APRN-LIN", Decimal("34.00")),
    ("205", "Cast Iron Pan 10in", "PAN-CI10", Decimal("59.95")),
    ("206", "Trail Socks (3 pack)", "SOCK-TR3", Decimal("17.49")),
)
_CUSTOMERS = ("Ada Byron", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth")


def product_line(
    line: int,
    item_id: str,
    item_name: str,
    quantity: int | Decimal,
    rate: Decimal,
    *,
    sku: str | None = None,
    tax_rate: Decimal = ZERO,
    item_type: str = "InvtPart",
) -> RefundLine:
    """An item line as NetSuite computes it: amount = quantity x rate, tax rounded to the cent."""
    amount = to_cents(Decimal(quantity) * rate)
    return RefundLine(
        line=line,
        item_id=item_id,
        item_name=item_name,
        item_type=item_type,
        sku=sku,
        quantity=Decimal(quantity),
        rate=rate,
        amount=amount,
        tax_amount=to_cents(amount * tax_rate),
    )


def generate_refunds(
    account: NetSuiteAccount,
    count: int,
    *,
    seed: int = 0,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    step: timedelta = timedelta(minutes=7),
    outside_saved_search_every: int = 0,
    first_order_id: int | None = None,
    tax_rate: Decimal = DEFAULT_TAX_RATE,
    currency: str = "USD",
) -> list[NetSuiteRefund]:
    """`count` refunds, each from its own sales order (BigCommerce order id) and invoice or cash sale.

    Refunds are modified `step` apart from `start`, in id order. With `outside_saved_search_every=n`
    every n-th refund misses the saved search's criteria (it exists but the search does not return it).
    The same seed gives the same amounts.
    """
    rng = random.Random(seed)
    next_order = first_order_id if first_order_id is not None else 100 + len(account.refund_ids())
    refunds: list[NetSuiteRefund] = []
    for number in range(count):
        order = account.add_sales_order(
            bigcommerce_order_id=str(next_order + number), customer_name=rng.choice(_CUSTOMERS)
        )
        billing = account.add_billing(order, rng.choice((BillingType.INVOICE, BillingType.CASH_SALE)))
        picked = rng.sample(_CATALOGUE, k=rng.randint(1, 3))
        lines = [
            product_line(index + 1, item_id, name, rng.randint(1, 3), rate, sku=sku, tax_rate=tax_rate)
            for index, (item_id, name, sku, rate) in enumerate(picked)
        ]
        shipping = rng.choice((ZERO, ZERO, Decimal("5.00"), Decimal("9.95")))
        in_search = not (outside_saved_search_every and (number + 1) % outside_saved_search_every == 0)
        refunds.append(
            account.create_refund(
                billing,
                lines,
                last_modified=start + step * number,
                currency=currency,
                shipping_amount=shipping,
                shipping_tax=to_cents(shipping * tax_rate),
                in_saved_search=in_search,
            )
        )
    return refunds
