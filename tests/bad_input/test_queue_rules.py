"""What the queue adapter hands SQS is always something SQS accepts, whatever the refund or the bad message
holds: a message group named after the order (or the shared no-order group), and a dead-letter reason made
of characters SQS takes. A send that SQS refuses would fail the very step that records why a refund failed
(in the consumer), or stall the sweep on the page that holds the refund (in the poller)."""

from __future__ import annotations

import json
import re
from typing import Any, cast

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from hypothesis import event, example, given
from hypothesis import strategies as st

from refund_sync.adapters.refund_queue import NO_ORDER_GROUP, RefundMessage, RefundQueues
from refund_sync.config import Settings
from refund_sync.services.consume_refunds import MALFORMED_MESSAGE, RefundConsumer
from refund_sync.services.sync_refund import RefundEngine
from tests.bad_input.strategies import json_values, sqs_text
from tests.bad_input.support import budget
from tests.factories import line, refund

# SQS: group and deduplication ids are 1-128 ASCII alphanumerics and punctuation; bodies and attribute
# values are XML 1.0 characters.
SQS_ID = re.compile(r"[A-Za-z0-9!-/:-@\[-`{-~]{1,128}")
SQS_TEXT = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]+")


class RecordingSqs:
    """Stands in for the SQS client: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.sent.append(request)
        return {"MessageId": f"m{len(self.sent)}"}


def recording_queues() -> tuple[RefundQueues, RecordingSqs]:
    sqs = RecordingSqs()
    return RefundQueues("https://sqs/refunds.fifo", "https://sqs/dlq.fifo", client=cast(Any, sqs)), sqs


def message_for(order_id: str | None) -> RefundMessage:
    ns = refund(line(1, "TEE", 1, "25.00"), order_id=order_id)
    return RefundMessage(refund=ns, sent_by="schedule", sent_at=ns.last_modified)


@budget(200, sandbox=False)
@given(order_id=st.none() | st.text(max_size=200) | st.from_regex(r"\s*0*[0-9]{1,30}\s*", fullmatch=True))
@example(order_id="ORD 1001")
@example(order_id="\u00b2")  # SUPERSCRIPT TWO: str.isdigit() says yes
@example(order_id="9" * 200)
def test_any_order_id_field_gives_a_message_group_sqs_accepts_and_one_group_per_order(
    order_id: str | None,
) -> None:
    message = message_for(order_id)

    assert SQS_ID.fullmatch(message.group_id), message.group_id
    assert SQS_ID.fullmatch(message.deduplication_id)
    stripped = (order_id or "").strip()
    if re.fullmatch(r"[0-9]{1,100}", stripped):
        event("an order number")
        # Refunds of one order share its group however NetSuite wrote the number (BigCommerce forbids
        # concurrent refunds on one order; the group is what serialises them)
        assert message.group_id == f"order-{int(stripped)}"
    else:
        event("no order number")
        assert message.group_id == f"{NO_ORDER_GROUP}-{message.refund.id}"  # a group of its own


@budget(150, sandbox=False)
@given(detail=st.text(max_size=2_000), reason=st.sampled_from(["MALFORMED_MESSAGE", "ORDER_ID_MISSING"]))
@example(detail="", reason="MALFORMED_MESSAGE")
@example(detail="refund.lines.0.\x00\x1b\ud800: Extra inputs are not permitted", reason="MALFORMED_MESSAGE")
def test_a_dead_letter_carries_its_reason_in_characters_sqs_accepts(detail: str, reason: str) -> None:
    queues, sqs = recording_queues()

    queues.dead_letter("{}", group_id=NO_ORDER_GROUP, message_id="m-1", reason_code=reason, detail=detail)

    (sent,) = sqs.sent
    attributes = sent["MessageAttributes"]
    assert attributes["FailureReason"]["StringValue"] == reason
    written = attributes["FailureDetail"]["StringValue"]
    assert SQS_TEXT.fullmatch(written) and len(written) <= 1000
    assert SQS_ID.fullmatch(sent["MessageGroupId"]) and SQS_ID.fullmatch(sent["MessageDeduplicationId"])


SETTINGS = Settings()


class EngineThatMustNotRun:
    def sync(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a message that is not a refund reached the engine")


def record(body: str, group_id: str) -> SQSRecord:
    return SQSRecord(
        {
            "messageId": "3f1d6f0e-0000-4000-8000-000000000001",
            "receiptHandle": "receipt",
            "body": body,
            "attributes": {"MessageGroupId": group_id, "ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:refund-sync-refunds.fifo",
            "awsRegion": "us-east-1",
        }
    )


@budget(150, sandbox=False)
@given(
    body=sqs_text
    | json_values.map(json.dumps)
    | st.dictionaries(st.text(max_size=8), json_values, min_size=1).map(
        lambda extra: json.dumps({"refund": extra, "sent_by": "schedule", "sent_at": "2026-11-20T10:00:00Z"})
    ),
    group_id=st.sampled_from([NO_ORDER_GROUP, "order-401"]),
)
def test_any_unreadable_body_is_parked_with_the_parsers_words_and_never_reaches_the_engine(
    body: str, group_id: str
) -> None:
    queues, sqs = recording_queues()
    consumer = RefundConsumer(SETTINGS, cast(RefundEngine, EngineThatMustNotRun()), queues)

    assert consumer.handle(record(body, group_id)) is None

    (sent,) = sqs.sent
    assert sent["QueueUrl"] == queues.dead_letter_queue_url
    assert (sent["MessageBody"], sent["MessageGroupId"]) == (body, group_id), (
        "parked as it came, in its group"
    )
    attributes = sent["MessageAttributes"]
    assert attributes["FailureReason"]["StringValue"] == MALFORMED_MESSAGE
    assert SQS_TEXT.fullmatch(attributes["FailureDetail"]["StringValue"])
    assert attributes["FailureDetail"]["StringValue"] != "-", "the parser says what is wrong"
