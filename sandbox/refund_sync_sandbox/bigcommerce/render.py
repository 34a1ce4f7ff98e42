"""The JSON BigCommerce answers with, in the types its OpenAPI files declare.

v2 money is a string with four places ("54.0000"), except in shipping consignments, where the spec
declares numbers. v3 money is a JSON number with two places, written exactly (see money.dumps).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

from refund_sync_sandbox.bigcommerce.errors import STATUS_CODES_URL
from refund_sync_sandbox.bigcommerce.ledger import OrderLedger
from refund_sync_sandbox.bigcommerce.models import (
    ORDER_STATUS_NAMES,
    STORE_CREDIT,
    Address,
    Fee,
    Order,
    ProductLine,
    RefundRecord,
    ShippingAddress,
)
from refund_sync_sandbox.bigcommerce.money import ZERO, cents, total, v2_money
from refund_sync_sandbox.bigcommerce.readback import ReasonEcho

_EXCHANGE_RATE_PLACES = Decimal("1.0000000000")
_CART_NAMESPACE = uuid.UUID("6f1c1f0e-3c7a-4d0e-9a51-2f3b8c1d7e42")


def _resource(links_base: str, path: str) -> dict[str, str]:
    return {"url": f"{links_base}/v2{path}", "resource": path}


# ---- v2 -------------------------------------------------------------------------------------


def order_json(
    order: Order,
    ledger: OrderLedger,
    *,
    links_base: str,
    includes: frozenset[str] = frozenset(),
    consignments_as_object: bool = False,
) -> dict[str, Any]:
    """The v2 order (order_Resp), with the sub-resources `include` asks for."""
    store_credit = total(tender.amount for tender in order.tenders if tender.provider_id == STORE_CREDIT)
    payment_status = order.payment_status
    if ledger.fully_refunded:
        payment_status = "refunded"
    elif ledger.has_refunds:
        payment_status = "partially refunded"
    created = format_datetime(order.date_created)
    body: dict[str, Any] = {
        "id": order.id,
        "customer_id": order.customer_id,
        "date_created": created,
        "date_modified": created,
        "date_shipped": "",
        "status_id": order.status_id,
        "status": ORDER_STATUS_NAMES[order.status_id],
        "custom_status": ORDER_STATUS_NAMES[order.status_id],
        "subtotal_ex_tax": v2_money(order.subtotal_ex_tax),
        "subtotal_inc_tax": v2_money(order.subtotal_inc_tax),
        "subtotal_tax": v2_money(order.subtotal_inc_tax - order.subtotal_ex_tax),
        "base_shipping_cost": v2_money(order.shipping_cost_ex_tax),
        "shipping_cost_ex_tax": v2_money(order.shipping_cost_ex_tax),
        "shipping_cost_inc_tax": v2_money(order.shipping_cost_inc_tax),
        "shipping_cost_tax": v2_money(order.shipping_cost_inc_tax - order.shipping_cost_ex_tax),
        "shipping_cost_tax_class_id": 0,
        "base_handling_cost": v2_money(order.handling_cost_ex_tax),
        "handling_cost_ex_tax": v2_money(order.handling_cost_ex_tax),
        "handling_cost_inc_tax": v2_money(order.handling_cost_inc_tax),
        "handling_cost_tax": v2_money(order.handling_cost_inc_tax - order.handling_cost_ex_tax),
        "handling_cost_tax_class_id": 0,
        "base_wrapping_cost": v2_money(order.wrapping_cost_ex_tax),
        "wrapping_cost_ex_tax": v2_money(order.wrapping_cost_ex_tax),
        "wrapping_cost_inc_tax": v2_money(order.wrapping_cost_inc_tax),
        "wrapping_cost_tax": v2_money(order.wrapping_cost_inc_tax - order.wrapping_cost_ex_tax),
        "wrapping_cost_tax_class_id": 0,
        "total_ex_tax": v2_money(order.total_ex_tax),
        "total_inc_tax": v2_money(order.total_inc_tax),
        "total_tax": v2_money(order.total_tax),
        # The order's pricing basis (orders.v2.oas2.yml, is_tax_inclusive_pricing): the store's "Prices
        # entered with tax" when the order was placed (Help Center, Tax Overview).
        "is_tax_inclusive_pricing": order.prices_include_tax,
        "items_total": sum(line.quantity for line in order.products),
        "items_shipped": 0,
        "payment_method": order.tenders[0].provider_description,
        "payment_provider_id": "",
        "payment_status": payment_status,
        "refunded_amount": v2_money(ZERO),  # the spec: "always returns 0"; sum the v3 refunds instead
        "order_is_digital": all(line.type == "digital" for line in order.products),
        "store_credit_amount": v2_money(store_credit),
        "gift_certificate_amount": v2_money(order.gift_certificate_amount),
        "ip_address": "",
        "ip_address_v6": "",
        "geoip_country": "",
        "geoip_country_iso2": "",
        # Display vs transactional currency (orders.v2.oas2.yml, "Currency Fields"; BigCommerce docs, How
        # Currencies Work, "Orders"): every amount of the order is in the transactional currency.
        "currency_id": 2 if order.display_currency_code not in (None, order.currency_code) else 1,
        "currency_code": order.display_currency_code or order.currency_code,
        "currency_exchange_rate": format(order.display_exchange_rate.quantize(_EXCHANGE_RATE_PLACES), "f"),
        "default_currency_id": 1,
        "default_currency_code": order.currency_code,
        "store_default_currency_code": order.store_default_currency_code,
        "store_default_to_transactional_exchange_rate": format(
            order.store_default_to_transactional_exchange_rate.quantize(_EXCHANGE_RATE_PLACES), "f"
        ),
        "staff_notes": order.staff_notes,
        "customer_message": order.customer_message,
        "discount_amount": v2_money(order.discount_amount),
        "coupon_discount": v2_money(ZERO),
        "shipping_address_count": len(order.shipping_addresses),
        "is_deleted": False,
        "ebay_order_id": "0",
        "cart_id": str(uuid.uuid5(_CART_NAMESPACE, str(order.id))),
        "billing_address": {**_address_json(order.billing_address), "form_fields": []},
        "is_email_opt_in": False,
        "credit_card_type": None,
        "order_source": "external",
        "channel_id": 1,
        "external_source": None,
        "external_id": None,
        "external_merchant_id": None,
        "tax_provider_id": "BasicTaxProvider",
        "customer_locale": "en",
        "external_order_id": "",
        "products": _resource(links_base, f"/orders/{order.id}/products"),
        "shipping_addresses": _resource(links_base, f"/orders/{order.id}/shipping_addresses"),
        "coupons": _resource(links_base, f"/orders/{order.id}/coupons"),
        "consignments": _resource(links_base, f"/orders/{order.id}/consignments"),
        "fees": _resource(links_base, f"/orders/{order.id}/fees"),
    }
    with_line_items = "consignments.line_items" in includes
    if with_line_items or "consignments" in includes:
        consignments = consignments_json(
            order, ledger, links_base=links_base, with_line_items=with_line_items
        )
        # Without consignment_structure=object BigCommerce answers with its older array form.
        body["consignments"] = consignments if consignments_as_object else [consignments]
    if "fees" in includes:
        body["fees"] = [fee_json(fee) for fee in order.fees]
    return body


def _address_json(address: Address) -> dict[str, Any]:
    return address.model_dump(
        include={
            "first_name",
            "last_name",
            "company",
            "street_1",
            "street_2",
            "city",
            "state",
            "zip",
            "country",
            "country_iso2",
            "phone",
            "email",
        }
    )


def product_json(order: Order, line: ProductLine, ledger: OrderLedger) -> dict[str, Any]:
    """One order product (orderProducts: additionalProperties is false, so nothing undeclared)."""
    quantity_refunded = ledger.quantity_refunded(line)
    body: dict[str, Any] = {
        "id": line.id,
        "order_id": order.id,
        "product_id": line.product_id,
        "order_pickup_method_id": 0,
        "order_address_id": line.order_address_id,
        "name": line.name,
        "name_customer": line.name,
        "name_merchant": line.name,
        "sku": line.sku,
        "upc": "",
        "type": line.type,
        "base_price": v2_money(line.price_ex_tax),
        "price_ex_tax": v2_money(line.price_ex_tax),
        "price_inc_tax": v2_money(line.price_inc_tax),
        "price_tax": v2_money(line.price_tax),
        "base_total": v2_money(line.total_ex_tax),
        "total_ex_tax": v2_money(line.total_ex_tax),
        "total_inc_tax": v2_money(line.total_inc_tax),
        "total_tax": v2_money(line.total_tax),
        "discounted_total_inc_tax": v2_money(line.paid_inc_tax),
        "quantity": line.quantity,
        "base_cost_price": v2_money(ZERO),
        "cost_price_inc_tax": v2_money(ZERO),
        "cost_price_ex_tax": v2_money(ZERO),
        "cost_price_tax": v2_money(ZERO),
        "weight": "1.0000",
        "width": "0.0000",
        "height": "0.0000",
        "depth": "0.0000",
        "is_refunded": quantity_refunded >= line.quantity,
        "quantity_refunded": quantity_refunded,
        "refund_amount": v2_money(ZERO),
        "return_id": 0,
        # The line's wrapping: per unit times quantity (orders.v2.oas2.yml, wrapping_cost_ex_tax).
        "wrapping_id": line.wrapping.id if line.wrapping else 0,
        "wrapping_name": line.wrapping.name if line.wrapping else None,
        "base_wrapping_cost": v2_money(line.wrapping_ex_tax),
        "wrapping_cost_ex_tax": v2_money(line.wrapping_ex_tax),
        "wrapping_cost_inc_tax": v2_money(line.wrapping_inc_tax),
        "wrapping_cost_tax": v2_money(line.wrapping_tax),
        "wrapping_message": "",
        "quantity_shipped": 0,
        "event_name": None,
        "event_date": None,
        "fixed_shipping_cost": v2_money(ZERO),
        "ebay_item_id": "",
        "ebay_transaction_id": "",
        "option_set_id": None,
        "parent_order_product_id": None,
        "is_bundled_product": False,
        "bin_picking_number": "",
        "external_id": None,
        "brand": "",
        "applied_discounts": [
            {
                "id": discount.id,
                "amount": v2_money(discount.amount),
                "name": discount.name,
                "code": discount.code,
                "target": discount.target,
            }
            for discount in line.applied_discounts
        ],
        "product_options": [],
        "configurable_fields": [],
        "gift_certificate_id": None,
    }
    if line.variant_id is not None:
        body["variant_id"] = line.variant_id
    return body


def shipping_address_json(order: Order, address: ShippingAddress, *, links_base: str) -> dict[str, Any]:
    """One order shipping address (orderShippingAddress)."""
    return {
        "id": address.id,
        "order_id": order.id,
        **_address_json(address),
        "items_total": _items_to(order, address),
        "items_shipped": 0,
        "shipping_method": address.shipping_method,
        "base_cost": v2_money(address.cost_ex_tax),
        "cost_ex_tax": v2_money(address.cost_ex_tax),
        "cost_inc_tax": v2_money(address.cost_inc_tax),
        "cost_tax": v2_money(address.cost_tax),
        "cost_tax_class_id": 0,
        "base_handling_cost": v2_money(address.handling_cost_ex_tax),
        "handling_cost_ex_tax": v2_money(address.handling_cost_ex_tax),
        "handling_cost_inc_tax": v2_money(address.handling_cost_inc_tax),
        "handling_cost_tax": v2_money(address.handling_cost_tax),
        "handling_cost_tax_class_id": 0,
        "shipping_zone_id": 1,
        "shipping_zone_name": address.country,
        "shipping_quotes": _resource(
            links_base, f"/orders/{order.id}/shipping_addresses/{address.id}/shipping_quotes"
        ),
        "form_fields": [],
    }


def _items_to(order: Order, address: ShippingAddress) -> int:
    return sum(line.quantity for line in order.products if line.order_address_id == address.id)


def fee_json(fee: Fee) -> dict[str, Any]:
    return {
        "id": fee.id,
        "type": "custom_fee",
        "display_name_customer": fee.display_name,
        "display_name_merchant": fee.display_name,
        "source": fee.source,
        "base_cost": v2_money(fee.cost_ex_tax),
        "cost_ex_tax": v2_money(fee.cost_ex_tax),
        "cost_inc_tax": v2_money(fee.cost_inc_tax),
        "cost_tax": v2_money(fee.cost_tax),
        "tax_class_id": fee.tax_class_id,
    }


def consignments_json(
    order: Order, ledger: OrderLedger, *, links_base: str, with_line_items: bool
) -> dict[str, Any]:
    """orderConsignment_Get: one shipping consignment per shipping address, digital lines as a download."""

    def line_items(lines: list[ProductLine]) -> list[dict[str, Any]]:
        if with_line_items:
            return [product_json(order, line, ledger) for line in lines]
        return [_resource(links_base, f"/orders/{order.id}/products/{line.id}") for line in lines]

    shipping = []
    for address in order.shipping_addresses:
        lines = [line for line in order.products if line.order_address_id == address.id]
        shipping.append(
            {
                "id": address.id,
                **_address_json(address),
                "form_fields": [],
                "shipping_method": address.shipping_method,
                "line_items": line_items(lines),
                "items_total": _items_to(order, address),
                "items_shipped": 0,
                "base_cost": cents(address.cost_ex_tax),
                "cost_ex_tax": cents(address.cost_ex_tax),
                "cost_inc_tax": cents(address.cost_inc_tax),
                "cost_tax": cents(address.cost_tax),
                "cost_tax_class_id": 0,
                "base_handling_cost": cents(address.handling_cost_ex_tax),
                "handling_cost_ex_tax": cents(address.handling_cost_ex_tax),
                "handling_cost_inc_tax": cents(address.handling_cost_inc_tax),
                "handling_cost_tax": cents(address.handling_cost_tax),
                "handling_cost_tax_class_id": 0,
                "shipping_zone_id": 1,
                "shipping_zone_name": address.country,
                "shipping_quotes": _resource(
                    links_base, f"/orders/{order.id}/consignments/shipping/{address.id}/shipping_quotes"
                ),
            }
        )
    digital = [line for line in order.products if line.type == "digital"]
    downloads = (
        [{"recipient_email": order.billing_address.email, "line_items": line_items(digital)}]
        if digital
        else []
    )
    return {"pickups": [], "shipping": shipping, "downloads": downloads, "email": {"gift_certificates": []}}


def order_statuses_json() -> list[dict[str, Any]]:
    return [
        {
            "id": status_id,
            "name": name,
            "system_label": name,
            "custom_label": name,
            "system_description": name,
            "order": status_id,
        }
        for status_id, name in ORDER_STATUS_NAMES.items()
    ]


def v2_error(status: int, message: str) -> list[dict[str, Any]]:
    """v2 resources answer errors as an array: [{"status": 404, "message": "..."}]."""
    return [{"status": status, "message": message}]


# ---- v3 -------------------------------------------------------------------------------------


def refund_json(
    refund: RefundRecord,
    *,
    as_submitted: bool = False,
    echo: ReasonEcho = ReasonEcho.ITEMS,
    amounts: bool = True,
) -> dict[str, Any]:
    """A Refund. `as_submitted` renders it as the create answers: gateway declines are not known yet.
    `echo`: which reasons BigCommerce shows, `amounts`: whether it shows the requested amounts (see
    readback.py: its documentation leaves both open)."""
    items = []
    for item in refund.items:
        rendered: dict[str, Any] = {"item_type": item.item_type, "item_id": item.item_id}
        if echo is ReasonEcho.ITEMS:
            rendered["reason"] = item.reason
        if item.item_type == "PRODUCT":
            rendered["quantity"] = item.quantity
            if item.adjustments:
                rendered["adjustments"] = [
                    {"amount": adjustment.amount, "description": adjustment.description}
                    for adjustment in item.adjustments
                ]
        rendered["requested_amount"] = item.requested_amount if amounts else None
        items.append(rendered)
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "user_id": refund.user_id,
        "created": refund.created.isoformat(),
        "reason": refund.reason if echo is not ReasonEcho.NONE else "",
        "total_amount": refund.total_amount
        if refund.shown_total_amount is None
        else refund.shown_total_amount,
        "total_tax": refund.total_tax,
        "uses_merchant_override_values": refund.uses_merchant_override_values,
        "items": items,
        "payments": [
            {
                "id": payment.id,
                "provider_id": payment.provider_id,
                "amount": payment.amount,
                "offline": payment.offline,
                "is_declined": payment.declined and not as_submitted,
                "declined_message": "" if as_submitted else payment.declined_message,
                "transaction_id": payment.transaction_id,
            }
            for payment in refund.payments
        ],
    }


def v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """BigCommerce's generic error (ErrorResponse): status, title, type and the per-field errors."""
    return {"status": status, "title": title, "type": STATUS_CODES_URL, "errors": dict(errors or {})}
