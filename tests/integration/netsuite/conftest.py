"""The NetSuite adapter against the NetSuite simulator, with its secret in (moto's) Secrets Manager.

`make_client(method, ...)` stores the simulated account's credentials as the secret for `method`, builds
settings pointing at the simulator and returns `netsuite_client_from_settings(...)`, with the sleeps
recorded instead of slept."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from moto import mock_aws
from mypy_boto3_secretsmanager import SecretsManagerClient

from refund_sync.adapters.netsuite.client import NetSuiteClient, RetryPolicy, netsuite_client_from_settings
from refund_sync.config import NetSuiteAuthMethod, Settings
from refund_sync.observability import metrics
from refund_sync_sandbox.netsuite import (
    NetSuiteAccount,
    RunningServer,
    SandboxCredentials,
    start_netsuite_server,
)

ClientFactory = Callable[..., NetSuiteClient]


@pytest.fixture(scope="session")
def credentials(netsuite_credentials: SandboxCredentials) -> SandboxCredentials:
    """The session's simulated account keys (tests/conftest.py): RSA key generation takes a moment."""
    return netsuite_credentials


@pytest.fixture
def account(credentials: SandboxCredentials) -> NetSuiteAccount:
    return NetSuiteAccount(credentials)


@pytest.fixture
def server(account: NetSuiteAccount) -> Iterator[RunningServer]:
    with start_netsuite_server(account) as running:
        yield running


@pytest.fixture(scope="session")
def secrets_client() -> SecretsManagerClient:
    """One boto3 client for the session (creating one takes a while); moto serves it inside mock_aws.

    Fake credentials and region are set only while it is created: the client keeps them."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        return boto3.client("secretsmanager")


@pytest.fixture
def secretsmanager(secrets_client: SecretsManagerClient) -> Iterator[SecretsManagerClient]:
    """An empty (moto) Secrets Manager that Powertools' get_secret reads through the same client."""
    with mock_aws():
        read_secrets_with(secrets_client)
        yield secrets_client
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def metric_count() -> Callable[[str], int]:
    """metric_count(name): how many times the adapter added metric `name` since the test began."""

    def count(name: str) -> int:
        return int(sum(metrics.metric_set.get(name, {}).get("Value", [])))

    return count


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for; the client gets `sleeps.append` instead of time.sleep."""
    return []


@pytest.fixture
def settings_for(server: RunningServer) -> Callable[..., Settings]:
    def settings(method: NetSuiteAuthMethod = NetSuiteAuthMethod.TBA, **overrides: Any) -> Settings:
        values: dict[str, Any] = {key.lower(): value for key, value in server.environment().items()}
        values.update(
            netsuite_auth_method=method,
            netsuite_secret_name=f"refund-sync/netsuite/{method.value}",
            netsuite_timeout_seconds=5.0,
        )
        values.update(overrides)
        return Settings(**values)

    return settings


@pytest.fixture
def make_client(
    settings_for: Callable[..., Settings],
    secretsmanager: SecretsManagerClient,
    credentials: SandboxCredentials,
    sleeps: list[float],
) -> Iterator[ClientFactory]:
    clients: list[NetSuiteClient] = []

    def make(
        method: NetSuiteAuthMethod = NetSuiteAuthMethod.TBA,
        *,
        secret: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        **overrides: Any,
    ) -> NetSuiteClient:
        settings = settings_for(method, **overrides)
        store_secret(secretsmanager, settings.netsuite_secret_name, secret or credentials.secret_for(method))
        client = netsuite_client_from_settings(settings, retry=retry, sleep=sleeps.append, clock=clock)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def store_secret(secretsmanager: SecretsManagerClient, name: str, value: dict[str, str]) -> None:
    try:
        secretsmanager.create_secret(Name=name, SecretString=json.dumps(value))
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    read_secrets_with(secretsmanager)


def read_secrets_with(client: SecretsManagerClient) -> None:
    """A fresh Powertools secrets provider (nothing cached) on `client`, for parameters.get_secret."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=client)
