"""Answers the simulator does not give, canned at the transport: a RESTlet that breaks the contract, an error
in a 200, REST web services' error shape, and a redirect to another data centre."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from refund_sync.adapters.netsuite.auth import TbaAuth, TbaCredentials
from refund_sync.adapters.netsuite.client import NetSuiteClient
from refund_sync.adapters.netsuite.errors import (
    NetSuiteAuthError,
    NetSuiteContractError,
    NetSuiteError,
)
from refund_sync.config import Settings

RESTLET_URL = "https://1234567-sb1.restlets.api.netsuite.com/app/site/hosting/restlet.nl"


class CannedNetSuite(HTTPAdapter):
    """A transport that answers every request with one canned response, and counts them."""

    def __init__(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.headers = dict(headers or {"Content-Type": "application/json"})
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        response = requests.Response()
        response.status_code = self.status
        response.raw = io.BytesIO(self.body)
        response._content = self.body
        response.headers.update(self.headers)
        response.request = request
        response.url = request.url or ""
        response.reason = "Canned"
        response.connection = self  # as HTTPAdapter does: hooks resend through it
        return response

    def close(self) -> None:
        return None


def header(request: requests.PreparedRequest, name: str) -> str:
    value: str | bytes = request.headers[name]  # requests-oauthlib leaves them as bytes
    return value.decode() if isinstance(value, bytes) else value


@pytest.fixture
def client_answering() -> Callable[..., tuple[NetSuiteClient, CannedNetSuite]]:
    def build(
        status: int, body: object, headers: Mapping[str, str] | None = None
    ) -> tuple[NetSuiteClient, CannedNetSuite]:
        canned = CannedNetSuite(status, body, headers)
        session = requests.Session()
        session.mount("https://", canned)
        settings = Settings(
            netsuite_account_id="1234567_SB1",
            netsuite_saved_search_id="customsearch_rs_refunds",
            netsuite_restlet_url=None,
        )
        credentials = TbaCredentials.model_validate(
            {"consumer_key": "ck", "consumer_secret": "cs", "token_id": "ti", "token_secret": "ts"}
        )
        auth = TbaAuth(credentials, realm=settings.netsuite_realm)
        return NetSuiteClient(settings, auth, session=session, sleep=lambda _: None), canned

    return build


def test_the_restlet_url_is_built_from_the_account_id(client_answering: Callable[..., Any]) -> None:
    client, canned = client_answering(200, {"action": "page", "version": "1", "refunds": []})
    with pytest.raises(NetSuiteContractError):
        client.page()
    sent = canned.requests[0]
    assert (
        sent.url == f"{RESTLET_URL}?script=customscript_rs_refund_export&deploy=customdeploy_rs_refund_export"
    )
    authorization = header(sent, "Authorization")
    assert authorization.startswith('OAuth realm="1234567_SB1"')
    assert 'oauth_signature_method="HMAC-SHA256"' in authorization
    assert header(sent, "Content-Type") == "application/json"


def test_an_answer_outside_the_contract_is_a_contract_error_naming_the_fields(
    client_answering: Callable[..., Any],
) -> None:
    client, canned = client_answering(
        200, {"action": "page", "version": "1", "refunds": "none", "paging": {}}
    )
    with pytest.raises(NetSuiteContractError) as raised:
        client.page()
    assert "does not match contract v1 (refunds: Input should be a valid array" in raised.value.message
    assert len(canned.requests) == 1  # a script bug: no retry


def test_a_caught_error_answered_with_http_200_is_still_an_error(
    client_answering: Callable[..., Any],
) -> None:
    caught = {
        "version": "1",
        "error": {"code": "SEARCH_NOT_REFUNDS", "message": "It lists invoices.", "details": None},
    }
    client, _ = client_answering(200, caught)
    with pytest.raises(NetSuiteError) as raised:
        client.page()
    assert (raised.value.code, raised.value.message) == ("SEARCH_NOT_REFUNDS", "page: It lists invoices.")


def test_rest_web_services_login_errors_are_understood(client_answering: Callable[..., Any]) -> None:
    body = {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
        "title": "Unauthorized",
        "status": 401,
        "o:errorDetails": [
            {"detail": "Invalid login attempt. See the Login Audit Trail.", "o:errorCode": "INVALID_LOGIN"}
        ],
    }
    client, canned = client_answering(401, body)
    with pytest.raises(NetSuiteAuthError, match="HTTP 401 INVALID_LOGIN: Invalid login attempt"):
        client.page()
    assert len(canned.requests) == 2  # one fresh signature, then give up


def test_a_redirect_to_another_data_centre_is_reported_not_followed(
    client_answering: Callable[..., Any],
) -> None:
    elsewhere = "https://1234567-sb1.restlets.api.netsuite.com.eu2.example/app/site/hosting/restlet.nl"
    client, canned = client_answering(302, b"", {"Location": elsewhere})
    with pytest.raises(NetSuiteError) as raised:
        client.page()
    assert raised.value.code == "REDIRECTED"
    assert elsewhere in raised.value.message
    assert len(canned.requests) == 1
