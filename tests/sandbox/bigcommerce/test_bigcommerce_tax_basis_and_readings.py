"""How the simulated store prices refunds on orders priced before tax, and under each reading of what
BigCommerce's documents leave open (readings.py): amounts, quote totals, rounding, adjustments, gift
certificates, gift wrapping, currencies. These drive the store directly; bodies are what a client sends.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from refund_sync_sandbox.bigcommerce import (
    AppliedDiscount,
    BigCommerceStore,
    Order,
    ProductLine,
    Tender,
    sample_orders,
)
from refund_sync_sandbox.bigcommerce.errors import Unprocessable
from refund_sync_sandbox.bigcommerce.ledger import OrderLedger
from refund_sync_sandbox.bigcommerce.readings import (
    AdjustmentPlace,
    AmountBasis,
    GiftCertificateRefund,
    QuoteTotal,
    Rounding,
    StoreReadings,
    TaxFlagName,
    TaxPricing,
    every_reading,
)
from refund_sync_sandbox.bigcommerce.render import order_json, product_json

from .support import amount_item, money, product, three_for_ten

EXCLUSIVE = StoreReadings(pricing=TaxPricing.EXCLUSIVE)


def store_with(readings: StoreReadings = EXCLUSIVE) -> BigCommerceStore:
    return BigCommerceStore(sample_orders(), readings=readings)


def quote(store: BigCommerceStore, order_id: int, *items: dict[str, Any]) -> dict[str, Any]:
    return store.quote_refund(order_id, {"items": list(items)}).to_json()


def payout(quoted: dict[str, Any]) -> set[Decimal]:
    return {sum((option["amount"] for option in method), Decimal(0)) for method in quoted["refund_methods"]}


def test_on_an_order_priced_before_tax_a_shipping_amount_is_before_tax_and_bigcommerce_adds_the_tax() -> None:
    # Given order 104 of the US store: shipping 7.00 + 8.25 % = 7.58 to address 541
    store = store_with()

    # When 7.00 of shipping is quoted
    quoted = quote(store, 104, amount_item("SHIPPING", 541, "7.00"))

    # Then the quote says the total is before tax, the tax beside it, and every method pays both
    assert quoted["tax_inclusive"] is False
    assert (quoted["total_refund_amount"], quoted["total_refund_tax_amount"]) == (
        money("7.00"),
        money("0.58"),
    )
    assert payout(quoted) == {money("7.58")}
    assert quoted["adjustment"] == 0

    # And the same amount with its tax already in it is more than the address has left
    too_much = quote(store, 104, amount_item("SHIPPING", 541, "7.58"))
    assert too_much["adjustment"] < 0
    with pytest.raises(Unprocessable, match="exceeds remaining"):
        store.create_refund(
            104,
            {"items": [amount_item("SHIPPING", 541, "7.58")], "payments": quoted["refund_methods"][0]},
        )


def test_an_order_seeded_without_a_basis_takes_the_stores_setting_and_shows_it() -> None:
    order = three_for_ten(300).model_copy(update={"tax_inclusive_pricing": None})
    for pricing, shown in ((TaxPricing.INCLUSIVE, True), (TaxPricing.EXCLUSIVE, False)):
        store = BigCommerceStore([order], readings=StoreReadings(pricing=pricing))
        snapshot = store.snapshot(300)
        body = order_json(snapshot.order, snapshot.ledger, links_base="http://x")
        assert body["is_tax_inclusive_pricing"] is shown


@pytest.mark.parametrize(
    ("quote_total", "flag", "total"),
    [
        (QuoteTotal.EXCLUDES_TAX, False, "7.00"),
        (QuoteTotal.FLAG_ONLY, False, "7.58"),
        (QuoteTotal.ALWAYS_INCLUSIVE, True, "7.58"),
    ],
)
def test_each_reading_of_the_quote_total_pays_the_same_money(
    quote_total: QuoteTotal, flag: bool, total: str
) -> None:
    quoted = quote(
        store_with(StoreReadings(pricing=TaxPricing.EXCLUSIVE, quote_total=quote_total)),
        104,
        amount_item("SHIPPING", 541, "7.00"),
    )
    assert (quoted["tax_inclusive"], quoted["total_refund_amount"]) == (flag, money(total))
    assert payout(quoted) == {money("7.58")}


def test_the_guides_flag_name_can_replace_the_specs() -> None:
    quoted = quote(
        store_with(StoreReadings(pricing=TaxPricing.EXCLUSIVE, tax_flag=TaxFlagName.IS_TAX_INCLUDED)),
        104,
        amount_item("SHIPPING", 541, "7.00"),
    )
    assert "tax_inclusive" not in quoted
    assert quoted["is_tax_included"] is False


@pytest.mark.parametrize(
    ("basis", "order_id", "address", "amount", "expected_payout"),
    [
        (AmountBasis.TAX_INCLUSIVE, 104, 541, "7.58", "7.58"),  # the tax taken out of the amount asked
        (AmountBasis.TAX_INCLUSIVE, 104, 541, "7.00", "7.00"),
        (AmountBasis.TAX_EXCLUSIVE, 100, 501, "5.00", "5.50"),  # the tax added even with tax-in prices
        (AmountBasis.ORDER_BASIS, 100, 501, "5.50", "5.50"),
        (AmountBasis.ORDER_BASIS, 104, 541, "7.00", "7.58"),
    ],
)
def test_each_reading_of_shipping_amounts(
    basis: AmountBasis, order_id: int, address: int, amount: str, expected_payout: str
) -> None:
    store = store_with(StoreReadings(pricing=TaxPricing.INCLUSIVE, amount_basis=basis))  # 100: with tax
    assert payout(quote(store, order_id, amount_item("SHIPPING", address, amount))) == {
        money(expected_payout)
    }


def test_products_on_an_order_priced_before_tax_are_priced_and_taxed_apart_and_add_up_exactly() -> None:
    # Given three lanterns at 10.00 + 8.25 % (10.83), 1.00 off the line: 29.00 + 2.41 tax, which three
    # does not divide
    lanterns = ProductLine(
        id=1,
        product_id=1,
        name="Lantern",
        type="digital",
        quantity=3,
        price_ex_tax=money("10.00"),
        price_inc_tax=money("10.83"),
        applied_discounts=[AppliedDiscount(amount=money("1.00"))],
    )
    order = Order(
        id=7,
        customer_id=1,
        tax_inclusive_pricing=False,
        products=[lanterns],
        tenders=[Tender(provider_id="braintree", amount=money("31.41"))],
    )
    store = BigCommerceStore([order])

    # When they are refunded one at a time
    pieces = []
    for _ in range(3):
        quoted = quote(store, 7, product(1, 1))
        pieces.append((quoted["total_refund_amount"], quoted["total_refund_tax_amount"]))
        store.create_refund(7, {"items": [product(1, 1)], "payments": quoted["refund_methods"][0]})

    # Then each is its share before tax plus its share of the tax, the last taking the cents left,
    # and together they are the line to the cent
    assert pieces == [
        (money("9.67"), money("0.80")),
        (money("9.67"), money("0.80")),
        (money("9.66"), money("0.81")),
    ]
    assert sum((refund.total_amount for refund in store.list_refunds()), Decimal(0)) == money("31.41")
    assert store.snapshot(7).order.status_id == 4


def test_gift_wrapping_is_refunded_by_wrapped_unit_and_shown_on_the_line() -> None:
    store = store_with()
    snapshot = store.snapshot(104)
    scarves = snapshot.order.product(1042)
    assert scarves is not None
    shown = product_json(snapshot.order, scarves, snapshot.ledger)
    assert (shown["wrapping_name"], shown["wrapping_cost_ex_tax"], shown["wrapping_cost_inc_tax"]) == (
        "Holiday Wrap",
        "8.0000",
        "8.6600",
    )

    wrap = {"item_type": "GIFT_WRAPPING", "item_id": 1042, "quantity": 1}
    quoted = quote(store, 104, wrap)
    assert payout(quoted) == {money("4.33")}
    store.create_refund(104, {"items": [wrap], "payments": quoted["refund_methods"][0]})
    assert payout(quote(store, 104, wrap)) == {money("4.33")}
    with pytest.raises(Unprocessable, match="gift-wrapped quantity 1"):
        quote(store, 104, {**wrap, "quantity": 2})
    with pytest.raises(Unprocessable, match="no gift wrapping"):
        quote(store, 104, {"item_type": "GIFT_WRAPPING", "item_id": 1041, "quantity": 1})


def test_a_fee_amount_is_read_in_the_orders_basis_like_shipping() -> None:
    quoted = quote(store_with(), 104, amount_item("FEE", 2, "2.50"))
    assert (quoted["total_refund_amount"], quoted["total_refund_tax_amount"]) == (
        money("2.50"),
        money("0.21"),
    )
    assert payout(quoted) == {money("2.71")}


def test_rounded_once_on_the_total_a_quote_reports_its_rounding_and_a_positive_adjustment() -> None:
    # Given three units that cost 10.00 together, on a store that rounds once, on the total
    store = BigCommerceStore([three_for_ten(200)], readings=StoreReadings(rounding=Rounding.ON_TOTAL))

    # When they are refunded one at a time
    quotes = []
    for _ in range(3):
        quoted = quote(store, 200, product(2001, 1))
        quotes.append(quoted)
        store.create_refund(200, {"items": [product(2001, 1)], "payments": quoted["refund_methods"][0]})

    # Then the first two round 3.333... down and say so; the last takes the cent left: a positive adjustment
    assert [(q["total_refund_amount"], q["rounding"], q["adjustment"]) for q in quotes] == [
        (money("3.33"), money("-0.0033"), 0),
        (money("3.33"), money("-0.0033"), 0),
        (money("3.34"), money("-0.0033"), money("0.01")),
    ]
    # And what was recorded adds up to what was paid, to the cent
    snapshot = store.snapshot(200)
    assert snapshot.ledger.order_remaining == 0
    assert sum((refund.total_amount for refund in store.list_refunds()), Decimal(0)) == money("10.00")


def test_with_the_adjustment_on_top_the_total_is_what_was_asked_and_the_methods_what_is_refundable() -> None:
    readings = StoreReadings(rounding=Rounding.ON_TOTAL, adjustment=AdjustmentPlace.ON_TOP)
    store = BigCommerceStore([three_for_ten(200)], readings=readings)
    for _ in range(2):
        quoted = quote(store, 200, product(2001, 1))
        store.create_refund(200, {"items": [product(2001, 1)], "payments": quoted["refund_methods"][0]})
    last = quote(store, 200, product(2001, 1))
    assert (last["total_refund_amount"], last["adjustment"]) == (money("3.33"), money("0.01"))
    assert payout(last) == {money("3.34")}


@pytest.mark.parametrize(
    ("reading", "method"),
    [
        (GiftCertificateRefund.OFFLINE, [("giftcertificate", "25.00", True), ("braintree", "31.29", False)]),
        (
            GiftCertificateRefund.STORE_CREDIT,
            [("storecredit", "25.00", False), ("braintree", "31.29", False)],
        ),
        (GiftCertificateRefund.ONLINE, [("giftcertificate", "25.00", False), ("braintree", "31.29", False)]),
    ],
)
def test_an_order_paid_by_gift_certificate_and_card_refunds_both_parts_per_the_reading(
    reading: GiftCertificateRefund, method: list[tuple[str, str, bool]]
) -> None:
    # Given order 105: 25.00 by gift certificate, 31.29 by card; refunded in full
    store = store_with(StoreReadings(pricing=TaxPricing.EXCLUSIVE, gift_certificates=reading))
    everything = [product(1051, 1), amount_item("SHIPPING", 551, "7.00")]
    original = quote(store, 105, *everything)["refund_methods"][0]
    assert [(o["provider_id"], o["amount"], o["offline"]) for o in original] == [
        (provider, money(amount), offline) for provider, amount, offline in method
    ]
    refund = store.create_refund(105, {"items": everything, "payments": original})
    assert refund.total_amount == money("56.29")


def test_an_order_shown_in_another_currency_is_refunded_in_the_one_it_was_paid_in() -> None:
    store = store_with()
    snapshot = store.snapshot(106)
    body = order_json(snapshot.order, snapshot.ledger, links_base="http://x")
    assert (body["currency_code"], body["currency_exchange_rate"]) == ("AUD", "1.3846150000")
    assert (body["default_currency_code"], body["store_default_currency_code"]) == ("USD", "USD")
    assert body["total_inc_tax"] == "33.4600"  # in USD: the display currency only shows prices
    methods = quote(store, 106, product(1061, 1))["refund_methods"]
    assert ["storecredit"] in [[o["provider_id"] for o in method] for method in methods]


@pytest.mark.parametrize("readings", every_reading(TaxPricing.EXCLUSIVE), ids=StoreReadings.label)
def test_under_every_reading_refunding_everything_pays_back_the_order_to_the_cent(
    readings: StoreReadings,
) -> None:
    # Given order 104 of the US store, under one reading of the open questions
    store = store_with(readings)
    order = store.snapshot(104).order

    # When every line, wrapping, fee and address is refunded, each in the basis the store reads it in
    before_tax = readings.amount_basis is not AmountBasis.TAX_INCLUSIVE
    items = [product(line.id, line.quantity) for line in order.products]
    items.append({"item_type": "GIFT_WRAPPING", "item_id": 1042, "quantity": 2})
    for address in order.shipping_addresses:
        cost = address.cost_ex_tax if before_tax else address.cost_inc_tax
        items.append(amount_item("SHIPPING", address.id, str(cost)))
    fee = order.fees[0]
    items.append(amount_item("FEE", fee.id, str(fee.cost_ex_tax if before_tax else fee.cost_inc_tax)))
    quoted = quote(store, 104, *items)
    store.create_refund(104, {"items": items, "payments": quoted["refund_methods"][0]})

    # Then what the methods paid is what the order cost, and nothing is left
    assert payout(quoted) == {order.total_inc_tax}
    snapshot = store.snapshot(104)
    assert OrderLedger(snapshot.order, store.list_refunds()).order_remaining == 0
    assert snapshot.order.status_id == 4
