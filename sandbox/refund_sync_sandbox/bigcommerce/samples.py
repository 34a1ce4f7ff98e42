"""A handful of orders that cover the cases a refund rehearsal meets most often."""

from __future__ import annotations

from decimal import Decimal

from refund_sync_sandbox.bigcommerce.models import (
    Address,
    AppliedDiscount,
    Fee,
    GiftWrapping,
    Order,
    ProductLine,
    ShippingAddress,
    Tender,
)
from refund_sync_sandbox.bigcommerce.money import cents


def _money(text: str) -> Decimal:
    return Decimal(text)


def sample_orders() -> list[Order]:
    """Seven orders. Priced with tax (today's store):

    - 100: a registered customer paid 93.50 by card; two lines (one discounted), shipping, handling, a fee;
    - 101: a guest paid 38.50 by bank deposit (an offline provider): no store credit for guests;
    - 102: a registered customer paid 108.00 in EUR (store default USD) by a card not settled yet;
    - 103: a registered customer paid 73.79 by card (53.79) and store credit (20.00); one digital line.

    And from a US store that prices before tax (8.25 % sales tax added at checkout):

    - 104: 161.84 by card for three lines (one gift-wrapped) shipped to two addresses, with a fee;
    - 105: 56.29 by gift certificate (25.00) and card (31.29);
    - 106: 33.46 in USD by card, the storefront showing prices in AUD (1.384615 per USD).
    """
    shopper = Address(first_name="Jane", last_name="Doe", email="janedoe@example.com")
    return [
        Order(
            id=100,
            customer_id=7,
            billing_address=shopper,
            products=[
                ProductLine(
                    id=1001,
                    product_id=77,
                    variant_id=401,
                    sku="TOWEL-BEIGE",
                    name="Chambray Towel - Beige",
                    quantity=3,
                    price_ex_tax=_money("20.00"),
                    price_inc_tax=_money("22.00"),
                    order_address_id=501,
                ),
                ProductLine(
                    id=1002,
                    product_id=78,
                    variant_id=402,
                    sku="MUG-GRY",
                    name="Coffee Mug - Grey",
                    quantity=1,
                    price_ex_tax=_money("12.00"),
                    price_inc_tax=_money("13.20"),
                    applied_discounts=[
                        AppliedDiscount(id="SPRING2", amount=_money("2.00"), name="$2 off", code="SPRING2")
                    ],
                    order_address_id=501,
                ),
            ],
            shipping_addresses=[
                ShippingAddress(
                    id=501,
                    cost_ex_tax=_money("10.00"),
                    cost_inc_tax=_money("11.00"),
                    handling_cost_ex_tax=_money("2.00"),
                    handling_cost_inc_tax=_money("2.20"),
                )
            ],
            fees=[
                Fee(
                    id=1,
                    display_name="Package Protection",
                    cost_ex_tax=_money("3.00"),
                    cost_inc_tax=_money("3.30"),
                )
            ],
            tenders=[
                Tender(
                    provider_id="braintree",
                    description="Braintree (Visa ending 1111)",
                    amount=_money("93.50"),
                )
            ],
        ),
        Order(
            id=101,
            customer_id=0,
            status_id=9,
            products=[
                ProductLine(
                    id=1011,
                    product_id=81,
                    sku="APRON-LIN",
                    name="Linen Apron",
                    quantity=2,
                    price_ex_tax=_money("15.00"),
                    price_inc_tax=_money("16.50"),
                    order_address_id=511,
                )
            ],
            shipping_addresses=[
                ShippingAddress(id=511, cost_ex_tax=_money("5.00"), cost_inc_tax=_money("5.50"))
            ],
            tenders=[Tender(provider_id="bankdeposit", amount=_money("38.50"))],
        ),
        Order(
            id=102,
            customer_id=8,
            currency_code="EUR",
            store_default_currency_code="USD",
            store_default_to_transactional_exchange_rate=_money("0.92"),
            payment_status="authorized",
            products=[
                ProductLine(
                    id=1021,
                    product_id=90,
                    sku="THROW-WOOL",
                    name="Wool Throw",
                    quantity=1,
                    price_ex_tax=_money("80.00"),
                    price_inc_tax=_money("96.00"),
                    order_address_id=521,
                )
            ],
            shipping_addresses=[
                ShippingAddress(
                    id=521,
                    city="Berlin",
                    state="Berlin",
                    zip="10115",
                    country="Germany",
                    country_iso2="DE",
                    cost_ex_tax=_money("10.00"),
                    cost_inc_tax=_money("12.00"),
                )
            ],
            tenders=[
                Tender(
                    provider_id="stripev3",
                    description="Stripe (Mastercard ending 4444)",
                    amount=_money("108.00"),
                    settled=False,
                )
            ],
        ),
        Order(
            id=103,
            customer_id=9,
            products=[
                ProductLine(
                    id=1031,
                    product_id=95,
                    sku="VASE-CER",
                    name="Ceramic Vase",
                    quantity=2,
                    price_ex_tax=_money("25.00"),
                    price_inc_tax=_money("27.50"),
                    order_address_id=531,
                ),
                ProductLine(
                    id=1032,
                    product_id=96,
                    sku="EBOOK-CARE",
                    name="E-book: Care Guide",
                    type="digital",
                    quantity=1,
                    price_ex_tax=_money("9.99"),
                    price_inc_tax=_money("9.99"),
                ),
            ],
            shipping_addresses=[
                ShippingAddress(id=531, cost_ex_tax=_money("8.00"), cost_inc_tax=_money("8.80"))
            ],
            tenders=[
                Tender(
                    provider_id="braintree",
                    description="Braintree (Amex ending 0005)",
                    amount=_money("53.79"),
                ),
                Tender(provider_id="storecredit", amount=_money("20.00")),
            ],
        ),
        *us_store_orders(shopper),
    ]


def _us(price: str) -> tuple[Decimal, Decimal]:
    """A US price before tax, and with Texas' 8.25 % added (to the cent)."""
    ex_tax = _money(price)
    return ex_tax, cents(ex_tax * _money("1.0825"))


def us_store_orders(shopper: Address) -> list[Order]:
    def line(
        line_id: int, sku: str, name: str, quantity: int, price: str, *, address_id: int, **extra: object
    ) -> ProductLine:
        ex_tax, inc_tax = _us(price)
        return ProductLine.model_validate(
            {
                "id": line_id,
                "product_id": line_id // 10,
                "sku": sku,
                "name": name,
                "quantity": quantity,
                "price_ex_tax": ex_tax,
                "price_inc_tax": inc_tax,
                "order_address_id": address_id,
                **extra,
            }
        )

    def ship_to(address_id: int, cost: str, city: str = "Austin") -> ShippingAddress:
        ex_tax, inc_tax = _us(cost)
        return ShippingAddress(id=address_id, city=city, cost_ex_tax=ex_tax, cost_inc_tax=inc_tax)

    wrap_ex, wrap_inc = _us("4.00")
    fee_ex, fee_inc = _us("2.50")
    # Drafts, unvalidated: the card's amount is what the other tenders leave of the total (filled in below)
    orders = [
        Order.model_construct(
            id=104,
            customer_id=10,
            billing_address=shopper,
            tax_inclusive_pricing=False,
            products=[
                line(1041, "BOOT-BRN-9", "Work Boot - Brown 9", 1, "89.00", address_id=541),
                line(
                    1042,
                    "SCARF-WL",
                    "Wool Scarf",
                    2,
                    "14.50",
                    address_id=541,
                    wrapping=GiftWrapping(name="Holiday Wrap", cost_ex_tax=wrap_ex, cost_inc_tax=wrap_inc),
                ),
                line(1043, "CAN-MUG", "Camp Mug", 1, "9.00", address_id=542),
            ],
            shipping_addresses=[ship_to(541, "7.00"), ship_to(542, "5.00", city="Houston")],
            fees=[Fee(id=2, display_name="Shipping Insurance", cost_ex_tax=fee_ex, cost_inc_tax=fee_inc)],
            tenders=[
                Tender(
                    provider_id="braintree", description="Braintree (Visa ending 1111)", amount=_money("0")
                )
            ],
        ),
        Order.model_construct(
            id=105,
            customer_id=11,
            billing_address=shopper,
            tax_inclusive_pricing=False,
            products=[line(1051, "TENT-2P", "Two-person Tent", 1, "45.00", address_id=551)],
            shipping_addresses=[ship_to(551, "7.00")],
            tenders=[
                Tender(provider_id="giftcertificate", amount=_money("25.00")),
                Tender(
                    provider_id="braintree", description="Braintree (Visa ending 1111)", amount=_money("0")
                ),
            ],
        ),
        Order.model_construct(
            id=106,
            customer_id=12,
            billing_address=shopper,
            tax_inclusive_pricing=False,
            display_currency_code="AUD",
            display_exchange_rate=_money("1.384615"),
            products=[line(1061, "HAT-STR", "Straw Hat", 1, "24.00", address_id=561)],
            shipping_addresses=[ship_to(561, "6.91")],
            tenders=[
                Tender(
                    provider_id="braintree", description="Braintree (Visa ending 1111)", amount=_money("0")
                )
            ],
        ),
    ]
    return [_card_pays_the_rest(order) for order in orders]


def _card_pays_the_rest(order: Order) -> Order:
    """The card tender takes what the order's other tenders leave of its total."""
    others = sum((t.amount for t in order.tenders if t.provider_id != "braintree"), Decimal(0))
    tenders = [
        t if t.provider_id != "braintree" else t.model_copy(update={"amount": order.total_inc_tax - others})
        for t in order.tenders
    ]
    return Order.model_validate({**order.model_dump(), "tenders": [t.model_dump() for t in tenders]})
