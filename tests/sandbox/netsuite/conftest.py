"""Fixtures for the NetSuite simulator's own tests: a fresh account, served on an ephemeral port, and a
plain OAuth 1.0a client (requests-oauthlib, as any integration would sign) to talk to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from refund_sync_sandbox.netsuite import (
    NetSuiteAccount,
    RunningServer,
    SandboxCredentials,
    start_netsuite_server,
)

CONTRACT_SCHEMA = Path(__file__).parents[3] / "netsuite" / "contract" / "restlet-contract.v1.json"

Restlet = Callable[..., requests.Response]


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


def _tba_signer(credentials: SandboxCredentials, **overrides: Any) -> OAuth1:
    assert credentials.tba is not None
    options: dict[str, Any] = {
        "client_key": credentials.tba.consumer_key,
        "client_secret": credentials.tba.consumer_secret,
        "resource_owner_key": credentials.tba.token_id,
        "resource_owner_secret": credentials.tba.token_secret,
        "signature_method": SIGNATURE_HMAC_SHA256,
        "realm": credentials.realm,
    }
    options.update(overrides)
    return OAuth1(**options)


@pytest.fixture(scope="session")
def tba_signer() -> Callable[..., OAuth1]:
    """tba_signer(credentials, **OAuth1 overrides): what an integration signs with (requests-oauthlib)."""
    return _tba_signer


@pytest.fixture
def restlet(server: RunningServer, account: NetSuiteAccount, credentials: SandboxCredentials) -> Restlet:
    """Call the RESTlet with a TBA-signed request: restlet(body, method="POST", auth=..., params=...)."""

    def call(
        body: object, method: str = "POST", auth: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        query = params or {"script": account.script_id, "deploy": account.deploy_id}
        return requests.request(
            method,
            server.restlet_url,
            params=query,
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
            auth=auth if auth is not None else _tba_signer(credentials),
            timeout=10,
        )

    return call


@pytest.fixture(scope="session")
def contract() -> Callable[[object, str], None]:
    """assert-style check of a body against one message of the committed contract schema."""
    schema = json.loads(CONTRACT_SCHEMA.read_text())

    def validate(body: object, message: str) -> None:
        validator = Draft202012Validator(
            {"$ref": f"#/$defs/{message}", "$defs": schema["$defs"]},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
        assert not errors, [f"{list(error.path)}: {error.message}" for error in errors]

    return validate
