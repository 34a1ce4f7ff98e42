"""Fixtures of the bad-input properties: one sandbox per module, driven from the refund queue.

The properties that go through the consumer share their module's sandbox (every example uses fresh order
and refund ids, so none sees another's data); the poller's properties, which read the whole queue and the
checkpoint, take a fresh sandbox per test (the `sandbox` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from refund_sync_sandbox.netsuite import SandboxCredentials
from refund_sync_sandbox.sandbox import Sandbox, reset_process_caches, running_sandbox
from tests.bad_input.support import Pipeline


@pytest.fixture(scope="module")
def module_sandbox(moto_endpoint: str, netsuite_credentials: SandboxCredentials) -> Iterator[Sandbox]:
    with running_sandbox(aws_endpoint=moto_endpoint, credentials=netsuite_credentials) as running:
        # Dozens of examples share the store: its request quota (150 per 30 s, as BigCommerce's) would
        # answer 429 to refunds that are not under test. The quota's own tests are elsewhere.
        running.store.set_rate_limit(quota=1_000_000)
        yield running


@pytest.fixture
def pipeline(module_sandbox: Sandbox) -> Iterator[Pipeline]:
    """The module's sandbox seen from the refund queue; the consumer is warm within a test, cold between."""
    reset_process_caches()
    try:
        yield Pipeline(module_sandbox)
    finally:
        reset_process_caches()
