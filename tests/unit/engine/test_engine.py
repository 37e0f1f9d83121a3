"""Engine behaviour on every store backend: checkpoints, retries, errors, recovery, fencing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import engine_probes as probes
import pytest

from orchestrator.enums import RunStatus, StepStatus
from orchestrator.errors import LeaseLostError
from orchestrator.models import SINGLE, StepRecord

PIPELINE = """
name: pipeline
inputs:
  amount: {type: decimal}
  names: {type: list, default: [a, b, c]}
steps:
  - id: first
    uses: think.probe
    with: {name: first, amount: "${{ inputs.amount }}"}
  - id: each
    uses: think.probe
    foreach: ${{ inputs.names }}
    with: {name: "each-${{ item }}"}
  - id: double
    uses: think.evaluate
    with: {value: "${{ steps.first.amount * 2 }}"}
outputs:
  doubled: ${{ steps.double.value }}
  count: ${{ len(steps.each.items) }}
"""


def test_runs_every_step_and_checkpoints_each(harness) -> None:
    outcome = harness.run(PIPELINE, {"amount": "100.10"})
    assert outcome.status is RunStatus.done
    assert outcome.outputs == {"doubled": Decimal("200.20"), "count": 3}
    steps = harness.store.get_steps(outcome.run_id)
    assert [(s.step_id, s.item_index, s.status) for s in steps] == [
        ("first", SINGLE, StepStatus.done),
        ("each", 0, StepStatus.done),
        ("each", 1, StepStatus.done),
        ("each", 2, StepStatus.done),
        ("double", SINGLE, StepStatus.done),
    ]
    assert harness.store.get_run(outcome.run_id).outputs == {"doubled": Decimal("200.20"), "count": 3}
    assert harness.store.verify_audit().ok


def test_the_last_steps_checkpoint_commits_with_the_runs_outcome(harness) -> None:
    seen: list[tuple[str, int]] = []
    save_step = harness.store.save_step

    def spy(fence, step, audit=None):
        seen.append((step.step_id, step.item_index))
        return save_step(fence, step, audit)

    harness.store.save_step = spy
    outcome = harness.run(PIPELINE, {"amount": "1.00"})
    assert outcome.status is RunStatus.done
    # every checkpoint but the last was a transaction of its own; the last one is in finish_run
    assert ("double", SINGLE) not in seen
    assert ("each", 2) in seen
    done = harness.store.get_steps(outcome.run_id)[-1]
    assert (done.step_id, done.status, done.output) == ("double", StepStatus.done, {"value": Decimal("2.00")})
    kinds = [e.kind for e in harness.store.audit_events(run_id=outcome.run_id)]
    assert kinds.count("step_done") == 5
    assert kinds.count("run_done") == 1
    assert harness.store.verify_audit().ok


def test_resume_skips_done_steps_and_restores_typed_outputs(harness) -> None:
    executor = harness.executor()
    run = executor.create_run(harness.workflow(PIPELINE), {"amount": "7.50"})
    fence = harness.store.acquire_run(run.id, "dead-runner", harness.clock.now() + timedelta(seconds=30))
    # a runner finished 'first' and element 0 of 'each', then died
    for step_id, index, output in (
        ("first", SINGLE, {"calls": 1, "amount": Decimal("7.50"), "echo": "first"}),
        ("each", 0, {"calls": 1, "amount": None, "echo": "each-a"}),
    ):
        harness.store.save_step(
            fence,
            StepRecord(
                run.id, step_id, index, StepStatus.done, "think.probe", "none", attempts=1, output=output
            ),
        )
    outcome = asyncio.run(executor.execute(run.id, force=True))
    assert outcome.status is RunStatus.done
    assert outcome.outputs["doubled"] == Decimal("15.00")
    assert probes.CALLS == {"each-b": 1, "each-c": 1}  # nothing done ran again


def test_technical_errors_are_retried_with_jittered_backoff(harness) -> None:
    outcome = harness.run("""
        name: flaky
        steps:
          - id: call
            uses: think.probe
            retry: {max_attempts: 4, initial_interval: 2s, backoff_coefficient: 3, max_interval: 10s}
            with: {name: flaky, fail_times: 3}
    """)
    assert outcome.status is RunStatus.done
    (step,) = harness.store.get_steps(outcome.run_id)
    assert step.attempts == 4
    assert len(harness.clock.sleeps) == 3
    for delay, ceiling in zip(harness.clock.sleeps, [2, 6, 10], strict=True):
        assert 0 <= delay <= ceiling
    retries = harness.store.audit_events(run_id=outcome.run_id, kind="step_retrying")
    assert [e.payload["attempt"] for e in retries] == [1, 2, 3]


def test_exhausted_retries_fail_the_run(harness) -> None:
    outcome = harness.run("""
        name: broken
        steps:
          - id: call
            uses: think.probe
            retry: {max_attempts: 2, initial_interval: 1s}
            with: {name: broken, fail_times: 9}
    """)
    assert outcome.status is RunStatus.failed
    assert "failed after 2 attempt(s)" in outcome.reason
    assert probes.CALLS["broken"] == 2


def test_business_error_parks_without_retry(harness) -> None:
    outcome = harness.run("""
        name: bad-data
        steps:
          - id: check
            uses: think.probe
            with: {name: check, business: "amount words do not match the figure"}
          - id: never
            uses: think.probe
            with: {name: never}
    """)
    assert outcome.status is RunStatus.needs_review
    assert outcome.reason_code == "probe_business"
    run = harness.store.get_run(outcome.run_id)
    assert run.parked_step == "check"
    assert "amount words do not match the figure" in run.reason
    assert probes.CALLS == {"check": 1}


def test_on_error_continue_and_manual(harness) -> None:
    outcome = harness.run("""
        name: policies
        steps:
          - id: optional
            uses: think.probe
            on_error: continue
            retry: {max_attempts: 1}
            with: {name: optional, fail_times: 5}
          - id: after
            uses: think.probe
            with: {name: after}
          - id: escalate
            uses: think.probe
            on_error: manual
            retry: {max_attempts: 2}
            with: {name: escalate, fail_times: 5}
    """)
    assert outcome.status is RunStatus.needs_review
    assert outcome.reason_code == "technical_error"
    statuses = {s.step_id: s.status for s in harness.store.get_steps(outcome.run_id)}
    assert statuses == {
        "optional": StepStatus.failed,
        "after": StepStatus.done,
        "escalate": StepStatus.needs_review,
    }


def test_timeout_is_a_retried_technical_error(harness) -> None:
    outcome = harness.run("""
        name: slow
        steps:
          - id: call
            uses: think.probe
            timeout: 50ms
            retry: {max_attempts: 2, initial_interval: 1s}
            with: {name: slow, sleep: 5}
    """)
    assert outcome.status is RunStatus.failed
    assert "SkillTimeout" in outcome.reason


ONCE = """
name: post
steps:
  - id: post
    uses: {skill}
    platform: ledger
    with: {{name: post, fail_times: {fail}, applied: {applied}}}
"""


def test_once_step_adopts_an_effect_that_reached_the_platform(harness) -> None:
    outcome = harness.run(ONCE.format(skill="do.probe_post", fail=1, applied="null"))
    assert outcome.status is RunStatus.done
    (step,) = harness.store.get_steps(outcome.run_id)
    assert step.adopted
    assert probes.CALLS["post"] == 1  # verified, never repeated
    assert len(probes.PLATFORM) == 1


def test_once_step_refused_before_sending_is_retried(harness) -> None:
    outcome = harness.run(ONCE.format(skill="do.probe_post_blind", fail=1, applied="false"))
    assert outcome.status is RunStatus.done
    assert probes.CALLS["post"] == 2


def test_once_step_without_verify_is_parked_in_doubt(harness) -> None:
    outcome = harness.run(ONCE.format(skill="do.probe_post_blind", fail=1, applied="null"))
    assert outcome.status is RunStatus.needs_review
    assert outcome.reason_code == "in_doubt"
    assert outcome.reason.startswith("in doubt at step post on platform ledger")
    assert probes.CALLS["post"] == 1


def test_crash_inside_a_once_step_is_verified_on_resume(harness) -> None:
    executor = harness.executor()
    run = executor.create_run(harness.workflow(ONCE.format(skill="do.probe_post", fail=0, applied="null")))
    fence = harness.store.acquire_run(run.id, "dead-runner", harness.clock.now())
    harness.store.save_step(
        fence,
        StepRecord(
            run.id,
            "post",
            SINGLE,
            StepStatus.started,
            "do.probe_post",
            "once",
            attempts=1,
            idempotency_key=f"{run.id}:post",
        ),
    )
    probes.PLATFORM[f"{run.id}:post"] = {"name": "post"}  # the dead runner's posting did arrive
    outcome = asyncio.run(executor.execute(run.id, force=True))
    assert outcome.status is RunStatus.done
    assert probes.CALLS == {}
    assert harness.store.get_steps(run.id)[0].adopted


def test_crash_inside_a_blind_once_step_is_parked_on_resume(harness) -> None:
    executor = harness.executor()
    run = executor.create_run(
        harness.workflow(ONCE.format(skill="do.probe_post_blind", fail=0, applied="null"))
    )
    fence = harness.store.acquire_run(run.id, "dead-runner", harness.clock.now())
    harness.store.save_step(
        fence,
        StepRecord(run.id, "post", SINGLE, StepStatus.started, "do.probe_post_blind", "once", attempts=1),
    )
    outcome = asyncio.run(executor.execute(run.id, force=True))
    assert outcome.status is RunStatus.needs_review
    assert outcome.reason.startswith("in doubt at step post on platform ledger")
    assert probes.CALLS == {}


def test_a_runner_that_lost_its_lease_cannot_checkpoint(harness) -> None:
    executor = harness.executor()
    run = executor.create_run(harness.workflow(PIPELINE), {"amount": "1"})
    stale = harness.store.acquire_run(run.id, "old-runner", harness.clock.now() + timedelta(seconds=1))
    harness.store.acquire_run(run.id, "new-runner", harness.clock.now() + timedelta(seconds=30), force=True)
    with pytest.raises(LeaseLostError):
        harness.store.save_step(
            stale, StepRecord(run.id, "first", SINGLE, StepStatus.done, "think.probe", "none")
        )
    assert harness.store.get_steps(run.id) == []


def _slow_run_with_a_short_lease(harness):
    """An executor whose lease heartbeat comes every 0.1 s, and a run of one 60 s step."""
    from orchestrator.engine import EngineConfig, RunExecutor

    executor = RunExecutor(
        harness.store,
        harness.registry,
        config=EngineConfig(lease=timedelta(seconds=0.3), work_dir=harness.tmp_path),
        clock=harness.clock,
    )
    workflow = harness.workflow(
        """
        name: slow
        steps:
          - id: wait
            uses: think.probe
            with: {name: wait, sleep: 60}
        """
    )
    return executor, executor.create_run(workflow, {})


def test_a_run_whose_lease_is_taken_mid_step_stops_at_the_next_heartbeat(harness) -> None:
    executor, run = _slow_run_with_a_short_lease(harness)

    async def run_and_steal() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(
            0.05,
            lambda: harness.store.acquire_run(
                run.id, "thief", harness.clock.now() + timedelta(seconds=30), force=True
            ),
        )
        # the heartbeat (every 0.1 s) finds the lease gone and stops the 60 s step
        await asyncio.wait_for(executor.execute(run.id), timeout=20)

    with pytest.raises(LeaseLostError):
        asyncio.run(run_and_steal())
    assert probes.CALLS["wait"] == 1
    assert harness.store.get_steps(run.id) == []
    assert harness.store.get_run(run.id).owner == "thief"


def test_a_bug_while_extending_the_lease_is_raised_as_itself(harness, monkeypatch) -> None:
    """Not swallowed as a cancellation (which a runner would take for a stop and leave the item
    to its lease's expiry): the runner records it as an internal error."""
    executor, run = _slow_run_with_a_short_lease(harness)

    def broken_extend(*_args: object) -> None:
        raise ZeroDivisionError("a bug in extend_lease")

    monkeypatch.setattr(harness.store, "extend_lease", broken_extend)

    async def execute() -> None:
        await asyncio.wait_for(executor.execute(run.id), timeout=20)

    with pytest.raises(ZeroDivisionError, match="a bug in extend_lease"):
        asyncio.run(execute())
    assert probes.CALLS["wait"] == 1


def test_live_lease_blocks_a_second_runner(harness) -> None:
    executor = harness.executor()
    run = executor.create_run(harness.workflow(PIPELINE), {"amount": "1"})
    harness.store.acquire_run(run.id, "runner-a", harness.clock.now() + timedelta(hours=1))
    with pytest.raises(LeaseLostError, match="held by runner-a"):
        harness.store.acquire_run(run.id, "runner-b", harness.clock.now() + timedelta(seconds=30))


def test_bad_arguments_from_data_park_the_run(harness) -> None:
    outcome = harness.run(
        """
        name: bad-args
        inputs:
          amount: {type: string}
        steps:
          - id: call
            uses: think.probe
            with: {amount: "${{ inputs.amount }}"}
    """,
        {"amount": "12,3x"},
    )
    assert outcome.status is RunStatus.needs_review
    assert outcome.reason_code == "invalid_arguments"
    assert "amount" in outcome.reason


def test_skipped_steps_expose_empty_outputs(harness) -> None:
    outcome = harness.run("""
        name: skip
        steps:
          - id: maybe
            uses: think.probe
            if: false
          - id: after
            uses: think.evaluate
            with: {value: "${{ steps.maybe.calls }}"}
        outputs: {value: "${{ steps.after.value }}"}
    """)
    assert outcome.outputs == {"value": None}
    assert [s.status for s in harness.store.get_steps(outcome.run_id)] == [
        StepStatus.skipped,
        StepStatus.done,
    ]


def test_a_timed_out_threaded_once_call_is_awaited_not_repeated(harness) -> None:
    outcome = harness.run("""
        name: slow-post
        steps:
          - id: post
            uses: do.probe_slow_post
            timeout: 50ms
            with: {name: slow, sleep: 0.4}
    """)
    assert outcome.status is RunStatus.done
    (step,) = harness.store.get_steps(outcome.run_id)
    assert step.output["echo"] == "late but done"  # its real, late result
    assert probes.CALLS == {"slow": 1}
    assert len(probes.PLATFORM) == 1


def test_verify_waits_out_an_attempt_of_a_runner_that_may_be_alive(harness) -> None:
    executor = harness.executor()
    run = executor.create_run(harness.workflow(ONCE.format(skill="do.probe_post", fail=0, applied="null")))
    other_host = "another-host:4242:abcdef"  # cannot be checked from here: assumed alive
    fence = harness.store.acquire_run(run.id, other_host, harness.clock.now())
    harness.store.save_step(
        fence,
        StepRecord(
            run.id,
            "post",
            SINGLE,
            StepStatus.started,
            "do.probe_post",
            "once",
            attempts=1,
            started_at=harness.clock.now(),
        ),
    )
    outcome = asyncio.run(executor.execute(run.id, force=True))
    assert outcome.status is RunStatus.done
    # the default step timeout is 10 minutes: verify only after that attempt could no longer land
    assert harness.clock.sleeps
    assert harness.clock.sleeps[0] >= 600


def test_declared_resources_are_held_exclusively_within_a_process() -> None:
    from orchestrator.engine.resources import ResourceLocks

    locks = ResourceLocks({"desktop": 1, "printer": 2})
    inside: list[str] = []
    overlaps: list[int] = []

    async def use(name: str, needs: dict[str, int]) -> None:
        async with locks.hold(needs):
            inside.append(name)
            overlaps.append(len(inside))
            await asyncio.sleep(0.01)
            inside.remove(name)

    async def scenario() -> None:
        await asyncio.gather(*(use(f"d{i}", {"desktop": 1}) for i in range(4)))
        assert max(overlaps) == 1
        overlaps.clear()
        await asyncio.gather(*(use(f"p{i}", {"printer": 1}) for i in range(4)))
        assert max(overlaps) == 2

    asyncio.run(scenario())


def _manual(harness):
    from orchestrator.queue.manual import ManualQueue
    from orchestrator.queue.store import SQLWorkQueue

    return ManualQueue(harness.store, SQLWorkQueue(harness.store), harness.registry)


FAILING = """
name: failing
steps:
  - id: post
    uses: {skill}
    retry: {{max_attempts: 2, initial_interval: 1s}}
    with: {{name: post, fail_times: 2, applied: false}}
"""


def test_a_person_retries_a_failed_run_once_the_platform_is_back(harness) -> None:
    executor = harness.executor()
    failed = harness.run(FAILING.format(skill="think.probe"))
    assert failed.status is RunStatus.failed
    _manual(harness).retry(failed.run_id, "bob", "the clearing terminal is back")
    assert harness.store.get_run(failed.run_id).status is RunStatus.pending
    outcome = asyncio.run(executor.execute(failed.run_id))
    assert outcome.status is RunStatus.done
    assert probes.CALLS["post"] == 3
    (retry,) = harness.store.audit_events(run_id=failed.run_id, kind="manual_retry")
    assert (retry.actor, retry.payload["note"]) == ("bob", "the clearing terminal is back")


def test_a_retried_failed_payment_asks_the_platform_first(harness) -> None:
    """Failed means "not applied" when it failed; by the retry the payment may be there (keyed
    by hand, or a late delivery): the verify finds it and it is not keyed twice."""
    executor = harness.executor()
    failed = harness.run(FAILING.format(skill="do.probe_post"))
    assert failed.status is RunStatus.failed
    assert probes.CALLS["post"] == 2
    probes.PLATFORM[f"{failed.run_id}:post"] = {"name": "keyed by hand"}
    _manual(harness).retry(failed.run_id, "bob")
    outcome = asyncio.run(executor.execute(failed.run_id))
    assert outcome.status is RunStatus.done
    assert probes.CALLS["post"] == 2  # adopted, not posted again
    (step,) = harness.store.get_steps(failed.run_id)
    assert step.adopted


def test_a_retried_failed_payment_without_a_verify_waits_for_a_person(harness) -> None:
    executor = harness.executor()
    failed = harness.run(FAILING.format(skill="do.probe_post_blind"))
    assert failed.status is RunStatus.failed
    _manual(harness).retry(failed.run_id, "bob")
    outcome = asyncio.run(executor.execute(failed.run_id))
    assert outcome.status is RunStatus.needs_review
    assert outcome.reason_code == "in_doubt"
    assert probes.CALLS["post"] == 2
    _manual(harness).retry(failed.run_id, "bob", "checked: not on the platform")  # as the person decided
    assert asyncio.run(executor.execute(failed.run_id)).status is RunStatus.done
    assert probes.CALLS["post"] == 3


def test_a_failed_run_can_be_rejected_with_a_reason_but_not_twice(harness) -> None:
    from orchestrator.queue.manual import ManualActionError

    failed = harness.run(FAILING.format(skill="think.probe"))
    _manual(harness).reject(failed.run_id, "bob", "the customer cancelled the instruction")
    run = harness.store.get_run(failed.run_id)
    assert (run.status, run.reason) == (RunStatus.rejected, "the customer cancelled the instruction")
    with pytest.raises(ManualActionError, match="already rejected"):
        _manual(harness).reject(failed.run_id, "bob", "again")
    with pytest.raises(ManualActionError, match="not waiting for a person"):
        _manual(harness).retry(failed.run_id, "bob")
