"""NetSuite's misbehaviour on demand (concurrency limit, throttling, 5xx, slowness), the call log that
lets tests count calls, and the /__sandbox/ control API that seeds and inspects the account."""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests

from refund_sync.config import NetSuiteAuthMethod
from refund_sync_sandbox.netsuite import (
    DEFAULT_SAVED_SEARCH_ID,
    NetSuiteAccount,
    RunningServer,
    SandboxCredentials,
    generate_refunds,
)

Restlet = Callable[..., requests.Response]
PAGE = {"action": "page", "version": "1", "searchId": DEFAULT_SAVED_SEARCH_ID, "pageSize": 5}
LIMIT_EXCEEDED = {
    "error": {
        "code": "SSS_REQUEST_LIMIT_EXCEEDED",
        "message": "Concurrent request limit exceeded. Request blocked.",
    }
}


def test_a_request_over_the_concurrency_limit_is_blocked_with_http_400(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    # Given an account allowing one request at a time, and a first request that takes a while
    account.set_concurrency_limit(1)
    account.delay_next(1, 5.0)
    slow: list[requests.Response] = []
    first = threading.Thread(target=lambda: slow.append(restlet(PAGE)))
    first.start()
    assert account.wait_for_in_flight(1)  # the slow request holds the only slot

    # When a second request arrives meanwhile
    blocked = restlet(PAGE)

    # Then it is refused the way NetSuite refuses RESTlet calls over the limit; the first one completes
    account.wake()
    first.join(timeout=10)
    assert (blocked.status_code, blocked.json()) == (400, LIMIT_EXCEEDED)
    assert slow[0].status_code == 200
    assert [call.error_code for call in account.calls] == ["SSS_REQUEST_LIMIT_EXCEEDED", None]


def test_injected_faults_hit_the_next_calls_in_turn_then_stop(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    account.throttle_next(1)
    account.too_many_requests_next(1)
    account.fail_next(1, status=502)
    account.usage_limit_next(1)

    statuses = [restlet(PAGE) for _ in range(5)]

    assert [answer.status_code for answer in statuses] == [502, 429, 400, 400, 200]
    assert [call.error_code for call in account.calls] == [
        "HTTP_502",
        "TOO_MANY_REQUESTS",
        "SSS_REQUEST_LIMIT_EXCEEDED",
        "SSS_USAGE_LIMIT_EXCEEDED",
        None,
    ]


def test_faults_come_after_login_so_a_bad_login_does_not_use_one_up(
    account: NetSuiteAccount,
    credentials: SandboxCredentials,
    restlet: Restlet,
    tba_signer: Callable[..., object],
) -> None:
    account.throttle_next(1)
    assert restlet(PAGE, auth=tba_signer(credentials, realm="1234567_sb1")).status_code == 401
    assert restlet(PAGE).status_code == 400
    assert restlet(PAGE).status_code == 200


def test_the_call_log_records_action_paging_and_status(account: NetSuiteAccount, restlet: Restlet) -> None:
    generate_refunds(account, 7)
    first = restlet(PAGE).json()["paging"]
    restlet({**PAGE, "afterId": first["lastId"]})
    log = [(call.action, call.after_id, call.page_size, call.status, call.auth) for call in account.calls]
    assert log == [("page", None, 5, 200, "tba"), ("page", first["lastId"], 5, 200, "tba")]


def test_the_control_api_seeds_inspects_and_injects_faults(
    server: RunningServer, account: NetSuiteAccount, restlet: Restlet
) -> None:
    control = f"{server.url}/__sandbox"
    # Seed: an order, its invoice and a refund of it, plus generated refunds
    order = requests.post(f"{control}/sales-orders", json={"bigcommerceOrderId": "4242"}, timeout=5).json()
    invoice = requests.post(f"{control}/billings", json={"salesOrderId": order["id"]}, timeout=5).json()
    line = {
        "line": 1,
        "itemId": "201",
        "itemName": "Canvas Tote",
        "itemType": "InvtPart",
        "quantity": "1",
        "rate": "24.00",
        "amount": "24.00",
        "taxAmount": "1.98",
    }
    refund = requests.post(f"{control}/billings/{invoice['id']}/refunds", json={"lines": [line]}, timeout=5)
    seeded = requests.post(f"{control}/seed", json={"count": 3, "seed": 7}, timeout=5)
    assert (refund.status_code, seeded.status_code) == (201, 201)
    assert refund.json()["total"] == "25.98"
    assert refund.json()["bigcommerceOrderId"] == "4242"
    assert seeded.json()["created"] == 3

    # Inspect and edit: take the refund out of the saved search
    refund_id = refund.json()["id"]
    changed = requests.patch(
        f"{control}/refunds/{refund_id}", json={"inSavedSearch": False}, timeout=5
    ).json()
    assert changed["inSavedSearch"] is False
    assert len(requests.get(f"{control}/refunds", timeout=5).json()) == 4
    assert (
        requests.get(f"{control}/refunds/{refund_id}", timeout=5).json()["refund"]["tranId"].startswith("CM-")
    )
    assert requests.get(f"{control}/refunds/999", timeout=5).status_code == 404
    assert requests.post(f"{control}/seed", json={"count": 0}, timeout=5).status_code == 400

    # Faults and the call log
    requests.post(f"{control}/faults", json={"throttleNext": 1}, timeout=5)
    assert restlet(PAGE).status_code == 400
    assert restlet(PAGE).json()["paging"]["count"] == 3
    calls = requests.get(f"{control}/calls", timeout=5).json()
    assert [(call["action"], call["status"]) for call in calls] == [("page", 400), ("page", 200)]
    assert requests.delete(f"{control}/calls", timeout=5).json() == []
    assert requests.delete(f"{control}/faults", timeout=5).json()["throttleNext"] == 0

    # State and credentials, for a sandbox that runs the simulator in another process
    state = requests.get(f"{control}/state", timeout=5).json()
    assert state["realm"] == "1234567_SB1"
    assert state["authMethods"] == ["tba", "oauth2_m2m"]
    secrets = requests.get(f"{control}/credentials", timeout=5).json()
    assert secrets["tba"] == account.credentials.secret_for(NetSuiteAuthMethod.TBA)
    assert set(secrets["oauth2_m2m"]) == {"client_id", "certificate_id", "private_key"}


def test_the_clock_can_be_moved_over_http(server: RunningServer, account: NetSuiteAccount) -> None:
    before = account.now()
    answer = requests.post(f"{server.url}/__sandbox/clock", json={"advanceSeconds": 3600}, timeout=5).json()
    assert answer["now"] - before >= 3600
