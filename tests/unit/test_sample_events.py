"""The sample events in events/ (for `sam local invoke -e`) are ones the handlers accept."""

from __future__ import annotations

import json
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.parser import parse

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.services.poll_refunds import OnDemandSync, PollerEvent, ScheduledPoll

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, object]:
    document: dict[str, object] = json.loads((EVENTS / name).read_text())
    return document


def test_the_scheduled_event_is_a_poll() -> None:
    assert isinstance(parse(event=load("schedule.json"), model=PollerEvent).root, ScheduledPoll)


def test_the_on_demand_event_names_refunds_three_ways() -> None:
    request = parse(event=load("on-demand.json"), model=PollerEvent).root
    assert isinstance(request, OnDemandSync)
    assert (request.netsuite_ids, request.document_numbers, request.bigcommerce_order_ids) == (
        ["1042"],
        ["CM-1043"],
        ["5001"],
    )


def test_the_sqs_batch_carries_a_refund_message_in_its_order_group() -> None:
    (record,) = SQSEvent(load("sqs-batch.json")).records
    message = RefundMessage.model_validate_json(record.body)
    assert record.attributes.message_group_id == message.group_id == "order-5001"
    assert record.attributes.message_deduplication_id == message.deduplication_id
    assert message.refund.tran_id == "CM-1042"
