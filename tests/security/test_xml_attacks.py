"""Hostile XML: file-reading entities, URLs the parser might fetch, entity bombs; and a sweep
that keeps every XML read of the project going through the one safe parser.

Payloads go through the public skill ``think.parse_payment`` (as a file in the work folder and
as text) and the readers it uses. Each is refused with a clean ``BusinessError`` (code
``malformed_message``) that never contains the secret; a local HTTP server shows that no
request was ever made; the bomb is measured in a fresh process against a benign baseline.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from lxml import etree

from skills import BusinessError
from skills.testing import run_skill
from skills.think.payment_skills import parse_payment
from skills.think.payments import build_pacs008, parse_message, safe_xml

ROOT = Path(__file__).resolve().parents[2]
SECRET = "XXE-SECRET-7d1f0b"
PACS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
MT103 = """{1:F01BKCHCNBJAXXX0000000000}{2:O1031200250310HSBCHKHHXXXX00000000002503101200N}{4:
:20:REF0001
:23B:CRED
:32A:250310CNY1000,00
:50K:/12345678
ZHANG SAN
:52A:BKCHCNBJ
:57A:ICBKCNBJ
:59:/87654321
LI SI
:71A:SHA
-}"""


def _document(doctype: str, body: str = "&x;") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<Document xmlns="{PACS}"><FIToFICstmrCdtTrf>'
        f"<GrpHdr><MsgId>{body}</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"
    )


def _billion_laughs(levels: int = 10) -> str:
    entities = ['<!ENTITY x0 "lol">'] + [f'<!ENTITY x{i} "{f"&x{i - 1};" * 10}">' for i in range(1, levels)]
    return _document(f"<!DOCTYPE Document [{''.join(entities)}]>", f"&x{levels - 1};")


def _refused_by_the_skill(work: Path, text: str, *, name: str = "in.xml") -> BusinessError:
    (work / name).write_text(text, encoding="utf-8")
    errors = []
    for params in ({"path": name}, {"text": text}):
        with pytest.raises(BusinessError) as caught:
            run_skill(parse_payment, params, work_dir=work)
        error = caught.value
        assert error.code == "malformed_message", error
        assert SECRET not in str(error)
        assert SECRET not in repr(getattr(error, "details", ""))
        errors.append(error)
    return errors[0]


def test_xxe_file_read_is_refused_and_the_file_is_never_opened(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading blocks: a parser that tried would hang the thread
    for target in (secret, fifo, Path("/etc/passwd")):
        for doctype in (
            f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{target}">]>',
            f'<!DOCTYPE Document [<!ENTITY x SYSTEM "{target}">]>',
            f'<!DOCTYPE Document SYSTEM "file://{target}">',
            f'<!doctype Document [<!ENTITY % p SYSTEM "file://{target}"> %p;]>',
        ):
            error = _refused_by_the_skill(work, _document(doctype))
            assert "DOCTYPE" in str(error) or "ENTITY" in str(error)
            assert "line" in str(error)

    # the second layer alone (pre-check bypassed): the parser neither expands nor opens anything
    outcome: list[object] = []
    text = _document(f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{fifo}">]>').encode()
    worker = threading.Thread(target=lambda: outcome.append(etree.fromstring(text, safe_xml.make_parser())))
    worker.daemon = True
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the thread before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not worker.is_alive(), "the hardened parser opened the entity's file"
    root = outcome[0]
    assert isinstance(root, etree._Element)
    assert SECRET not in etree.tostring(root, encoding="unicode")


def test_no_url_in_a_message_is_ever_fetched(tmp_path: Path, recording_server) -> None:
    work = tmp_path / "work"
    work.mkdir()
    url = recording_server.url
    for doctype in (
        f'<!DOCTYPE Document [<!ENTITY x SYSTEM "{url}/entity">]>',
        f'<!DOCTYPE Document SYSTEM "{url}/external.dtd">',
        f'<!DOCTYPE Document PUBLIC "-//X//EN" "{url}/public.dtd">',
        f'<!DOCTYPE Document [<!ENTITY % remote SYSTEM "{url}/param.dtd"> %remote;]>',
    ):
        _refused_by_the_skill(work, _document(doctype))
        # and the parser itself, were the pre-check ever bypassed
        etree.fromstring(_document(doctype).encode(), safe_xml.make_parser())

    # a valid pacs.008 carrying every other kind of reference: schema location hints, a lax
    # wildcard with its own hint, XInclude, a stylesheet processing instruction
    valid = build_pacs008(parse_message(MT103).payments[0])
    hinted = valid.replace(
        f'<Document xmlns="{PACS}"',
        f'<Document xmlns="{PACS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{PACS} {url}/pacs.xsd urn:evil {url}/evil.xsd"',
    ).replace(
        "</FIToFICstmrCdtTrf>",
        f'<SplmtryData><Envlp><e:X xmlns:e="urn:evil" xsi:schemaLocation="urn:evil {url}/lax.xsd"/>'
        "</Envlp></SplmtryData></FIToFICstmrCdtTrf>",
    )
    hinted = hinted.replace("?>", f'?>\n<?xml-stylesheet href="{url}/style.xsl"?>', 1)
    parsed = run_skill(parse_payment, {"text": hinted}, work_dir=work)
    assert parsed.message_type == "pacs.008.001.08"  # type: ignore[union-attr]
    included = valid.replace(
        "<GrpHdr>", f'<GrpHdr><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/inc.xml"/>'
    )
    with pytest.raises(BusinessError, match="does not conform"):
        run_skill(parse_payment, {"text": included}, work_dir=work)

    assert recording_server.requests == []


def test_entity_bombs_and_deep_documents_are_refused(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    quadratic = _document(f'<!DOCTYPE Document [<!ENTITY x "{"a" * 50_000}">]>', "&x;" * 20_000)
    for text in (_billion_laughs(), quadratic):
        error = _refused_by_the_skill(work, text)
        assert "DOCTYPE" in str(error)
    deep = f'<Document xmlns="{PACS}">' + "<a>" * 5_000 + "</a>" * 5_000 + "</Document>"
    error = _refused_by_the_skill(work, deep)
    assert "not well-formed" in str(error)


@pytest.mark.parametrize(
    ("label", "data"),
    [
        (
            "utf-16 with BOM",
            _document('<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>').encode("utf-16"),
        ),
        (
            "utf-7 declared",
            b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE Document +AFs-+AF0-+AD4-<Document/>',
        ),
        ("utf-16 without BOM", _document("<!DOCTYPE Document []>").encode("utf-16-le")),
    ],
)
def test_encodings_do_not_smuggle_a_doctype(tmp_path: Path, label: str, data: bytes) -> None:
    (tmp_path / "in.xml").write_bytes(data)
    with pytest.raises(BusinessError) as caught:
        run_skill(parse_payment, {"path": "in.xml"}, work_dir=tmp_path)
    assert caught.value.code == "malformed_message", label


_MEASURE = """
import json, os, sys
from pathlib import Path
from lxml import etree
from skills.think.payments import safe_xml

def resident_kb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

data = Path(sys.argv[1]).read_bytes()
before = resident_kb()
try:
    tree = etree.fromstring(data, safe_xml.make_parser())  # layer 2 alone: no pre-check; kept alive
    outcome = "parsed"
except etree.XMLSyntaxError as exc:
    outcome = "refused: " + str(exc)[:80]
print(json.dumps({"outcome": outcome, "growth_kb": resident_kb() - before}))
"""


def _measure(text: str, folder: Path) -> dict[str, object]:
    """Resident memory a fresh process gains while the hardened parser reads ``text``."""
    document = folder / f"doc-{len(text)}.xml"
    document.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_bomb_needs_no_more_memory_than_a_plain_message(tmp_path: Path) -> None:
    baseline = _measure(_document("", "REF0001"), tmp_path)
    control = _measure(_document("", ("<Ln>" + "x" * 1_000_000 + "</Ln>") * 40), tmp_path)
    bomb = _measure(_billion_laughs(levels=10), tmp_path)  # 10**9 'lol's if expanded: about 3 GB
    print(
        f"resident memory growth: benign {baseline['growth_kb']} kB, 40 MB text {control['growth_kb']} kB, "
        f"billion laughs {bomb['growth_kb']} kB ({bomb['outcome']})"
    )
    assert baseline["outcome"] == control["outcome"] == "parsed"
    assert int(control["growth_kb"]) > 30_000  # the probe does see 40 MB of text
    assert int(bomb["growth_kb"]) < int(baseline["growth_kb"]) + 20_000  # 20 MB of slack, not 3 GB


_XML_CALLS = {"fromstring", "parse", "XML", "iterparse", "XMLParser", "XMLPullParser", "HTML", "parseString"}
_XML_MODULES = ("lxml", "xml.", "defusedxml", "xmlschema", "bs4", "html5lib")


def _xml_reads(path: Path) -> list[str]:
    """Calls into an XML library's parsing functions made in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        base = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        name = (
            func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
        )
        module = aliases.get(base or name, "")
        if not module.startswith(_XML_MODULES) and module not in ("xml", "lxml"):
            continue
        if name in _XML_CALLS or name in ("XMLSchema", "XMLResource"):
            allow = next((k.value for k in node.keywords if k.arg == "allow"), None)
            sandboxed = isinstance(allow, ast.Constant) and allow.value in ("none", "sandbox")
            if name in ("XMLSchema", "XMLResource") and sandboxed:
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(func)}(...)")
    return found


def test_every_xml_read_in_the_project_goes_through_safe_xml() -> None:
    allowed = ROOT / "skills" / "think" / "payments" / "safe_xml.py"
    sources = [p for folder in ("orchestrator", "skills", "examples") for p in (ROOT / folder).rglob("*.py")]
    assert len(sources) > 100
    offenders = [hit for path in sources if path != allowed for hit in _xml_reads(path)]
    assert offenders == [], "XML parsed outside skills/think/payments/safe_xml.py:\n" + "\n".join(offenders)
    assert _xml_reads(allowed)  # the sweep does see a parse call where there is one
