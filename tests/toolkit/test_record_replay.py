"""Record a finished run's skill calls; replay a (changed) workflow against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.errors import BusinessError, TechnicalError
from orchestrator.testing import fake
from orchestrator.toolkit.recording import Recording, RecordingError, record_run
from orchestrator.toolkit.replay import diff_values, replay_workflow

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "workflows" / "hello.yaml"
CREDIT = Path(__file__).parent / "data" / "credit.yaml"
POSTED = {"url": "http://portal/credits", "values": {"txn_no": "TXN-00000042"}}
SENT = {
    "channel": "email",
    "idempotency_key": "k",
    "message_id": "<m@bank.example>",
    "recipients": ["operations@bank.example"],
    "refused": [],
    "status_code": None,
    "sent_at": "2026-05-11T08:00:00+00:00",
}
INPUTS = {"reference": "REF-7", "amount": "250.50"}


def _recorded(workflow_runner, workflow: Path = CREDIT, inputs=INPUTS, fakes=None) -> Recording:
    if fakes is None:
        fakes = {"do.browser.submit_form": POSTED, "speak.notify": SENT}
    run = workflow_runner.run(workflow, inputs, fakes=fakes)
    return record_run(workflow_runner.store, run.run_id)


def _changed(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / source.name
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_a_recording_holds_every_call_in_order_and_survives_a_file(workflow_runner, tmp_path: Path) -> None:
    recording = _recorded(workflow_runner)
    recording.save(tmp_path / "run.json")
    loaded = Recording.load(tmp_path / "run.json")

    assert [(c.step_id, c.skill, c.status, c.attempts) for c in loaded.calls] == [
        ("check", "think.require", "done", 1),
        ("post", "do.browser.submit_form", "done", 1),
        ("notify", "speak.notify", "done", 1),
    ]
    assert loaded.calls[1].params["fields"]["Amount"] == recording.calls[1].params["fields"]["Amount"]
    assert str(loaded.calls[1].params["fields"]["Amount"]) == "250.50"
    assert loaded.workflow_source == CREDIT.read_text(encoding="utf-8")
    assert loaded.status == "done"


def test_the_unchanged_workflow_replays_cleanly(workflow_runner) -> None:
    report = replay_workflow(CREDIT, _recorded(workflow_runner), registry=workflow_runner.registry)

    report.assert_ok()
    assert (report.calls_matched, report.calls_recorded, report.status) == (3, 3, "done")


def test_the_fixture_records_and_replays_in_one_test(workflow_runner) -> None:
    run = workflow_runner.run(HELLO, {"amount": "42.00"})

    report = workflow_runner.replay(HELLO, workflow_runner.record(run))

    report.assert_ok()
    assert report.calls_matched == 5


def test_changed_arguments_are_shown_as_a_diff_at_their_step(workflow_runner, tmp_path: Path) -> None:
    recording = _recorded(workflow_runner)
    changed = _changed(tmp_path, CREDIT, "Beneficiary name: Zhang San", "Beneficiary name: Li Si")

    report = replay_workflow(changed, recording, registry=workflow_runner.registry)

    assert not report.ok
    (mismatch,) = report.mismatches
    assert (mismatch.kind, mismatch.step) == ("arguments", "post")
    assert mismatch.differences == ['fields.Beneficiary name: expected "Zhang San", got "Li Si"']
    text = report.format()
    assert "call #2: step post (do.browser.submit_form) is called with other arguments than recorded" in text
    assert 'fields.Beneficiary name: expected "Zhang San", got "Li Si"' in text
    with pytest.raises(AssertionError, match="Beneficiary name"):
        report.assert_ok()


def test_a_different_order_names_both_steps(workflow_runner, tmp_path: Path) -> None:
    recording = _recorded(
        workflow_runner, HELLO, {"amount": "10"}, {"do.write_file": {"path": "p", "sha256": "s", "size": 1}}
    )
    text = HELLO.read_text(encoding="utf-8")
    fee = text[text.index("  - id: fee") : text.index("  - id: check")]
    check = text[text.index("  - id: check") : text.index("  - id: journal")]
    swapped = tmp_path / "hello.yaml"
    swapped.write_text(text.replace(fee + check, check + fee), encoding="utf-8")

    report = replay_workflow(swapped, recording, registry=workflow_runner.registry)

    assert [m.kind for m in report.mismatches] == ["order"]
    assert report.mismatches[0].message == (
        "call #1: the recording has step fee (think.evaluate) next, the workflow now calls step check (think.require)"
    )


def test_calls_no_longer_made_and_calls_not_recorded_are_reported(workflow_runner, tmp_path: Path) -> None:
    recording = _recorded(workflow_runner)

    skipped = _changed(tmp_path, CREDIT, "if: ${{ inputs.notify }}", "if: false")
    report = replay_workflow(skipped, recording, registry=workflow_runner.registry)
    assert [m.kind for m in report.mismatches] == ["missing_calls", "outputs"]
    assert (
        report.mismatches[0].message
        == "the workflow no longer makes 1 recorded call(s): notify (speak.notify)"
    )
    assert report.mismatches[1].differences == ['outputs.notified: expected "<m@bank.example>", got null']

    extra_step = "  - id: again\n    uses: think.evaluate\n    with: {value: 1}\noutputs:"
    extra = _changed(tmp_path, CREDIT, "outputs:", extra_step)
    report = replay_workflow(extra, recording, registry=workflow_runner.registry)
    assert [m.kind for m in report.mismatches] == ["extra_call"]
    assert "step again calls think.evaluate, but the recording has no more calls" in report.format()


def test_a_parked_run_replays_its_business_error(workflow_runner) -> None:
    refused = fake(raises=BusinessError("Reference already posted", code="duplicate"))
    recording = _recorded(workflow_runner, fakes={"do.browser.submit_form": refused})
    assert recording.status == "needs_review"

    report = replay_workflow(CREDIT, recording, registry=workflow_runner.registry)

    report.assert_ok()
    assert report.status == "needs_review"


def test_a_run_that_failed_after_retries_replays_with_the_same_attempts(workflow_runner) -> None:
    down = fake(raises=TechnicalError("portal down", applied=False))
    recording = _recorded(workflow_runner, fakes={"do.browser.submit_form": down})
    post = recording.calls[1]
    assert (post.status, post.attempts, len(post.retries)) == ("failed", 4, 3)
    assert post.retries[0] == {"attempt": 1, "error": "TechnicalError: portal down"}

    report = replay_workflow(CREDIT, recording, registry=workflow_runner.registry)

    report.assert_ok()
    assert report.status == "failed"


def test_secrets_stay_masked_in_the_recording_and_replay_still_matches(
    workflow_runner, tmp_path: Path
) -> None:
    workflow = tmp_path / "secret.yaml"
    workflow.write_text(
        "name: secret\nsteps:\n  - id: token\n    uses: think.evaluate\n"
        "    with: {value: 'Bearer ${{ secrets.portal_token }}'}\n",
        encoding="utf-8",
    )
    workflow_runner.secrets["portal_token"] = "s3cr3t-value-123"
    recording = _recorded(workflow_runner, workflow, {}, fakes={})
    recording.save(tmp_path / "secret.json")

    assert "s3cr3t-value-123" not in (tmp_path / "secret.json").read_text(encoding="utf-8")
    assert recording.calls[0].params == {"value": "Bearer ***"}
    replay_workflow(workflow, recording, registry=workflow_runner.registry).assert_ok()


def test_only_finished_runs_are_recorded_and_bad_files_are_named(workflow_runner, tmp_path: Path) -> None:
    loaded = workflow_runner.load(HELLO)
    pending = workflow_runner.store.create_run("pending-run", "hello-ledger", loaded.digest, {})
    with pytest.raises(RecordingError, match="run pending-run is pending: only a finished run"):
        record_run(workflow_runner.store, pending.id)

    (tmp_path / "bad.json").write_text('{"calls": [', encoding="utf-8")
    with pytest.raises(RecordingError, match=r"bad.json:1:\d+: not JSON"):
        Recording.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(RecordingError, match="expected a recording of format 'rpa-recording/1'"):
        Recording.load(tmp_path / "other.json")


def test_diff_lists_every_difference_by_path() -> None:
    assert diff_values({"a": 1, "b": {"c": [1, 2]}, "d": "x"}, {"a": 1, "b": {"c": [1, 3]}, "e": True}) == [
        "b.c[1]: expected 2, got 3",
        'd: expected "x", now missing',
        "e: not in the recording, now true",
    ]


def test_rpa_record_and_replay_on_the_command_line(run_rpa, tmp_path: Path) -> None:
    workflow = tmp_path / "hello.yaml"
    workflow.write_text(HELLO.read_text(encoding="utf-8"), encoding="utf-8")
    home = ["--home", str(tmp_path / "home")]
    ran = run_rpa(*home, "run", "hello.yaml", "--json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(ran.stdout)["run_id"]

    recorded = run_rpa(*home, "record", run_id[:8], "-o", "run.json", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    assert "5 skill call(s)" in recorded.stderr

    same = run_rpa("replay", "hello.yaml", "run.json", cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "5 of 5 recorded call(s) matched" in same.stdout

    workflow.write_text(
        HELLO.read_text(encoding="utf-8").replace("* 0.001, 2", "* 0.002, 2"), encoding="utf-8"
    )
    changed = run_rpa("replay", "hello.yaml", "run.json", cwd=tmp_path)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "call #1: step fee (think.evaluate) is called with other arguments than recorded" in changed.stdout
    assert "value: expected 12.35, got 24.69" in changed.stdout


def test_a_persons_correction_is_resumed_recorded_and_replayed(workflow_runner, tmp_path: Path) -> None:
    workflow = tmp_path / "words.yaml"
    workflow.write_text(
        "name: words\ninputs:\n  words: {type: string}\n  amount: {type: decimal}\nsteps:\n"
        "  - id: check\n    uses: think.check_amount\n"
        "    with: {words: '${{ inputs.words }}', figure: '${{ inputs.amount }}', raise_on_problem: true}\n",
        encoding="utf-8",
    )
    parked = workflow_runner.run(workflow, {"words": "人民币壹仟元整", "amount": "1200.00"})
    parked.assert_parked("the words say 1000.00", step="check")

    workflow_runner.store.reopen_run(
        parked.run_id,
        actor="operator",
        action="resume",
        step_id="check",
        overrides={"check": {"words": "人民币壹仟贰佰元整"}},
    )
    resumed = workflow_runner.resume(parked)

    resumed.assert_done()
    resumed.assert_step("check", "done", attempts=2, params={"words": "人民币壹仟贰佰元整"})
    recording = workflow_runner.record(resumed)
    assert recording.overrides == {"check": {"words": "人民币壹仟贰佰元整"}}
    workflow_runner.replay(workflow, recording).assert_ok()
