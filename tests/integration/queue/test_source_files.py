"""Putting a failed folder item's file back in its inbox (``files.restore_source_file``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.queue import files
from orchestrator.queue.files import InboxNameTaken, restore_source_file
from orchestrator.queue.models import ItemStatus, WorkItem


def _failed_item(tmp_path: Path) -> WorkItem:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "m1.txt").write_text("the item's payments")
    return WorkItem(
        id="item-1",
        bot="file-bot",
        reference="m1.txt",
        status=ItemStatus.failed,
        inputs={},
        source="folder:inbox",
        source_path=str(tmp_path / "inbox" / "m1.txt"),
    )


def test_a_file_that_arrives_while_the_item_is_put_back_stops_the_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a race that cannot be timed from outside: another m1.txt lands in the inbox between the
    # look and the link, so the link is made to find it there
    item = _failed_item(tmp_path)
    inbox_file = tmp_path / "inbox" / "m1.txt"

    def arrived_meanwhile(source: Path, target: Path) -> None:
        inbox_file.write_text("the next day's payments")
        raise FileExistsError(17, "File exists", str(target))

    monkeypatch.setattr(files.os, "link", arrived_meanwhile)
    with pytest.raises(InboxNameTaken, match="holds another file"):
        restore_source_file(item)
    assert (tmp_path / "failed" / "m1.txt").read_text() == "the item's payments"  # still parked
    assert inbox_file.read_text() == "the next day's payments"


def test_the_file_goes_back_to_the_inbox_and_leaves_failed(tmp_path: Path) -> None:
    item = _failed_item(tmp_path)
    restored = restore_source_file(item)
    assert restored is not None
    assert restored.inbox == tmp_path / "inbox" / "m1.txt"
    assert (tmp_path / "inbox" / "m1.txt").read_text() == "the item's payments"
    assert not (tmp_path / "failed" / "m1.txt").exists()
    assert os.stat(tmp_path / "inbox" / "m1.txt").st_nlink == 1


def test_undo_parks_the_file_again_as_it_was(tmp_path: Path) -> None:
    item = _failed_item(tmp_path)
    reason = tmp_path / "failed" / "m1.txt.reason.txt"
    reason.write_text("platform down")
    restored = restore_source_file(item)
    assert restored is not None
    assert reason.exists()  # kept until the retry has gone through
    restored.undo()
    assert (tmp_path / "failed" / "m1.txt").read_text() == "the item's payments"
    assert not (tmp_path / "inbox" / "m1.txt").exists()
    # a person had copied the same file back: undo leaves their copy in the inbox
    (tmp_path / "inbox" / "m1.txt").write_text("the item's payments")
    restored = restore_source_file(item)
    assert restored is not None
    assert not (tmp_path / "failed" / "m1.txt").exists()
    restored.undo()
    assert (tmp_path / "failed" / "m1.txt").read_text() == "the item's payments"
    assert (tmp_path / "inbox" / "m1.txt").read_text() == "the item's payments"
    restored = restore_source_file(item)
    assert restored is not None
    restored.forget_why_it_failed()
    assert not reason.exists()
