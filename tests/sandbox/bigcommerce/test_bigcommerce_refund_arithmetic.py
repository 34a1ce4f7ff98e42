"""How the simulated store prices refunds, tracks what remains and sets the order status.

These drive the store directly (no HTTP); the bodies are what a client would send as JSON.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from refund_sync_sandbox.bigcommerce import AppliedDiscount, BigCommerceStore, Order, ProductLine, Tender
from refund_sync_sandbox.bigcommerce.errors import Unprocessable
from refund_sync_sandbox.bigcommerce.readings import Rounding, StoreReadings

from .support import amount_item, money, payment, product, three_for_ten


def quote(store: BigCommerceStore, order_id: int, *items: dict[str, Any]) -> dict[str, Any]:
    return store.quote_refund(order_id, {"items": list(items)}).to_json()


def refund_with_first_method(store: BigCommerceStore, order_id: int, *items: dict[str, Any]) -> Any:
    """Quote, then create with the quote's first method copied exactly (what a careful client does)."""
    method = quote(store, order_id, *items)["refund_methods"][0]
    return store.create_refund(order_id, {"items": list(items), "payments": method})


def test_partial_refunds_of_a_line_take_unit_values_and_the_last_unit_takes_the_remaining_cents() -> None:
    # Given three units that cost 10.00 together
    store = BigCommerceStore([three_for_ten(200)])
    line = 2001

    # When they are refunded one at a time
    amounts = [refund_with_first_method(store, 200, product(line, 1)).total_amount for _ in range(3)]

    # Then the cents add up to what was paid: nothing drifts, nothing is left
    assert amounts == [money("3.33"), money("3.33"), money("3.34")]
    snapshot = store.snapshot(200)
    assert snapshot.ledger.quantity_refunded(snapshot.order.products[0]) == 3
    assert snapshot.ledger.order_remaining == 0


def test_remaining_quantity_and_amount_shrink_with_each_partial_refund(store: BigCommerceStore) -> None:
    # Given order 100: three towels at 22.00 including 2.00 tax each
    first = refund_with_first_method(store, 100, product(1001, 2))
    assert (first.total_amount, first.total_tax) == (money("44.00"), money("4.00"))

    # Then one towel remains: two more cannot be refunded, at quote or at create
    for attempt in (store.quote_refund, store.create_refund):
        with pytest.raises(Unprocessable, match="exceeds the remaining refundable quantity 1"):
            attempt(100, {"items": [product(1001, 2)], "payments": [payment("braintree", "44.00")]})
    last = quote(store, 100, product(1001, 1))
    assert (last["total_refund_amount"], last["total_refund_tax_amount"]) == (money("22.00"), money("2.00"))


def test_a_product_amount_is_ignored_and_adjustments_deduct_from_the_refund(store: BigCommerceStore) -> None:
    # When a client sends an amount on a PRODUCT item (BigCommerce ignores it) and a restocking fee
    quoted = quote(
        store, 100, product(1001, 1, amount=Decimal("1.00"), adjustments=[{"amount": Decimal("-2.50")}])
    )

    # Then the unit's value less the adjustment is refunded; the tax is the unit's tax
    assert quoted["total_refund_amount"] == money("19.50")
    assert quoted["total_refund_tax_amount"] == money("2.00")


def test_adjustments_larger_than_the_item_are_refused(store: BigCommerceStore) -> None:
    with pytest.raises(Unprocessable, match=r"exceed the refund amount 22\.00"):
        quote(store, 100, product(1001, 1, adjustments=[{"amount": Decimal("-22.01")}]))


def test_the_discounted_line_refunds_what_was_paid_not_its_list_price(store: BigCommerceStore) -> None:
    # Given the mug: 12.00 + 10% tax, less a 2.00 discount before tax -> 10.00 + 1.00 tax paid
    quoted = quote(store, 100, product(1002, 1))
    assert (quoted["total_refund_amount"], quoted["total_refund_tax_amount"]) == (
        money("11.00"),
        money("1.00"),
    )


def test_shipping_handling_and_fees_refund_amounts_with_proportional_tax(store: BigCommerceStore) -> None:
    # Shipping 11.00 (1.00 tax), handling 2.20 (0.20 tax), fee 3.30 (0.30 tax) on order 100
    quoted = quote(
        store,
        100,
        amount_item("SHIPPING", 501, "5.50"),
        amount_item("HANDLING", 501, "2.20"),
        amount_item("FEE", 1, "1.10"),
    )
    assert quoted["total_refund_amount"] == money("8.80")
    assert quoted["total_refund_tax_amount"] == money("0.50") + money("0.20") + money("0.10")
    assert quoted["adjustment"] == 0


def test_a_quote_caps_what_exceeds_the_remainder_and_reports_a_negative_adjustment(
    store: BigCommerceStore,
) -> None:
    # Given 5.00 of order 100's 11.00 shipping already refunded
    refund_with_first_method(store, 100, amount_item("SHIPPING", 501, "5.00"))

    # When 10.00 more is quoted
    quoted = quote(store, 100, amount_item("SHIPPING", 501, "10.00"))

    # Then the quote offers the 6.00 left and says 4.00 was asked beyond it
    assert quoted["total_refund_amount"] == money("6.00")
    assert quoted["adjustment"] == money("-4.00")
    assert quoted["refund_methods"][0][0]["amount"] == money("6.00")

    # But the create refuses to cap: the client must ask for what remains
    with pytest.raises(Unprocessable, match="Refund amount exceeds remaining amount"):
        store.create_refund(
            100,
            {"items": [amount_item("SHIPPING", 501, "10.00")], "payments": [payment("braintree", "6.00")]},
        )


def test_an_order_level_amount_is_tax_exempt_must_name_the_order_and_is_bounded_by_the_order(
    store: BigCommerceStore,
) -> None:
    quoted = quote(store, 100, amount_item("ORDER", 100, "5.00", reason="Overcharged"))
    assert quoted["order_level_refund_amount"] == money("5.00")
    assert quoted["total_refund_tax_amount"] == 0

    with pytest.raises(Unprocessable, match="must be the order id"):
        quote(store, 100, amount_item("ORDER", 1001, "5.00"))

    capped = quote(store, 100, amount_item("ORDER", 100, "100.00"))
    assert (capped["total_refund_amount"], capped["adjustment"]) == (money("93.50"), money("-6.50"))

    # Several items share the order's remainder: what one takes, the next cannot
    shared = quote(
        store, 100, product(1001, 3), amount_item("ORDER", 100, "20.00"), amount_item("ORDER", 100, "20.00")
    )
    assert (shared["total_refund_amount"], shared["adjustment"]) == (money("93.50"), money("-12.50"))


def test_items_that_are_not_on_the_order_are_refused(store: BigCommerceStore) -> None:
    for item, message in [
        (product(9999, 1), "Order product 9999 was not found"),
        (amount_item("SHIPPING", 9999, "1.00"), "Shipping address 9999 was not found"),
        (amount_item("FEE", 9999, "1.00"), "Fee 9999 was not found"),
        ({"item_type": "GIFT_WRAPPING", "item_id": 1001, "quantity": 1}, "no gift wrapping"),
        (amount_item("TAX", 100, "1.00"), "use tax_adjustment_amount"),
        ({"item_type": "PRODUCT", "item_id": 1001, "quantity": Decimal("1.5")}, "valid integer"),
        ({"item_type": "PRODUCT", "item_id": 1001}, "quantity is required"),
        (amount_item("SHIPPING", 501, "1.005"), "at most 2 decimal places"),
    ]:
        with pytest.raises(Unprocessable, match=message):
            quote(store, 100, item)


def test_a_tax_adjustment_is_refused_because_the_sandbox_never_overcharges_tax(
    store: BigCommerceStore,
) -> None:
    with pytest.raises(Unprocessable, match=r"calculated overcharged tax, which is 0.00"):
        store.quote_refund(100, {"tax_adjustment_amount": Decimal("1.99")})


def test_the_order_becomes_partially_refunded_then_refunded(store: BigCommerceStore) -> None:
    # Given order 100, awaiting fulfillment
    assert store.snapshot(100).order.status_id == 11

    # When part of it is refunded, BigCommerce marks it Partially Refunded (14)
    refund_with_first_method(store, 100, product(1001, 1))
    assert store.snapshot(100).order.status_id == 14

    # And when the rest is refunded, Refunded (4)
    refund_with_first_method(
        store,
        100,
        product(1001, 2),
        product(1002, 1),
        amount_item("SHIPPING", 501, "11.00"),
        amount_item("HANDLING", 501, "2.20"),
        amount_item("FEE", 1, "3.30"),
    )
    snapshot = store.snapshot(100)
    assert snapshot.order.status_id == 4
    assert snapshot.ledger.fully_refunded


def test_a_single_card_order_offers_the_card_store_credit_and_custom(store: BigCommerceStore) -> None:
    methods = quote(store, 100, product(1001, 1))["refund_methods"]
    assert [[option["provider_id"] for option in method] for method in methods] == [
        ["braintree"],
        ["storecredit"],
        ["custom"],
    ]
    card, store_credit, custom = (method[0] for method in methods)
    assert (card["offline"], card["provider_description"]) == (False, "Braintree (Visa ending 1111)")
    assert store_credit["offline"] is False
    assert (custom["offline"], custom["offline_provider"]) == (True, True)


def test_a_split_paid_order_refunds_both_tenders_in_one_method(store: BigCommerceStore) -> None:
    # Given order 103: 53.79 by card, 20.00 in store credit; refunded in full
    everything = [product(1031, 2), product(1032, 1), amount_item("SHIPPING", 531, "8.80")]
    methods = quote(store, 103, *everything)["refund_methods"]

    # Then the original method has both parts, each up to what that tender paid
    assert [(option["provider_id"], option["amount"]) for option in methods[0]] == [
        ("braintree", money("53.79")),
        ("storecredit", money("20.00")),
    ]

    # And a create must copy that method exactly
    with pytest.raises(Unprocessable, match="The requested refund had invalid split payment"):
        store.create_refund(
            103,
            {
                "items": everything,
                "payments": [payment("braintree", "50.00"), payment("storecredit", "23.79")],
            },
        )
    with pytest.raises(Unprocessable, match="does not match any available refund method"):
        store.create_refund(103, {"items": everything, "payments": [payment("braintree", "73.79")]})
    refund = store.create_refund(103, {"items": everything, "payments": methods[0]})
    assert [(p.provider_id, p.amount) for p in refund.payments] == [
        ("braintree", money("53.79")),
        ("storecredit", money("20.00")),
    ]


def test_payments_that_do_not_add_up_to_the_refund_are_refused(store: BigCommerceStore) -> None:
    with pytest.raises(
        Unprocessable, match=r"add up to 21\.99, which does not match the refund amount 22\.00"
    ):
        store.create_refund(100, {"items": [product(1001, 1)], "payments": [payment("braintree", "21.99")]})


def test_the_offline_flag_is_part_of_the_method(store: BigCommerceStore) -> None:
    with pytest.raises(Unprocessable, match="does not match any available refund method"):
        store.create_refund(
            100, {"items": [product(1001, 1)], "payments": [payment("custom", "22.00", offline=False)]}
        )


def test_store_credit_is_neither_offered_nor_accepted_for_a_guest(store: BigCommerceStore) -> None:
    # Given order 101, a guest's, paid by bank deposit (an offline provider)
    methods = quote(store, 101, product(1011, 1))["refund_methods"]
    assert [[option["provider_id"] for option in method] for method in methods] == [
        ["bankdeposit"],
        ["custom"],
    ]
    deposit = methods[0][0]
    assert (deposit["offline"], deposit["offline_provider"]) == (True, True)

    with pytest.raises(Unprocessable, match=r"^Unable to provide store credit for a guest customer\.$"):
        store.create_refund(101, {"items": [product(1011, 1)], "payments": [payment("storecredit", "16.50")]})


def test_store_credit_is_not_offered_for_an_order_paid_in_another_currency(store: BigCommerceStore) -> None:
    # Given order 102, paid in EUR on a USD store
    methods = quote(store, 102, product(1021, 1))["refund_methods"]
    assert all(option["provider_id"] != "storecredit" for method in methods for option in method)

    with pytest.raises(Unprocessable, match="currency other than the store default currency"):
        store.create_refund(102, {"items": [product(1021, 1)], "payments": [payment("storecredit", "96.00")]})


def test_an_unsettled_card_can_only_be_refunded_offline_until_it_settles(store: BigCommerceStore) -> None:
    # Given order 102's card payment, not settled yet
    card = quote(store, 102, product(1021, 1))["refund_methods"][0][0]
    assert (card["provider_id"], card["offline"], card["offline_provider"]) == ("stripev3", True, False)
    assert "not been settled" in card["offline_reason"]

    with pytest.raises(Unprocessable, match="has not been settled yet"):
        store.create_refund(102, {"items": [product(1021, 1)], "payments": [payment("stripev3", "96.00")]})

    # When the card settles, the same refund goes back to it online
    store.set_tender(102, "stripev3", settled=True)
    settled = quote(store, 102, product(1021, 1))["refund_methods"][0][0]
    assert (settled["offline"], settled["offline_reason"]) == (False, "")
    store.create_refund(102, {"items": [product(1021, 1)], "payments": [payment("stripev3", "96.00")]})


def test_a_merchant_override_sets_the_amount_the_payments_must_match(store: BigCommerceStore) -> None:
    body = {
        "items": [product(1001, 1)],
        "merchant_calculated_override": {"total_amount": Decimal("20.00"), "total_tax": Decimal("1.50")},
    }
    with pytest.raises(Unprocessable, match=r"does not match the refund amount 20\.00"):
        store.create_refund(100, {**body, "payments": [payment("braintree", "22.00")]})

    refund = store.create_refund(100, {**body, "payments": [payment("braintree", "20.00")]})
    assert (refund.total_amount, refund.total_tax, refund.uses_merchant_override_values) == (
        money("20.00"),
        money("1.50"),
        True,
    )


def test_a_declined_refund_gives_everything_back(store: BigCommerceStore) -> None:
    # Given a gateway that will decline refunds on order 100
    store.set_tender(100, "braintree", declines_refunds=True, decline_message="Card account closed")

    # When a towel is refunded to the card, the create succeeds (the gateway answers later)
    refund = refund_with_first_method(store, 100, product(1001, 1))
    assert refund.payments[0].declined  # what a read-back shows; the HTTP answer still says not declined

    # Then the towel and its money are refundable again, and the order status is untouched
    snapshot = store.snapshot(100)
    assert snapshot.ledger.remaining_quantity(snapshot.order.products[0]) == 3
    assert quote(store, 100, product(1001, 3))["total_refund_amount"] == money("66.00")
    assert snapshot.order.status_id == 11


def test_a_partly_declined_refund_keeps_its_items_but_returns_the_declined_money_to_the_order(
    store: BigCommerceStore,
) -> None:
    # Given order 103 refunded in full, card (53.79) + store credit (20.00), and the card declines
    store.set_tender(103, "braintree", declines_refunds=True)
    refund_with_first_method(
        store, 103, product(1031, 2), product(1032, 1), amount_item("SHIPPING", 531, "8.80")
    )

    # Then only the store credit reached the shopper: partially refunded, 53.79 left on the order
    snapshot = store.snapshot(103)
    assert snapshot.order.status_id == 14
    assert snapshot.ledger.order_remaining == money("53.79")
    capped = quote(store, 103, amount_item("ORDER", 103, "60.00"))
    assert (capped["total_refund_amount"], capped["adjustment"]) == (money("53.79"), money("-6.21"))


def test_the_refund_reason_joins_the_distinct_item_reasons(store: BigCommerceStore) -> None:
    refund = refund_with_first_method(
        store,
        100,
        product(1001, 1, reason="Damaged"),
        product(1002, 1, reason="Late"),
        amount_item("SHIPPING", 501, "1.00", reason="Damaged"),
    )
    assert refund.reason == "Damaged; Late"
    assert [item.reason for item in refund.items] == ["Damaged", "Late", "Damaged"]


def test_refund_ids_increase_across_the_store_and_lists_filter_them(store: BigCommerceStore) -> None:
    first = refund_with_first_method(store, 100, product(1001, 1))
    second = refund_with_first_method(store, 101, product(1011, 1))
    third = refund_with_first_method(store, 100, product(1002, 1))
    assert [first.id, second.id, third.id] == [1, 2, 3]
    assert [refund.id for refund in store.refunds_for_order(100)] == [1, 3]
    assert [refund.id for refund in store.list_refunds(refund_ids=[2, 3], order_ids=[100])] == [3]
    assert [refund.id for refund in store.list_refunds(transaction_id=second.payments[0].transaction_id)] == [
        2
    ]


def test_a_seed_whose_tenders_do_not_cover_the_order_is_refused() -> None:
    order = three_for_ten(300).model_dump()
    order["tenders"] = [{"provider_id": "braintree", "amount": "9.99"}]
    with pytest.raises(ValueError, match=r"tenders add up to 9\.99, the order total is 10\.00"):
        Order.model_validate(order)


def test_seeds_reject_store_credit_on_a_guest_order() -> None:
    order = three_for_ten(300).model_dump()
    order["customer_id"] = 0
    order["tenders"] = [{"provider_id": "storecredit", "amount": "10.00"}]
    with pytest.raises(ValueError, match="a guest cannot pay with store credit"):
        Order.model_validate(order)


@settings(max_examples=60, deadline=None)
@given(
    quantity=st.integers(min_value=1, max_value=9),
    unit_cents=st.integers(min_value=1, max_value=50_000),
    tax_percent=st.sampled_from([0, 5, 7, 10, 20]),
    discount_share=st.integers(min_value=0, max_value=90),
    prices_include_tax=st.booleans(),
    rounding=st.sampled_from(Rounding),
    data=st.data(),
)
def test_refunding_a_line_in_any_pieces_returns_exactly_what_was_paid(
    *,
    quantity: int,
    unit_cents: int,
    tax_percent: int,
    discount_share: int,
    prices_include_tax: bool,
    rounding: Rounding,
    data: st.DataObject,
) -> None:
    # Given one line with any price, tax rate and discount, priced with tax or before it, on a store
    # that rounds per item or once on the total
    price_ex = Decimal(unit_cents) / 100
    price_inc = (price_ex * (100 + tax_percent) / 100).quantize(Decimal("0.01"))
    discount = (price_ex * quantity * discount_share / 100).quantize(Decimal("0.01"))
    line = ProductLine(
        id=1,
        product_id=1,
        name="Anything",
        type="digital",
        quantity=quantity,
        price_ex_tax=price_ex,
        price_inc_tax=price_inc,
        applied_discounts=[AppliedDiscount(amount=discount)] if discount else [],
    )
    paid = line.paid_inc_tax
    assume(paid / quantity >= Decimal("0.01"))  # BigCommerce has no zero-amount refund to offer
    order = Order(
        id=1,
        customer_id=1,
        products=[line],
        tenders=[Tender(provider_id="storecredit", amount=paid)],
        tax_inclusive_pricing=prices_include_tax,
    )
    store = BigCommerceStore([order], readings=StoreReadings(rounding=rounding))

    # When it is refunded in pieces of any size
    refunded: list[Decimal] = []
    left = quantity
    while left:
        piece = data.draw(st.integers(min_value=1, max_value=left))
        refunded.append(refund_with_first_method(store, 1, product(1, piece)).total_amount)
        left -= piece

    # Then the pieces add up to what was paid, to the cent, and the order is refunded
    assert sum(refunded, Decimal(0)) == paid
    assert store.snapshot(1).order.status_id == 4
