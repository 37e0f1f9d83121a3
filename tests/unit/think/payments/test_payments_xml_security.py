"""XML attacks: XXE file read, external entity URL, billion laughs, huge and deep documents.

Each payload goes through the public readers (refused with a clean ``MessageFormatError``) and,
to show the second layer holds too, straight through the hardened lxml parser with the DOCTYPE
pre-check bypassed: no entity is expanded, no file is opened, no request is made.
"""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree

from skills.think.payments import MessageFormatError, parse_message, read_cnaps, read_iso, safe_xml

PACS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"


def _document(doctype: str, body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<Document xmlns="{PACS}"><FIToFICstmrCdtTrf><GrpHdr>'
        f"<MsgId>{body}</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"
    )


def _billion_laughs() -> str:
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return _document(f"<!DOCTYPE Document [{''.join(levels)}]>", "&lol9;")


def _readers(text: str) -> list[object]:
    return [
        lambda: read_iso(text),
        lambda: read_iso(text.encode("utf-8")),
        lambda: parse_message(text),
        lambda: read_cnaps(
            "{H:02102100099996  BEPS313684093748  BEPS20210323114139XMLbeps.121.001.01     "
            "BEPA6014CC2517958865600000000015614348923DXN       }\r\n" + text
        ),
    ]


def _refused_everywhere(text: str, secret: str | None = None) -> None:
    for read in _readers(text):
        with pytest.raises(MessageFormatError) as caught:
            read()  # type: ignore[operator]
        error = caught.value
        assert "DOCTYPE" in error.reason or "ENTITY" in error.reason
        assert error.code == "malformed_message"
        assert error.location.line is not None
        if secret is not None:
            assert secret not in str(error)
            assert secret not in repr(error.details)


def _parse_in_thread(data: bytes, seconds: float = 10.0) -> etree._Element | BaseException:
    """Parse with the hardened parser in a thread; a parse that blocks (reading a FIFO) fails the test."""
    outcome: list[etree._Element | BaseException] = []

    def run() -> None:
        try:
            outcome.append(etree.fromstring(data, safe_xml.make_parser()))
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the parser blocked: it tried to read the entity's file"
    return outcome[0]


def test_xxe_file_read_is_refused_and_no_file_is_opened(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret = "TOP-SECRET-7f3a9c"
    secret_file.write_text(secret)
    payload = _document(f'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{secret_file}">]>', "&xxe;")
    _refused_everywhere(payload, secret)
    # Second layer: a FIFO blocks whoever opens it for reading until a writer comes - nobody writes.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (secret_file, fifo):
        bypass = _document(f'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{target}">]>', "&xxe;")
        root = _parse_in_thread(bypass.encode())
        assert isinstance(root, etree._Element)
        assert secret.encode() not in etree.tostring(root)


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads what the server saw

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY leaked 'network'>")

    def log_message(self, *args: object) -> None:  # keep test output clean
        return


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


def test_external_entity_and_dtd_urls_are_never_fetched(listener: tuple[str, list[str]]) -> None:
    url, hits = listener
    payloads = [
        _document(f'<!DOCTYPE Document [<!ENTITY ext SYSTEM "{url}/entity">]>', "&ext;"),
        _document(f'<!DOCTYPE Document SYSTEM "{url}/external.dtd">', "M1"),
        _document(f'<!DOCTYPE Document [<!ENTITY % remote SYSTEM "{url}/param"> %remote;]>', "M1"),
    ]
    for payload in payloads:
        _refused_everywhere(payload)
        _parse_in_thread(payload.encode())  # may raise inside (undefined entity): what matters is no request
    assert hits == []


def test_billion_laughs_is_refused_in_bounded_memory() -> None:
    payload = _billion_laughs()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused_everywhere(payload)
    outcome = _parse_in_thread(payload.encode())
    # Either the reference stays unexpanded, or libxml2's own amplification limit stops the parse.
    if isinstance(outcome, etree._Element):
        assert len(etree.tostring(outcome)) < 2_000
    else:
        assert isinstance(outcome, etree.XMLSyntaxError)
        assert "amplification" in str(outcome)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50_000, f"peak memory grew by {grown_kib} KiB"  # expanded, it would be gigabytes


def test_oversized_and_deep_documents_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_xml, "MAX_XML_BYTES", 1_000)
    with pytest.raises(MessageFormatError, match="larger than the 1000 characters accepted"):
        read_iso(_document("", "X" * 2_000))
    monkeypatch.undo()
    deep = f'<Document xmlns="{PACS}">' + "<a>" * 5_000 + "</a>" * 5_000 + "</Document>"
    with pytest.raises(MessageFormatError, match="not well-formed") as caught:
        read_iso(deep)
    assert caught.value.location.line == 1


def test_the_parser_is_configured_as_documented() -> None:
    parser = safe_xml.make_parser()
    probe = etree.fromstring(b'<!DOCTYPE r [<!ENTITY e "expanded">]><r>&e;</r>', parser)
    assert probe.text is None  # resolve_entities=False: the reference is kept, not replaced
    with pytest.raises(MessageFormatError, match="not well-formed"):
        safe_xml.parse_xml("<Document><unclosed></Document>")
    with pytest.raises(MessageFormatError, match="not valid utf-8"):
        safe_xml.parse_xml(b'<?xml version="1.0" encoding="utf-8"?><a>\xff</a>')
