"""Testing the RESTlet before the AWS stack exists: the probe signs in with a secret file, reads one page and
looks refunds up, and says plainly what is wrong when something is."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from refund_sync.adapters.netsuite.probe import main
from refund_sync.config import NetSuiteAuthMethod
from refund_sync_sandbox.netsuite import (
    BillingType,
    NetSuiteAccount,
    RunningServer,
    SandboxCredentials,
    generate_refunds,
    product_line,
)


def probe(server: RunningServer, secret: Path, method: NetSuiteAuthMethod, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(
        [
            "--account",
            server.account.credentials.account_id,
            "--auth",
            method.value,
            "--secret-file",
            str(secret),
            "--restlet-url",
            server.restlet_url,
            "--token-url",
            server.token_url,
            *extra,
        ],
        out=out,
    )
    return code, out.getvalue()


@pytest.mark.parametrize("method", list(NetSuiteAuthMethod))
def test_the_probe_signs_in_reads_a_page_and_finds_a_refund(
    account: NetSuiteAccount,
    server: RunningServer,
    credentials: SandboxCredentials,
    tmp_path: Path,
    method: NetSuiteAuthMethod,
) -> None:
    refunds = generate_refunds(account, 7)
    secret = tmp_path / "netsuite-secret.json"
    secret.write_text(json.dumps(credentials.secret_for(method)))

    code, output = probe(server, secret, method, "--find", refunds[0].tran_id, "CM-0")

    assert code == 0, output
    assert f"Signed in ({method.value})" in output
    assert "5 refund(s) in the first page, more after" in output
    assert f"{refunds[0].label}: {refunds[0].total} USD, order {refunds[0].bigcommerce_order_id}" in output
    assert output.count("adds up") == 6
    assert "CM-0: NO_SUCH_TRANSACTION" in output
    assert [call.action for call in account.calls if call.endpoint == "restlet"] == ["page", "find"]


def test_the_probe_says_when_a_refund_does_not_add_up(
    account: NetSuiteAccount, server: RunningServer, credentials: SandboxCredentials, tmp_path: Path
) -> None:
    order = account.add_sales_order(bigcommerce_order_id="300")
    made = account.create_refund(
        account.add_billing(order, BillingType.INVOICE), [product_line(1, "202", "Mug", 1, Decimal("10.00"))]
    )
    account.add_refund(
        made.model_copy(update={"id": "9000", "tran_id": "CM-9000", "total": Decimal("11.00")})
    )
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(credentials.secret_for(NetSuiteAuthMethod.TBA)))
    code, output = probe(server, secret, NetSuiteAuthMethod.TBA)
    assert code == 0
    assert "CM-9000 (NetSuite id 9000): 11.00 USD, order 300, 1 line(s), DOES NOT ADD UP" in output


def test_the_probe_names_what_is_wrong_with_the_login_or_the_secret(
    server: RunningServer, credentials: SandboxCredentials, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({**credentials.secret_for(NetSuiteAuthMethod.TBA), "token_secret": "wrong"}))
    code, output = probe(server, secret, NetSuiteAuthMethod.TBA)
    assert code == 1
    assert "NetSuite answered INVALID_LOGIN_ATTEMPT" in output
    assert "Login Audit Trail" in output

    code, output = probe(server, tmp_path / "missing.json", NetSuiteAuthMethod.TBA)
    assert (code, "cannot read the secret file" in output) == (2, True)
    secret.write_text(json.dumps(credentials.secret_for(NetSuiteAuthMethod.TBA)))
    code, output = probe(server, secret, NetSuiteAuthMethod.OAUTH2_M2M)
    assert code == 2
    assert "It holds tba credentials" in output
