"""Fixtures shared by the integration tests: the whole sandbox, as `make demo` runs it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from refund_sync_sandbox.aws import moto_server
from refund_sync_sandbox.netsuite import SandboxCredentials
from refund_sync_sandbox.sandbox import SANDBOX_ACCOUNT_ID, Sandbox, running_sandbox


def pytest_configure(config: pytest.Config) -> None:
    # No test may reach a real AWS account, whatever the developer's shell holds.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    )


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server per test process; every sandbox resets it."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def netsuite_credentials() -> SandboxCredentials:
    return SandboxCredentials.generate(SANDBOX_ACCOUNT_ID)


@pytest.fixture
def sandbox(moto_endpoint: str, netsuite_credentials: SandboxCredentials) -> Iterator[Sandbox]:
    """AWS on moto (server mode), the NetSuite and BigCommerce simulators, the real handlers; all fresh."""
    with running_sandbox(aws_endpoint=moto_endpoint, credentials=netsuite_credentials) as running:
        yield running
