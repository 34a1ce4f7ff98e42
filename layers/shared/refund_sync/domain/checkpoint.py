"""Where the poller stands in the saved search. Pure.

A *sweep* pages every refund modified since `modified_since`, by ascending internal id, resuming at
`after_id` when a run was cut off. When a sweep completes, the next one starts from the instant this
one started, less an overlap for clock skew between NetSuite and AWS; refunds seen twice because of
the overlap are suppressed by the queue's deduplication and the state table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict


class Checkpoint(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    modified_since: AwareDatetime | None = None
    after_id: str = "0"
    sweep_started_at: AwareDatetime | None = None
    pages: int = 0
    refunds_enqueued: int = 0
    last_run_at: AwareDatetime | None = None
    last_completed_at: AwareDatetime | None = None
    version: int = 0

    def sweep_start(self, now: datetime) -> Checkpoint:
        """Begin a new sweep unless one is half done (then resume it where it stopped)."""
        if self.sweep_started_at is not None:
            return self
        return self.model_copy(
            update={"sweep_started_at": now, "after_id": "0", "pages": 0, "refunds_enqueued": 0}
        )

    def page_done(self, last_id: str, enqueued: int) -> Checkpoint:
        return self.model_copy(
            update={
                "after_id": last_id,
                "pages": self.pages + 1,
                "refunds_enqueued": self.refunds_enqueued + enqueued,
            }
        )

    def sweep_done(self, overlap: timedelta, now: datetime) -> Checkpoint:
        started = self.sweep_started_at or now
        return self.model_copy(
            update={
                "modified_since": started - overlap,
                "after_id": "0",
                "sweep_started_at": None,
                "last_completed_at": now,
            }
        )
