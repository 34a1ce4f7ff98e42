from __future__ import annotations

from collections.abc import Iterator

import pytest

from refund_sync_sandbox.bigcommerce import (
    BigCommerceStore,
    ManualClock,
    RunningServer,
    sample_orders,
    start_bigcommerce_server,
)

from .support import StoreApi


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> BigCommerceStore:
    """The sample orders 100-103 (see sample_orders) on a store whose time only moves when told."""
    return BigCommerceStore(sample_orders(), clock=clock)


@pytest.fixture
def server(store: BigCommerceStore) -> Iterator[RunningServer]:
    running = start_bigcommerce_server(store)
    yield running
    running.stop()


@pytest.fixture
def api(server: RunningServer) -> StoreApi:
    return StoreApi(server)
