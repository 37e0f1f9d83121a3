"""Inbox folders: ready files, partial and hidden names, settling, symlinks, confined moves."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from skills import BusinessError
from skills.hear.inbox import move_to_failed, move_to_processed, scan_inbox
from skills.hear.inbox_skills import ListInboxResult, MoveInboxFileResult, list_inbox, move_inbox_file
from skills.testing import run_skill


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "payments" / "inbox"
    folder.mkdir(parents=True)
    return folder


def _drop(folder: Path, name: str, content: str = "data", age_seconds: float = 60.0) -> Path:
    path = folder / name
    path.write_text(content)
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    return path


def test_ready_files_are_listed_oldest_first(inbox: Path) -> None:
    _drop(inbox, "b.xml", age_seconds=30)
    _drop(inbox, "a.xml", age_seconds=90)
    scan = scan_inbox(inbox, settle_seconds=2)
    assert [f.name for f in scan.ready] == ["a.xml", "b.xml"]
    assert scan.ready[0].size == 4


def test_partial_hidden_and_folder_entries_are_skipped(inbox: Path) -> None:
    for name in ("mt103.txt.part", "upload.tmp", ".hidden.xml", "report.xml~", "x.crdownload", "~$lock.xlsx"):
        _drop(inbox, name)
    (inbox / "archive").mkdir()
    _drop(inbox, "ok.xml")
    scan = scan_inbox(inbox)
    assert [f.name for f in scan.ready] == ["ok.xml"]
    reasons = {s.name: s.reason for s in scan.ignored}
    assert reasons["archive"] == "folder"
    assert reasons["mt103.txt.part"] == "partial_name"
    assert reasons[".hidden.xml"] == "partial_name"
    assert len(reasons) == 7


def test_recently_modified_file_is_settling(inbox: Path) -> None:
    _drop(inbox, "fresh.xml", age_seconds=0.0)
    scan = scan_inbox(inbox, settle_seconds=5)
    assert scan.ready == []
    assert [f.name for f in scan.settling] == ["fresh.xml"]
    later = scan_inbox(inbox, settle_seconds=5, now=time.time() + 10)
    assert [f.name for f in later.ready] == ["fresh.xml"]


def test_a_file_growing_between_scans_is_not_ready(inbox: Path) -> None:
    path = _drop(inbox, "growing.xml", age_seconds=60)
    first = scan_inbox(inbox, settle_seconds=1)
    with path.open("a") as stream:
        stream.write("more")
    os.utime(path, (time.time() - 30, time.time() - 30))  # an old mtime, but the size changed
    second = scan_inbox(inbox, settle_seconds=1, previous=first.signatures())
    assert [f.name for f in second.settling] == ["growing.xml"]
    third = scan_inbox(inbox, settle_seconds=1, previous=second.signatures())
    assert [f.name for f in third.ready] == ["growing.xml"]


def test_pattern_filters_names(inbox: Path) -> None:
    _drop(inbox, "a.xml")
    _drop(inbox, "b.csv")
    scan = scan_inbox(inbox, pattern="*.xml")
    assert [f.name for f in scan.ready] == ["a.xml"]
    assert [s.reason for s in scan.ignored] == ["pattern"]


def test_symlinks_out_of_the_inbox_are_refused_and_reported(inbox: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the bot")
    (inbox / "looks-normal.xml").symlink_to(secret)
    (inbox / "up").symlink_to(tmp_path)
    real = _drop(inbox, "real.xml")
    (inbox / "alias.xml").symlink_to(real)
    scan = scan_inbox(inbox)
    assert [f.name for f in scan.ready] == ["real.xml"]
    assert {s.name: s.reason for s in scan.refused} == {
        "looks-normal.xml": "symlink_outside",
        "up": "symlink_outside",
    }
    assert {s.name: s.reason for s in scan.ignored} == {"alias.xml": "symlink"}
    with pytest.raises(BusinessError, match="symbolic link") as caught:
        move_to_processed(inbox, "looks-normal.xml")
    assert caught.value.code == "path_outside_inbox"
    assert secret.read_text() == "not for the bot"


@pytest.mark.parametrize("name", ["../secret.txt", "/etc/passwd", "sub/a.xml", "..", "", "a\\..\\b"])
def test_names_outside_the_inbox_are_refused(inbox: Path, name: str) -> None:
    with pytest.raises(BusinessError, match="expected a file name in the inbox") as caught:
        move_to_processed(inbox, name)
    assert caught.value.code == "path_outside_inbox"


def test_moves_go_beside_the_inbox_without_overwriting(inbox: Path) -> None:
    _drop(inbox, "pacs008.xml", content="first")
    first = move_to_processed(inbox, "pacs008.xml")
    _drop(inbox, "pacs008.xml", content="second")
    second = move_to_processed(inbox, "pacs008.xml")
    assert first == inbox.parent / "processed" / "pacs008.xml"
    assert second == inbox.parent / "processed" / "pacs008.1.xml"
    assert (first.read_text(), second.read_text()) == ("first", "second")
    assert list(inbox.iterdir()) == []


def test_failed_files_keep_their_reason(inbox: Path) -> None:
    _drop(inbox, "mt103.txt")
    target = move_to_failed(inbox, "mt103.txt", reason="field 32A: amount missing")
    assert target.parent.name == "failed"
    assert target.with_name("mt103.txt.reason.txt").read_text() == "field 32A: amount missing\n"


def test_missing_inbox_and_missing_file_are_business_errors(tmp_path: Path, inbox: Path) -> None:
    with pytest.raises(BusinessError, match="expected an inbox folder"):
        scan_inbox(tmp_path / "nowhere")
    with pytest.raises(BusinessError, match="found none") as caught:
        move_to_processed(inbox, "ghost.xml")
    assert caught.value.code == "inbox_file_missing"


def test_list_inbox_skill(inbox: Path) -> None:
    _drop(inbox, "a.xml")
    _drop(inbox, "b.xml", age_seconds=0)
    _drop(inbox, "c.part")
    result = run_skill(
        list_inbox, {"inbox": "payments/inbox", "settle_seconds": 5}, work_dir=inbox.parent.parent
    )
    assert isinstance(result, ListInboxResult)
    assert [f.name for f in result.files] == ["a.xml"]
    assert result.files[0].path == str(inbox / "a.xml")
    assert result.settling == ["b.xml"]
    assert [i.name for i in result.ignored] == ["c.part"]


def test_move_inbox_file_skill_is_idempotent(inbox: Path) -> None:
    _drop(inbox, "a.xml")
    params = {"inbox": str(inbox), "name": "a.xml", "outcome": "failed", "reason": "bad BIC"}
    work = inbox.parent.parent  # an absolute inbox must still lie inside the work folder (or a file root)
    first = run_skill(move_inbox_file, params, work_dir=work)
    again = run_skill(move_inbox_file, params, work_dir=work)
    assert isinstance(first, MoveInboxFileResult)
    assert isinstance(again, MoveInboxFileResult)
    assert (first.already_moved, again.already_moved) == (False, True)
    assert first.path == again.path == str(inbox.parent / "failed" / "a.xml")
    with pytest.raises(BusinessError, match="found none"):
        run_skill(
            move_inbox_file, {"inbox": str(inbox), "name": "never.xml", "outcome": "processed"}, work_dir=work
        )
