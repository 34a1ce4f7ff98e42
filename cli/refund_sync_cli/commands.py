"""What each command does (main.py declares them): find the target, read or ask, show, exit.

Looking commands read with the user's role; acting commands ask the operator function (`act`), so
adding an operator action here is one short function: build its event, `act`, show the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from rich.console import RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState
from refund_sync_cli import operations, views
from refund_sync_cli import target as targets
from refund_sync_cli.options import TargetOptions
from refund_sync_cli.output import CommandFailed, ErrorCode, Output, handled
from refund_sync_cli.target import Target

PROGRESS_THRESHOLD = 200  # refunds; fewer are read in a blink


def connect(output: Output, options: TargetOptions) -> Target:
    with handled(output):
        return targets.resolve(
            stack_name=options.stack_name,
            sandbox=options.sandbox,
            sandbox_file=options.sandbox_file,
            profile=options.profile,
            region=options.region,
        )
    raise AssertionError("unreachable")  # pragma: no cover - handled() exits on failure


def checked(output: Output, parse: Callable[[], Any]) -> Any:
    """An argument checked before anything is asked of AWS (a malformed one is a usage error)."""
    with handled(output):
        return parse()
    raise AssertionError("unreachable")  # pragma: no cover - handled() exits on failure


def act(
    output: Output,
    target: Target,
    event: dict[str, Any],
    *,
    waiting: str,
    view: Callable[[Mapping[str, Any]], RenderableType],
) -> dict[str, Any]:
    """Ask the operator function, show its answer (returned without its envelope, `ok` and
    `operation`); a refusal ends the command with its code."""
    with handled(output, target), output.waiting(waiting):
        answer = operations.ask_operator(target, event)
    output.show(view(answer))
    return {key: value for key, value in answer.items() if key not in ("ok", "operation")}


def requested_by(target: Target) -> str:
    """Who asks, for the refund's record (nothing is lost if STS cannot say)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        return target.caller()
    except (BotoCoreError, ClientError):
        return ""


# -- looking ----------------------------------------------------------------------------------------------
def status(options: TargetOptions) -> NoReturn:
    output = Output(options.as_json)
    target = connect(output, options)
    with handled(output, target):
        current = operations.read_status(target)
    output.show(views.status_view(target, current, datetime.now(UTC), stacked=output.stacked))
    output.finish(views.status_json(target, current))


def show(options: TargetOptions, raw: str) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw))
    target = connect(output, options)
    with handled(output, target):
        states = operations.find_states(target.store(), name)
    if not states:
        output.fail(
            ErrorCode.NOT_FOUND,
            f"refund-sync has no record of {name}: it has not been polled yet, or it is not in the saved "
            f"search. `refund-sync preview {name}` shows what a sync would do; `refund-sync sync {name}` "
            "syncs it now.",
            1,
        )
    if len(states) > 1:
        output.show(views.candidates_view(name, states))
        if output.as_json:
            output.finish(
                {
                    "error": {
                        "code": ErrorCode.AMBIGUOUS,
                        "message": f"{len(states)} refunds carry document number {name}: name one by "
                        "its NetSuite id",
                    },
                    "refunds": [views.state_json(state) for state in states],
                },
                2,
            )
        raise typer.Exit(2)
    output.show(views.state_view(states[0], datetime.now(UTC)))
    output.finish(views.state_json(states[0]))


def parse_reason(code: str | None) -> Reason | None:
    if code is None:
        return None
    reason = Reason.__members__.get(code.strip().upper())
    if reason is None:
        raise CommandFailed(
            ErrorCode.USAGE, f"no reason {code!r}; the reasons are: {', '.join(Reason.__members__)}", 2
        )
    return reason


def failures(options: TargetOptions, reason_code: str | None) -> NoReturn:
    output = Output(options.as_json)
    only: Reason | None = checked(output, lambda: parse_reason(reason_code))
    target = connect(output, options)
    with handled(output, target):
        store = target.store()
        expected = 0
        if not output.as_json and output.errors.is_terminal:
            expected = operations.read_status(target).problems
        if expected > PROGRESS_THRESHOLD:
            with Progress(
                TextColumn("Reading failures"), BarColumn(), MofNCompleteColumn(), console=output.errors
            ) as progress:
                task = progress.add_task("read", total=expected)
                states = operations.read_failures(store, only, on_item=lambda: progress.advance(task))
        else:
            states = operations.read_failures(store, only)
        dead_lettered = {letter.netsuite_id for letter in operations.peek(target) if letter.netsuite_id}
    output.show(views.failures_view(target, states, only, dead_lettered, stacked=output.stacked))
    output.finish(
        {
            "target": views.target_json(target),
            "reason": only.name if only else None,
            "count": len(states),
            "in_dead_letter_queue": sum(state.netsuite_id in dead_lettered for state in states),
            "failures": [views.failure_json(state, dead_lettered) for state in states],
        },
        1 if states else 0,
    )


# -- acting -----------------------------------------------------------------------------------------------
def preview(options: TargetOptions, raw: str) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw))
    target = connect(output, options)
    answer = act(
        output,
        target,
        {"action": "preview", "refund": name},
        waiting=f"Reading {name} from NetSuite and quoting it...",
        view=lambda answer: views.preview_view(target, answer),
    )
    output.finish(answer, 0 if answer.get("would_sync") or answer.get("already_done") else 1)


def wait_with_progress(
    output: Output, target: Target, watched: dict[str, int | None], since: datetime, timeout: float
) -> dict[str, RefundState | None]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("Waiting for the outcomes"),
        BarColumn(),
        MofNCompleteColumn(),
        console=output.errors,
        transient=True,
        disable=output.as_json,
    )
    with progress:
        task = progress.add_task("wait", total=len(watched))
        return operations.wait_for_outcomes(
            target,
            watched,
            since=since,
            timeout_seconds=timeout,
            on_progress=lambda done, _total: progress.update(task, completed=done),
        )


def watch(
    output: Output,
    target: Target,
    *,
    labels: dict[str, str],
    baselines: dict[str, int | None],
    since: datetime,
    timeout: float,
) -> tuple[dict[str, RefundState | None], set[str]]:
    """Wait for the refunds' new outcomes and show them."""
    with handled(output, target):
        outcomes = wait_with_progress(output, target, baselines, since, timeout)
    finished = {i for i in baselines if operations.answered(outcomes[i], baselines[i], since)}
    output.show(views.outcomes_view(labels, outcomes, finished, stacked=output.stacked))
    return outcomes, finished


def sync(
    options: TargetOptions, refunds: list[str], orders: list[str], *, wait: bool | None, timeout: float
) -> NoReturn:
    output = Output(options.as_json)
    event = checked(output, lambda: operations.sync_event(refunds, orders))
    target = connect(output, options)
    wait = target.is_sandbox if wait is None else wait
    with handled(output, target):
        store = target.store()
        baselines = operations.baseline_versions(store, event)
    since = datetime.now(UTC)
    report = act(
        output,
        target,
        event,
        waiting="Reading NetSuite and sending the refunds...",
        view=lambda answer: views.sync_report_view(target, answer),
    )
    labels = views.enqueued_labels(report)
    watched: dict[str, int | None] = {netsuite_id: baselines.get(netsuite_id) for netsuite_id in labels}
    outcomes: dict[str, RefundState | None] = {}
    finished: set[str] = set()
    if wait and watched:
        outcomes, finished = watch(
            output, target, labels=labels, baselines=watched, since=since, timeout=timeout
        )
    with handled(output, target):
        already = [i for e in report.get("not_sent", []) if (i := operations.netsuite_id_of(e))]
        settled = {i for i, s in store.get_many(already).items() if s.status in operations.SUCCEEDED}
    # Without waiting, all that is known is that everything was sent (or was synced already).
    ended_well = not wait or all(
        (state := outcomes.get(i)) is not None and i in finished and state.status in operations.SUCCEEDED
        for i in watched
    )
    ok = (
        ended_well
        and len(watched) == len(report.get("enqueued", []))
        and not report.get("not_found")
        and len(settled) == len(report.get("not_sent", []))
    )
    if not wait and watched:
        output.show("Sent. `refund-sync show <refund>` shows each outcome once the consumer has taken it.")
    output.finish(
        {
            "target": views.target_json(target),
            "request": event,
            "report": report,
            "waited": bool(wait),
            "outcomes": [views.outcome_json(i, outcomes.get(i), i in finished) for i in watched if wait],
            "ok": ok,
        },
        0 if ok else 1,
    )


def redrive(
    options: TargetOptions, raw: str | None, *, yes: bool, wait: bool | None, timeout: float
) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw)) if raw is not None else None
    target = connect(output, options)
    if name is None and not yes:
        with handled(output, target):
            depth = operations.queue_depth(target.sqs(), target.outputs.dead_letter_queue_url)
            letters = operations.peek(target) if depth.total else []
            states = target.store().get_many(m.netsuite_id for m in letters if m.netsuite_id)
        output.show(views.redrive_preview_view(target, depth, letters, states, stacked=output.stacked))
        output.finish(
            {
                "target": views.target_json(target),
                "dead_letter_queue": views.depth_json(depth),
                "reasons": dict(Counter(letter.reason for letter in letters)),
                "messages": [
                    views.dead_letter_json(letter, states.get(letter.netsuite_id or "")) for letter in letters
                ],
                "started": False,
            }
        )
    wait = target.is_sandbox if wait is None else wait
    since = datetime.now(UTC)
    event: dict[str, Any] = {"action": "redrive"} if name is None else {"action": "redrive", "refund": name}
    answer = act(output, target, event, waiting="Redriving...", view=views.redrive_result_view)
    labels = {entry["netsuite_id"]: entry["refund"] for entry in answer["moved"] if entry.get("netsuite_id")}
    outcomes: dict[str, RefundState | None] = {}
    finished: set[str] = set()
    if wait and labels:
        outcomes, finished = watch(
            output, target, labels=labels, baselines=dict.fromkeys(labels), since=since, timeout=timeout
        )
    output.finish(
        {
            "target": views.target_json(target),
            "started": True,
            "refund": name,
            "result": answer,
            "waited": bool(wait),
            "outcomes": [views.outcome_json(i, outcomes.get(i), i in finished) for i in labels if wait],
        }
    )


def discard(options: TargetOptions, raw: str, reason: str) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw))
    if not reason.strip():
        output.fail(ErrorCode.USAGE, "say why the message goes: --reason '...'", 2)
    target = connect(output, options)
    event = {
        "action": "discard",
        "refund": name,
        "reason": reason.strip(),
        "requested_by": requested_by(target),
    }
    answer = act(output, target, event, waiting="Discarding...", view=views.discard_view)
    output.finish({"target": views.target_json(target), **answer})


def resolve(options: TargetOptions, raw: str, *, refunded_by_hand: bool, note: str) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw))
    if not refunded_by_hand:
        output.fail(
            ErrorCode.USAGE,
            "say how the refund was settled: --refunded-by-hand (refunded outside refund-sync, e.g. in the "
            "BigCommerce control panel)",
            2,
        )
    target = connect(output, options)
    event = {
        "action": "resolve",
        "refund": name,
        "how": "refunded_by_hand",
        "note": note.strip(),
        "requested_by": requested_by(target),
    }
    answer = act(output, target, event, waiting="Resolving...", view=views.resolve_view)
    output.finish({"target": views.target_json(target), **answer})


def confirm(options: TargetOptions, raw: str, *, ours: int | None, not_created: bool, note: str) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw))
    if (ours is None) == (not not_created):
        output.fail(
            ErrorCode.USAGE,
            "say what the order shows: --ours <BigCommerce refund id> (that refund is this one), or "
            "--not-created (none of the candidates `refund-sync show` names is)",
            2,
        )
    target = connect(output, options)
    event: dict[str, Any] = {
        "action": "confirm",
        "refund": name,
        "ours": ours,
        "not_created": not_created,
        "note": note.strip(),
        "requested_by": requested_by(target),
    }
    answer = act(output, target, event, waiting="Checking with BigCommerce...", view=views.decision_view)
    output.finish({"target": views.target_json(target), **answer})


def recreate(options: TargetOptions, raw: str) -> NoReturn:
    output = Output(options.as_json)
    name = checked(output, lambda: operations.reference(raw))
    target = connect(output, options)
    event = {"action": "recreate", "refund": name, "requested_by": requested_by(target)}
    answer = act(output, target, event, waiting="Checking with BigCommerce...", view=views.decision_view)
    output.finish({"target": views.target_json(target), **answer})
