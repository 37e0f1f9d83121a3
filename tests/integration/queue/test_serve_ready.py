"""The URL ``rpa serve`` prints is connectable the moment it is printed."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from orchestrator.bootstrap import build_runtime
from orchestrator.queue.service import Service
from orchestrator.settings import Settings


def test_the_printed_url_accepts_connections_at_once(tmp_path: Path) -> None:
    runtime = build_runtime(
        Settings(db_url=f"sqlite:///{tmp_path / 'rpa.db'}", home=tmp_path, work_dir=tmp_path)
    )
    stop = asyncio.Event()
    connected: list[str] = []

    def on_ready(url: str | None) -> None:
        # called before the event loop has run the server task: only the listening socket answers
        assert url is not None
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5):
            connected.append(url)
        stop.set()

    service = Service(runtime, runners=0, port=0, on_ready=on_ready)
    asyncio.run(service.run(stop))
    runtime.store.close()
    assert connected == [service.url]
