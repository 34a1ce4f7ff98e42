"""The simulator reads `searchId` as the RESTlet does: empty or absent means the deployment's "Saved search"
parameter, and a deployment without one is a CONFIGURATION_ERROR an admin must fix (not a bad request)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from refund_sync_sandbox.netsuite import DEFAULT_SAVED_SEARCH_ID, NetSuiteAccount, generate_refunds

Restlet = Callable[..., requests.Response]
Contract = Callable[[object, str], None]


@pytest.mark.parametrize("search_id", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_no_search_id_means_the_deployments_saved_search(
    account: NetSuiteAccount, restlet: Restlet, contract: Contract, search_id: str | None
) -> None:
    refunds = generate_refunds(account, 3)
    account.set_in_saved_search(refunds[1].id, in_saved_search=False)
    extra = {} if search_id is None else {"searchId": search_id}

    page = restlet({"action": "page", "pageSize": 5, **extra}).json()
    found = restlet({"action": "find", "ids": [refunds[1].id], **extra}).json()

    contract(page, "PageResponse")
    assert [refund["id"] for refund in page["refunds"]] == [refunds[0].id, refunds[2].id]
    contract(found, "FindResponse")
    (miss,) = found["notFound"]
    assert miss["reasons"][0]["code"] == "OUTSIDE_SAVED_SEARCH"
    assert account.default_search_id in miss["reasons"][0]["message"]


def test_a_deployment_without_a_saved_search_is_a_configuration_error(
    account: NetSuiteAccount, restlet: Restlet, contract: Contract
) -> None:
    generate_refunds(account, 1)
    account.default_search_id = ""  # the deployment's "Saved search" parameter left empty

    for body in ({"action": "page"}, {"action": "page", "searchId": ""}, {"action": "find", "ids": ["1"]}):
        answer = restlet(body)
        contract(answer.json(), "ErrorResponse")
        error = answer.json()["error"]
        assert error["code"] == "CONFIGURATION_ERROR"
        assert error["details"] == {"parameter": "custscript_rs_saved_search"}
        assert 'deployment parameter "Saved search" (custscript_rs_saved_search) is empty' in error["message"]

    # naming a search still works, and a request with problems of its own hears about those first
    assert restlet({"action": "page", "searchId": DEFAULT_SAVED_SEARCH_ID}).json()["paging"]["count"] == 1
    assert restlet({"action": "page", "pageSize": 2}).json()["error"]["code"] == "INVALID_REQUEST"


def test_a_search_id_that_is_not_a_string_is_an_invalid_request(restlet: Restlet) -> None:
    error = restlet({"action": "page", "searchId": None}).json()["error"]
    assert error["code"] == "INVALID_REQUEST"
    assert error["details"]["problems"][0]["field"] == "searchId"
