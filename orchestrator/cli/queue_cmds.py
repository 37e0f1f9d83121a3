"""``rpa serve``, ``rpa worker``, ``rpa bots``, ``rpa enqueue``, ``rpa items``."""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from orchestrator import jsoncodec
from orchestrator.cli.common import OPTIONS, CliError, err, out, print_json
from orchestrator.cli.run_cmds import parse_inputs
from orchestrator.cli.when import moment_or_none, not_before_option
from orchestrator.errors import ConfigError
from orchestrator.queue.models import ItemStatus, WorkItem
from orchestrator.spec.bot import DEFAULT_TIMEZONE


def _queue() -> Any:
    from orchestrator.queue.store import SQLWorkQueue

    return SQLWorkQueue(OPTIONS.runtime().store)


def _status_text(item: WorkItem) -> str:
    """The item's status, and for a postponed new one until when (Shanghai time)."""
    if item.status is ItemStatus.new and item.not_before is not None and item.not_before > datetime.now(UTC):
        local = item.not_before.astimezone(ZoneInfo(DEFAULT_TIMEZONE))
        return f"new, not before {local:%m-%d %H:%M}"
    return item.status.value


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        bots: Path | None = typer.Option(
            None, "--bots", help="Folder of bot files to publish (default: bots/)."
        ),
        runners: int | None = typer.Option(None, "--runners", min=0, max=64, help="Embedded runners."),
        host: str | None = typer.Option(None, "--host", help="Listen address (default 127.0.0.1)."),
        port: int | None = typer.Option(
            None, "--port", help="Listen port (default 8400; 0 = any free port)."
        ),
    ) -> None:
        """Publish the bots, schedule their triggers, run items and serve the API and dashboard."""
        from orchestrator.queue.service import Service, install_stop_signals

        runtime = OPTIONS.runtime()
        settings = runtime.settings
        service = Service(
            runtime,
            runners=settings.runners if runners is None else runners,
            bots_dir=bots or settings.bots_dir,
            host=host or settings.api_host,
            port=settings.api_port if port is None else port,
            on_ready=lambda url: err.print(f"serving {url} (store: {runtime.store.safe_url})", markup=False),
        )

        async def main() -> None:
            stop = asyncio.Event()
            install_stop_signals(stop)
            await service.run(stop)

        asyncio.run(main())
        err.print("stopped")

    @app.command("worker")
    def worker(
        runners: int = typer.Option(1, "--runners", min=1, max=64, help="Items run at once by this process."),
        bot: list[str] = typer.Option([], "--bot", help="Only items of these bots (repeatable)."),
    ) -> None:
        """Run items from the shared store (start more workers on more machines to scale out)."""
        from orchestrator.queue.service import Service, install_stop_signals

        runtime = OPTIONS.runtime()
        service = Service(runtime, runners=runners, serve_http=False, bots_dir=None)

        async def main() -> None:
            stop = asyncio.Event()
            install_stop_signals(stop)
            if bot:
                from datetime import timedelta

                from orchestrator.queue.worker import Worker

                settings = runtime.settings
                service.worker = Worker(
                    runtime,
                    service.queue,
                    capacity=runners,
                    bots=bot,
                    lease=timedelta(seconds=settings.lease_seconds),
                    poll_interval=settings.poll_interval,
                    grace=settings.shutdown_grace,
                )
                stats = await service.worker.run(stop)
            else:
                stats = await service.run(stop)
            if stats is not None:
                err.print(
                    f"worker stopped: claimed {stats.claimed}, finished {stats.finished}, "
                    f"released {stats.released}, lost {stats.lost}; looked at the queue on its own "
                    f"{stats.looks} time(s), {stats.empty_looks} found nothing",
                    markup=False,
                )

        err.print(f"worker on {runtime.store.safe_url} with {runners} runner(s)", markup=False)
        asyncio.run(main())

    bots_app = typer.Typer(help="Bots: publish and list.", no_args_is_help=True)

    @bots_app.command("publish")
    def bots_publish(folder: Path = typer.Argument(Path("bots"), help="Folder of bot files.")) -> None:
        """Validate and publish bot files to the store (what 'rpa serve' does at start)."""
        from orchestrator.queue.service import publish_bots

        runtime = OPTIONS.runtime()
        published = publish_bots(runtime, _queue(), folder)
        for bot in published:
            out.print(f"published {bot.spec.name} ({bot.file.name} → {bot.workflow.spec.name})", markup=False)
        if not published:
            raise CliError(f"no bot files in {folder}")

    @bots_app.command("list")
    def bots_list(as_json: bool = typer.Option(False, "--json")) -> None:
        """Published bots with their queue counts."""
        queue = _queue()
        rows = []
        for bot in queue.list_bots():
            counts = queue.status_counts(bot.name)
            rows.append(
                {
                    "name": bot.name,
                    "enabled": bot.enabled,
                    "concurrency": bot.spec.get("concurrency"),
                    **{s.value: counts.get(s, 0) for s in ItemStatus},
                }
            )
        if as_json:
            print_json(rows)
            return
        table = Table(
            "bot", "enabled", "concurrency", *[s.value for s in ItemStatus], box=None, header_style="bold"
        )
        for r in rows:
            table.add_row(
                r["name"], str(r["enabled"]), str(r["concurrency"]), *[str(r[s.value]) for s in ItemStatus]
            )
        out.print(table)

    app.add_typer(bots_app, name="bots")

    @app.command("enqueue")
    def enqueue(
        bot: str = typer.Argument(..., help="Published bot."),
        reference: str = typer.Option(..., "--reference", "-r", help="Business reference (unique per bot)."),
        input_pairs: list[str] = typer.Option([], "--input", "-i", help="NAME=VALUE (repeatable)."),
        priority: int | None = typer.Option(None, "--priority"),
        not_before: str | None = not_before_option(),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Add a work item (a repeat of the same reference returns the existing item)."""
        moment = moment_or_none(not_before)
        queue = _queue()
        try:
            queue.get_bot(bot)
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        result = queue.enqueue(
            bot,
            reference,
            parse_inputs(input_pairs, None),
            priority=priority,
            not_before=moment,
            source="cli",
            created_by=getpass.getuser(),
        )
        if as_json:
            print_json({"created": result.created, "item": jsoncodec.to_jsonable(result.item.__dict__)})
        else:
            verb = "enqueued" if result.created else "already queued (duplicate recorded)"
            out.print(f"{verb}: item {result.item.id} ({result.item.status.value})", markup=False)

    @app.command("items")
    def items(
        bot: str | None = typer.Option(None, "--bot"),
        status: ItemStatus | None = typer.Option(None, "--status"),
        reference: str | None = typer.Option(None, "--reference"),
        limit: int = typer.Option(50, "--limit", min=1, max=10_000),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Work items, newest first."""
        found = _queue().list_items(bot=bot, status=status, reference=reference, limit=limit)
        if as_json:
            print_json([i.__dict__ for i in found])
            return
        table = Table(
            "item", "bot", "reference", "status", "attempts", "run", "reason", box=None, header_style="bold"
        )
        for i in found:
            table.add_row(
                i.id[:12],
                i.bot,
                i.reference[:40],
                _status_text(i),
                str(i.attempts),
                (i.run_id or "")[:12],
                (i.reason or "")[:60],
            )
        out.print(table)

    @app.command("duplicates")
    def duplicates(
        bot: str | None = typer.Option(None, "--bot"), as_json: bool = typer.Option(False, "--json")
    ) -> None:
        """Items offered again with a reference already queued (processed once, recorded here)."""
        found = _queue().duplicates(bot)
        if as_json:
            print_json([d.__dict__ for d in found])
            return
        for d in found:
            out.print(
                f"{d.at:%Y-%m-%d %H:%M:%S} {d.bot} {d.reference} → item {d.item_id[:12]} ({d.source})",
                markup=False,
            )
