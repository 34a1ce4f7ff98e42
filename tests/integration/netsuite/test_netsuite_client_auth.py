"""Credentials come from Secrets Manager and are checked for real by the simulator: a wrong secret, realm,
certificate or JWT fails with a message that says what to check, and nothing secret is ever printed."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from refund_sync.adapters.netsuite.auth import (
    M2MAuth,
    M2MCredentials,
    TbaAuth,
    TbaCredentials,
    parse_credentials,
)
from refund_sync.adapters.netsuite.client import NetSuiteClient, netsuite_client_from_settings
from refund_sync.adapters.netsuite.errors import NetSuiteAuthError, NetSuiteCredentialsError
from refund_sync.config import NetSuiteAuthMethod, Settings
from refund_sync.observability import logger
from refund_sync_sandbox.netsuite import M2MKeys, NetSuiteAccount, SandboxCredentials, generate_refunds

ClientFactory = Callable[..., NetSuiteClient]
TBA, M2M = NetSuiteAuthMethod.TBA, NetSuiteAuthMethod.OAUTH2_M2M


def restlet_calls(account: NetSuiteAccount) -> list[tuple[str | None, int]]:
    return [(call.action, call.status) for call in account.calls]


# -- the secret --------------------------------------------------------------------------------------------


def test_a_secret_missing_a_field_names_the_secret_and_the_field_but_no_value(
    make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    incomplete = {key: value for key, value in credentials.secret_for(TBA).items() if key != "token_secret"}
    with pytest.raises(NetSuiteCredentialsError) as raised:
        make_client(TBA, secret=incomplete)
    message = str(raised.value)
    assert "'refund-sync/netsuite/tba'" in message
    assert "missing field(s): token_secret" in message
    assert all(value not in message for value in incomplete.values())


def test_an_empty_field_or_a_broken_key_is_invalid_not_missing(
    make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    with pytest.raises(NetSuiteCredentialsError, match=r"invalid field\(s\): consumer_secret"):
        make_client(TBA, secret={**credentials.secret_for(TBA), "consumer_secret": "  "})
    with pytest.raises(NetSuiteCredentialsError, match=r"private_key \(Value error, not an unencrypted PEM"):
        make_client(M2M, secret={**credentials.secret_for(M2M), "private_key": "-----BEGIN nonsense"})


def test_an_rsa_key_netsuite_would_refuse_is_refused_with_what_to_do(
    make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    # NetSuite accepts RSA keys of 3072 or 4096 bits only: a 2048-bit key would pass every local check
    # and fail at the token endpoint with a bare INVALID_LOGIN.
    short = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = short.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(NetSuiteCredentialsError) as raised:
        make_client(M2M, secret={**credentials.secret_for(M2M), "private_key": pem})
    message = str(raised.value)
    assert "an RSA key of 2048 bits; NetSuite accepts RSA keys of 3072 or 4096 bits only" in message
    assert "rsa:3072" in message
    assert "PRIVATE KEY" not in message


def test_tba_credentials_under_the_m2m_setting_say_which_setting_to_change(
    make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    with pytest.raises(
        NetSuiteCredentialsError, match="It holds tba credentials: set NETSUITE_AUTH_METHOD=tba"
    ):
        make_client(M2M, secret=credentials.secret_for(TBA))


def test_a_secret_that_does_not_exist_is_reported_by_name(
    settings_for: Callable[..., Settings], secretsmanager: object
) -> None:
    with pytest.raises(
        NetSuiteCredentialsError, match="cannot read secret 'refund-sync/netsuite/tba'"
    ) as raised:
        netsuite_client_from_settings(settings_for(TBA))
    assert raised.value.code == "CREDENTIALS_UNAVAILABLE"


# -- TBA ---------------------------------------------------------------------------------------------------


def test_a_wrong_consumer_secret_is_refused_after_one_fresh_signature(
    account: NetSuiteAccount, make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    client = make_client(TBA, secret={**credentials.secret_for(TBA), "consumer_secret": "0" * 64})
    with pytest.raises(NetSuiteAuthError) as raised:
        client.page()
    message = str(raised.value)
    assert raised.value.code == "INVALID_LOGIN_ATTEMPT"
    assert "sent '1234567_SB1'" in message  # the realm used
    assert "Log in using Access Tokens" in message
    assert "HMAC-SHA256" in message
    assert restlet_calls(account) == [("page", 401), ("page", 401)]  # signed again once, then given up
    assert {call.auth_failure for call in account.calls} == {
        "signature does not match (wrong secret, URL, query or method)"
    }


def test_a_lower_case_realm_is_refused_and_the_message_shows_the_right_one(
    account: NetSuiteAccount, settings_for: Callable[..., Settings], credentials: SandboxCredentials
) -> None:
    settings = settings_for(TBA)
    tba = parse_credentials(credentials.secret_for(TBA), TBA, "test")
    assert isinstance(tba, TbaCredentials)
    client = NetSuiteClient(settings, TbaAuth(tba, realm="1234567_sb1"))
    with client, pytest.raises(NetSuiteAuthError) as raised:
        client.page()
    assert "sent '1234567_sb1', which has lower-case letters; it must be '1234567_SB1'" in str(raised.value)
    assert account.calls[-1].auth_failure == "realm '1234567_sb1' is not '1234567_SB1'"


# -- OAuth 2.0 M2M -------------------------------------------------------------------------------------------


def token_calls(account: NetSuiteAccount) -> int:
    return sum(1 for call in account.calls if call.endpoint == "token")


def test_one_token_serves_many_pages(account: NetSuiteAccount, make_client: ClientFactory) -> None:
    generate_refunds(account, 30)
    client = make_client(M2M)
    after_id: str | None = "0"
    while after_id is not None:
        page = client.page(after_id=after_id, page_size=5)
        after_id = page.paging.last_id if page.paging.has_more else None
    assert token_calls(account) == 1
    assert sum(1 for call in account.calls if call.action == "page") == 6


def test_the_token_is_minted_again_shortly_before_it_expires(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    # Given one clock for this host and NetSuite
    now = [time.time()]
    account.clock = lambda: now[0]
    client = make_client(M2M, clock=lambda: now[0])
    client.page()
    now[0] += 3600 - 300 - 1  # still within the token's hour, outside the safety margin: reuse
    client.page()
    assert token_calls(account) == 1
    now[0] += 2  # within 5 minutes of expiry: mint before NetSuite would refuse it
    client.page()
    assert token_calls(account) == 2


def test_a_revoked_token_is_replaced_once_after_the_401(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    client = make_client(M2M)
    client.page()
    assert account.m2m is not None
    account.m2m.revoke_all()
    client.page()
    assert [(call.endpoint, call.status) for call in account.calls] == [
        ("token", 200),
        ("restlet", 200),
        ("restlet", 401),
        ("token", 200),
        ("restlet", 200),
    ]


def test_a_wrong_certificate_id_fails_naming_the_kid(
    account: NetSuiteAccount, make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    client = make_client(
        M2M, secret={**credentials.secret_for(M2M), "certificate_id": "cert-from-another-role"}
    )
    with pytest.raises(NetSuiteAuthError) as raised:
        client.page()
    message = str(raised.value)
    assert "certificate id 'cert-from-another-role' (the JWT's kid)" in message
    assert "OAuth 2.0 Client Credentials (M2M) Setup" in message
    assert account.calls[-1].auth_failure == "no certificate with id 'cert-from-another-role'"
    assert not [call for call in account.calls if call.endpoint == "restlet"]


def test_a_key_that_is_not_the_certificates_fails_verification(
    account: NetSuiteAccount, make_client: ClientFactory, credentials: SandboxCredentials
) -> None:
    other_key = M2MKeys.generate("ec").private_key_pem
    client = make_client(M2M, secret={**credentials.secret_for(M2M), "private_key": other_key})
    with pytest.raises(NetSuiteAuthError, match="the private key in the secret is not the certificate's key"):
        client.page()
    assert "JWT rejected" in (account.calls[-1].auth_failure or "")


class TamperingAuth(M2MAuth):
    """Changes the claims after signing, as a man in the middle would."""

    def client_assertion(self) -> str:
        header, payload, signature = super().client_assertion().split(".")
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["exp"] = claims["iat"] + 3600
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{forged}.{signature}"


def test_a_tampered_assertion_is_refused(
    account: NetSuiteAccount, settings_for: Callable[..., Settings], credentials: SandboxCredentials
) -> None:
    settings = settings_for(M2M)
    m2m = parse_credentials(credentials.secret_for(M2M), M2M, "test")
    assert isinstance(m2m, M2MCredentials)
    client = NetSuiteClient(settings, TamperingAuth(m2m, settings.token_url))
    with client, pytest.raises(NetSuiteAuthError) as raised:
        client.page()
    assert "rejected the oauth2_m2m login (token endpoint: INVALID_LOGIN_ATTEMPT" in str(raised.value)
    assert account.calls[-1].auth_failure == "JWT rejected: Signature verification failed"


# -- secrets stay secret -------------------------------------------------------------------------------------


def test_no_secret_value_reaches_the_logs_or_the_errors(
    account: NetSuiteAccount,
    make_client: ClientFactory,
    credentials: SandboxCredentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a good M2M client and a TBA client with a wrong token secret
    generate_refunds(account, 3)
    caplog.set_level(logging.DEBUG, logger=logger.name)
    make_client(M2M).page()
    client = make_client(TBA, secret={**credentials.secret_for(TBA), "token_secret": "f" * 64})
    with pytest.raises(NetSuiteAuthError) as raised:
        client.page()

    # Then neither our log records (extras included) nor the error nor the auth's repr hold a secret
    assert credentials.tba is not None
    assert credentials.m2m is not None
    printed = "\n".join(str(record.__dict__) for record in caplog.records if record.name == logger.name)
    assert "Minted a NetSuite access token" in printed
    printed += str(raised.value) + repr(client.auth.__dict__)
    key_lines = [line for line in credentials.m2m.private_key_pem.splitlines() if "PRIVATE KEY" not in line]
    secrets = [credentials.tba.consumer_secret, credentials.tba.token_secret, "f" * 64, *key_lines[:3]]
    assert [secret for secret in secrets if secret in printed] == []
