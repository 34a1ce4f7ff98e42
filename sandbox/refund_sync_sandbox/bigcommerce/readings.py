"""The simulated store's tax setting, and a switch for each reading of BigCommerce's documents that
they leave open about refunds. Tests (and `make soak`) run refund-sync under every reading; the code must
be right under each, or stop safely and say why.

What the documents say, and where the simulator follows them without a switch:
- "Prices entered with tax" applies to every price entered in the control panel: products, discounts,
  shipping, gift wrapping; it "affects all prices" (BigCommerce Help Center, *Tax Overview*, "Prices
  entered with tax"). The order records it as `is_tax_inclusive_pricing`: "whether the order's base
  prices include tax" (orders.v2.oas2.yml, order `is_tax_inclusive_pricing`). So one store setting, and
  each order carries the basis it was priced in.
- An `ORDER` refund item is tax-exempt: "tax is not re-calculated" (orders.v3.yml, `TaxExemptItem`).
- The shopper is refunded in the order's transactional currency, whatever currency the storefront
  displayed (BigCommerce docs, *How Currencies Work*, "Refunds" and "Orders"); store credit is not
  offered when the order was paid in a non-default currency, nor to guests (Help Center, *Processing
  Refunds*, "Limitations").
- Offline payments (bank deposit, cash on delivery...) can only be marked refunded: "no funds were
  collected" through BigCommerce (BigCommerce docs, *Order Refunds*, "Offline order refunds"); the quote
  shows them `offline`, `offline_provider`, "This is an offline payment provider." (orders.v3.yml,
  `RefundQuote_Full.refund_methods` example).

What they leave open (one switch each; the default is the reading the issue tracker settled on first):
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TaxPricing(StrEnum):
    """The store's "Prices entered with tax" setting (Help Center, *Tax Overview*)."""

    INCLUSIVE = "inclusive"  # "Yes, I will enter prices inclusive of tax"
    EXCLUSIVE = "exclusive"  # "No, I will enter prices exclusive of tax": most US stores


class AmountBasis(StrEnum):
    """How the `amount` of a SHIPPING, HANDLING or FEE refund item is read. orders.v3.yml says only that
    ORDER amounts are tax-exempt ("tax is not re-calculated", `TaxExemptItem`); the refunds guide's
    example refunds shipping of 10 on an order whose tax is 0.83 and calls the quote `is_tax_included:
    false` (BigCommerce docs, *Order Refunds*, "Creating refund quotes")."""

    ORDER_BASIS = "order_basis"  # in the order's pricing basis; BigCommerce computes the tax
    TAX_INCLUSIVE = "tax_inclusive"  # always with tax included, the tax taken out of it
    TAX_EXCLUSIVE = "tax_exclusive"  # always before tax, the tax added on top


class QuoteTotal(StrEnum):
    """What a quote on a tax-exclusive order holds in `total_refund_amount`. The spec's description says
    `tax_inclusive` tells "if `total_refund_amount` includes tax amount" and `Amount` is "the amount that
    can be charged/refunded with payment providers" (orders.v3.yml, `RefundQuote_Full`, `Amount`); the
    refunds guide's example answers `is_tax_included: false` with the tax inside the total (21.83 with
    0.83 tax, the method paying 21.83; BigCommerce docs, *Order Refunds*, "Creating refund quotes")."""

    EXCLUDES_TAX = "excludes_tax"  # tax_inclusive false; the total is before tax, the methods pay both
    FLAG_ONLY = "flag_only"  # tax_inclusive false, yet the total includes the tax (the guide's example)
    ALWAYS_INCLUSIVE = "always_inclusive"  # tax_inclusive true and the total with tax, whatever the store


class Rounding(StrEnum):
    """Where BigCommerce rounds tax to the cent. `rounding` "indicates rounding value to bring
    `refund_total` to an amount refundable with payment providers (in this case to 2 decimal places)"
    (orders.v3.yml, `RefundQuote_Full.rounding`): it says neither per item nor on the total."""

    PER_ITEM = "per_item"  # each item's amount and tax to the cent; `rounding` is 0
    ON_TOTAL = "on_total"  # items priced exactly, the total rounded once and `rounding` reported


class AdjustmentPlace(StrEnum):
    """Whether `total_refund_amount` already counts the `adjustment`, "the difference between the refund
    amount requested in the refund quote and the actual amount that is refundable", positive "when the
    total refundable amount has increased, e.g. as a result of rounding" (orders.v3.yml,
    `AdjustmentAmount`). The methods always pay what is refundable."""

    IN_TOTAL = "in_total"  # the total is what is refundable
    ON_TOP = "on_top"  # the total is what was asked; what is refundable is total + adjustment


class GiftCertificateRefund(StrEnum):
    """How the share an order paid by gift certificate comes back. Gift certificates "will not be
    supported at beta launch" of line-item refunds (Help Center, *Line Item Refunds (Beta)*); nothing
    since says how the quote offers them."""

    OFFLINE = "offline"  # the certificate's share recorded offline, beside the card online
    STORE_CREDIT = "store_credit"  # the certificate's share as store credit (registered customers)
    ONLINE = "online"  # the certificate itself credited back, online


class SecondGateway(StrEnum):
    """How the quote flags the share of a second online gateway, which BigCommerce refunds only offline.
    `offline_provider` is "if the payment provider is a strictly offline provider, such as cash on delivery
    or bank deposit", yet the PaymentOption example sets it on PayPal Express with "Multiple online refunds
    are not available." (orders.v3.yml, `PaymentOption`)."""

    NOT_A_PROVIDER = "not_a_provider"  # offline, offline_provider false: as the field's description says
    FLAGGED_PROVIDER = "flagged_provider"  # offline and offline_provider true: as the example shows


class RefundTotal(StrEnum):
    """What a refund's `total_amount` holds on an order priced before tax. It is an `Amount`, as the
    quote's `total_refund_amount` is (orders.v3.yml, `Refund`); nothing says whether it follows the quote's
    `tax_inclusive` or always counts the tax its payments paid."""

    WITH_TAX = "with_tax"  # what the payments paid, tax included
    LIKE_QUOTE = "like_quote"  # as the quote's total: before tax where the quote's total is


class TaxFlagName(StrEnum):
    """The quote's flag: `tax_inclusive` in the spec, `is_tax_included` in the refunds guide's example."""

    TAX_INCLUSIVE = "tax_inclusive"
    IS_TAX_INCLUDED = "is_tax_included"


@dataclass(frozen=True)
class StoreReadings:
    """The store's tax setting (for orders seeded without their own) and one reading per open question."""

    pricing: TaxPricing = TaxPricing.INCLUSIVE
    amount_basis: AmountBasis = AmountBasis.ORDER_BASIS
    quote_total: QuoteTotal = QuoteTotal.EXCLUDES_TAX
    rounding: Rounding = Rounding.PER_ITEM
    adjustment: AdjustmentPlace = AdjustmentPlace.IN_TOTAL
    gift_certificates: GiftCertificateRefund = GiftCertificateRefund.OFFLINE
    tax_flag: TaxFlagName = TaxFlagName.TAX_INCLUSIVE
    second_gateway: SecondGateway = SecondGateway.NOT_A_PROVIDER
    refund_total: RefundTotal = RefundTotal.WITH_TAX

    def label(self) -> str:
        default = StoreReadings(pricing=self.pricing)
        changed = [
            f"{name}={getattr(self, name).value}"
            for name in self.__dataclass_fields__
            if name != "pricing" and getattr(self, name) != getattr(default, name)
        ]
        return f"{self.pricing.value} pricing" + (f" ({', '.join(changed)})" if changed else "")


DEFAULT_READINGS = StoreReadings()


def every_reading(pricing: TaxPricing) -> list[StoreReadings]:
    """The default readings, then each open question answered the other way(s), one at a time."""
    readings = [StoreReadings(pricing=pricing)]
    for basis in (AmountBasis.TAX_INCLUSIVE, AmountBasis.TAX_EXCLUSIVE):
        readings.append(StoreReadings(pricing=pricing, amount_basis=basis))
    for quote_total in (QuoteTotal.FLAG_ONLY, QuoteTotal.ALWAYS_INCLUSIVE):
        readings.append(StoreReadings(pricing=pricing, quote_total=quote_total))
    readings.append(StoreReadings(pricing=pricing, rounding=Rounding.ON_TOTAL))
    readings.append(
        StoreReadings(pricing=pricing, rounding=Rounding.ON_TOTAL, adjustment=AdjustmentPlace.ON_TOP)
    )
    for gift in (GiftCertificateRefund.STORE_CREDIT, GiftCertificateRefund.ONLINE):
        readings.append(StoreReadings(pricing=pricing, gift_certificates=gift))
    readings.append(StoreReadings(pricing=pricing, tax_flag=TaxFlagName.IS_TAX_INCLUDED))
    readings.append(StoreReadings(pricing=pricing, second_gateway=SecondGateway.FLAGGED_PROVIDER))
    readings.append(StoreReadings(pricing=pricing, refund_total=RefundTotal.LIKE_QUOTE))
    return readings
