"""What our code asks of AWS, counted on the wire: every botocore request, by service and action, with
the units AWS bills for it (DynamoDB read and write units, SQS 64 KB chunks).

Counting happens in botocore's HTTP session, so it sees every client, including the ones Powertools
creates for Secrets Manager. DynamoDB units follow AWS's item-size rules: a write costs one unit per
KB of the item, once for the table and once per global secondary index holding it (twice when the
write moves the item within the index: the old entry is deleted, the new one put); a strongly
consistent read costs one unit per 4 KB, an index query half that, on everything it reads before
any filter.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from unittest import mock

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.httpsession import URLLib3Session

KB = 1024
SQS_CHUNK_BYTES = 64 * KB
# The state table's indexes (template.yaml), by the attributes that put an item in them.
INDEX_KEYS: dict[str, tuple[str, ...]] = {
    "by_document_number": ("document_number",),
    "by_status": ("status", "updated_at"),
}
# by_status sorts on updated_at, which every write of a refund changes: the entry moves.
MOVING_INDEXES = frozenset({"by_status"})


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one DynamoDB-JSON attribute value, by AWS's published sizing rules."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return _number_size(str(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(element) + 1 for name, element in content.items())
    if kind in ("SS", "BS"):
        return sum(len(str(element).encode()) for element in content)
    if kind == "NS":
        return sum(_number_size(str(element)) for element in content)
    return len(json.dumps(content).encode())


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


@dataclass
class AwsUsage:
    requests: Counter[str] = field(default_factory=Counter)  # "dynamodb PutItem": n
    dynamodb_write_units: int = 0
    dynamodb_read_units: Decimal = Decimal(0)
    sqs_billed_requests: int = 0
    item_bytes_written: list[int] = field(default_factory=list)
    items_scanned: int = 0  # by queries, before their filters
    typical_item_bytes: float = 0.0  # the size assumed for items a query read but filtered out unseen

    def record(self, request: AWSPreparedRequest, response: AWSResponse) -> None:
        service, action = _service_and_action(request)
        self.requests[f"{service} {action}"] += 1
        if service == "dynamodb":
            self._dynamodb(action, _json(request.body), _json(response.content))
        elif service == "sqs":
            payload = (
                len(response.content or b"") if action == "ReceiveMessage" else len(_bytes(request.body))
            )
            self.sqs_billed_requests += max(1, math.ceil(payload / SQS_CHUNK_BYTES))

    def _dynamodb(self, action: str, body: dict[str, Any], answer: dict[str, Any]) -> None:
        if action == "PutItem":
            item = body.get("Item", {})
            size = item_size(item)
            self.item_bytes_written.append(size)
            inserting = (
                body.get("ConditionExpression", "").strip().lower().startswith("attribute_not_exists")
                and " or " not in body.get("ConditionExpression", "").lower()
            )
            copies = 1
            for index, keys in INDEX_KEYS.items():
                if all(key in item for key in keys):
                    copies += 2 if index in MOVING_INDEXES and not inserting else 1
            self.dynamodb_write_units += math.ceil(size / KB) * copies
        elif action == "GetItem":
            self.dynamodb_read_units += math.ceil(item_size(answer.get("Item", {})) / (4 * KB)) or 1
        elif action == "BatchGetItem":
            # every key asked for costs at least one unit, found or not
            asked = sum(len(request.get("Keys", [])) for request in body.get("RequestItems", {}).values())
            found = [item for items in answer.get("Responses", {}).values() for item in items]
            self.dynamodb_read_units += sum(math.ceil(item_size(i) / (4 * KB)) or 1 for i in found)
            self.dynamodb_read_units += max(asked - len(found), 0)
        elif action == "Query":
            # ScannedCount items were read (and paid for) before any FilterExpression dropped some;
            # those dropped are sized like the items written so far.
            returned = [item_size(i) for i in answer.get("Items", [])]
            dropped = max(answer.get("ScannedCount", len(returned)) - len(returned), 0)
            written = self.item_bytes_written
            typical = sum(written) / len(written) if written else self.typical_item_bytes
            scanned = sum(returned) + dropped * typical
            units = Decimal(max(1, math.ceil(scanned / (4 * KB))))
            self.dynamodb_read_units += units / 2 if "IndexName" in body else units
            self.items_scanned += answer.get("ScannedCount", len(returned))


def _bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return b""


def _json(body: object) -> dict[str, Any]:
    raw = _bytes(body)
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _service_and_action(request: AWSPreparedRequest) -> tuple[str, str]:
    target = request.headers.get("X-Amz-Target")
    if target:
        text = target.decode() if isinstance(target, bytes) else str(target)
        prefix, _, action = text.partition(".")
        service = {"dynamodb_20120810": "dynamodb", "amazonsqs": "sqs", "secretsmanager": "secretsmanager"}
        return service.get(prefix.lower(), prefix.lower()), action
    # query protocol: Action=... in the form body
    body = _bytes(request.body).decode(errors="replace")
    fields = dict(part.split("=", 1) for part in body.split("&") if "=" in part)
    host = (request.url or "").split("//", 1)[-1].split(".", 1)[0]
    return host, fields.get("Action", "?")


@contextmanager
def counting_aws_requests(typical_item_bytes: float = 0.0) -> Iterator[AwsUsage]:
    """Count every botocore HTTP request made inside the block (e.g. to a moto server)."""
    usage = AwsUsage(typical_item_bytes=typical_item_bytes)
    send = URLLib3Session.send

    def counted(session: URLLib3Session, request: AWSPreparedRequest) -> AWSResponse:
        response: AWSResponse = send(session, request)
        usage.record(request, response)
        return response

    with mock.patch.object(URLLib3Session, "send", counted):
        yield usage
