"""The mapping from a NetSuite refund to a BigCommerce refund request: one story per case."""

from __future__ import annotations

from decimal import Decimal

import pytest

from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    Consignment,
    Fee,
    OrderStatus,
    RefundItemType,
    TaxBasis,
)
from refund_sync.domain.mapping import (
    MappingRules,
    RefundedSoFar,
    needs_refund_history,
    plan_refund,
    quote_tolerance,
    splits_shipping,
)
from refund_sync.domain.policy import DiscountRule, LineMatchRule, PartialLineRule, TaxOnlyRule
from refund_sync.domain.reasons import Reason, RefundProblem
from tests.factories import Product, line, order, refund

D = Decimal
RULES = MappingRules()


def items_of(plan_items: tuple[object, ...]) -> list[tuple[str, int, object]]:
    result = []
    for item in plan_items:
        value = item.quantity if item.item_type.quantity_bound else item.amount  # type: ignore[attr-defined]
        result.append((item.item_type.value, item.item_id, value))  # type: ignore[attr-defined]
    return result


def test_a_full_refund_returns_every_unit_and_the_shipping_and_covers_the_whole_order() -> None:
    bc = order(Product("TEE", 2, D("20.00")), Product("MUG", 1, D("8.00")), shipping=(D("5.50"),))
    ns = refund(
        line(1, "TEE", 2, "40.00", tax="4.00"),
        line(2, "MUG", 1, "8.00", tax="0.80"),
        shipping="5.00",
        shipping_tax="0.50",
    )

    plan = plan_refund(ns, bc, RULES)

    assert items_of(plan.items) == [("PRODUCT", 500, 2), ("PRODUCT", 501, 1), ("SHIPPING", 10, D("5.50"))]
    assert plan.whole_order
    assert plan.allocated_total == ns.total == D("58.30")
    assert plan.estimated_total == D("58.30")


def test_a_partial_quantity_refunds_only_those_units_by_order_line_id() -> None:
    bc = order(Product("TEE", 3, D("20.00")))
    ns = refund(line(1, "TEE", 1, "20.00", tax="2.00"))

    plan = plan_refund(ns, bc, RULES)

    assert items_of(plan.items) == [("PRODUCT", 500, 1)]
    assert not plan.whole_order
    assert all("[netsuite:1042]" in item.reason for item in plan.items)


def test_one_sku_on_two_order_lines_is_split_by_what_each_has_left() -> None:
    bc = order(Product("TEE", 2, D("20.00"), refunded=1), Product("TEE", 3, D("20.00")))
    ns = refund(line(1, "TEE", 3, "60.00", tax="6.00"))

    plan = plan_refund(ns, bc, RULES)

    assert items_of(plan.items) == [("PRODUCT", 500, 1), ("PRODUCT", 501, 2)]


def test_two_netsuite_lines_of_one_sku_do_not_count_the_same_units_twice() -> None:
    bc = order(Product("TEE", 2, D("20.00")))
    ns = refund(line(1, "TEE", 1, "20.00", tax="2.00"), line(2, "TEE", 2, "40.00", tax="4.00"))

    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, bc, RULES)

    assert problem.value.reason is Reason.QUANTITY_EXCEEDS_REMAINING
    assert "refunds 2 unit(s)" in problem.value.detail and "1 left" in problem.value.detail


def test_more_units_than_remain_are_refused_with_the_figures() -> None:
    bc = order(Product("TEE", 2, D("20.00"), refunded=2))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(line(1, "TEE", 1, "20.00", tax="2.00")), bc, RULES)
    assert problem.value.reason is Reason.QUANTITY_EXCEEDS_REMAINING


def test_shipping_only_becomes_a_shipping_item_on_the_shipping_address() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=(D("7.70"),))
    plan = plan_refund(refund(shipping="7.00", shipping_tax="0.70"), bc, RULES)
    assert items_of(plan.items) == [("SHIPPING", 10, D("7.70"))]


def test_a_ship_item_line_counts_as_shipping() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=(D("7.70"),))
    plan = plan_refund(
        refund(line(1, None, 1, "7.70", item_type="ShipItem", item_name="UPS Ground")), bc, RULES
    )
    assert items_of(plan.items) == [("SHIPPING", 10, D("7.70"))]


def test_shipping_over_two_consignments_is_split_in_proportion_to_what_each_has_left() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=(D("10.00"), D("5.00")))
    ns = refund(shipping="6.00")

    assert splits_shipping(ns, bc)
    plan = plan_refund(ns, bc, RULES)

    assert items_of(plan.items) == [("SHIPPING", 10, D("4.00")), ("SHIPPING", 11, D("2.00"))]
    assert plan.allocated_total == D("6.00")


def test_what_each_consignment_has_left_is_read_only_when_the_order_shows_an_earlier_refund() -> None:
    untouched = order(Product("TEE", 2, D("20.00")), shipping=(D("10.00"), D("5.00")))
    ns = refund(shipping="6.00")
    assert splits_shipping(ns, untouched) and not needs_refund_history(ns, untouched)

    partially_refunded = untouched.model_copy(update={"status_id": OrderStatus.PARTIALLY_REFUNDED})
    a_line_refunded = untouched.model_copy(
        update={"lines": (untouched.lines[0].model_copy(update={"quantity_refunded": 1}),)}
    )
    assert needs_refund_history(ns, partially_refunded)
    assert needs_refund_history(ns, a_line_refunded)
    assert not needs_refund_history(refund(line(1, "TEE", 1, "20.00")), partially_refunded), "no shipping"


def test_a_consignment_already_refunded_gets_nothing_more() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=(D("10.00"), D("5.00")))
    plan = plan_refund(refund(shipping="5.00"), bc, RULES, RefundedSoFar(shipping={10: D("10.00")}))
    assert items_of(plan.items) == [("SHIPPING", 11, D("5.00"))]


def test_shipping_beyond_what_is_left_is_refused() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=(D("10.00"),))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(shipping="12.00"), bc, RULES)
    assert problem.value.reason is Reason.AMOUNT_EXCEEDS_REMAINING


def test_shipping_refunded_on_an_order_without_shipping_is_refused() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=())
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(shipping="3.00"), bc, RULES)
    assert problem.value.reason is Reason.SHIPPING_NOT_ON_ORDER


def test_handling_becomes_a_handling_item() -> None:
    bc = order(Product("TEE", 1, D("20.00")), shipping=(D("5.00"),), handling=(D("2.20"),))
    plan = plan_refund(refund(handling="2.00", handling_tax="0.20"), bc, RULES)
    assert items_of(plan.items) == [("HANDLING", 10, D("2.20"))]


def test_a_configured_custom_amount_item_becomes_one_order_level_amount() -> None:
    rules = MappingRules(custom_amount_items=frozenset({"goodwill credit"}))
    bc = order(Product("TEE", 1, D("20.00")))
    ns = refund(line(1, None, 1, "5.00", item_type="OthCharge", item_name="Goodwill Credit"))

    plan = plan_refund(ns, bc, rules)

    assert items_of(plan.items) == [("ORDER", 100, D("5.00"))]


def test_a_line_refunded_below_its_price_becomes_a_custom_amount_by_default() -> None:
    bc = order(Product("TEE", 1, D("100.00")))
    ns = refund(line(1, "TEE", 1, "60.00", tax="6.00"))

    plan = plan_refund(ns, bc, RULES)

    assert items_of(plan.items) == [("ORDER", 100, D("66.00"))]
    assert plan.allocations[0].target.endswith("(partial line)")


def test_a_line_refunded_below_its_price_can_return_the_item_less_an_adjustment() -> None:
    rules = MappingRules(partial_line=PartialLineRule.PRODUCT_ADJUSTMENT)
    bc = order(Product("TEE", 1, D("100.00")))
    plan = plan_refund(refund(line(1, "TEE", 1, "60.00", tax="6.00")), bc, rules)

    (item,) = plan.items
    assert (item.item_type, item.quantity, item.adjustment) == (RefundItemType.PRODUCT, 1, D("-44.00"))
    assert plan.estimated_total == D("66.00")


def test_a_line_refunded_below_its_price_can_be_held() -> None:
    rules = MappingRules(partial_line=PartialLineRule.HOLD)
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(line(1, "TEE", 1, "60.00")), order(Product("TEE", 1, D("100.00"))), rules)
    assert problem.value.reason is Reason.PARTIAL_LINE_HELD


def test_a_discount_line_is_absorbed_because_bigcommerce_refunds_lines_net_of_discounts() -> None:
    bc = order(Product("TEE", 1, D("100.00"), discount=D("10.00")))
    ns = refund(
        line(1, "TEE", 1, "100.00", tax="10.00"),
        line(2, None, None, "-10.00", tax="-1.00", item_type="Discount"),
    )

    plan = plan_refund(ns, bc, RULES)

    assert items_of(plan.items) == [("PRODUCT", 500, 1)]
    assert plan.allocated_total == D("99.00") == plan.estimated_total
    assert any(a.target == "absorbed discount" for a in plan.allocations)


def test_a_line_priced_net_of_its_discount_is_still_a_full_refund() -> None:
    bc = order(Product("TEE", 1, D("100.00"), discount=D("10.00")))
    plan = plan_refund(refund(line(1, "TEE", 1, "90.00", tax="9.00")), bc, RULES)
    assert items_of(plan.items) == [("PRODUCT", 500, 1)]


def test_discount_lines_can_be_held_for_review() -> None:
    rules = MappingRules(discount=DiscountRule.HOLD)
    ns = refund(line(1, "TEE", 1, "100.00"), line(2, None, None, "-10.00", item_type="Discount"))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, order(Product("TEE", 1, D("100.00"))), rules)
    assert problem.value.reason is Reason.DISCOUNT_HELD


def test_a_tax_only_line_becomes_a_custom_amount_or_is_held() -> None:
    bc = order(Product("TEE", 1, D("100.00")))
    ns = refund(line(1, None, None, "0", tax="3.00", item_type="TaxItem", item_name="CA tax"))

    assert items_of(plan_refund(ns, bc, RULES).items) == [("ORDER", 100, D("3.00"))]
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, bc, MappingRules(tax_only=TaxOnlyRule.HOLD))
    assert problem.value.reason is Reason.TAX_ONLY_HELD


def test_a_line_with_an_unknown_sku_names_what_the_order_has() -> None:
    bc = order(Product("TEE", 1, D("20.00")), Product("MUG", 1, D("8.00")))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(line(1, "HAT", 1, "15.00")), bc, RULES)
    assert problem.value.reason is Reason.NO_MATCHING_LINE
    assert "TEE (line 500)" in problem.value.detail and "MUG (line 501)" in problem.value.detail


def test_lines_match_by_stored_bigcommerce_line_id_when_configured() -> None:
    rules = MappingRules(line_match=LineMatchRule.BIGCOMMERCE_LINE_ID)
    bc = order(Product("TEE", 1, D("20.00"), line_id=777))
    plan = plan_refund(
        refund(line(1, "other-sku", 1, "20.00", tax="2.00", bigcommerce_line_id="777")), bc, rules
    )
    assert items_of(plan.items) == [("PRODUCT", 777, 1)]


def test_lines_match_by_product_and_variant_when_configured() -> None:
    rules = MappingRules(line_match=LineMatchRule.PRODUCT_VARIANT)
    bc = order(
        Product("TEE-S", 1, D("20.00"), product_id=44, variant_id=1),
        Product("TEE-M", 1, D("20.00"), product_id=44, variant_id=2),
    )
    ns = refund(
        line(1, None, 1, "20.00", tax="2.00", bigcommerce_product_id="44", bigcommerce_variant_id="2")
    )
    assert items_of(plan_refund(ns, bc, rules).items) == [("PRODUCT", 501, 1)]


@pytest.mark.parametrize("quantity", [D("1.5"), D("0"), None])
def test_product_lines_need_whole_positive_quantities(quantity: Decimal | None) -> None:
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(line(1, "TEE", quantity, "20.00")), order(Product("TEE", 2, D("20.00"))), RULES)
    assert problem.value.reason is Reason.QUANTITY_INVALID


def test_a_refund_in_another_currency_than_the_order_is_refused() -> None:
    with pytest.raises(RefundProblem) as problem:
        plan_refund(
            refund(line(1, "TEE", 1, "20.00"), currency="EUR"), order(Product("TEE", 1, D("20.00"))), RULES
        )
    assert problem.value.reason is Reason.CURRENCY_MISMATCH


def test_a_refund_whose_parts_do_not_add_up_is_held_before_anything_is_asked() -> None:
    ns = refund(line(1, "TEE", 1, "20.00", tax="2.00"), total_override="25.00")
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, order(Product("TEE", 1, D("20.00"))), RULES)
    assert problem.value.reason is Reason.NETSUITE_TOTALS_INCONSISTENT


def test_gift_certificate_lines_cannot_be_refunded_through_the_api() -> None:
    ns = refund(line(1, None, 1, "25.00", item_type="GiftCert"))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, order(Product("TEE", 1, D("20.00"))), RULES)
    assert problem.value.reason is Reason.UNSUPPORTED_LINE


def test_a_zero_refund_is_nothing_to_refund_for_the_mapping() -> None:  # the engine skips it before
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(), order(Product("TEE", 1, D("20.00"))), RULES)
    assert problem.value.reason is Reason.NOTHING_TO_REFUND


# -- the order's tax basis, fees, gift wrapping, the line threshold ------------------------------------
def before_tax(
    bc: BigCommerceOrder, *costs: tuple[str, str], handling: tuple[str, str] | None = None
) -> BigCommerceOrder:
    """The order as a store that prices before tax has it: shipping (before tax, with tax) per address."""
    consignments = tuple(
        Consignment(
            address_id=10 + index,
            shipping_ex_tax=D(ex),
            shipping_inc_tax=D(inc),
            handling_ex_tax=D(handling[0]) if handling and index == 0 else None,
            handling_inc_tax=D(handling[1]) if handling and index == 0 else D(0),
        )
        for index, (ex, inc) in enumerate(costs)
    )
    return bc.model_copy(update={"tax_basis": TaxBasis.EXCLUSIVE, "consignments": consignments})


def test_on_a_store_that_prices_before_tax_shipping_goes_out_before_tax_for_bigcommerce_to_tax() -> None:
    bc = before_tax(order(Product("TEE", 1, D("20.00"))), ("7.00", "7.58"))
    plan = plan_refund(refund(shipping="7.00", shipping_tax="0.58"), bc, RULES)
    assert items_of(plan.items) == [("SHIPPING", 10, D("7.00"))]
    assert plan.allocated_total == D("7.58") == plan.estimated_total
    assert plan.descriptions == ("shipping 7.00 before tax (address 10)",)


def test_before_tax_shipping_over_two_consignments_is_split_on_what_each_has_left_before_tax() -> None:
    bc = before_tax(order(Product("TEE", 1, D("20.00"))), ("6.00", "6.50"), ("4.00", "4.33"))
    plan = plan_refund(refund(shipping="10.00", shipping_tax="0.83"), bc, RULES)
    assert items_of(plan.items) == [("SHIPPING", 10, D("6.00")), ("SHIPPING", 11, D("4.00"))]
    assert plan.estimated_total == D("10.83")
    assert plan.whole_order is False  # the product is not refunded


def test_before_tax_handling_and_a_ship_item_line_take_the_amount_without_its_tax() -> None:
    rules = MappingRules(handling_items=frozenset({"handling fee"}))
    bc = before_tax(order(Product("TEE", 1, D("20.00"))), ("7.00", "7.58"), handling=("2.00", "2.17"))
    ns = refund(
        line(1, None, 1, "7.00", tax="0.58", item_type="ShipItem", item_name="UPS Ground"),
        line(2, None, None, "2.00", tax="0.17", item_type="OthCharge", item_name="Handling Fee"),
    )
    assert items_of(plan_refund(ns, bc, rules).items) == [
        ("SHIPPING", 10, D("7.00")),
        ("HANDLING", 10, D("2.00")),
    ]


def test_more_shipping_before_tax_than_is_left_is_refused_before_tax() -> None:
    bc = before_tax(order(Product("TEE", 1, D("20.00"))), ("7.00", "7.58"))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(shipping="7.58"), bc, RULES)
    assert problem.value.reason is Reason.AMOUNT_EXCEEDS_REMAINING
    assert "7.58 shipping before tax" in problem.value.detail


FEE_RULES = MappingRules(
    fee_items=frozenset({"package protection"}), custom_amount_items=frozenset({"package protection"})
)


def test_a_fee_item_becomes_a_fee_refund_in_the_orders_basis_never_a_custom_amount() -> None:
    protection = Fee(id=3, name="Package Protection", cost_ex_tax=D("3.00"), cost_inc_tax=D("3.30"))
    ns = refund(
        line(1, None, None, "3.00", tax="0.30", item_type="OthCharge", item_name="Package Protection")
    )
    with_tax = order(Product("TEE", 1, D("20.00"))).model_copy(update={"fees": (protection,)})
    assert items_of(plan_refund(ns, with_tax, FEE_RULES).items) == [("FEE", 3, D("3.30"))]
    priced_before_tax = with_tax.model_copy(update={"tax_basis": TaxBasis.EXCLUSIVE})
    plan = plan_refund(ns, priced_before_tax, FEE_RULES)
    assert items_of(plan.items) == [("FEE", 3, D("3.00"))]
    assert plan.estimated_total == D("3.30")
    assert plan.descriptions == ("Package Protection 3.00 before tax (fee 3)",)


def test_a_fee_item_the_order_has_no_fee_for_fails_naming_the_orders_fees() -> None:
    ns = refund(line(1, None, None, "3.00", item_type="OthCharge", item_name="Package Protection"))
    two = (
        Fee(id=1, name="Rush", cost_ex_tax=D("5.00"), cost_inc_tax=D("5.50")),
        Fee(id=2, name="Eco", cost_ex_tax=D("1.00"), cost_inc_tax=D("1.10")),
    )
    for bc_fees in ((), two):
        bc = order(Product("TEE", 1, D("20.00"))).model_copy(update={"fees": bc_fees})
        with pytest.raises(RefundProblem) as problem:
            plan_refund(ns, bc, FEE_RULES)
        assert problem.value.reason is Reason.NO_MATCHING_FEE
    assert "Rush (fee 1" in problem.value.detail and "Eco (fee 2" in problem.value.detail


def test_a_line_named_like_an_order_fee_but_not_configured_says_how_to_refund_it() -> None:
    protection = Fee(id=3, name="Package Protection", cost_ex_tax=D("3.00"), cost_inc_tax=D("3.30"))
    bc = order(Product("TEE", 1, D("20.00"))).model_copy(update={"fees": (protection,)})
    ns = refund(line(1, None, None, "3.00", item_type="OthCharge", item_name="Package Protection"))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, bc, RULES)
    assert problem.value.reason is Reason.NO_MATCHING_LINE
    assert "FeeItems" in problem.value.detail


WRAP_RULES = MappingRules(gift_wrapping_items=frozenset({"gift wrap"}))


def wrapped(bc: BigCommerceOrder) -> BigCommerceOrder:
    first = bc.lines[0].model_copy(
        update={
            "wrapping_name": "Gift Wrap",
            "wrapping_cost_ex_tax": D("6.00"),
            "wrapping_cost_inc_tax": D("6.60"),
        }
    )
    return bc.model_copy(update={"lines": (first, *bc.lines[1:])})


def test_gift_wrapping_becomes_a_gift_wrapping_refund_of_whole_units() -> None:
    bc = wrapped(order(Product("TEE", 2, D("20.00"))))
    ns = refund(line(1, None, 1, "3.00", tax="0.30", item_type="OthCharge", item_name="Gift Wrap"))
    plan = plan_refund(ns, bc, WRAP_RULES)
    assert items_of(plan.items) == [("GIFT_WRAPPING", 500, 1)]
    assert plan.estimated_total == D("3.30")


def test_gift_wrapping_refunded_below_its_price_is_refused_never_a_custom_amount() -> None:
    bc = wrapped(order(Product("TEE", 2, D("20.00"))))
    ns = refund(line(1, None, 1, "1.00", item_type="OthCharge", item_name="Gift Wrap"))
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, bc, WRAP_RULES)
    assert problem.value.reason is Reason.NO_MATCHING_GIFT_WRAPPING
    with pytest.raises(RefundProblem) as problem:
        plan_refund(ns, order(Product("TEE", 2, D("20.00"))), WRAP_RULES)
    assert problem.value.reason is Reason.NO_MATCHING_GIFT_WRAPPING
    assert "no wrapped lines" in problem.value.detail


def test_the_partial_line_threshold_is_its_own_setting() -> None:
    bc = order(Product("TEE", 1, D("25.00")))
    ns = refund(line(1, "TEE", 1, "24.80", tax="2.48"))
    assert items_of(plan_refund(ns, bc, RULES).items) == [("ORDER", 100, D("27.28"))]
    relaxed = MappingRules(line_threshold=D("0.25"))
    assert items_of(plan_refund(ns, bc, relaxed).items) == [("PRODUCT", 500, 1)]


def test_the_quote_tolerance_is_a_cent_for_each_item_bigcommerce_taxes() -> None:
    bc = order(Product("TEE", 1, D("20.00")), Product("MUG", 1, D("8.00")), shipping=(D("5.50"),))
    ns = refund(
        line(1, "TEE", 1, "20.00", tax="2.00"),
        line(2, "MUG", 1, "8.00", tax="0.80"),
        line(3, None, 1, "5.00", item_type="OthCharge", item_name="Goodwill"),
        shipping="5.00",
        shipping_tax="0.50",
    )
    rules = MappingRules(custom_amount_items=frozenset({"goodwill"}))
    plan = plan_refund(ns, bc, rules)
    assert plan.taxed_items == 3  # two products and the shipping; the custom amount is tax-exempt
    assert quote_tolerance(plan, D("0.01")) == D("0.03")


def test_a_refund_in_the_display_currency_is_refused_naming_both() -> None:
    bc = order(Product("TEE", 1, D("20.00"))).model_copy(
        update={"display_currency_code": "AUD", "display_exchange_rate": D("1.384615")}
    )
    with pytest.raises(RefundProblem) as problem:
        plan_refund(refund(line(1, "TEE", 1, "20.00"), currency="AUD"), bc, RULES)
    assert problem.value.reason is Reason.CURRENCY_MISMATCH
    assert "showed the shopper prices in AUD" in problem.value.detail
    assert items_of(plan_refund(refund(line(1, "TEE", 1, "20.00")), bc, RULES).items) == [("PRODUCT", 500, 1)]
