"""Money is Decimal end to end; amounts are rounded to the cent where BigCommerce rounds."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    """Round half up to two places, as BigCommerce does for every refund amount."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `amount` (in cents) in proportion to `weights`, so the parts add up to the cent.

    Largest-remainder allocation: each part is rounded down, and the cents left over go to the
    parts that lost the most in rounding (earliest first on ties), so no cent is created or lost.
    """
    if not weights:
        raise ValueError("cannot allocate over no weights")
    cents = int(to_cents(amount) / CENT)
    weight_sum = total(weights)
    if weight_sum <= 0:
        shares = [Decimal(1)] * len(weights)
        weight_sum = Decimal(len(weights))
    else:
        shares = weights
    exact = [Decimal(cents) * share / weight_sum for share in shares]
    floors = [int(part) for part in exact]
    leftover = cents - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return [Decimal(part) * CENT for part in floors]


def _parse_money(value: object) -> object:
    if isinstance(value, float):
        # JSON numbers reach us as floats from some parsers; their shortest repr is the exact
        # decimal that was written, so go through str, never through binary arithmetic.
        return Decimal(repr(value))
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]
"""A money amount in a pydantic model: parsed from strings or numbers, serialised as a string."""
