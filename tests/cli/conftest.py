"""The demo's sandbox, polled and consumed once, with its outputs file: what `make sandbox` leaves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from refund_sync.adapters.state_store import StateStore
from refund_sync_sandbox.netsuite import BillingType, SandboxCredentials
from refund_sync_sandbox.sandbox import Sandbox, running_sandbox
from refund_sync_sandbox.scenarios import DEMO_SETTINGS, MUG, Scenario, address, order, scenarios, seed
from refund_sync_sandbox.serve import write_outputs


@dataclass(frozen=True)
class Demo:
    sandbox: Sandbox
    outputs: Path
    by_id: dict[str, Scenario]
    unpolled_tran_id: str  # a refund made after the poll: nothing has touched it yet

    def ids_of(self, tran_id: str) -> str:
        return next(i for i in self.by_id if self.sandbox.account.refund(i).tran_id == tran_id)

    def store(self) -> StateStore:
        return StateStore(self.sandbox.aws.table_name, table=None)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, netsuite_credentials: SandboxCredentials
) -> Iterator[Demo]:
    with running_sandbox(
        settings=DEMO_SETTINGS, aws_endpoint=moto_endpoint, credentials=netsuite_credentials
    ) as sandbox:
        by_id = seed(sandbox.account, sandbox.store.seed, scenarios())
        sandbox.run_poller()
        sandbox.drain()
        sandbox.run_payout_check()  # as its schedule would, finding the gateway's decline
        # One more order and refund, made after the poll, for previews of a refund that would sync.
        sandbox.store.seed([order(6001, [MUG.order_line(31, 2, 41)], [address(41, Decimal("5.00"))])])
        sales_order = sandbox.account.add_sales_order("SO-6001", bigcommerce_order_id="6001")
        billing = sandbox.account.add_billing(sales_order, BillingType.CASH_SALE)
        sandbox.account.create_refund(billing, [MUG.refund_line(1, 1)], tran_id="CR-6001")
        outputs = tmp_path_factory.mktemp("sandbox") / "outputs.json"
        write_outputs(sandbox, outputs)
        yield Demo(sandbox, outputs, by_id, "CR-6001")


def sandbox_args(demo: Demo) -> list[str]:
    return ["--sandbox-file", str(demo.outputs)]


def expected(demo: Demo, *statuses: str) -> dict[str, str | None]:
    """Document number -> reason, of the demo refunds that end in one of `statuses`."""
    return {
        demo.sandbox.account.refund(netsuite_id).tran_id: scenario.expected_reason
        for netsuite_id, scenario in demo.by_id.items()
        if scenario.expected_status in statuses
    }
