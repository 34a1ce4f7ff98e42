"""Fixtures of the consumer stories (the sandbox itself comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from refund_sync_sandbox.bigcommerce.readings import StoreReadings, TaxPricing
from refund_sync_sandbox.sandbox import Sandbox
from tests.integration.consumer.money import PRICINGS


@pytest.fixture(params=PRICINGS, ids=lambda pricing: f"{pricing.value}-store")
def pricing(request: pytest.FixtureRequest, sandbox: Sandbox) -> TaxPricing:
    """A store that prices with tax (today's) or before it (the US store), with the default readings."""
    chosen: TaxPricing = request.param
    sandbox.store.use_readings(StoreReadings(pricing=chosen))
    return chosen
