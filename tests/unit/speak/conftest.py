"""Fixtures for the speak tests: a real local SMTP server (aiosmtpd) and a local webhook receiver."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@pytest.fixture
def espeak() -> str:
    """The espeak-ng program (the test is skipped when it is missing)."""
    found = shutil.which("espeak-ng")
    if found is None:
        pytest.skip("this test needs espeak-ng, and /usr/bin/espeak-ng is missing")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every message and refuses some recipients on purpose."""

    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("refuse@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("later@"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    ca_file: str | None = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain local SMTP server on 127.0.0.1."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=controller.port, handler=handler)
    finally:
        controller.stop()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def starttls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """A local SMTP server that requires STARTTLS, with a self-signed certificate for 127.0.0.1."""
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    handler = RecordingHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=controller.port, handler=handler, ca_file=str(cert_file))
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    url: str
    requests: list[dict[str, Any]]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP server: /ok answers 200, /status/<code> answers that code; it records every POST."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
            reply = json.dumps({"received": True}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}", requests=received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    return free_port()
