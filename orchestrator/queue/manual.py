"""The manual queue: runs parked for a person, and what a person can do about them.

Actions (each audited with the user, and for corrections the before/after values):

* ``retry`` — run the parked step again (e.g. the platform was down, or a person checked an
  in-doubt payment is *not* on the platform), or a failed run's failed step;
* ``resume`` — correct the parked step's arguments (validated against the skill's input
  model), then run it again;
* ``approve`` — four-eyes: a user other than the maker approves an approval step;
* ``retry``, ``resume`` and ``approve`` may hold the item back until a time (``not_before``);
* ``reject`` — end the item with a reason (its inbox file moves to ``failed/``); a failed
  item too, so that it is closed with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from orchestrator import jsoncodec
from orchestrator.enums import RunStatus
from orchestrator.errors import ItemNotWaiting, RpaError
from orchestrator.models import RunRecord, StepRecord
from orchestrator.queue.files import InboxNameTaken, restore_source_file, settle_source_file
from orchestrator.queue.models import ItemStatus, WorkItem
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.registry import SkillRegistry
from orchestrator.store.sql import SQLRunStore


class ManualActionError(RpaError):
    """A person's action cannot be applied (wrong state, invalid correction, four-eyes)."""


@dataclass
class ManualEntry:
    """A run waiting for a person, with what they need to decide."""

    run: RunRecord
    item: WorkItem | None
    step: StepRecord | None

    @property
    def waiting_since(self) -> datetime | None:
        return self.run.updated_at


class ManualQueue:
    def __init__(self, store: SQLRunStore, queue: SQLWorkQueue, registry: SkillRegistry) -> None:
        self.store = store
        self.queue = queue
        self.registry = registry

    def entries(self, limit: int = 200) -> list[ManualEntry]:
        runs = self.store.list_runs(RunStatus.needs_review, limit=limit)
        return [self.entry(run.id) for run in runs]

    def entry(self, run_id: str) -> ManualEntry:
        run = self.store.get_run(run_id)
        step = None
        if run.parked_step:
            rows = [s for s in self.store.get_steps(run_id) if s.step_id == run.parked_step]
            step = rows[-1] if rows else None
        return ManualEntry(run=run, item=self.queue.item_for_run(run_id), step=step)

    def _parked(self, run_id: str, *, or_failed: bool = False) -> ManualEntry:
        """The entry of a run waiting for a person (``or_failed``: or one that failed)."""
        entry = self.entry(run_id)
        allowed = (RunStatus.needs_review, RunStatus.failed) if or_failed else (RunStatus.needs_review,)
        if entry.run.status not in allowed:
            raise ManualActionError(f"run {run_id} is {entry.run.status.value}, not waiting for a person")
        return entry

    def _send_back(
        self,
        entry: ManualEntry,
        user: str,
        action: str,
        overrides: dict[str, Any] | None,
        payload: dict[str, Any],
        not_before: datetime | None = None,
    ) -> None:
        """Reopen the run and requeue its item in one transaction: a crash in between cannot
        leave a reopened run whose item nobody claims. A failed folder item's file goes back
        to its inbox first, and to ``failed/`` again if the transaction does not commit.
        ``not_before``: no runner takes the item before then (the platform opens at 06:00)."""
        item = entry.item
        if not_before is not None:
            if item is None:
                raise ManualActionError(
                    f"run {entry.run.id} has no work item, so it cannot wait for a time; "
                    "send it back without one"
                )
            if not_before.tzinfo is None:
                raise ManualActionError("the time to wait for needs its time zone (UTC offset)")
            payload = {**payload, "not_before": not_before.isoformat()}
        restored = None
        if item is not None and item.status is ItemStatus.failed:
            try:
                restored = restore_source_file(item)  # the run reads its file from the inbox
            except InboxNameTaken as exc:
                raise ManualActionError(str(exc)) from None

        def requeue_item(conn: Connection) -> None:
            if item is not None:
                self.queue.requeue_in(
                    conn, item.id, not_before=not_before, file_restored=restored is not None
                )

        try:
            self.store.reopen_run(
                entry.run.id,
                actor=user,
                action=action,
                step_id=entry.run.parked_step,
                overrides=overrides,
                payload=payload,
                # a failed step is retried as after any failed attempt (a once step verifies
                # first: time has passed since); a parked one as the person decided
                retry_kind="technical" if entry.run.status is RunStatus.failed else "operator",
                also=requeue_item,
            )
        except BaseException as exc:
            if restored is not None:
                restored.undo()
            if isinstance(exc, ItemNotWaiting):
                raise ManualActionError(f"{exc}; nothing was changed") from None
            raise
        if restored is not None:
            restored.forget_why_it_failed()
        if item is not None:
            self.queue.announce_new_items()

    def retry(self, run_id: str, user: str, note: str = "", *, not_before: datetime | None = None) -> None:
        """Run the parked step again — or the step a failed run failed at (a technical error that
        outlasted its retries, e.g. a platform down for an hour). A ``once`` step failed only when
        its effect was known not to have happened; as time has passed since, it asks its verify
        again before it runs (without one it waits in doubt for a person). ``not_before``: not
        before then."""
        entry = self._parked(run_id, or_failed=True)
        self._send_back(
            entry, user, "retry", None, {"note": note, "reason_was": entry.run.reason}, not_before
        )

    def retry_failed(
        self,
        user: str,
        *,
        bot: str | None = None,
        reason_code: str | None = None,
        note: str = "",
        not_before: datetime | None = None,
        limit: int = 500,
        dry_run: bool = False,
        skipped: list[tuple[ManualEntry, str]] | None = None,
    ) -> list[ManualEntry]:
        """``retry`` every failed work item (of ``bot``, failed with ``reason_code``), newest
        first, up to ``limit`` — after an outage that outlasted the steps' retries. Each retry is
        audited on its own; ``dry_run``: only the entries that would be retried. ``skipped``
        receives each entry that could not be retried, with why (its file cannot go back to
        its inbox, say); one retried or rejected meanwhile by someone else is left out."""
        entries = []
        for item in self.queue.list_items(bot=bot, status=ItemStatus.failed, limit=limit):
            if not item.run_id:
                continue
            entry = self.entry(item.run_id)
            if entry.run.status is not RunStatus.failed:
                continue
            if reason_code is not None and entry.run.reason_code != reason_code:
                continue
            if not dry_run:
                try:
                    self.retry(entry.run.id, user, note, not_before=not_before)
                except ManualActionError as exc:
                    if skipped is not None and self.entry(entry.run.id).run.status is RunStatus.failed:
                        skipped.append((entry, str(exc)))  # still failed: say why it stays
                    continue
            entries.append(entry)
        return entries

    def resume(
        self,
        run_id: str,
        user: str,
        corrections: dict[str, Any],
        note: str = "",
        *,
        not_before: datetime | None = None,
    ) -> dict[str, Any]:
        """Correct the parked step's arguments and run it again (``not_before``: not before
        then); returns the before/after."""
        entry = self._parked(run_id)
        step_id = entry.run.parked_step
        if not step_id or entry.step is None:
            raise ManualActionError(f"run {run_id} has no parked step whose arguments could be corrected")
        if entry.step.skill == "think.approval" or entry.run.reason_code == "awaiting_approval":
            raise ManualActionError(
                "an approval step cannot be corrected; it is approved (four-eyes) or rejected"
            )
        spec = self.registry.get(entry.step.skill)
        if spec is None:
            raise ManualActionError(f"skill {entry.step.skill} is not registered here")
        unknown = sorted(set(corrections) - set(spec.params_model.model_fields))
        if unknown:
            raise ManualActionError(
                f"{entry.step.skill} has no argument(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(sorted(spec.params_model.model_fields))}"
            )
        before = dict(entry.step.params or {})
        after = {**before, **corrections}
        try:
            checked = spec.params_model.model_validate(after)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ManualActionError(
                f"the correction is not valid for {entry.step.skill}: {problems}"
            ) from None
        typed = {k: getattr(checked, k) for k in corrections}
        overrides = dict(entry.run.overrides)
        overrides[step_id] = {**overrides.get(step_id, {}), **typed}
        change = {
            "step": step_id,
            "before": {k: before.get(k) for k in corrections},
            "after": jsoncodec.to_jsonable(typed),
            "note": note,
        }
        self._send_back(entry, user, "resume", overrides, change, not_before)
        return change

    def approve(self, run_id: str, user: str, note: str = "", *, not_before: datetime | None = None) -> None:
        entry = self._parked(run_id)
        if entry.run.reason_code != "awaiting_approval" or entry.step is None:
            raise ManualActionError(f"run {run_id} is not waiting for an approval ({entry.run.reason_code})")
        maker = str((entry.step.params or {}).get("maker", ""))
        if maker.strip().lower() == user.strip().lower():
            raise ManualActionError(f"{user} made this instruction and cannot also approve it (four-eyes)")
        step_id = entry.run.parked_step or ""
        overrides = dict(entry.run.overrides)
        overrides[step_id] = {**overrides.get(step_id, {}), "approved_by": user}
        self._send_back(
            entry, user, "approve", overrides, {"step": step_id, "maker": maker, "note": note}, not_before
        )

    def reject(self, run_id: str, user: str, reason: str) -> None:
        if not reason.strip():
            raise ManualActionError("a rejection needs a reason")
        entry = self.entry(run_id)
        if entry.run.status in (RunStatus.done, RunStatus.rejected):
            raise ManualActionError(f"run {run_id} is already {entry.run.status.value}")
        item = entry.item

        def reject_item(conn: Connection) -> None:  # in the run's transaction (see _send_back)
            if item is not None:
                self.queue.reject_in(conn, item.id, reason=reason)

        try:
            self.store.close_run(run_id, RunStatus.rejected, actor=user, reason=reason, also=reject_item)
        except ItemNotWaiting as exc:
            raise ManualActionError(f"{exc}; nothing was changed") from None
        if item is not None:
            settle_source_file(self.queue, item, ItemStatus.rejected, reason)
