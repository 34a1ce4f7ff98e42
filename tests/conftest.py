"""Fixtures shared by the integration tests: the whole sandbox, as `make demo` runs it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from refund_sync_sandbox.sandbox import Sandbox, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """AWS on moto (server mode), the NetSuite and BigCommerce simulators, the real handlers; all fresh."""
    with running_sandbox() as running:
        yield running
