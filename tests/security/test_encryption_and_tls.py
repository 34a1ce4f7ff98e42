"""Encryption at rest for everything the stack stores, and TLS, verified, for everything it calls.

At rest: the queues (refunds carry the customer's details), the state table and the alarm topic. Secrets
Manager always encrypts; its secrets are covered by tests/infrastructure (they start empty). In transit:
no code turns certificate checks off, and the URLs credentials travel to must be https; plain http is
accepted for a simulator on this machine only, which is how the sandbox runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from refund_sync.config import Settings
from refund_sync_sandbox.aws import load_template

ROOT = Path(__file__).resolve().parents[2]
RESOURCES: dict[str, dict[str, Any]] = load_template()["Resources"]
DEPLOYED_CODE = ("layers/shared", "functions", "cli")


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    found = {name: resource["Properties"] for name, resource in RESOURCES.items() if resource["Type"] == kind}
    assert found, f"the template has no {kind}"
    return found


# -- at rest ------------------------------------------------------------------------------------------------
def test_every_queue_is_encrypted_at_rest() -> None:
    for name, queue in of_kind("AWS::SQS::Queue").items():
        assert queue.get("SqsManagedSseEnabled") is True or queue.get("KmsMasterKeyId"), name


def test_every_table_is_encrypted_at_rest() -> None:
    for name, table in of_kind("AWS::DynamoDB::Table").items():
        assert table.get("SSESpecification", {}).get("SSEEnabled") is True, name


def test_every_topic_is_encrypted_at_rest() -> None:
    for name, topic in of_kind("AWS::SNS::Topic").items():
        assert topic.get("KmsMasterKeyId"), name


# -- in transit ---------------------------------------------------------------------------------------------
TURNS_TLS_OFF = {
    "certificate checks off": r"verify\s*=\s*False",
    "an unverified SSL context": r"_create_unverified_context|CERT_NONE|check_hostname\s*=\s*False",
    "silenced certificate warnings": r"disable_warnings|InsecureRequestWarning",
    "a plain http URL": r"http://(?!127\.0\.0\.1|localhost|\[::1\])",
}


def python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


@pytest.mark.parametrize("what", list(TURNS_TLS_OFF))
def test_no_deployed_code_turns_tls_off(what: str) -> None:
    files = python_files(*DEPLOYED_CODE)
    assert len(files) > 20
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert not re.search(TURNS_TLS_OFF[what], line), f"{path.relative_to(ROOT)}:{number}: {what}"


def test_the_sandbox_never_turns_certificate_checks_off_either() -> None:
    # It serves plain http on 127.0.0.1; nothing in it may weaken the checks the real URLs get.
    for path in python_files("sandbox"):
        text = path.read_text(encoding="utf-8")
        for what in ("certificate checks off", "an unverified SSL context", "silenced certificate warnings"):
            assert not re.search(TURNS_TLS_OFF[what], text), f"{path.relative_to(ROOT)}: {what}"


def test_the_urls_built_for_production_are_https() -> None:
    settings = Settings(netsuite_account_id="1234567_SB1", bigcommerce_store_hash="abc123")
    for url in (settings.restlet_url, settings.token_url, settings.bigcommerce_base_url):
        assert url.startswith("https://"), url


URL_SETTINGS = ["netsuite_restlet_url", "netsuite_token_url", "bigcommerce_api_url"]


@pytest.mark.parametrize("setting", URL_SETTINGS)
@pytest.mark.parametrize(
    "url",
    [
        "http://api.bigcommerce.com",
        "http://1234567-sb1.restlets.api.netsuite.com/app/site/hosting/restlet.nl",
        "http://10.0.0.8:8080",
        "http://127.0.0.1.example.com",  # a loopback address as a subdomain is still someone else's host
        "http://localhost.example.com",
    ],
)
def test_a_plain_http_url_off_this_machine_is_refused(setting: str, url: str) -> None:
    values: dict[str, Any] = {setting: url}
    with pytest.raises(ValidationError, match="must use https"):
        Settings(**values)


@pytest.mark.parametrize("setting", URL_SETTINGS)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:51234", "http://localhost:8080", "http://[::1]:9000", "https://example.com"]
)
def test_https_anywhere_and_plain_http_to_a_local_simulator_are_accepted(setting: str, url: str) -> None:
    values: dict[str, Any] = {setting: url}
    assert str(getattr(Settings(**values), setting)).startswith(url)
