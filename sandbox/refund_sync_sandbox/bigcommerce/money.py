"""Decimal money helpers and exact JSON output for the simulator.

The simulator keeps its own rounding helpers rather than importing the app's, so a rounding bug in the
app cannot hide behind the very code that is supposed to catch it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_V2_PLACES = Decimal("0.0001")


def cents(amount: Decimal) -> Decimal:
    """Round half up to two places, as BigCommerce does for refund amounts."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: Iterable[Decimal]) -> Decimal:
    return cents(sum(amounts, ZERO))


def v2_money(amount: Decimal) -> str:
    """The v2 API's money: a string with four places, e.g. "54.0000"."""
    return format(amount.quantize(_V2_PLACES, rounding=ROUND_HALF_UP), "f")


def has_at_most_two_places(amount: Decimal) -> bool:
    return amount.is_finite() and amount == amount.quantize(CENT)


def dumps(value: Any) -> str:
    """JSON text in which every Decimal is written as an exact JSON number (never through float)."""
    return "".join(_encode(value))


def _encode(value: Any) -> Iterable[str]:
    if isinstance(value, Decimal):
        yield format(value, "f")
    elif isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            if index:
                yield ","
            yield json.dumps(str(key))
            yield ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _encode(item)
        yield "]"
    else:
        yield json.dumps(value)


def loads(text: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact Decimal."""
    return json.loads(text, parse_float=Decimal)


def settle(values: list[Decimal], target: Decimal) -> list[Decimal]:
    """Round exact `values` to cents so that they add up to `target` (in cents): each is rounded down,
    and the cents left over go to those that lost most (earliest first on ties). Used where BigCommerce
    rounds a refund once on its total: the items it records must add up to what it refunded."""
    floors = [value.quantize(CENT, rounding=ROUND_DOWN) for value in values]
    leftover = int((target - sum(floors, ZERO)) / CENT)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    if leftover < 0:
        order = sorted(range(len(values)), key=lambda i: (values[i] - floors[i], i))
    step = CENT if leftover >= 0 else -CENT
    for index in (order * (abs(leftover) // max(len(order), 1) + 1))[: abs(leftover)]:
        floors[index] += step
    return floors
