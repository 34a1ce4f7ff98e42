"""DynamoDB persistence of refund states and the poller's checkpoint. The only module that speaks to it.

Items (one table, key `pk`):
- `REFUND#<NetSuite internal id>`: a RefundState; GSIs by document number, by status, and (sparse) the
  synced refunds whose payout is still to be checked.
- `CHECKPOINT#poller`: the poller's Checkpoint.
- `PROFILE#bigcommerce-read-back`: whether refunds read back were seen carrying their markers.
Every write is conditional on the version read, so two writers can never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.state import RefundState, SyncStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

REFUND_PREFIX = "REFUND#"
# A sparse index: only SYNCED refunds whose payout is not yet checked carry this attribute, so the payout
# check reads just those, never the refunds it has already seen.
PAYOUT_CHECK_KEY = "payout_check"
PAYOUT_CHECK_DUE = "due"
CHECKPOINT_KEY = "CHECKPOINT#poller"
READ_BACK_KEY = "PROFILE#bigcommerce-read-back"
BATCH_GET_LIMIT = 100


class StateConflict(Exception):
    """Someone else wrote the item since we read it; the caller re-reads and decides again."""


def _to_attribute(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _to_attribute(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_to_attribute(item) for item in value]
    if isinstance(value, float):  # pragma: no cover - our models hold no floats; refuse to store one
        raise TypeError("refusing to store a float in DynamoDB; use Decimal")
    return value


def _item(pk: str, fields: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = _to_attribute(fields)
    item["pk"] = pk
    return item


def refund_key(netsuite_id: str) -> str:
    return f"{REFUND_PREFIX}{netsuite_id}"


class StateStore:
    def __init__(self, table_name: str, *, table: Table | None = None) -> None:
        self.table: Table = table or boto3.resource("dynamodb").Table(table_name)

    # -- refund states ------------------------------------------------------------------------------
    def get(self, netsuite_id: str) -> RefundState | None:
        response = self.table.get_item(Key={"pk": refund_key(netsuite_id)}, ConsistentRead=True)
        item = response.get("Item")
        return RefundState.model_validate(item) if item else None

    def get_many(self, netsuite_ids: Iterable[str]) -> dict[str, RefundState]:
        ids = list(dict.fromkeys(netsuite_ids))
        found: dict[str, RefundState] = {}
        # The table's own client speaks plain Python values (boto3's DynamoDB transformation).
        client = self.table.meta.client
        for start in range(0, len(ids), BATCH_GET_LIMIT):
            keys: list[dict[str, Any]] = [{"pk": refund_key(i)} for i in ids[start : start + BATCH_GET_LIMIT]]
            request: dict[str, Any] = {self.table.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table.name, []):
                    state = RefundState.model_validate(item)
                    found[state.netsuite_id] = state
                request = response.get("UnprocessedKeys") or {}
        return found

    def save(self, state: RefundState, *, expected_version: int | None) -> RefundState:
        """Write `state` if the stored version is still `expected_version` (None: must not exist yet)."""
        condition = (
            Attr("pk").not_exists() if expected_version is None else Attr("version").eq(expected_version)
        )
        item = _item(refund_key(state.netsuite_id), state.model_dump(mode="python"))
        if state.status is SyncStatus.SYNCED and state.payout_checked_at is None:
            item[PAYOUT_CHECK_KEY] = PAYOUT_CHECK_DUE
        try:
            self.table.put_item(Item=item, ConditionExpression=condition)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateConflict(
                    f"refund {state.netsuite_id} changed since version {expected_version}"
                ) from error
            raise
        return state

    def claimants(self, refund_ids: Iterable[int]) -> dict[int, str]:
        """Which NetSuite refund (internal id) each of these BigCommerce refunds is recorded for."""
        claimed: dict[int, str] = {}
        for refund_id in dict.fromkeys(refund_ids):
            response = self.table.query(
                IndexName="by_bigcommerce_refund",
                KeyConditionExpression=Key("bigcommerce_refund_id").eq(refund_id),
            )
            for item in response["Items"]:
                claimed[refund_id] = str(item["pk"]).removeprefix(REFUND_PREFIX)
        return claimed

    def find_by_document_number(self, document_number: str) -> list[RefundState]:
        response = self.table.query(
            IndexName="by_document_number", KeyConditionExpression=Key("document_number").eq(document_number)
        )
        return [RefundState.model_validate(item) for item in response["Items"]]

    def by_status(self, status: SyncStatus, *, limit: int | None = None) -> Iterator[RefundState]:
        """Refunds in one status, most recently updated first."""
        kwargs: dict[str, Any] = {
            "IndexName": "by_status",
            "KeyConditionExpression": Key("status").eq(status.value),
            "ScanIndexForward": False,
        }
        returned = 0
        while True:
            response = self.table.query(**kwargs)
            for item in response["Items"]:
                yield RefundState.model_validate(item)
                returned += 1
                if limit is not None and returned >= limit:
                    return
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def awaiting_payout_check(
        self, *, synced_after: datetime, synced_before: datetime
    ) -> Iterator[RefundState]:
        """SYNCED refunds synced within the window whose payout nobody has checked yet, oldest first."""
        kwargs: dict[str, Any] = {
            "IndexName": "by_payout_check",
            "KeyConditionExpression": Key(PAYOUT_CHECK_KEY).eq(PAYOUT_CHECK_DUE)
            & Key("synced_at").between(synced_after.isoformat(), synced_before.isoformat()),
        }
        while True:
            response = self.table.query(**kwargs)
            for item in response["Items"]:
                yield RefundState.model_validate(item)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def count_by_status(self) -> dict[SyncStatus, int]:
        counts: dict[SyncStatus, int] = {}
        for status in SyncStatus:
            kwargs: dict[str, Any] = {
                "IndexName": "by_status",
                "KeyConditionExpression": Key("status").eq(status.value),
                "Select": "COUNT",
            }
            count = 0
            while True:
                response = self.table.query(**kwargs)
                count += response["Count"]
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            counts[status] = count
        return counts

    # -- what the store's read-backs are seen to echo ------------------------------------------------
    def markers_echoed(self) -> bool | None:
        """Whether refunds read back from BigCommerce were last seen carrying their markers (None: never
        looked)."""
        item = self.table.get_item(Key={"pk": READ_BACK_KEY}, ConsistentRead=True).get("Item")
        return bool(item["markers_echoed"]) if item else None

    def observe_markers_echoed(self, echoed: bool, at: datetime) -> None:
        self.table.put_item(
            Item={"pk": READ_BACK_KEY, "markers_echoed": echoed, "observed_at": at.isoformat()}
        )

    # -- the poller's checkpoint ----------------------------------------------------------------------
    def get_checkpoint(self) -> Checkpoint:
        item = self.table.get_item(Key={"pk": CHECKPOINT_KEY}, ConsistentRead=True).get("Item")
        return Checkpoint.model_validate(item) if item else Checkpoint()

    def save_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        """Advance the checkpoint if nobody else moved it since we read it; returns the stored copy."""
        stored = checkpoint.model_copy(update={"version": checkpoint.version + 1})
        condition = Attr("pk").not_exists() | Attr("version").eq(checkpoint.version)
        try:
            self.table.put_item(
                Item=_item(CHECKPOINT_KEY, stored.model_dump(mode="python")), ConditionExpression=condition
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateConflict("another poller run moved the checkpoint") from error
            raise
        return stored
