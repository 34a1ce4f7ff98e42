"""The simulator checks logins the way NetSuite does: a bad signature, realm, clock, nonce, certificate or
token is refused with 401 INVALID_LOGIN_ATTEMPT, and the call log keeps the real reason."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1
from requests_oauthlib import OAuth1

from refund_sync_sandbox.netsuite import (
    DEFAULT_SAVED_SEARCH_ID,
    NetSuiteAccount,
    RunningServer,
    SandboxCredentials,
    generate_refunds,
    start_netsuite_server,
)

Restlet = Callable[..., requests.Response]
Signer = Callable[..., OAuth1]
PAGE = {"action": "page", "version": "1", "searchId": DEFAULT_SAVED_SEARCH_ID, "pageSize": 5}
INVALID_LOGIN = {"error": {"code": "INVALID_LOGIN_ATTEMPT", "message": "Invalid login attempt."}}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def last_failure(account: NetSuiteAccount) -> str | None:
    return account.calls[-1].auth_failure


# -- TBA ----------------------------------------------------------------------------------------------


def test_a_properly_signed_tba_call_passes(account: NetSuiteAccount, restlet: Restlet) -> None:
    generate_refunds(account, 2)
    answer = restlet(PAGE)
    assert answer.status_code == 200
    assert account.calls[-1].auth == "tba"
    assert account.calls[-1].auth_failure is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"client_secret": "not-the-consumer-secret"}, "signature does not match"),
        ({"resource_owner_secret": "not-the-token-secret"}, "signature does not match"),
        ({"realm": "1234567_sb1"}, "realm '1234567_sb1' is not '1234567_SB1'"),
        ({"realm": None}, "realm None"),
        ({"signature_method": SIGNATURE_HMAC_SHA1}, "HMAC-SHA256 only"),
        ({"client_key": "f" * 64}, "unknown consumer key"),
    ],
    ids=["consumer-secret", "token-secret", "lower-case-realm", "no-realm", "hmac-sha1", "consumer-key"],
)
def test_tba_mistakes_are_refused_as_invalid_login_attempt(
    *,
    account: NetSuiteAccount,
    credentials: SandboxCredentials,
    restlet: Restlet,
    tba_signer: Signer,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    answer = restlet(PAGE, auth=tba_signer(credentials, **overrides))
    assert answer.status_code == 401
    assert answer.json() == INVALID_LOGIN
    assert reason in (last_failure(account) or "")


def signed_page_request(
    account: NetSuiteAccount, credentials: SandboxCredentials, server: RunningServer, tba_signer: Signer
) -> requests.PreparedRequest:
    """A page request signed with TBA, prepared to be sent (and tampered with) by hand."""
    return requests.Request(
        "POST",
        server.restlet_url,
        params={"script": account.script_id, "deploy": account.deploy_id},
        data=json.dumps(PAGE),
        headers={"Content-Type": "application/json"},
        auth=tba_signer(credentials),
    ).prepare()


def test_the_query_is_signed_but_the_json_body_is_not(
    account: NetSuiteAccount, credentials: SandboxCredentials, server: RunningServer, tba_signer: Signer
) -> None:
    # Given a request signed for one deployment
    signed = signed_page_request(account, credentials, server, tba_signer)
    with requests.Session() as session:
        # When only the body changes, the signature still holds (RFC 5849: JSON bodies are not signed)
        body_changed = signed.copy()
        body_changed.prepare_body(json.dumps({**PAGE, "pageSize": 6}), None)
        assert session.send(body_changed, timeout=5).status_code == 200
        # And when the query changes, it does not
        query_changed = signed.copy()
        assert query_changed.url is not None
        query_changed.url = query_changed.url.replace("deploy=", "deploy=x")
        assert session.send(query_changed, timeout=5).status_code == 401
    assert "signature does not match" in (last_failure(account) or "")


def test_a_replayed_nonce_is_refused(
    account: NetSuiteAccount, credentials: SandboxCredentials, server: RunningServer, tba_signer: Signer
) -> None:
    signed = signed_page_request(account, credentials, server, tba_signer)
    with requests.Session() as session:
        assert session.send(signed, timeout=5).status_code == 200
        assert session.send(signed.copy(), timeout=5).status_code == 401
    assert last_failure(account) == "nonce already used"


def test_a_clock_more_than_five_minutes_off_is_refused(account: NetSuiteAccount, restlet: Restlet) -> None:
    account.advance_clock(301)
    assert restlet(PAGE).status_code == 401
    assert "away from the server clock" in (last_failure(account) or "")


def test_no_authorization_at_all_is_refused(server: RunningServer, account: NetSuiteAccount) -> None:
    answer = requests.post(
        server.restlet_url,
        params={"script": account.script_id, "deploy": account.deploy_id},
        json=PAGE,
        timeout=5,
    )
    assert (answer.status_code, answer.json()) == (401, INVALID_LOGIN)


# -- OAuth 2.0 M2M ----------------------------------------------------------------------------------------


def assertion(credentials: SandboxCredentials, token_url: str, **changes: Any) -> str:
    """A client assertion as NetSuite documents it; `changes` override claims or header fields."""
    assert credentials.m2m is not None
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": credentials.m2m.client_id,
        "scope": "restlets,rest_webservices",
        "aud": token_url,
        "iat": now,
        "exp": now + 300,
    }
    headers: dict[str, Any] = {"kid": credentials.m2m.certificate_id, "typ": "JWT"}
    algorithm = changes.pop("alg", "PS256")
    for name in ("kid", "typ"):
        if name in changes:
            headers[name] = changes.pop(name)
    claims.update(changes)
    return jwt.encode(claims, credentials.m2m.private_key, algorithm=algorithm, headers=headers)  # type: ignore[arg-type]


def ask_token(server: RunningServer, client_assertion: str, **form: str) -> requests.Response:
    return requests.post(
        server.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion,
            **form,
        },
        timeout=10,
    )


def bearer_call(server: RunningServer, account: NetSuiteAccount, token: str) -> requests.Response:
    return requests.post(
        server.restlet_url,
        params={"script": account.script_id, "deploy": account.deploy_id},
        json=PAGE,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_a_valid_assertion_buys_a_one_hour_bearer_token_the_restlet_accepts(
    server: RunningServer, account: NetSuiteAccount, credentials: SandboxCredentials
) -> None:
    answer = ask_token(server, assertion(credentials, server.token_url))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert bearer_call(server, account, body["access_token"]).status_code == 200


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "restlets,rest_webservices,suiteanalytics_connect"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda c, url: tampered(assertion(c, url)), "Signature verification failed"),
        (lambda c, url: assertion(c, url, kid="some-other-certificate"), "no certificate with id"),
        (lambda c, url: assertion(c, url, iss="another-client"), "Invalid issuer"),
        (lambda c, url: assertion(c, url, aud="https://123-sb1.suitetalk.api.netsuite.com/x"), "Audience"),
        (lambda c, url: assertion(c, url, alg="RS256"), "'RS256' is not accepted"),
        (lambda c, url: assertion(c, url, exp=int(time.time()) + 3601), "more than 60 minutes"),
        (lambda c, url: assertion(c, url, iat=int(time.time()) - 400, exp=int(time.time()) - 100), "expired"),
        (lambda c, url: assertion(c, url, scope="rest_webservices"), "scope does not include restlets"),
        (lambda c, url: assertion(c, url, typ="JWS"), "typ is not JWT"),
    ],
    ids=["tampered", "wrong-kid", "wrong-iss", "wrong-aud", "rs256", "too-long", "expired", "scope", "typ"],
)
def test_bad_assertions_get_no_token(
    server: RunningServer,
    account: NetSuiteAccount,
    credentials: SandboxCredentials,
    make: Callable[[SandboxCredentials, str], str],
    reason: str,
) -> None:
    answer = ask_token(server, make(credentials, server.token_url))
    assert (answer.status_code, answer.json()) == (401, INVALID_LOGIN)
    assert reason in (last_failure(account) or "")


def test_a_wrong_grant_type_is_an_oauth_error(server: RunningServer, credentials: SandboxCredentials) -> None:
    answer = ask_token(server, assertion(credentials, server.token_url), grant_type="password")
    assert (answer.status_code, answer.json()) == (400, {"error": "unsupported_grant_type"})


def test_tokens_expire_after_an_hour_and_unknown_tokens_never_work(
    server: RunningServer, account: NetSuiteAccount, credentials: SandboxCredentials
) -> None:
    token = ask_token(server, assertion(credentials, server.token_url)).json()["access_token"]
    assert bearer_call(server, account, "made-up-token").status_code == 401
    assert last_failure(account) == "unknown bearer token"
    account.advance_clock(3599)
    assert bearer_call(server, account, token).status_code == 200
    account.advance_clock(1)
    assert bearer_call(server, account, token).status_code == 401
    assert last_failure(account) == "bearer token expired"


def test_an_ec_certificate_signs_with_es256(tba_signer: Signer) -> None:
    credentials = SandboxCredentials.generate(tba=False, m2m_key_type="ec")
    account = NetSuiteAccount(credentials)
    with start_netsuite_server(account) as server:
        answer = ask_token(server, assertion(credentials, server.token_url, alg="ES256"))
        assert answer.status_code == 200
        # And TBA is refused outright: this account has no TBA integration
        signed = tba_signer(SandboxCredentials.generate(m2m=False))
        page = requests.post(
            server.restlet_url,
            params={"script": account.script_id, "deploy": account.deploy_id},
            json=PAGE,
            auth=signed,
            timeout=10,
        )
        assert page.status_code == 401
        assert last_failure(account) == "TBA is not set up"
