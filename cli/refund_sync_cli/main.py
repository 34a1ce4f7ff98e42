"""`refund-sync`: what happened to a refund, and how to fix it, without reading code.

Exit codes scripts can trust: 0 all is well; 1 something is wrong or failed (failures found, a sync
that did not end SYNCED, an AWS error, a refusal of the operator function); 2 usage or configuration
(a malformed refund id, which stack or sandbox, credentials). Every command takes --json: one JSON
document on stdout, errors included (`{"exit_code": ..., "error": {"code": ..., "message": ...}}`).

This module declares the commands and imports only typer: what each does is in commands.py, loaded
when it runs, so `refund-sync --help` answers at once. A new operator action is one command here and
one function in commands.py (see `resolve`), beside its entry in the operator function's ACTIONS.
"""

from __future__ import annotations

from typing import Annotated

import typer

from refund_sync_cli.options import JsonAwareGroup, TargetOptions, with_target

app = typer.Typer(
    name="refund-sync",
    cls=JsonAwareGroup,
    help=(
        "See what happened to NetSuite refunds on their way to BigCommerce, and fix what did not sync.\n\n"
        "Point it at a deployed stack with --stack-name NAME (or REFUND_SYNC_STACK), or at the local "
        "sandbox (`make sandbox`) with --sandbox."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: rich would triple the time --help takes
    pretty_exceptions_enable=False,
)

Refund = Annotated[str, typer.Argument(help="NetSuite internal id (1042) or document number (CM-1042).")]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # noqa: PLC0415

        typer.echo(f"refund-sync {version('refund-sync')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """See what happened to NetSuite refunds on their way to BigCommerce, and fix what did not sync."""


# -- looking (the read-only policy) ---------------------------------------------------------------------
@app.command(help=("Refunds by status, the poller's last run and checkpoint, and the queues, on one screen."))
@with_target
def status(*, target: TargetOptions) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.status(target)


@app.command(
    help=("The whole story of one refund: status, reason and what to do, amounts, BigCommerce ids, timeline.")
)
@with_target
def show(refund: Refund, *, target: TargetOptions) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.show(target, refund)


@app.command(
    help=(
        "Every FAILED or HELD refund, why, what to do, and whether its message waits in the "
        "dead-letter queue. Exits 1 when there are any."
    )
)
@with_target
def failures(
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only this reason, e.g. PAYMENT_NOT_SETTLED.")
    ] = None,
    *,
    target: TargetOptions,
) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.failures(target, reason)


# -- acting (the operator policy: through the operator function) ------------------------------------------
Wait = Annotated[
    bool | None,
    typer.Option(
        "--wait/--no-wait",
        help="Wait until each refund has its outcome (default: wait in the sandbox, not for a stack).",
        show_default=False,
    ),
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for the outcomes.")]


@app.command(
    help=(
        "What a sync would do, creating nothing: the refund request, BigCommerce's quote, the "
        "payment, or why it would be held. Exits 1 when it would not sync."
    )
)
@with_target
def preview(refund: Refund, *, target: TargetOptions) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.preview(target, refund)


@app.command(
    help=(
        "Sync refunds now, as the poller's schedule would. Refunds already synced are never "
        "refunded twice. Exits 0 only if every refund ends SYNCED (or DRY_RUN in dry-run mode)."
    )
)
@with_target
def sync(
    refunds: Annotated[
        list[str] | None,
        typer.Argument(help="NetSuite internal ids (all digits) or document numbers.", show_default=False),
    ] = None,
    order: Annotated[
        list[str] | None, typer.Option("--order", help="Every refund of this BigCommerce order (repeatable).")
    ] = None,
    wait: Wait = None,
    timeout: Timeout = 300.0,
    *,
    target: TargetOptions,
) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.sync(target, refunds or [], order or [], wait=wait, timeout=timeout)


@app.command(
    help=(
        "The dead-letter queue, and why each refund is in it; `redrive CM-1042` moves one "
        "refund's message back to the refund queue, `--yes` every one. Refunds already SYNCED "
        "or RESOLVED are skipped."
    )
)
@with_target
def redrive(
    refund: Annotated[
        str | None,
        typer.Argument(
            help="Move only this refund's message (NetSuite id or document number).", show_default=False
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Move every message (without it and a refund, only show them).")
    ] = False,
    wait: Wait = None,
    timeout: Timeout = 300.0,
    *,
    target: TargetOptions,
) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.redrive(target, refund, yes=yes, wait=wait, timeout=timeout)


@app.command(
    help=(
        "Delete one refund's message from the dead-letter queue. The refund keeps its status "
        "(and a note of why); `refund-sync sync` can still send it."
    )
)
@with_target
def discard(
    refund: Refund,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the message goes (kept on the refund's record).")
    ],
    *,
    target: TargetOptions,
) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.discard(target, refund, reason)


@app.command(
    help=(
        "Record a refund as settled by hand (RESOLVED): nothing ever creates it in BigCommerce, "
        "and a later redrive of its message changes nothing. Its dead-lettered message is "
        "removed."
    )
)
@with_target
def resolve(
    refund: Refund,
    refunded_by_hand: Annotated[
        bool,
        typer.Option("--refunded-by-hand", help="The customer was refunded outside refund-sync (required)."),
    ] = False,
    note: Annotated[str, typer.Option("--note", help="What was done, for the refund's record.")] = "",
    *,
    target: TargetOptions,
) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.resolve(target, refund, refunded_by_hand=refunded_by_hand, note=note)


@app.command(
    help=(
        "Settle a refund HELD CREATE_UNCERTAIN (or ORDER_CHANGED_AFTER_SUBMIT): after looking at the order "
        "in BigCommerce, name the refund that is this one (--ours ID), or say none of the candidates "
        "`show` lists is (--not-created; then `sync` creates it). Checked at BigCommerce first."
    )
)
@with_target
def confirm(
    refund: Refund,
    ours: Annotated[
        int | None,
        typer.Option("--ours", help="The BigCommerce refund id that is this refund.", show_default=False),
    ] = None,
    not_created: Annotated[
        bool, typer.Option("--not-created", help="None of the candidate refunds is this one.")
    ] = False,
    note: Annotated[str, typer.Option("--note", help="What was checked, for the refund's record.")] = "",
    *,
    target: TargetOptions,
) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.confirm(target, refund, ours=ours, not_created=not_created, note=note)


@app.command(
    help=(
        "Allow a refund the gateway declined (FAILED GATEWAY_DECLINED) to be created anew, once the "
        "gateway is sorted out. Refused unless BigCommerce shows every refund made for it declined in "
        "full. Then `sync` creates it."
    )
)
@with_target
def recreate(refund: Refund, *, target: TargetOptions) -> None:
    from refund_sync_cli import commands  # noqa: PLC0415

    commands.recreate(target, refund)
