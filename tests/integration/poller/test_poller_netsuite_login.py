"""The poller signs in to NetSuite either way the secret allows, and the simulator checks each login as
NetSuite does (the TBA signature recomputed, the M2M client assertion verified against the certificate).
A secret that does not sign in fails the run with what to check, and counts a PollerFailures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from refund_sync.adapters.netsuite.errors import NetSuiteAuthError
from refund_sync.config import NetSuiteAuthMethod
from refund_sync.observability import metrics
from refund_sync_sandbox.aws import put_secret
from refund_sync_sandbox.netsuite import M2MKeys, TbaKeys, generate_refunds
from refund_sync_sandbox.sandbox import Sandbox, running_sandbox
from tests.integration.poller.support import checkpoint, metric_total, page_calls, peek_queue

# What the failure message must name, per login: the usual causes an admin checks.
CAUSES = {
    NetSuiteAuthMethod.TBA: ["Realm", "1234567_SB1", "Log in using Access Tokens", "clock", "HMAC-SHA256"],
    NetSuiteAuthMethod.OAUTH2_M2M: ["Certificate", "Client id", "OAuth 2.0 Access Tokens", "Clock"],
}


@pytest.fixture(params=list(NetSuiteAuthMethod), ids=lambda method: method.value)
def signed_in(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox whose NetSuite secret holds the credentials of one login method."""
    metrics.clear_metrics()
    with running_sandbox(auth_method=request.param) as running:
        yield running


def test_the_poller_pages_the_search_signed_with_the_configured_login(signed_in: Sandbox) -> None:
    # Given 7 refunds and pages of 5
    refunds = generate_refunds(signed_in.account, 7)
    signed_in.configure(netsuite_page_size="5")

    # When the poller runs
    report = signed_in.run_poller()

    # Then both pages came back and every refund is queued
    assert report["sweep_completed"] and report["pages"] == 2
    assert sorted(item.netsuite_id for item in peek_queue(signed_in)) == [refund.id for refund in refunds]

    # And NetSuite verified every call's login, of the configured kind
    method = signed_in.auth_method.value
    restlet_calls = [call for call in signed_in.account.calls if call.endpoint == "restlet"]
    logins = [(call.auth, call.auth_failure, call.status) for call in restlet_calls]
    assert logins == [(method, None, 200)] * 2
    token_calls = [call for call in signed_in.account.calls if call.endpoint == "token"]
    if signed_in.auth_method is NetSuiteAuthMethod.OAUTH2_M2M:
        # one client assertion, verified against the certificate, bought the token both pages used
        assert [(call.status, call.auth_failure) for call in token_calls] == [(200, None)]
    else:
        assert token_calls == []


def test_a_secret_that_does_not_sign_in_fails_the_run_with_what_to_check(
    signed_in: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given refunds to page, and a secret whose signing half is not the one NetSuite knows
    generate_refunds(signed_in.account, 3)
    good = signed_in.credentials.secret_for(signed_in.auth_method)
    if signed_in.auth_method is NetSuiteAuthMethod.TBA:
        wrong = {**good, "token_secret": TbaKeys.generate().token_secret}
    else:
        wrong = {**good, "private_key": M2MKeys.generate("ec").private_key_pem}
    put_secret(signed_in.aws, signed_in.aws.netsuite_secret_name, wrong)
    capsys.readouterr()

    # When the poller runs, it fails with NetSuite's INVALID_LOGIN_ATTEMPT and the causes to check
    with pytest.raises(NetSuiteAuthError) as failure:
        signed_in.run_poller()
    assert failure.value.code == "INVALID_LOGIN_ATTEMPT"
    message = str(failure.value)
    assert f"NetSuite rejected the {signed_in.auth_method.value} login" in message
    for cause in [*CAUSES[signed_in.auth_method], "Login Audit Trail"]:
        assert cause in message

    # And the simulator refused the login for the reason NetSuite would (a bad signature, a bad assertion)
    refused = [call for call in signed_in.account.calls if call.auth_failure is not None]
    assert refused and all(call.status == 401 for call in refused)
    if signed_in.auth_method is NetSuiteAuthMethod.TBA:
        assert {call.auth_failure for call in refused} == {
            "signature does not match (wrong secret, URL, query or method)"
        }
    else:
        (token_call,) = refused  # the client assertion, signed with a key that is not the certificate's
        assert token_call.endpoint == "token"
        assert (token_call.auth_failure or "").startswith("JWT rejected")
    assert [call.status for call in page_calls(signed_in)] == [401] * len(page_calls(signed_in))

    # And the failure was counted for the alarm, nothing was enqueued and the checkpoint never moved
    emitted = capsys.readouterr().out
    assert metric_total(emitted, "PollerFailures") == 1
    assert metric_total(emitted, "PollerRunsCompleted") == 0
    assert peek_queue(signed_in) == []
    assert checkpoint(signed_in).after_id == "0" and checkpoint(signed_in).pages == 0
