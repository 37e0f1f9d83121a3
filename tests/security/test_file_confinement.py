"""Paths named by a message or a work item cannot leave the configured folders.

Every skill that takes a path (or a root folder) is called with ``../../`` climbs, absolute
paths and symbolic links that lead outside the work folder, where a secret file waits. Each
attempt must end in ``BusinessError(code="path_outside_root")`` (``bad_path`` for a path that
cannot even be resolved), the secret must not appear in any result or message, and nothing may
be written outside.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skills import BusinessError
from skills.do.files import append_record, read_file, write_file
from skills.hear.inbox import move_to_failed, move_to_processed, scan_inbox
from skills.hear.inbox_skills import list_inbox, move_inbox_file
from skills.paths import file_roots_service
from skills.speak.notify import notify
from skills.speak.render import render
from skills.speak.say import say
from skills.testing import run_skill, service_pool
from skills.think.payment_skills import (
    build_pacs008_file,
    parse_payment,
    read_reconciliation,
)

SECRET = "TOP-SECRET-CONTENT-0042"
MT103 = """{1:F01BKCHCNBJAXXX0000000000}{2:O1031200250310HSBCHKHHXXXX00000000002503101200N}{3:{121:eb6305c9-1f7c-4b8c-b3f5-2a6e8d9f0c1a}}{4:
:20:REF0001
:23B:CRED
:32A:250310CNY1000,00
:50K:/12345678
ZHANG SAN
BEIJING
:52A:BKCHCNBJ
:57A:ICBKCNBJ
:59:/87654321
LI SI
SHANGHAI
:71A:SHA
-}"""


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A work folder, and beside it a folder with a secret and a place nobody may write."""
    work = tmp_path / "work"
    outside = tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (outside / "secret.fin").write_text(MT103.replace("ZHANG SAN", SECRET[:35]), encoding="utf-8")
    (work / "link_to_secret.txt").symlink_to(outside / "secret.txt")
    (work / "link_to_outside").symlink_to(outside, target_is_directory=True)
    (work / "loop_a").symlink_to(work / "loop_b")
    (work / "loop_b").symlink_to(work / "loop_a")
    (work / "in.fin").write_text(MT103, encoding="utf-8")
    return {"work": work, "outside": outside}


def _escapes(world: dict[str, Path], name: str) -> list[str]:
    """The ways a hostile message names a file outside the work folder."""
    return [
        f"../outside/{name}",
        f"../../{world['outside'].name}/{name}",
        str(world["outside"] / name),
        f"link_to_outside/{name}",
        f"sub/../../outside/{name}",
        "/etc/passwd",
        "../../../../../../../../etc/passwd",
    ]


def _refused(call: Callable[[], Any], codes: tuple[str, ...] = ("path_outside_root",)) -> BusinessError:
    with pytest.raises(BusinessError) as caught:
        call()
    assert caught.value.code in codes, caught.value
    assert SECRET not in str(caught.value)
    return caught.value


def _nothing_written_outside(world: dict[str, Path]) -> None:
    assert sorted(p.name for p in world["outside"].iterdir()) == ["secret.fin", "secret.txt"]


def test_do_file_skills_stay_inside(world: dict[str, Path]) -> None:
    work = world["work"]
    for path in [*_escapes(world, "secret.txt"), "link_to_secret.txt"]:
        _refused(lambda p=path: run_skill(read_file, {"path": p}, work_dir=work))
        _refused(lambda p=path: run_skill(write_file, {"path": p, "content": "x"}, work_dir=work))
        _refused(
            lambda p=path: run_skill(append_record, {"path": p, "record": {"a": 1}}, work_dir=work),
        )
    _refused(lambda: run_skill(read_file, {"path": "loop_a"}, work_dir=work), ("bad_path",))
    _nothing_written_outside(world)
    assert (world["outside"] / "secret.txt").read_text(encoding="utf-8") == SECRET
    inside = run_skill(write_file, {"path": "out/ok.txt", "content": "fine"}, work_dir=work)
    assert Path(inside.path) == work / "out" / "ok.txt"  # type: ignore[union-attr]


def test_configured_file_roots_widen_on_purpose_only(world: dict[str, Path]) -> None:
    roots = service_pool([file_roots_service], {"file_roots": [str(world["outside"])]})
    read = run_skill(
        read_file, {"path": str(world["outside"] / "secret.txt")}, work_dir=world["work"], services=roots
    )
    assert read.content == SECRET  # type: ignore[union-attr]
    _refused(lambda: run_skill(read_file, {"path": "/etc/passwd"}, work_dir=world["work"], services=roots))


def test_payment_skills_stay_inside_even_when_the_root_is_hostile(world: dict[str, Path]) -> None:
    work = world["work"]
    for path in _escapes(world, "secret.fin"):
        _refused(lambda p=path: run_skill(parse_payment, {"path": p}, work_dir=work))
        _refused(lambda p=path: run_skill(read_reconciliation, {"path": p}, work_dir=work))
    for root in ["/", str(world["outside"]), "..", "link_to_outside"]:
        _refused(lambda r=root: run_skill(parse_payment, {"path": "secret.fin", "root": r}, work_dir=work))
    parsed = run_skill(parse_payment, {"path": "in.fin"}, work_dir=work)
    payment = parsed.message["payments"][0]  # type: ignore[union-attr]
    for output in [*_escapes(world, "pacs008.xml")]:
        _refused(
            lambda o=output: run_skill(
                build_pacs008_file, {"payment": payment, "output_path": o}, work_dir=work
            )
        )
    _refused(
        lambda: run_skill(
            build_pacs008_file,
            {"payment": payment, "output_path": "pacs008.xml", "root": str(world["outside"])},
            work_dir=work,
        )
    )
    _nothing_written_outside(world)


def test_speak_outputs_and_templates_stay_inside(world: dict[str, Path]) -> None:
    work = world["work"]
    for folder in ("templates", "outbox"):  # the default roots, each with a link leading out
        (work / folder).mkdir()
        (work / folder / "link_to_outside").symlink_to(world["outside"], target_is_directory=True)
    (work / "templates" / "evil.txt").symlink_to(world["outside"] / "secret.txt")
    for output in _escapes(world, "letter.txt"):
        _refused(lambda o=output: run_skill(render, {"text": "hello", "output": o}, work_dir=work))
        _refused(lambda o=output: run_skill(say, {"text": "hello", "output": o}, work_dir=work))
    for template in [*_escapes(world, "secret.txt"), "evil.txt"]:
        _refused(lambda t=template: run_skill(render, {"template": t, "output": "x.txt"}, work_dir=work))
    for root in ["/", "/etc", str(world["outside"]), "../outside", "link_to_outside"]:
        _refused(
            lambda r=root: run_skill(
                render, {"text": "x", "output": "x.txt", "outbox_root": r}, work_dir=work
            )
        )
        _refused(
            lambda r=root: run_skill(
                render, {"template": "secret.txt", "output": "x.txt", "templates_root": r}, work_dir=work
            )
        )
        _refused(lambda r=root: run_skill(say, {"text": "x", "output_root": r}, work_dir=work))
    _refused(
        lambda: run_skill(
            notify,
            {"channel": "webhook", "url": "http://127.0.0.1:9/", "payload": {}, "sent_log": "../outside/log"},
            work_dir=work,
        )
    )
    _nothing_written_outside(world)
    assert not list(work.rglob("x.txt"))


def test_inbox_never_follows_links_out(world: dict[str, Path]) -> None:
    work = world["work"]
    inbox = work / "payments" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "a.xml").write_text("<a/>", encoding="utf-8")
    (inbox / "stolen.xml").symlink_to(world["outside"] / "secret.txt")
    old = 1_000_000_000
    os.utime(inbox / "a.xml", (old, old))

    scan = scan_inbox(inbox, settle_seconds=0)
    assert [f.name for f in scan.ready] == ["a.xml"]
    assert [(r.name, r.reason) for r in scan.refused] == [("stolen.xml", "symlink_outside")]
    listed = run_skill(list_inbox, {"inbox": "payments/inbox", "settle_seconds": 0}, work_dir=work)
    assert [f.name for f in listed.files] == ["a.xml"]  # type: ignore[union-attr]

    for inbox_given in ["/etc", str(world["outside"]), "../outside", "link_to_outside"]:
        _refused(lambda i=inbox_given: run_skill(list_inbox, {"inbox": i}, work_dir=work))
        _refused(
            lambda i=inbox_given: run_skill(
                move_inbox_file, {"inbox": i, "name": "secret.txt", "outcome": "processed"}, work_dir=work
            )
        )
    for name in ["../../../outside/secret.txt", str(world["outside"] / "secret.txt"), "stolen.xml", "..", ""]:
        with pytest.raises(BusinessError) as caught:
            move_to_processed(inbox, name)
        assert caught.value.code == "path_outside_inbox"

    # a link planted where the failure reason will be written is replaced, not followed
    failed = inbox.parent / "failed"
    failed.mkdir()
    (failed / "a.xml.reason.txt").symlink_to(world["outside"] / "secret.txt")
    moved = move_to_failed(inbox, "a.xml", "bad BIC")
    assert moved == failed / "a.xml"
    assert (failed / "a.xml.reason.txt").read_text(encoding="utf-8") == "bad BIC\n"
    assert not (failed / "a.xml.reason.txt").is_symlink()
    assert (world["outside"] / "secret.txt").read_text(encoding="utf-8") == SECRET

    # a processed/ folder replaced by a link out does not carry inbox files away
    (inbox / "b.xml").write_text("<b/>", encoding="utf-8")
    (inbox.parent / "processed").symlink_to(world["outside"], target_is_directory=True)
    _refused(lambda: move_to_processed(inbox, "b.xml"))
    assert (inbox / "b.xml").exists()
    _nothing_written_outside(world)


def test_a_watched_folder_never_enqueues_a_link_out(world: dict[str, Path]) -> None:
    from orchestrator.queue.bots import load_bot_file, publish
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.queue.triggers import FolderWatcher
    from orchestrator.registry import SkillRegistry
    from orchestrator.store import open_store

    work = world["work"]
    (work / "wf.yaml").write_text(
        "name: take-file\ninputs: {file: {type: string}}\n"
        "steps:\n  - id: a\n    uses: think.evaluate\n    with: {value: '${{ inputs.file }}'}\n",
        encoding="utf-8",
    )
    (work / "bot.yaml").write_text(
        "name: inbox-bot\nworkflow: wf.yaml\ntriggers:\n  - {type: folder, path: inbox, settle: 1s}\n",
        encoding="utf-8",
    )
    inbox = work / "inbox"
    inbox.mkdir()
    (inbox / "ok.xml").write_text("<a/>", encoding="utf-8")
    (inbox / "stolen.xml").symlink_to(world["outside"] / "secret.txt")
    (inbox / "stolen_dir").symlink_to(world["outside"], target_is_directory=True)
    old = 1_000_000_000
    os.utime(inbox / "ok.xml", (old, old))
    store = open_store(f"sqlite:///{work / 'rpa.db'}")
    try:
        queue = SQLWorkQueue(store)
        bot = load_bot_file(work / "bot.yaml", SkillRegistry.from_entry_points())
        publish(queue, bot)
        watcher = FolderWatcher(queue, bot, 0, bot.spec.triggers[0])
        created = watcher.scan_once()
        items = queue.list_items(bot="inbox-bot")
    finally:
        store.close()
    assert len(created) == 1
    assert [item.inputs["file"] for item in items] == [str(inbox / "ok.xml")]
    assert (inbox / "stolen.xml").is_symlink()  # left where it is, reported, never read or moved
    _nothing_written_outside(world)
