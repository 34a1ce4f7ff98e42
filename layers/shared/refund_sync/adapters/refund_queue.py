"""The refund queue (FIFO) and its dead-letter queue. The only module that speaks to SQS.

Messages of one BigCommerce order share a message group, so SQS never hands two of them to consumers
at once (BigCommerce forbids concurrent refunds on one order). The deduplication id is the NetSuite
refund's id and last-modified instant: the same version of a refund is enqueued once however often
the poller sees it within SQS's five-minute window.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import boto3
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from refund_sync.domain.netsuite import NetSuiteRefund, version_key
from refund_sync.domain.revision import content_hash

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
MAX_MESSAGE_BYTES = 1024 * 1024  # SQS's limit for one message
MAX_VISIBILITY_SECONDS = 12 * 60 * 60
MAX_DETAIL_CHARACTERS = 1000
# A peek holds the messages only while it reads them, then makes them visible again at once.
PEEK_VISIBILITY_SECONDS = 30
# An operator action holds the dead-letter queue's messages while it decides on each (seconds).
HOLD_VISIBILITY_SECONDS = 120
NO_ORDER_GROUP = "no-bigcommerce-order"  # a message whose refund (and so its order) cannot be read
# A BigCommerce order id is a number; the digits also keep the group within what SQS allows (128 ASCII).
ORDER_NUMBER = re.compile(r"[0-9]{1,100}")
# SQS accepts only XML 1.0 characters in message attributes (and bodies).
_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class RefundMessage(BaseModel):
    """The body of a refund-queue message: the NetSuite refund, whole, and who sent it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    refund: NetSuiteRefund
    sent_by: Literal["schedule", "on_demand"]
    sent_at: AwareDatetime

    @property
    def group_id(self) -> str:
        order = (self.refund.bigcommerce_order_id or "").strip()
        if ORDER_NUMBER.fullmatch(order):
            # written as the engine reads it (no leading zeros), so all refunds of one order share a group
            return f"order-{int(order)}"
        # Refunds without an order number still flow, to be recorded with their reason. Each has a group of
        # its own: nothing needs serialising, and in the FIFO dead-letter queue a shared group would show
        # an operator's peek only its first ten messages.
        return f"{NO_ORDER_GROUP}-{self.refund.id}"

    @property
    def body(self) -> str:
        return self.model_dump_json(by_alias=True)

    @property
    def deduplication_id(self) -> str:
        # The content as well as the minute-resolution lastModified: two edits within a minute are two
        # versions, not one deduplicated away.
        key = f"{version_key(self.refund)}#{content_hash(self.refund)}"
        # on-demand syncs are deliberate repeats: they must not be swallowed by deduplication
        if self.sent_by == "on_demand":
            key += f"#on-demand@{self.sent_at.isoformat()}"
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message as a person reads it: which refund, and why it is there."""

    refund: str  # how a person names it: "Credit Memo CM-1042 (NetSuite id 1042)"
    netsuite_id: str | None
    document_number: str | None
    reason: str
    detail: str
    message_id: str = ""
    last_modified: datetime | None = None  # the version of the refund the message carries
    sent_at: datetime | None = None  # when the poller sent it (a redrive keeps it)

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> DeadLetter:
        attributes = message.get("MessageAttributes", {})
        parsed = _refund_message(message["Body"])
        refund = parsed.refund if parsed else None
        return cls(
            refund=refund.label if refund else "(unreadable message)",
            netsuite_id=refund.id if refund else None,
            document_number=refund.tran_id if refund else None,
            reason=attributes.get("FailureReason", {}).get("StringValue", "") or "(no reason recorded)",
            detail=attributes.get("FailureDetail", {}).get("StringValue", ""),
            message_id=message.get("MessageId", ""),
            last_modified=refund.last_modified if refund else None,
            sent_at=parsed.sent_at if parsed else None,
        )

    def is_about(self, reference: str) -> bool:
        """Whether a person naming `reference` means this message: its refund's NetSuite id, its document
        number in any case, or the message's own id (the only name of an unreadable message)."""
        wanted = reference.strip()
        return bool(wanted) and (
            wanted in (self.netsuite_id, self.message_id)
            or (self.document_number or "").casefold() == wanted.casefold()
        )


def _refund_message(body: str) -> RefundMessage | None:
    try:
        return RefundMessage.model_validate_json(body)
    except ValidationError:
        return None


@dataclass(frozen=True)
class HeldDeadLetter:
    """A dead-lettered message received to act on: invisible to others until deleted or released."""

    letter: DeadLetter
    body: str
    group_id: str
    receipt_handle: str

    @property
    def message(self) -> RefundMessage | None:
        return _refund_message(self.body)


def _receive_all(sqs: SQSClient, queue_url: str, limit: int, visibility_seconds: int) -> list[MessageTypeDef]:
    """Up to `limit` messages, each held invisible for `visibility_seconds`. A FIFO queue hands out at
    most one batch of a message group while that batch is held, so a group with more than ten messages
    shows its first ten (groups are BigCommerce orders; one rarely has ten refunds waiting)."""
    messages: list[MessageTypeDef] = []
    while len(messages) < limit:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(MAX_BATCH_ENTRIES, limit - len(messages)),
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["MessageGroupId"],
            VisibilityTimeout=visibility_seconds,
        ).get("Messages", [])
        if not batch:
            break
        messages += batch
    return messages


def _make_visible(sqs: SQSClient, queue_url: str, receipt_handles: Sequence[str]) -> None:
    for start in range(0, len(receipt_handles), MAX_BATCH_ENTRIES):
        chunk = receipt_handles[start : start + MAX_BATCH_ENTRIES]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for index, handle in enumerate(chunk)
            ],
        )


def peek_dead_letters(sqs: SQSClient, queue_url: str, limit: int = 1000) -> list[DeadLetter]:
    """Read up to `limit` dead-lettered messages and make them visible again at once (nothing is deleted)."""
    messages = _receive_all(sqs, queue_url, limit, PEEK_VISIBILITY_SECONDS)
    _make_visible(sqs, queue_url, [message["ReceiptHandle"] for message in messages])
    return [DeadLetter.from_message(message) for message in messages]


def sqs_text(text: str, limit: int) -> str:
    """`text` as SQS takes it: characters it refuses (control characters, lone surrogates, which a bad
    message's field names may hold) replaced, at most `limit` long, never empty."""
    return _NOT_SQS_TEXT.sub("\ufffd", text)[:limit] or "-"


class EnqueueFailed(Exception):
    """Some messages could not be enqueued even after retrying; the poller must not advance."""


def _batches(messages: Sequence[RefundMessage]) -> list[list[SendMessageBatchRequestEntryTypeDef]]:
    """Groups of at most ten entries and 256 KiB, SQS's limits for one SendMessageBatch."""
    batches: list[list[SendMessageBatchRequestEntryTypeDef]] = []
    current: list[SendMessageBatchRequestEntryTypeDef] = []
    size = 0
    for index, message in enumerate(messages):
        body = message.body
        entry: SendMessageBatchRequestEntryTypeDef = {
            "Id": str(index),
            "MessageBody": body,
            "MessageGroupId": message.group_id,
            "MessageDeduplicationId": message.deduplication_id,
        }
        entry_size = len(body.encode())
        if current and (len(current) == MAX_BATCH_ENTRIES or size + entry_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        batches.append(current)
    return batches


class _RetryableBatch(Exception):
    def __init__(self, remaining: list[SendMessageBatchRequestEntryTypeDef], detail: str) -> None:
        super().__init__(detail)
        self.remaining = remaining


class RefundQueues:
    def __init__(
        self,
        refund_queue_url: str,
        dead_letter_queue_url: str,
        *,
        client: SQSClient | None = None,
        workers: int = 4,
    ) -> None:
        self.refund_queue_url = refund_queue_url
        self.dead_letter_queue_url = dead_letter_queue_url
        self.sqs: SQSClient = client or boto3.client("sqs")
        self.workers = workers

    def enqueue(self, messages: Sequence[RefundMessage]) -> int:
        """Send every message (batched, in parallel); raise EnqueueFailed unless all were accepted."""
        batches = _batches(messages)
        if not batches:
            return 0
        with ThreadPoolExecutor(max_workers=min(self.workers, len(batches))) as pool:
            list(pool.map(self._send_batch, batches))
        return len(messages)

    def _send_batch(self, entries: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        pending = list(entries)

        def attempt() -> None:
            nonlocal pending
            response = self.sqs.send_message_batch(QueueUrl=self.refund_queue_url, Entries=pending)
            failed = response.get("Failed", [])
            if not failed:
                return
            permanent = [f for f in failed if f.get("SenderFault")]
            if permanent:
                details = "; ".join(f"{f['Id']}: {f.get('Message', f['Code'])}" for f in permanent)
                raise EnqueueFailed(f"SQS refused {len(permanent)} message(s): {details}")
            retry_ids = {f["Id"] for f in failed}
            pending = [e for e in pending if e["Id"] in retry_ids]
            raise _RetryableBatch(pending, f"{len(retry_ids)} message(s) not accepted yet")

        retrying = Retrying(
            retry=retry_if_exception_type(_RetryableBatch),
            stop=stop_after_attempt(4),
            wait=wait_random_exponential(multiplier=0.2, max=5),
            reraise=True,
        )
        try:
            retrying(attempt)
        except _RetryableBatch as error:
            raise EnqueueFailed(
                f"SQS did not accept {len(error.remaining)} message(s) after retrying"
            ) from error

    def dead_letter(
        self, body: str, *, group_id: str, message_id: str, reason_code: str, detail: str
    ) -> None:
        """Park a message that cannot succeed as it stands, with its reason, for review and redrive."""
        self.sqs.send_message(
            QueueUrl=self.dead_letter_queue_url,
            MessageBody=body,
            MessageGroupId=group_id,
            # the original message id: a retry of this very step is deduplicated, a later redrive is not
            MessageDeduplicationId=message_id,
            MessageAttributes={
                "FailureReason": {"DataType": "String", "StringValue": reason_code},
                "FailureDetail": {
                    "DataType": "String",
                    "StringValue": sqs_text(detail, MAX_DETAIL_CHARACTERS),
                },
            },
        )

    # -- the dead-letter queue, one message at a time ----------------------------------------------------
    def hold_dead_letters(
        self, limit: int = 1000, *, visibility_seconds: int = HOLD_VISIBILITY_SECONDS
    ) -> list[HeldDeadLetter]:
        """Receive dead-lettered messages to act on; each stays invisible until deleted, moved or released."""
        return [
            HeldDeadLetter(
                letter=DeadLetter.from_message(message),
                body=message["Body"],
                group_id=message.get("Attributes", {}).get("MessageGroupId", NO_ORDER_GROUP),
                receipt_handle=message["ReceiptHandle"],
            )
            for message in _receive_all(self.sqs, self.dead_letter_queue_url, limit, visibility_seconds)
        ]

    def release(self, held: Sequence[HeldDeadLetter]) -> None:
        """Make held messages visible again, unchanged."""
        _make_visible(self.sqs, self.dead_letter_queue_url, [message.receipt_handle for message in held])

    def delete_dead_letter(self, held: HeldDeadLetter) -> None:
        self.sqs.delete_message(QueueUrl=self.dead_letter_queue_url, ReceiptHandle=held.receipt_handle)

    def move_back(self, held: HeldDeadLetter) -> None:
        """What a redrive does with one message: back to the refund queue in its message group, as a new
        message (deduplicated only against a repeat of this very move), then out of the dead-letter queue."""
        self.sqs.send_message(
            QueueUrl=self.refund_queue_url,
            MessageBody=held.body,
            MessageGroupId=held.group_id,
            MessageDeduplicationId=f"redrive-{held.letter.message_id}",
        )
        self.delete_dead_letter(held)

    def remove_dead_letters(self, netsuite_ids: Iterable[str], *, sent_before: datetime) -> list[DeadLetter]:
        """Delete the dead-lettered messages of these refunds that a newer message supersedes (sent before
        `sent_before`), so the dead-letter queue never holds two messages of one refund, nor a stale one."""
        wanted = set(netsuite_ids)
        if not wanted:
            return []
        held = self.hold_dead_letters()
        superseded = [
            message
            for message in held
            if message.letter.netsuite_id in wanted
            and message.letter.sent_at is not None
            and message.letter.sent_at < sent_before
        ]
        for message in superseded:
            self.delete_dead_letter(message)
        self.release([message for message in held if message not in superseded])
        return [message.letter for message in superseded]

    def back_off(self, receipt_handle: str, *, receive_count: int, base_seconds: int) -> int:
        """Delay the next delivery of a transiently failed message: base x 2^(deliveries - 1)."""
        seconds = int(min(base_seconds * 2 ** max(receive_count - 1, 0), MAX_VISIBILITY_SECONDS))
        self.sqs.change_message_visibility(
            QueueUrl=self.refund_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
        return seconds
