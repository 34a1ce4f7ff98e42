"""The sample data of the sandbox: BigCommerce orders, and the NetSuite refunds support staff made of them.

Each scenario is one kind of refund (or one kind of failure) with the outcome refund-sync must reach;
`make demo` runs them all through the real handlers and fails if any outcome differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from refund_sync.domain.money import ZERO, to_cents
from refund_sync.domain.netsuite import NetSuiteRefund, Origin, PaidOut, PaidOutMethod, RefundLine
from refund_sync_sandbox.bigcommerce import AppliedDiscount, Fee, Order, ProductLine, ShippingAddress, Tender
from refund_sync_sandbox.bigcommerce.models import GiftWrapping, checkout_total
from refund_sync_sandbox.netsuite import BillingType, NetSuiteAccount, product_line

D = Decimal
TAX = D("0.10")
US_TAX = D("0.0825")  # Austin, Texas: the tax-exclusive US store's sales tax
MEMBER = 7

# Settings the demo runs with (beyond the defaults): items the merchant uses for handling, goodwill, the
# shipping-insurance fee and gift wrapping.
DEMO_SETTINGS = {
    "handling_items": "Handling Fee",
    "custom_amount_items": "Goodwill Credit",
    "fee_items": "Shipping Insurance",
    "gift_wrapping_items": "Gift Wrap",
}


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    price: Decimal  # before tax
    item_id: str  # the NetSuite item's internal id

    def order_line(
        self,
        line_id: int,
        quantity: int,
        address_id: int,
        discount: Decimal = ZERO,
        *,
        tax: Decimal = TAX,
        wrapping: GiftWrapping | None = None,
    ) -> ProductLine:
        return ProductLine(
            id=line_id,
            product_id=int(self.item_id),
            sku=self.sku,
            name=self.name,
            quantity=quantity,
            price_ex_tax=self.price,
            price_inc_tax=to_cents(self.price * (1 + tax)),
            applied_discounts=[AppliedDiscount(amount=discount, name="Spring sale")] if discount else [],
            order_address_id=address_id,
            wrapping=wrapping,
        )

    def refund_line(
        self, line: int, quantity: int, *, sku: str | None = None, tax_rate: Decimal = TAX
    ) -> RefundLine:
        return product_line(
            line, self.item_id, self.name, quantity, self.price, sku=sku or self.sku, tax_rate=tax_rate
        )


TEE = Item("TEE-BLK-M", "Organic Tee - Black M", D("25.00"), "301")
BOOT = Item("BOOT-BRN-9", "Work Boot - Brown 9", D("89.00"), "306")
SCARF = Item("SCARF-WL", "Wool Scarf", D("14.50"), "307")
MUG = Item("MUG-CER", "Ceramic Mug", D("12.00"), "302")
CAP = Item("CAP-NVY", "Canvas Cap - Navy", D("18.00"), "303")
SOCKS = Item("SOCK-3PK", "Trail Socks 3-pack", D("9.00"), "304")


def other_line(
    line: int, name: str, amount: Decimal, *, item_type: str = "OthCharge", tax: Decimal = ZERO
) -> RefundLine:
    return RefundLine(
        line=line, item_id=str(400 + line), item_name=name, item_type=item_type, amount=amount, tax_amount=tax
    )


def address(
    address_id: int, shipping: Decimal, handling: Decimal = ZERO, *, tax: Decimal = TAX
) -> ShippingAddress:
    return ShippingAddress(
        id=address_id,
        cost_ex_tax=shipping,
        cost_inc_tax=to_cents(shipping * (1 + tax)),
        handling_cost_ex_tax=handling,
        handling_cost_inc_tax=to_cents(handling * (1 + tax)),
    )


def wrap(price: Decimal, *, tax: Decimal = TAX, name: str = "Gift Wrap") -> GiftWrapping:
    """Gift wrapping at `price` a unit before tax."""
    return GiftWrapping(name=name, cost_ex_tax=price, cost_inc_tax=to_cents(price * (1 + tax)))


def fee(fee_id: int, name: str, cost: Decimal, *, tax: Decimal = TAX) -> Fee:
    return Fee(id=fee_id, display_name=name, cost_ex_tax=cost, cost_inc_tax=to_cents(cost * (1 + tax)))


def card(amount: Decimal, *, settled: bool = True, declines: bool = False) -> Tender:
    return Tender(
        provider_id="braintree",
        description="Braintree (Visa ending 1111)",
        amount=amount,
        settled=settled,
        declines_refunds=declines,
        decline_message="Card issuer declined the refund (2005: expired card)",
    )


def order(
    order_id: int,
    lines: list[ProductLine],
    addresses: list[ShippingAddress],
    *,
    prices_include_tax: bool | None = None,
    fees: list[Fee] | None = None,
    tenders: list[Tender] | None = None,
    paid_by: str | None = None,
    **tender: bool,
) -> Order:
    """An order paid by card (or by `tenders`, the card taking what they leave); priced with tax, before
    tax, or (None) as the store's setting says when it is seeded."""
    others = tenders or []
    rest = checkout_total(lines, addresses, fees or []) - sum((t.amount for t in others), ZERO)
    if paid_by is not None:  # all of it by one other method, e.g. a bank deposit
        paid = [Tender(provider_id=paid_by, amount=rest)]
    else:
        paid = [*others, card(rest, **tender)] if rest > 0 or not others else others
    return Order(
        id=order_id,
        customer_id=MEMBER,
        products=lines,
        shipping_addresses=addresses,
        fees=fees or [],
        tenders=paid,
        tax_inclusive_pricing=prices_include_tax,
    )


@dataclass(frozen=True)
class Scenario:
    """One refund of the demo: what it is, its BigCommerce order, its NetSuite refund, what must happen."""

    kind: str
    order: Order | None
    make_refund: Callable[[NetSuiteAccount], NetSuiteRefund]
    expected_status: str  # SYNCED, HELD, FAILED or SKIPPED
    expected_reason: str | None = None
    expected_order_status: int | None = None


def _refund(
    order_id: int | None,
    lines: list[RefundLine],
    *,
    tran_id: str,
    cash: bool = False,
    **extra: object,
) -> Callable[[NetSuiteAccount], NetSuiteRefund]:
    def make(account: NetSuiteAccount) -> NetSuiteRefund:
        sales_order = account.add_sales_order(
            f"SO-{tran_id.split('-')[1]}",
            bigcommerce_order_id=str(order_id) if order_id else None,
            customer_name="Jane Doe",
        )
        billing = account.add_billing(sales_order, BillingType.CASH_SALE if cash else BillingType.INVOICE)
        return account.create_refund(billing, lines, tran_id=tran_id, **extra)  # type: ignore[arg-type]

    return make


def scenarios() -> list[Scenario]:
    """Every refund of the demo: today's store (it prices with tax), then the US store."""
    return [*todays_scenarios(), *more_scenarios(), *us_scenarios()]


def todays_scenarios() -> list[Scenario]:
    return [
        Scenario(
            "full refund: every line + shipping",
            order(5001, [TEE.order_line(1, 2, 11), MUG.order_line(2, 1, 11)], [address(11, D("8.00"))]),
            _refund(
                5001,
                [TEE.refund_line(1, 2), MUG.refund_line(2, 1)],
                tran_id="CM-5001",
                shipping_amount=D("8.00"),
                shipping_tax=D("0.80"),
            ),
            "SYNCED",
            expected_order_status=4,
        ),
        Scenario(
            "partial quantity: 1 of 3",
            order(5002, [CAP.order_line(3, 3, 12)], [address(12, D("5.00"))]),
            _refund(5002, [CAP.refund_line(1, 1)], tran_id="CR-5002", cash=True),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "shipping only, 2 consignments",
            order(
                5003,
                [TEE.order_line(4, 1, 13), MUG.order_line(5, 1, 14)],
                [address(13, D("6.00")), address(14, D("4.00"))],
            ),
            _refund(5003, [], tran_id="CM-5003", shipping_amount=D("10.00"), shipping_tax=D("1.00")),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "handling (Handling Fee item)",
            order(5004, [SOCKS.order_line(6, 2, 15)], [address(15, D("5.00"), handling=D("2.00"))]),
            _refund(
                5004, [other_line(1, "Handling Fee", D("2.00"), tax=D("0.20"))], tran_id="CR-5004", cash=True
            ),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "custom amount (goodwill)",
            order(5005, [TEE.order_line(7, 1, 16)], [address(16, D("5.00"))]),
            _refund(5005, [other_line(1, "Goodwill Credit", D("5.00"))], tran_id="CM-5005"),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "discounted line",
            order(5006, [CAP.order_line(8, 1, 17, discount=D("3.00"))], [address(17, D("5.00"))]),
            _refund(
                5006,
                [
                    CAP.refund_line(1, 1),
                    other_line(2, "Spring sale", D("-3.00"), item_type="Discount", tax=D("-0.30")),
                ],
                tran_id="CM-5006",
            ),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "paid by NetSuite: record only",
            order(5007, [MUG.order_line(9, 1, 18)], [address(18, D("5.00"))]),
            _refund(
                5007,
                [MUG.refund_line(1, 1)],
                tran_id="CR-5007",
                cash=True,
                paid_out=PaidOut(
                    by_netsuite=True, method=PaidOutMethod.PAYMENT_GATEWAY, reference="PN-88231"
                ),
            ),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "tax differs (11% vs 10%)",
            order(5008, [TEE.order_line(10, 1, 19)], [address(19, D("5.00"))]),
            _refund(5008, [TEE.refund_line(1, 1, tax_rate=D("0.11"))], tran_id="CM-5008"),
            "HELD",
            "AMOUNT_MISMATCH",
        ),
        Scenario(
            "order not in BigCommerce",
            None,
            _refund(9999, [MUG.refund_line(1, 1)], tran_id="CR-5009", cash=True),
            "FAILED",
            "ORDER_NOT_FOUND",
        ),
        Scenario(
            "order never synced: no id",
            None,
            _refund(None, [MUG.refund_line(1, 1)], tran_id="CM-5010"),
            "FAILED",
            "ORDER_ID_MISSING",
        ),
        Scenario(
            "SKU not on the order",
            order(5011, [MUG.order_line(11, 1, 20)], [address(20, D("5.00"))]),
            _refund(5011, [MUG.refund_line(1, 1, sku="MUG-XL")], tran_id="CR-5011", cash=True),
            "FAILED",
            "NO_MATCHING_LINE",
        ),
        Scenario(
            "gateway declines",
            order(5012, [CAP.order_line(12, 1, 21)], [address(21, D("5.00"))], declines=True),
            _refund(5012, [CAP.refund_line(1, 1)], tran_id="CM-5012"),
            "FAILED",
            "GATEWAY_DECLINED",
        ),
        Scenario(
            "payment not settled",
            order(5013, [SOCKS.order_line(13, 1, 22)], [address(22, D("5.00"))], settled=False),
            _refund(5013, [SOCKS.refund_line(1, 1)], tran_id="CR-5013", cash=True),
            "FAILED",
            "PAYMENT_NOT_SETTLED",
        ),
        Scenario(
            "imported from BigCommerce",
            order(5014, [TEE.order_line(14, 1, 23)], [address(23, D("5.00"))]),
            _refund(
                5014, [TEE.refund_line(1, 1)], tran_id="CM-5014", origin=Origin(channel_refund_id="BC-R-77")
            ),
            "SKIPPED",
            "CREATED_FROM_BIGCOMMERCE",
        ),
    ]


def _us_tax(amount: Decimal) -> Decimal:
    return to_cents(amount * US_TAX)


def us_store(
    order_id: int, lines: list[ProductLine], addresses: list[ShippingAddress], **extra: object
) -> Order:
    """An order of the US store: prices entered before tax, 8.25 % sales tax added at checkout."""
    return order(order_id, lines, addresses, prices_include_tax=False, **extra)  # type: ignore[arg-type]


def us_scenarios() -> list[Scenario]:
    """The US store, beside today's: it prices before tax, so BigCommerce adds the tax on shipping."""
    two = [address(31, D("7.00"), tax=US_TAX), address(32, D("5.00"), tax=US_TAX)]
    return [
        Scenario(
            "US store (prices before tax): everything + shipping",
            us_store(
                5101,
                [BOOT.order_line(1, 1, 30, tax=US_TAX), SCARF.order_line(2, 2, 30, tax=US_TAX)],
                [address(30, D("9.00"), tax=US_TAX)],
            ),
            _refund(
                5101,
                [BOOT.refund_line(1, 1, tax_rate=US_TAX), SCARF.refund_line(2, 2, tax_rate=US_TAX)],
                tran_id="CM-5101",
                shipping_amount=D("9.00"),
                shipping_tax=_us_tax(D("9.00")),
            ),
            "SYNCED",
            expected_order_status=4,
        ),
        Scenario(
            "US store: shipping only",
            us_store(5102, [BOOT.order_line(3, 1, 33, tax=US_TAX)], [address(33, D("9.00"), tax=US_TAX)]),
            _refund(5102, [], tran_id="CM-5102", shipping_amount=D("9.00"), shipping_tax=_us_tax(D("9.00"))),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "US store: shipping, 2 consignments",
            us_store(
                5103, [SCARF.order_line(4, 1, 31, tax=US_TAX), MUG.order_line(5, 1, 32, tax=US_TAX)], two
            ),
            _refund(
                5103,
                [],
                tran_id="CR-5103",
                cash=True,
                shipping_amount=D("12.00"),
                shipping_tax=_us_tax(D("12.00")),
            ),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "US store: fee + gift wrapping",
            us_store(
                5104,
                [SCARF.order_line(6, 2, 34, tax=US_TAX, wrapping=wrap(D("4.00"), tax=US_TAX))],
                [address(34, D("6.00"), tax=US_TAX)],
                fees=[fee(2, "Shipping Insurance", D("2.50"), tax=US_TAX)],
            ),
            _refund(
                5104,
                [
                    other_line(1, "Shipping Insurance", D("2.50"), tax=_us_tax(D("2.50"))),
                    other_line(2, "Gift Wrap", D("4.00"), tax=_us_tax(D("4.00"))).model_copy(
                        update={"quantity": D(1)}
                    ),
                ],
                tran_id="CM-5104",
            ),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "US store: paid by bank deposit only",
            us_store(
                5105,
                [MUG.order_line(7, 2, 35, tax=US_TAX)],
                [address(35, D("5.00"), tax=US_TAX)],
                paid_by="bankdeposit",
            ),
            _refund(5105, [MUG.refund_line(1, 1, tax_rate=US_TAX)], tran_id="CM-5105"),
            "SYNCED",
            expected_order_status=14,
        ),
        Scenario(
            "US store: shown in AUD, paid in USD",
            us_store(
                5106, [CAP.order_line(8, 1, 36, tax=US_TAX)], [address(36, D("5.00"), tax=US_TAX)]
            ).model_copy(update={"display_currency_code": "AUD", "display_exchange_rate": D("1.384615")}),
            _refund(5106, [CAP.refund_line(1, 1, tax_rate=US_TAX)], tran_id="CR-5106", cash=True),
            "SYNCED",
            expected_order_status=14,
        ),
    ]


def more_scenarios() -> list[Scenario]:
    """Today's store, beside the US store: payments beyond a card, and a refund of nothing."""
    return [
        Scenario(
            "gift certificate (20.00) + card",
            order(
                5015,
                [CAP.order_line(15, 2, 24)],
                [address(24, D("5.00"))],
                tenders=[Tender(provider_id="giftcertificate", amount=D("20.00"))],
            ),
            _refund(
                5015,
                [CAP.refund_line(1, 2)],
                tran_id="CM-5015",
                shipping_amount=D("5.00"),
                shipping_tax=D("0.50"),
            ),
            "SYNCED",
            expected_order_status=4,
        ),
        Scenario(
            "zero-amount credit memo",
            order(5016, [TEE.order_line(16, 1, 25)], [address(25, D("5.00"))]),
            _refund(
                5016,
                [
                    TEE.refund_line(1, 1),
                    other_line(2, "Price match", D("-25.00"), item_type="Discount", tax=D("-2.50")),
                ],
                tran_id="CM-5016",
            ),
            "SKIPPED",
            "ZERO_AMOUNT",
        ),
    ]


def seed(
    account: NetSuiteAccount, orders: Callable[[list[Order]], object], chosen: list[Scenario]
) -> dict[str, Scenario]:
    """Put the scenarios' orders into BigCommerce and their refunds into NetSuite; by NetSuite id."""
    orders([s.order for s in chosen if s.order is not None])
    return {scenario.make_refund(account).id: scenario for scenario in chosen}
