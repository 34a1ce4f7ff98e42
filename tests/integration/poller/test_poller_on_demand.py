"""On demand ({"action": "sync", ...}): an operator names refunds by NetSuite id, document number or
BigCommerce order id; the poller enqueues just those, never one already synced, and says why the others
could not be found, in NetSuite's own reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from refund_sync_sandbox.netsuite import BillingType, generate_refunds
from refund_sync_sandbox.sandbox import Sandbox
from tests.integration.poller.support import page_calls, peek_queue, record_synced


def test_sync_on_demand_enqueues_just_the_named_refunds_and_explains_the_rest(sandbox: Sandbox) -> None:
    account = sandbox.account
    # Given refunds to name three ways, one already synced, and one the saved search leaves out
    by_id, by_number, by_order, synced, excluded = generate_refunds(account, 5, first_order_id=401)
    record_synced(sandbox, synced, bigcommerce_refund_id=777)
    account.set_in_saved_search(excluded.id, in_saved_search=False)
    generate_refunds(account, 3, first_order_id=501)  # others, not named: never sent
    # And a BigCommerce order synced to NetSuite and invoiced, but not refunded there
    unrefunded = account.add_sales_order(bigcommerce_order_id="601")
    account.add_billing(unrefunded, BillingType.INVOICE)

    # When an operator asks for them
    report = sandbox.run_poller(
        {
            "action": "sync",
            "netsuite_ids": [by_id.id, synced.id, "999999"],
            "document_numbers": [by_number.tran_id, excluded.tran_id],
            "bigcommerce_order_ids": [by_order.bigcommerce_order_id, "601", "9999"],
        }
    )

    # Then exactly the three it may send are in the queue, sent on demand, in their orders' groups
    wanted = {by_id.id, by_number.id, by_order.id}
    queued = peek_queue(sandbox)
    assert {item.netsuite_id for item in queued} == wanted and len(queued) == 3
    assert {item.message.sent_by for item in queued} == {"on_demand"}
    assert {item.group_id for item in queued} == {"order-401", "order-402", "order-403"}
    assert {entry["refund"] for entry in report["enqueued"]} == {by_id.label, by_number.label, by_order.label}

    # And the synced one is reported as not sent: it is never refunded twice
    (not_sent,) = report["not_sent"]
    assert not_sent["refund"] == synced.label
    assert "already SYNCED (BigCommerce refund 777)" in not_sent["why"]
    assert "never refunded twice" in not_sent["why"]

    # And each query that found nothing comes back with NetSuite's reason
    codes = {miss["query"]: miss["codes"] for miss in report["not_found"]}
    assert codes == {
        "id 999999": ["NO_SUCH_TRANSACTION"],
        f"tranId {excluded.tran_id}": ["OUTSIDE_SAVED_SEARCH"],
        "orderId 601": ["NO_REFUND_FOR_ORDER"],
        "orderId 9999": ["ORDER_NOT_SYNCED"],
    }
    # each with what an admin should check, as NetSuite worded it
    (excluded_miss,) = [miss for miss in report["not_found"] if miss["codes"] == ["OUTSIDE_SAVED_SEARCH"]]
    assert "saved search customsearch_rs_refunds excludes it" in excluded_miss["reasons"][0]

    # And the saved search was not paged for it: one lookup, no sweep
    assert page_calls(sandbox) == []
    assert [call.action for call in sandbox.account.calls if call.endpoint == "restlet"] == ["find"]


def test_asking_again_sends_again_because_an_operator_means_it(sandbox: Sandbox) -> None:
    # Given a refund that was just synced on demand (and is still in the queue)
    (refund,) = generate_refunds(sandbox.account, 1)
    sandbox.run_poller({"action": "sync", "document_numbers": [refund.tran_id]})

    # When the operator asks again before the consumer ran
    sandbox.run_poller({"action": "sync", "document_numbers": [refund.tran_id]})

    # Then the second request is not swallowed by the queue's deduplication (the consumer's state
    # is what keeps a refund from being made twice)
    queued = peek_queue(sandbox)
    assert [item.netsuite_id for item in queued] == [refund.id, refund.id]
    assert len({item.deduplication_id for item in queued}) == 2


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_sync_request_that_names_nothing_is_refused_with_what_to_send(sandbox: Sandbox) -> None:
    with pytest.raises(ValidationError) as refused:
        sandbox.run_poller({"action": "sync"})
    assert "netsuite_ids, document_numbers or bigcommerce_order_ids" in str(refused.value)
    assert sandbox.account.calls == []
