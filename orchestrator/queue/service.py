"""``rpa serve`` and ``rpa worker``: the long-running processes, wired in one place.

``rpa serve`` = publish the bots of the bots folder + scheduler (as leader) + folder watchers +
N embedded runners + the HTTP API and dashboard, all on one event loop. ``rpa worker`` = only
runners, against a shared store (PostgreSQL), reading bots and workflows from the database.
SIGTERM/SIGINT stop gracefully: no new claims, running items get ``shutdown_grace`` seconds,
the rest go back to the queue, leases are released.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from orchestrator.bootstrap import Runtime
from orchestrator.errors import WorkflowError
from orchestrator.queue.bots import LoadedBot, load_bot_folder, publish
from orchestrator.queue.manual import ManualQueue
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.queue.triggers import BotScheduler, FolderWatcher
from orchestrator.queue.worker import Worker, WorkerStats
from orchestrator.spec.bot import FolderTriggerSpec


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def publish_bots(runtime: Runtime, queue: SQLWorkQueue, folder: Path) -> list[LoadedBot]:
    """Validate and publish every bot file of ``folder``; any problem stops the start-up."""
    if not folder.is_dir():
        return []
    bots, problems = load_bot_folder(folder, runtime.registry)
    if problems:
        raise WorkflowError(f"{folder}: {len(problems)} problem(s) in bot files", problems)
    for bot in bots:
        publish(queue, bot, runtime.settings.resources)
    return bots


@dataclass
class Service:
    runtime: Runtime
    runners: int
    serve_http: bool = True
    bots_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8400
    on_ready: Callable[[str | None], None] | None = None
    queue: SQLWorkQueue = field(init=False)
    bots: list[LoadedBot] = field(default_factory=list)
    worker: Worker | None = None
    scheduler: BotScheduler | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        self.queue = SQLWorkQueue(self.runtime.store)

    async def run(self, stop: asyncio.Event) -> WorkerStats | None:
        settings = self.runtime.settings
        if self.bots_dir is not None:
            self.bots = publish_bots(self.runtime, self.queue, self.bots_dir)
            logger.info("published {} bot(s) from {}", len(self.bots), self.bots_dir)
        tasks: list[asyncio.Task[Any]] = []
        if self.bots:
            self.scheduler = BotScheduler(self.queue, self.bots, settings.home)
            tasks.append(asyncio.create_task(self.scheduler.run(stop), name="scheduler"))
            for bot in self.bots:
                if not bot.spec.enabled:
                    continue
                for index, trigger in enumerate(bot.spec.triggers):
                    if isinstance(trigger, FolderTriggerSpec):
                        watcher = FolderWatcher(self.queue, bot, index, trigger)
                        tasks.append(asyncio.create_task(watcher.run(stop), name=f"inbox-{bot.spec.name}"))
        server = None
        if self.serve_http:
            server, sock = self._start_http()
            tasks.append(asyncio.create_task(server.serve(sockets=[sock]), name="http"))
        if self.runners > 0:
            self.worker = Worker(
                self.runtime,
                self.queue,
                capacity=self.runners,
                lease=timedelta(seconds=settings.lease_seconds),
                poll_interval=settings.poll_interval,
                grace=settings.shutdown_grace,
            )
        if self.on_ready is not None:
            self.on_ready(self.url)
        stats = None
        try:
            if self.worker is not None:
                stats = await self.worker.run(stop)
            else:
                await stop.wait()
        finally:
            stop.set()
            if server is not None:
                server.should_exit = True
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)
        return stats

    def _start_http(self) -> tuple[Any, Any]:
        import socket

        import uvicorn

        from orchestrator.api.app import ServiceContext, create_app

        context = ServiceContext(
            runtime=self.runtime,
            queue=self.queue,
            manual=ManualQueue(self.runtime.store, self.queue, self.runtime.registry),
            is_scheduler=lambda: bool(self.scheduler and self.scheduler.is_leader),
        )
        app = create_app(context)
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level="warning", lifespan="off", access_log=False
        )

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Any:  # our own handlers stop everything gracefully
                yield

        server = _Server(config)
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))  # port 0: the system picks a free one
        # listening already when ``on_ready`` prints the URL: a client that connects before the
        # server task has started waits in the backlog instead of being refused
        sock.listen(config.backlog)
        sock.set_inheritable(True)
        self.url = f"http://{self.host}:{sock.getsockname()[1]}"
        return server, sock
