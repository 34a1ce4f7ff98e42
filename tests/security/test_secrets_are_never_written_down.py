"""Secret values never appear in what the stack writes down: logs, metrics, errors, state, queues, settings.

Every credential is planted with a recognisable value (both NetSuite logins, the certificate's private
key, the BigCommerce token), and a whole sync runs on the sandbox through the real handlers: refunds
synced, held, dead-lettered, retried after a 5xx, a NetSuite 401 (a revoked token; a secret NetSuite
refuses), a BigCommerce 401 and 403. Errors are where secrets leak, so most of the story is failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from refund_sync.adapters.netsuite.errors import NetSuiteAuthError
from refund_sync.config import NetSuiteAuthMethod
from refund_sync.observability import metrics
from refund_sync_sandbox.aws import MOTO_CREDENTIAL, REGION, put_secret
from refund_sync_sandbox.netsuite import M2MKeys
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, SOCKS, TEE
from tests.security.capture import Captured, encodings, everything_written, leaks, pem_fragments
from tests.security.planted import (
    PlantedSecrets,
    an_order,
    forbidding_bigcommerce,
    make_refund,
    planted,
    planted_sandbox,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def planted_secrets() -> PlantedSecrets:
    return PlantedSecrets.generate()


@pytest.fixture(params=list(NetSuiteAuthMethod), ids=lambda method: method.value)
def auth_method(request: pytest.FixtureRequest) -> NetSuiteAuthMethod:
    method: NetSuiteAuthMethod = request.param
    return method


@pytest.fixture
def sandbox_with_planted_secrets(
    moto_endpoint: str, planted_secrets: PlantedSecrets, auth_method: NetSuiteAuthMethod
) -> Iterator[Sandbox]:
    metrics.clear_metrics()
    with planted_sandbox(moto_endpoint, planted_secrets, auth_method) as sandbox:
        yield sandbox


def needles(planted_secrets: PlantedSecrets, wrong: list[str], captured: Captured) -> set[str]:
    """Each planted value in every obvious encoding, the PEM body's lines, and the credentials' wire forms."""
    found = set(captured.wire_credentials)
    for value in [*planted_secrets.values(), *wrong]:
        found |= encodings(value)
    return found | pem_fragments(planted_secrets.private_key_pem)


def everything_stored(sandbox: Sandbox) -> str:
    """The state table's items and every message still in either queue, as text."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=sandbox.aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id=MOTO_CREDENTIAL,
        aws_secret_access_key=MOTO_CREDENTIAL,
    )
    items = client.scan(TableName=sandbox.aws.table_name)["Items"]
    sqs = sandbox.aws.sqs()
    messages: list[Any] = []
    for url in (sandbox.aws.refund_queue_url, sandbox.aws.dead_letter_queue_url):
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        messages += received.get("Messages", [])
    return json.dumps([items, messages], default=str)


def test_no_secret_is_written_down_whatever_happens_to_the_refunds(
    sandbox_with_planted_secrets: Sandbox,
    planted_secrets: PlantedSecrets,
    auth_method: NetSuiteAuthMethod,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = sandbox_with_planted_secrets
    # The consumer signs in to NetSuite too: it writes the BigCommerce refund id back.
    sandbox.configure(netsuite_write_back="true")
    wrong: list[str] = []

    with everything_written(monkeypatch) as captured:
        # Given refunds that sync, that are held, that name no BigCommerce order, and a 503 on the way
        sandbox.store.seed([an_order(201, TEE), an_order(202, MUG), an_order(203, CAP, declines=True)])
        make_refund(sandbox, 201, TEE, tran_id="CM-201")
        make_refund(sandbox, 202, TEE, tran_id="CM-202")  # a tee refunded on a mug order: no matching line
        make_refund(sandbox, 203, CAP, tran_id="CM-203")  # the gateway declines it, found by the payout check
        make_refund(sandbox, 9999, SOCKS, tran_id="CM-204")  # no such order in BigCommerce
        sandbox.store.fail_next("GET", "/v2/orders/201", 503)

        # When the poller and the consumer run, and then the payout check
        assert sandbox.run_poller()["enqueued"] == 4
        sandbox.drain()
        sandbox.run_payout_check()

        # And one more sweep; with M2M, NetSuite has revoked the bearer token: a 401, then a new token
        if auth_method is NetSuiteAuthMethod.OAUTH2_M2M:
            assert sandbox.account.m2m is not None
            sandbox.account.m2m.revoke_all()
        make_refund(sandbox, 201, TEE, tran_id="CM-205")
        sandbox.run_poller()

        # And BigCommerce refuses the token (401), then the API account's scopes (403)
        wrong.append(planted("WrongBigCommerceToken"))
        put_secret(sandbox.aws, sandbox.aws.bigcommerce_secret_name, {"access_token": wrong[-1]})
        sandbox.drain()
        put_secret(
            sandbox.aws,
            sandbox.aws.bigcommerce_secret_name,
            {"access_token": planted_secrets.bigcommerce_token},
        )
        forbidding = forbidding_bigcommerce()
        try:
            sandbox.store.seed([an_order(206, MUG)])
            make_refund(sandbox, 206, MUG, tran_id="CM-206")
            sandbox.configure(bigcommerce_api_url=forbidding.url)
            sandbox.run_poller()
            sandbox.drain()
        finally:
            forbidding.shutdown()

        # And last, NetSuite refuses the secret itself: 401 INVALID_LOGIN_ATTEMPT
        good = planted_secrets.credentials.secret_for(auth_method)
        if auth_method is NetSuiteAuthMethod.TBA:
            wrong.append(planted("WrongTokenSecret"))
            refused = {**good, "token_secret": wrong[-1]}
        else:
            other_key = M2MKeys.generate("ec").private_key_pem
            wrong.extend(pem_fragments(other_key))
            refused = {**good, "private_key": other_key}
        put_secret(sandbox.aws, sandbox.aws.netsuite_secret_name, refused)
        make_refund(sandbox, 201, TEE, tran_id="CM-207")
        with pytest.raises(NetSuiteAuthError):
            sandbox.run_poller()
        environment = sandbox.environment()

    # Then the story happened: credentials went over the wire, and every failure was logged
    assert any(value.startswith(("OAuth ", "Bearer ")) for value in captured.wire_credentials)
    assert planted_secrets.bigcommerce_token in captured.wire_credentials
    logged = captured.text()
    for reason in ("ORDER_NOT_FOUND", "NO_MATCHING_LINE", "BIGCOMMERCE_ACCESS_DENIED", "GATEWAY_DECLINED"):
        assert reason in logged, reason
    assert "Retrying a BigCommerce call" in logged
    assert "INVALID_LOGIN_ATTEMPT" in "".join(captured.handler_errors)
    assert '"_aws"' in logged  # the EMF metrics were captured too
    dead = {letter.reason for letter in sandbox.dead_letters()}
    assert {"ORDER_NOT_FOUND", "NO_MATCHING_LINE", "BIGCOMMERCE_ACCESS_DENIED"} <= dead

    # And no secret, in any form, is in the logs, the settings, the state table or the queues
    secrets_and_forms = needles(planted_secrets, wrong, captured)
    assert leaks(logged, secrets_and_forms) == [], "a secret reached the logs"
    assert leaks(json.dumps(environment), secrets_and_forms) == [], "a secret is in the functions' settings"
    assert leaks(everything_stored(sandbox), secrets_and_forms) == [], "a secret is in the table or a queue"


CONFIGURATION_FILES = ["template.yaml", "samconfig.toml"]
CREDENTIAL_SHAPES = {
    "a PEM key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "an AWS access key id": r"\b(AKIA|ASIA)[A-Z0-9]{16}\b",
    "an AWS secret access key": r"aws_secret_access_key\s*=",
    "a bearer token": r"Bearer [A-Za-z0-9._~+/-]{16,}",
    # letters and digits run together, as keys and tokens are (a UUID's hyphens make it a message id)
    "a long random token": r"\b(?=[A-Za-z0-9_+/]*\d)(?=[A-Za-z0-9_+/]*[A-Za-z])[A-Za-z0-9_+/]{32,}",
}


@pytest.mark.parametrize("relative", CONFIGURATION_FILES)
def test_no_credential_is_written_into_the_deployment_configuration(relative: str) -> None:
    text = (ROOT / relative).read_text(encoding="utf-8")
    for shape, pattern in CREDENTIAL_SHAPES.items():
        assert not re.search(pattern, text), f"{relative} holds what looks like {shape}"
