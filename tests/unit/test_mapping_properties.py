"""Properties of the mapping over random orders and refunds, good and bad.

Whatever comes in, the mapping either holds the refund with a reason, or asks BigCommerce for
whole units it still has, amounts in cents it still has, on items that exist — and accounts for
exactly the NetSuite total.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from refund_sync.domain.bigcommerce import BigCommerceOrder, RefundItemType
from refund_sync.domain.mapping import MappingRules, RefundPlan, plan_refund
from refund_sync.domain.money import CENT, to_cents
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync.domain.reasons import RefundProblem
from tests.factories import Product, line, order, refund

D = Decimal
cents = st.integers(min_value=1, max_value=50_000).map(lambda c: D(c) * CENT)
tax_rates = st.sampled_from([D("0"), D("0.05"), D("0.0825"), D("0.10"), D("0.20")])
skus = st.sampled_from(["TEE", "MUG", "HAT", "SOCK"])


@st.composite
def products(draw: st.DrawFn) -> Product:
    quantity = draw(st.integers(min_value=1, max_value=5))
    price = draw(cents)
    discount = to_cents(price * quantity * draw(st.sampled_from([D("0"), D("0"), D("0.1"), D("0.25")])))
    return Product(
        sku=draw(skus),
        quantity=quantity,
        price=price,
        tax_rate=draw(tax_rates),
        refunded=draw(st.integers(min_value=0, max_value=quantity)),
        discount=discount,
    )


@st.composite
def orders(draw: st.DrawFn) -> BigCommerceOrder:
    items = draw(st.lists(products(), min_size=1, max_size=5))
    shipping = tuple(draw(st.lists(cents.map(lambda c: to_cents(c / 20)), min_size=0, max_size=2)))
    return order(
        *[Product(**{**p.__dict__, "line_id": 500 + i}) for i, p in enumerate(items)], shipping=shipping
    )


@st.composite
def refunds_of(draw: st.DrawFn, bc: BigCommerceOrder, *, faithful: bool) -> NetSuiteRefund:
    """A NetSuite refund of some of the order's units (faithful), or one bent in random ways."""
    lines: list[RefundLine] = []
    for index, order_line in enumerate(bc.lines):
        if not draw(st.booleans()):
            continue
        quantity = draw(st.integers(min_value=1, max_value=max(order_line.remaining_quantity, 1)))
        unit = order_line.price_ex_tax
        tax_rate = (order_line.price_inc_tax / unit - 1) if unit else D(0)
        amount = to_cents(unit * quantity)
        if not faithful:
            quantity = draw(st.sampled_from([quantity] * 4 + [quantity + 2, 0]))
            amount = draw(st.sampled_from([amount] * 4 + [to_cents(amount / 2), amount + 1]))
        lines.append(
            line(
                index + 1,
                order_line.sku if faithful or draw(st.integers(0, 5)) else "NOPE",
                quantity,
                amount,
                tax=to_cents(amount * tax_rate),
            )
        )
    if draw(st.booleans()):
        discount = to_cents(sum((entry.amount for entry in lines), D(0)) * D("0.05"))
        if discount:
            lines.append(line(len(lines) + 10, None, None, -discount, item_type="Discount"))
    shipping_left = sum((c.shipping_inc_tax for c in bc.consignments), D(0))
    shipping = draw(st.sampled_from([D(0), shipping_left, to_cents(shipping_left / 3)]))
    currency = "USD"
    if not faithful:
        shipping = draw(st.sampled_from([shipping] * 3 + [shipping + 5]))
        currency = draw(st.sampled_from(["USD"] * 9 + ["EUR"]))
    return refund(*lines, shipping=shipping, currency=currency)


def assert_sound(plan: RefundPlan, ns: NetSuiteRefund, bc: BigCommerceOrder, rules: MappingRules) -> None:
    by_line = {line.id: line for line in bc.lines}
    addresses = {c.address_id: c for c in bc.consignments}
    keys = Counter((item.item_type, item.item_id) for item in plan.items)
    assert all(count == 1 for count in keys.values()), "one item per BigCommerce line or address"
    for item in plan.items:
        if item.item_type is RefundItemType.PRODUCT:
            assert isinstance(item.quantity, int) and item.quantity >= 1
            assert item.quantity <= by_line[item.item_id].remaining_quantity
        else:
            assert item.amount is not None and item.amount > 0
            assert item.amount == to_cents(item.amount), "amounts in cents"
            assert isinstance(item.amount, Decimal)
        if item.item_type is RefundItemType.SHIPPING:
            assert item.amount <= addresses[item.item_id].shipping_inc_tax  # type: ignore[operator]
        if item.item_type is RefundItemType.ORDER:
            assert item.item_id == bc.id
    assert abs(plan.allocated_total - ns.total) <= rules.tolerance, "every NetSuite cent accounted for"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_faithful_refunds_map_soundly_or_are_held_with_a_reason(data: st.DataObject) -> None:
    bc = data.draw(orders())
    ns = data.draw(refunds_of(bc, faithful=True))
    rules = MappingRules()
    try:
        plan = plan_refund(ns, bc, rules)
    except RefundProblem as problem:
        event(f"held: {problem.reason.name}")
        assert problem.detail  # a reason a person can read
        return
    event("planned")
    assert_sound(plan, ns, bc, rules)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bent_refunds_never_ask_for_more_than_remains(data: st.DataObject) -> None:
    bc = data.draw(orders())
    ns = data.draw(refunds_of(bc, faithful=False))
    rules = MappingRules()
    try:
        plan = plan_refund(ns, bc, rules)
    except RefundProblem as problem:
        event(f"held: {problem.reason.name}")
        assert problem.reason.name and problem.detail
        return
    event("planned")
    assert_sound(plan, ns, bc, rules)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_full_price_refunds_without_discounts_estimate_the_netsuite_total_to_the_cent_per_line(
    data: st.DataObject,
) -> None:
    bc = data.draw(orders())
    undiscounted = order(
        *[Product(o.sku + str(o.id), o.quantity, o.price_ex_tax, tax_rate=D("0")) for o in bc.lines],
        shipping=tuple(c.shipping_inc_tax for c in bc.consignments),
    )
    ns = data.draw(refunds_of(undiscounted, faithful=True))
    ns = ns.model_copy(update={"lines": [entry for entry in ns.lines if entry.item_type != "Discount"]})
    ns = refund(*ns.lines, shipping=ns.shipping_amount)
    try:
        plan = plan_refund(ns, undiscounted, MappingRules())
    except RefundProblem:
        return
    assert abs(plan.estimated_total - ns.total) <= CENT * max(len(ns.lines), 1)
