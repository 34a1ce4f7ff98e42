"""The fault-injection campaign in miniature (`make soak` runs it with 1,000 refunds).

Eighteen NetSuite refunds per seed go through the real poller and consumer handlers while NetSuite,
BigCommerce, SQS and the functions themselves misbehave in every way the campaign knows, under each
reading of how BigCommerce reads refunds back; then the payments settle, an operator decides what was
held for a person, the dead-letter queue is redriven and everything runs once more. Judged from the
simulators' and the state table's own records: no NetSuite refund is refunded twice, none is lost,
and BigCommerce's refunds add up to NetSuite's synced totals to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from random import Random

import pytest

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce.readings import TaxPricing
from refund_sync_sandbox.netsuite import SandboxCredentials
from refund_sync_sandbox.soak import (
    CAMPAIGN_MATRIX,
    CampaignConfig,
    SimulatorMode,
    faults_of,
    plan_data,
    run_campaign,
)

# Small, and quick to fail over: one wave, and short client timeouts, so that a stalled create or
# NetSuite call costs half a second. Every kind of fault still occurs (the campaign sees to that).
FAST = CampaignConfig(
    refunds=18,
    orders=6,
    wave_size=18,
    page_size=5,
    bigcommerce_timeout_seconds=0.5,
    netsuite_timeout_seconds=0.5,
)


# Every reading of what BigCommerce's docs leave open about reading refunds back (bigcommerce/readback.py)
# and both store tax settings (bigcommerce/readings.py): each reading once, the store's setting taking
# turns, and the adversarial reading that combines the others on both stores.
CAMPAIGNS = CAMPAIGN_MATRIX


@pytest.mark.parametrize(
    ("mode", "pricing", "seed"), CAMPAIGNS, ids=[f"{m.value}-{p.value}-{s}" for m, p, s in CAMPAIGNS]
)
def test_under_every_fault_no_refund_is_made_twice_or_lost_and_the_ledger_balances_to_the_cent(
    mode: SimulatorMode,
    pricing: TaxPricing,
    seed: int,
    moto_endpoint: str,
    netsuite_credentials: SandboxCredentials,
) -> None:
    # Given a seeded campaign of refunds and faults, BigCommerce reading its refunds back one way, on a
    # store that prices with tax or before it
    config = replace(FAST, seed=seed, mode=mode, store_pricing=pricing)

    # When it runs through the real handlers, then the fixes, the redrive and one more run
    result = run_campaign(config, aws_endpoint=moto_endpoint, credentials=netsuite_credentials)
    report = result.report()

    # Then every kind of fault was injected, and the simulators saw the dangerous ones happen
    assert set(result.faults) == faults_of(mode), report
    assert {"429", "dropped"} <= set(result.bigcommerce_answers), report
    assert result.stats.invocations_killed >= 1, report
    assert result.stats.poller_runs_failed >= 2, report  # killed once, given up on NetSuite once

    # And no NetSuite refund has more than one BigCommerce refund
    assert result.duplicates == {}, report
    assert result.max_refunds_per_netsuite_refund == 1, report
    # And none is lost: each is SYNCED, or FAILED / HELD with its reason and in the dead-letter queue
    assert result.lost == {}, report
    assert result.statuses[SyncStatus.SYNCED.value] >= len(result.planned) // 2, report
    # And each ended where its kind says (the unsettled payments synced once settled and redriven)
    assert result.unexpected == {}, report
    # And BigCommerce's ledger matches the synced NetSuite totals, refund by refund and in sum
    assert result.ledger_mismatches == {}, report
    assert result.unmarked_refunds == 0, report
    assert result.ledger_difference == 0, report
    assert result.problems() == []


def test_the_same_seed_plans_the_same_orders_and_refunds_so_a_failure_can_be_replayed() -> None:
    def plan(seed: int) -> tuple[list[object], list[object]]:
        orders, refunds = plan_data(FAST, Random(seed))
        return [draft.order for draft in orders], [
            (refund.order_id, refund.pieces, refund.expected_status, refund.tax_rate) for refund in refunds
        ]

    assert plan(3) == plan(3)
    assert plan(3) != plan(4)
