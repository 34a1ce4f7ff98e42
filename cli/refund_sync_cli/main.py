"""`refund-sync`: what happened to a refund, and how to fix it, without reading code.

Exit codes scripts can trust: 0 all is well; 1 something is wrong or failed (failures found, a sync
that did not end SYNCED, an AWS, NetSuite or BigCommerce error); 2 usage or configuration (which
stack or sandbox, credentials). Every command takes --json for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import requests
import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from refund_sync.adapters.bigcommerce import BigCommerceError
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.domain.reasons import Reason
from refund_sync_cli import local, operations, views
from refund_sync_cli.target import (
    START_SANDBOX,
    Target,
    TargetError,
    credentials_problem,
    resolve,
    sandbox_unreachable,
)

app = typer.Typer(
    name="refund-sync",
    help=(
        "See what happened to NetSuite refunds on their way to BigCommerce, and fix what did not sync.\n\n"
        "Point it at a deployed stack with --stack-name NAME (or REFUND_SYNC_STACK), or at the local "
        "sandbox (`make sandbox`) with --sandbox."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

TARGET_PANEL = "Which refund-sync"
PROGRESS_THRESHOLD = 200  # refunds; fewer are read in a blink
MAX_PER_KIND = 100  # the poller's limit per list of an on-demand sync

StackName = Annotated[
    str | None,
    typer.Option(
        "--stack-name",
        help="The deployed CloudFormation stack (default: $REFUND_SYNC_STACK).",
        rich_help_panel=TARGET_PANEL,
        show_default=False,
    ),
]
UseSandbox = Annotated[
    bool,
    typer.Option(
        "--sandbox", help="The local sandbox started by `make sandbox`.", rich_help_panel=TARGET_PANEL
    ),
]
SandboxFile = Annotated[
    Path | None,
    typer.Option(
        "--sandbox-file",
        help="The sandbox's outputs file (default: $REFUND_SYNC_SANDBOX_FILE or .sandbox/outputs.json).",
        rich_help_panel=TARGET_PANEL,
        show_default=False,
    ),
]
Profile = Annotated[
    str | None,
    typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).", rich_help_panel=TARGET_PANEL),
]
Region = Annotated[
    str | None,
    typer.Option("--region", help="AWS region (default: your profile's).", rich_help_panel=TARGET_PANEL),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of tables.")]


class Output:
    """Where a command writes: tables for people on stdout, or JSON; errors and progress on stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    def show(self, renderable: RenderableType) -> None:
        if not self.as_json:
            self.console.print(renderable)

    def json(self, data: Any) -> None:
        if self.as_json:
            typer.echo(json.dumps(views.to_json(data), indent=2))

    def fail(self, message: str, code: int) -> NoReturn:
        self.errors.print(f"[bold red]error:[/bold red] {message}", soft_wrap=True)
        raise typer.Exit(code)

    def waiting(self, message: str) -> Any:
        """A spinner while something slow happens (people only; scripts get nothing on stderr)."""
        return nullcontext() if self.as_json else self.errors.status(message)


def _aws_message(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    message = f"AWS {error.operation_name} failed: {code}: {details.get('Message', '')}"
    if "AccessDenied" in code or code == "AuthorizationError":
        message += " (your AWS role lacks this permission)"
    return message


@contextmanager
def handled(output: Output, target: Target | None = None) -> Iterator[None]:
    """Expected failures become one clear line and an exit code; anything else is a bug: a traceback."""
    try:
        yield
    except TargetError as error:
        output.fail(str(error), 2)
    except (ClientError, BotoCoreError) as error:
        problem = credentials_problem(error) or (sandbox_unreachable(target, error) if target else None)
        if problem:
            output.fail(problem, 2)
        if isinstance(error, ClientError):
            output.fail(_aws_message(error), 1)
        output.fail(f"AWS: {error}", 1)
    except requests.ConnectionError as error:
        if target is not None and target.is_sandbox:
            output.fail(f"a sandbox simulator does not answer (the sandbox stopped): {START_SANDBOX}", 2)
        output.fail(f"cannot connect: {error}", 1)
    except NetSuiteError as error:
        output.fail(f"NetSuite: {error.code}: {error.message}", 1)
    except BigCommerceError as error:
        output.fail(f"BigCommerce: {error}", 1)
    except operations.CannotRun as error:
        output.fail(str(error), 1)


def connect(
    output: Output,
    *,
    stack_name: str | None,
    sandbox: bool,
    sandbox_file: Path | None,
    profile: str | None,
    region: str | None,
) -> Target:
    with handled(output):
        return resolve(
            stack_name=stack_name, sandbox=sandbox, sandbox_file=sandbox_file, profile=profile, region=region
        )


# -- status ------------------------------------------------------------------------------------------------
@app.command()
def status(
    *,
    stack_name: StackName = None,
    sandbox: UseSandbox = False,
    sandbox_file: SandboxFile = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Refunds by status, the poller's last run and checkpoint, and the queues, on one screen."""
    output = Output(as_json)
    target = connect(
        output,
        stack_name=stack_name,
        sandbox=sandbox,
        sandbox_file=sandbox_file,
        profile=profile,
        region=region,
    )
    with handled(output, target):
        current = operations.read_status(target)
    output.show(views.status_view(target, current, datetime.now(UTC)))
    output.json(views.status_json(target, current))


# -- show ---------------------------------------------------------------------------------------------------
@app.command()
def show(
    refund: Annotated[str, typer.Argument(help="NetSuite internal id (1042) or document number (CM-1042).")],
    *,
    stack_name: StackName = None,
    sandbox: UseSandbox = False,
    sandbox_file: SandboxFile = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """The whole story of one refund: status, reason and what to do, amounts, BigCommerce ids, timeline."""
    output = Output(as_json)
    target = connect(
        output,
        stack_name=stack_name,
        sandbox=sandbox,
        sandbox_file=sandbox_file,
        profile=profile,
        region=region,
    )
    with handled(output, target):
        states = operations.find_states(target.store(), refund)
    if not states:
        output.fail(
            f"refund-sync has no record of {refund}: it has not been polled yet, or it is not in the saved "
            f"search. `refund-sync preview {refund}` shows what a sync would do; `refund-sync sync {refund}` "
            "syncs it now.",
            1,
        )
    if len(states) > 1:
        output.show(views.candidates_view(refund, states))
        output.json({"ambiguous": True, "refunds": [views.state_json(state) for state in states]})
        raise typer.Exit(2)
    output.show(views.state_view(states[0], datetime.now(UTC)))
    output.json(views.state_json(states[0]))


# -- failures ---------------------------------------------------------------------------------------------
def parse_reason(output: Output, code: str | None) -> Reason | None:
    if code is None:
        return None
    reason = Reason.__members__.get(code.strip().upper())
    if reason is None:
        output.fail(f"no reason {code!r}; the reasons are: {', '.join(Reason.__members__)}", 2)
    return reason


@app.command()
def failures(
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only this reason, e.g. PAYMENT_NOT_SETTLED.")
    ] = None,
    *,
    stack_name: StackName = None,
    sandbox: UseSandbox = False,
    sandbox_file: SandboxFile = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Every FAILED or HELD refund, why, and what to do. Exits 1 when there are any."""
    output = Output(as_json)
    only = parse_reason(output, reason)
    target = connect(
        output,
        stack_name=stack_name,
        sandbox=sandbox,
        sandbox_file=sandbox_file,
        profile=profile,
        region=region,
    )
    with handled(output, target):
        store = target.store()
        expected = 0
        if not as_json and output.errors.is_terminal:
            counts = store.count_by_status()
            expected = sum(counts.get(status, 0) for status in operations.PROBLEMS)
        if expected > PROGRESS_THRESHOLD:
            with Progress(
                TextColumn("Reading failures"), BarColumn(), MofNCompleteColumn(), console=output.errors
            ) as progress:
                task = progress.add_task("read", total=expected)
                states = operations.read_failures(store, only, on_item=lambda: progress.advance(task))
        else:
            states = operations.read_failures(store, only)
    output.show(views.failures_view(target, states, only))
    output.json(
        {
            "target": views.target_json(target),
            "reason": only.name if only else None,
            "count": len(states),
            "failures": [views.failure_json(state) for state in states],
        }
    )
    raise typer.Exit(1 if states else 0)


# -- preview ------------------------------------------------------------------------------------------------
@app.command()
def preview(
    refund: Annotated[str, typer.Argument(help="NetSuite internal id (1042) or document number (CM-1042).")],
    *,
    stack_name: StackName = None,
    sandbox: UseSandbox = False,
    sandbox_file: SandboxFile = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """What a sync would do, creating nothing: the refund request, BigCommerce's quote, the payment, or why
    it would be held. Exits 1 when it would not sync."""
    output = Output(as_json)
    target = connect(
        output,
        stack_name=stack_name,
        sandbox=sandbox,
        sandbox_file=sandbox_file,
        profile=profile,
        region=region,
    )
    with (
        handled(output, target),
        output.waiting(f"Reading {refund} from NetSuite and quoting it..."),
        local.engine_logs(target),
    ):
        outcome = operations.preview_refund(target, refund)
    output.show(views.preview_view(target, outcome))
    output.json(views.preview_json(outcome))
    raise typer.Exit(0 if outcome.would_sync or outcome.already_done else 1)


# -- sync ---------------------------------------------------------------------------------------------------
@app.command()
def sync(
    refunds: Annotated[
        list[str] | None,
        typer.Argument(help="NetSuite internal ids (all digits) or document numbers.", show_default=False),
    ] = None,
    order: Annotated[
        list[str] | None, typer.Option("--order", help="Every refund of this BigCommerce order (repeatable).")
    ] = None,
    wait: Annotated[
        bool | None,
        typer.Option(
            "--wait/--no-wait",
            help="Wait until each refund has its outcome (default: wait in the sandbox, not for a stack).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the outcomes.")] = 300.0,
    *,
    stack_name: StackName = None,
    sandbox: UseSandbox = False,
    sandbox_file: SandboxFile = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Sync refunds now, through the poller (as its schedule would). Refunds already synced are never
    refunded twice. Exits 0 only if every refund ends SYNCED (or DRY_RUN in dry-run mode)."""
    output = Output(as_json)
    event = operations.sync_event(refunds or [], order or [])
    if not (event["netsuite_ids"] or event["document_numbers"] or event["bigcommerce_order_ids"]):
        output.fail("name at least one refund (NetSuite id or document number) or --order ID", 2)
    if any(
        len(event[kind]) > MAX_PER_KIND
        for kind in ("netsuite_ids", "document_numbers", "bigcommerce_order_ids")
    ):
        output.fail(f"at most {MAX_PER_KIND} ids, document numbers and orders each per sync", 2)
    target = connect(
        output,
        stack_name=stack_name,
        sandbox=sandbox,
        sandbox_file=sandbox_file,
        profile=profile,
        region=region,
    )
    wait = target.is_sandbox if wait is None else wait
    with handled(output, target):
        store = target.store()
        baselines = operations.baseline_versions(store, event)
        since = datetime.now(UTC)
        with output.waiting("The poller is reading NetSuite and sending the refunds..."):
            report = operations.invoke_poller(target, event)
        output.show(views.sync_report_view(target, report))
        sent = [i for entry in report.get("enqueued", []) if (i := operations.netsuite_id_of(entry))]
        watched: dict[str, int | None] = {netsuite_id: baselines.get(netsuite_id) for netsuite_id in sent}
        outcomes: dict[str, Any] = {}
        finished: set[str] = set()
        if wait and watched:
            outcomes = wait_with_progress(output, target, watched, since, timeout)
            finished = {i for i in watched if operations.answered(outcomes[i], watched[i], since)}
            output.show(views.outcomes_view(report, outcomes, finished))
        already = [i for e in report.get("not_sent", []) if (i := operations.netsuite_id_of(e))]
        already_synced = {
            i for i, state in store.get_many(already).items() if state.status in operations.SUCCEEDED
        }
    # Without waiting, all that is known is that everything was sent (or was synced already).
    ended_well = not wait or all(
        i in finished and outcomes[i].status in operations.SUCCEEDED for i in watched
    )
    ok = (
        ended_well
        and len(sent) == len(report.get("enqueued", []))
        and not report.get("not_found")
        and len(already_synced) == len(report.get("not_sent", []))
    )
    output.json(
        {
            "target": views.target_json(target),
            "request": event,
            "report": report,
            "waited": bool(wait),
            "outcomes": [views.outcome_json(i, outcomes.get(i), i in finished) for i in watched if wait],
            "ok": ok,
        }
    )
    if not wait and sent and not as_json:
        output.show("Sent. `refund-sync show <refund>` shows each outcome once the consumer has taken it.")
    raise typer.Exit(0 if ok else 1)


def wait_with_progress(
    output: Output, target: Target, watched: dict[str, int | None], since: datetime, timeout: float
) -> dict[str, Any]:
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
        return dict(
            operations.wait_for_outcomes(
                target,
                watched,
                since=since,
                timeout_seconds=timeout,
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )
        )


# -- redrive -----------------------------------------------------------------------------------------------
@app.command()
def redrive(
    yes: Annotated[
        bool, typer.Option("--yes", help="Start the redrive (without it, only explain and show).")
    ] = False,
    peek: Annotated[
        int, typer.Option(help="How many dead-lettered messages to read for their reasons.")
    ] = 100,
    *,
    stack_name: StackName = None,
    sandbox: UseSandbox = False,
    sandbox_file: SandboxFile = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """What a dead-letter queue redrive does, what is waiting and why; with --yes, start it."""
    output = Output(as_json)
    target = connect(
        output,
        stack_name=stack_name,
        sandbox=sandbox,
        sandbox_file=sandbox_file,
        profile=profile,
        region=region,
    )
    with handled(output, target):
        sqs = target.sqs()
        depth = operations.queue_depth(sqs, target.outputs.dead_letter_queue_url)
        letters = (
            operations.peek_dead_letters(sqs, target.outputs.dead_letter_queue_url, max(peek, 0))
            if depth.waiting
            else []
        )
        tasks = operations.move_tasks(target)
        output.show(views.redrive_view(target, depth, letters, tasks, will_start=yes))
        result = None
        if yes and depth.waiting:
            with output.waiting("Redriving the dead-letter queue..."):
                result = operations.start_redrive(target, tasks)
            output.show(views.redrive_result_view(result))
        elif yes:
            output.show("Nothing to redrive: the dead-letter queue has no waiting messages.")
    output.json(
        {
            "target": views.target_json(target),
            "dead_letter_queue": views.depth_json(depth),
            "reasons": dict(operations.reasons_waiting(letters)),
            "messages": [views.dead_letter_json(letter) for letter in letters],
            "move_tasks": [views.move_task_json(task) for task in tasks],
            "started": result is not None,
            "result": None
            if result is None
            else {
                "task_handle": result.task_handle,
                "moved": result.moved,
                "outcomes": {status.value: number for status, number in result.outcomes.items()},
                "dead_letter_depth": result.dead_letter_depth,
            },
        }
    )
