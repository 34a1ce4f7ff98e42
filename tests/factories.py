"""Builders of NetSuite refunds and BigCommerce orders for tests: consistent by default, easy to bend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from refund_sync.domain.bigcommerce import BigCommerceOrder, Consignment, OrderLine
from refund_sync.domain.money import ZERO, to_cents, total
from refund_sync.domain.netsuite import NetSuiteRefund, PaidOut, RecordType, RefundLine

D = Decimal
TEN_PERCENT = Decimal("0.10")


@dataclass(frozen=True)
class Product:
    """An order line: SKU, quantity and unit price before tax; tax at `tax_rate`."""

    sku: str
    quantity: int
    price: Decimal
    tax_rate: Decimal = TEN_PERCENT
    refunded: int = 0
    discount: Decimal = ZERO
    line_id: int | None = None
    product_id: int | None = None
    variant_id: int | None = None


def order(
    *products: Product,
    order_id: int = 100,
    shipping: tuple[Decimal, ...] = (D("10.00"),),
    handling: tuple[Decimal, ...] | None = None,
    customer_id: int = 7,
    currency: str = "USD",
    store_currency: str = "USD",
    status_id: int = 11,
    store_credit: Decimal = ZERO,
) -> BigCommerceOrder:
    consignments = tuple(
        Consignment(
            address_id=10 + index,
            shipping_inc_tax=cost,
            handling_inc_tax=(handling or ())[index] if handling and index < len(handling) else ZERO,
        )
        for index, cost in enumerate(shipping)
    )
    lines = []
    for index, product in enumerate(products):
        total_ex = product.price * product.quantity
        total_inc = to_cents(total_ex * (1 + product.tax_rate))
        discounted = to_cents((total_ex - product.discount) * (1 + product.tax_rate))
        lines.append(
            OrderLine(
                id=product.line_id or 500 + index,
                product_id=product.product_id or 900 + index,
                variant_id=product.variant_id,
                sku=product.sku,
                name=f"Product {product.sku}",
                quantity=product.quantity,
                quantity_refunded=product.refunded,
                price_ex_tax=product.price,
                price_inc_tax=to_cents(product.price * (1 + product.tax_rate)),
                total_ex_tax=total_ex,
                total_inc_tax=total_inc,
                discount=product.discount,
                discounted_total_inc_tax=discounted,
                order_address_id=consignments[0].address_id if consignments else 0,
            )
        )
    grand = to_cents(
        total(line.discounted_total_inc_tax or ZERO for line in lines)
        + total(c.shipping_inc_tax + c.handling_inc_tax for c in consignments)
    )
    return BigCommerceOrder(
        id=order_id,
        status_id=status_id,
        customer_id=customer_id,
        currency_code=currency,
        store_default_currency_code=store_currency,
        total_inc_tax=grand,
        store_credit_amount=store_credit,
        lines=tuple(lines),
        consignments=consignments,
    )


def line(
    number: int,
    sku: str | None,
    quantity: Decimal | int | None,
    amount: Decimal | str,
    *,
    tax: Decimal | str = "0",
    item_type: str = "InvtPart",
    item_name: str | None = None,
    item_id: str | None = None,
    bigcommerce_line_id: str | None = None,
    bigcommerce_product_id: str | None = None,
    bigcommerce_variant_id: str | None = None,
) -> RefundLine:
    qty = D(quantity) if quantity is not None else None
    amt = D(amount)
    return RefundLine(
        line=number,
        item_id=item_id or str(2000 + number),
        item_name=item_name or (sku or item_type),
        item_type=item_type,
        sku=sku,
        quantity=qty,
        rate=(amt / qty) if qty else None,
        amount=amt,
        tax_amount=D(tax),
        bigcommerce_line_id=bigcommerce_line_id,
        bigcommerce_product_id=bigcommerce_product_id,
        bigcommerce_variant_id=bigcommerce_variant_id,
    )


def refund(
    *lines: RefundLine,
    netsuite_id: str = "1042",
    tran_id: str = "CM-1042",
    order_id: str | None = "100",
    shipping: Decimal | str = "0",
    shipping_tax: Decimal | str = "0",
    handling: Decimal | str = "0",
    handling_tax: Decimal | str = "0",
    total_override: Decimal | str | None = None,
    currency: str = "USD",
    record_type: RecordType = RecordType.CREDIT_MEMO,
    paid_out: bool = False,
    last_modified: datetime | None = None,
) -> NetSuiteRefund:
    line_sum = total(entry.amount for entry in lines)
    tax_sum = total(entry.tax_amount for entry in lines)
    header = D(shipping) + D(shipping_tax) + D(handling) + D(handling_tax)
    grand = D(total_override) if total_override is not None else line_sum + tax_sum + header
    return NetSuiteRefund(
        id=netsuite_id,
        record_type=record_type,
        tran_id=tran_id,
        tran_date=date(2026, 11, 20),
        last_modified=last_modified or datetime(2026, 11, 20, 10, 15, tzinfo=UTC),
        currency=currency,
        subtotal=line_sum,
        tax_total=tax_sum + D(shipping_tax) + D(handling_tax),
        shipping_amount=D(shipping),
        shipping_tax=D(shipping_tax),
        handling_amount=D(handling),
        handling_tax=D(handling_tax),
        total=grand,
        bigcommerce_order_id=order_id,
        order_id_source="custbody_fa_channel_order on SO-1001" if order_id else None,
        lines=list(lines),
        paid_out=PaidOut(by_netsuite=paid_out),
    )
