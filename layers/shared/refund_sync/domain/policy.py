"""The choices a merchant makes about how refunds are mapped and paid out. Pure.

They belong to the domain because the mapping and the payment-method choice decide by them; the
settings (config.py) only read them from the environment, at the edge.
"""

from __future__ import annotations

from enum import StrEnum


class RefundMethodPolicy(StrEnum):
    ORIGINAL = "original"  # back to the payment method(s) the order was paid with
    STORE_CREDIT = "store_credit"  # as BigCommerce store credit
    RECORD_ONLY = "record_only"  # mark refunded in BigCommerce, move no money


class LineMatchRule(StrEnum):
    SKU = "sku"
    BIGCOMMERCE_LINE_ID = "bigcommerce_line_id"
    PRODUCT_VARIANT = "product_variant"


class PartialLineRule(StrEnum):
    """A product line refunded for less than its full price."""

    ORDER_AMOUNT = "order_amount"  # refund the amount as a custom (ORDER) amount; the item stays sold
    PRODUCT_ADJUSTMENT = "product_adjustment"  # refund the item, minus an adjustment for the difference
    HOLD = "hold"  # hold for a person to decide


class DiscountRule(StrEnum):
    ABSORB = "absorb"  # BigCommerce refunds lines net of their discount: reconcile on totals
    HOLD = "hold"


class TaxOnlyRule(StrEnum):
    ORDER_AMOUNT = "order_amount"  # refund tax-only lines as a custom (ORDER) amount
    HOLD = "hold"


class OfflinePaymentRule(StrEnum):
    """An order paid with an offline method (bank deposit, cheque, cash on delivery, a custom offline
    method), under the `original` policy: BigCommerce can only record the refund against it."""

    RECORD = "record"  # record it offline in BigCommerce; the customer is paid from NetSuite or by hand
    HOLD = "hold"  # hold it for a person to decide
