"""While the store is down the API answers 503 with Retry-After and the pages say so; after, all works.

The outage is real: the app reaches PostgreSQL through a TCP relay that the test cuts (every
connection closed, no new one accepted) and then restores on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from pathlib import Path

from dash_helpers import client_for, isolated_app, sign_in_testclient, write_bots

from orchestrator.api.security import token_digest

TOKEN = "operator-token-outage-1"


class CuttableRelay:
    """Forwards 127.0.0.1:<port> to PostgreSQL until ``cut``; ``restore`` listens again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            doomed, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for each in [*doomed, listener]:
            if each is not None:
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)
                each.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for each in (source, sink):
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)


def test_a_store_outage_is_a_503_to_send_again_and_a_page_that_says_so(pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from orchestrator.queue.service import publish_bots

    real = make_url(pg_url)
    relay = CuttableRelay((real.host or "127.0.0.1", real.port or 5432))
    relay.restore()
    tokens = {"ops": {"sha256": token_digest(TOKEN), "role": "operator", "user": "ops"}}
    app, runtime = isolated_app(
        tmp_path, db_url=real.set(port=relay.port).render_as_string(), settings_extra={"api_tokens": tokens}
    )
    try:
        queue = app.state.context.queue
        publish_bots(runtime, queue, write_bots(tmp_path))
        person = client_for(app)
        assert sign_in_testclient(person, "olga").status_code == 303
        program = client_for(app)
        auth = {"Authorization": f"Bearer {TOKEN}"}

        def enqueue(reference: str) -> object:
            body = {"reference": reference, "inputs": {"reference": reference}}
            return program.post("/api/bots/ledger-bot/items", json=body, headers=auth)

        assert enqueue("OUT-1").status_code == 201
        relay.cut()

        refused = enqueue("OUT-2")
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["detail"].startswith("the store is unavailable; send the request again shortly")
        page = person.get("/work/manual", headers={"accept": "text/html"})
        assert page.status_code == 503
        assert "store is unavailable" in page.text
        assert "Traceback" not in page.text
        assert program.get("/api/health").status_code == 503

        relay.restore()
        for _attempt in range(20):  # a pooled connection the cut killed may fail once more
            sent = enqueue("OUT-2")
            if sent.status_code != 503:
                break
            time.sleep(0.25)
        assert sent.status_code == 201, sent.text
        assert person.get("/work/manual", headers={"accept": "text/html"}).status_code == 200
        assert [i.reference for i in queue.list_items(bot="ledger-bot")] == ["OUT-2", "OUT-1"]
    finally:
        relay.cut()
        asyncio.run(runtime.aclose())
