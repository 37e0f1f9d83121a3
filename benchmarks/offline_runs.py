"""Benchmark: what an offline workflow test costs, against the same run on the real portal.

Usage: ``python benchmarks/offline_runs.py [--offline N] [--real M]``

Runs the tutorial's workflow (think.check_amount → do.browser.submit_form → speak.notify) on
the real engine with ``WorkflowRunner``, in the same process:

- **offline**: ``do.browser.submit_form`` and ``speak.notify`` faked (what a workflow test
  does); every run on the runner's SQLite store;
- **real**: the same runner and store, ``do.browser.submit_form`` for real against the example
  portal (Chromium started per run, as a test would), ``speak.notify`` faked (no mail server).

Offline and real runs alternate so that load from other processes falls on both. Prints the
median milliseconds per run and the last line ``ratio=<real ms / offline ms>`` (how many
offline tests fit in the time of one real run). Exits 1 if the portal does not hold exactly one
credit per real run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from examples.platforms.launch import run_platform
from orchestrator.testing import WorkflowRunner

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
POSTED = {"url": "http://portal/credits", "values": {"txn_no": "TXN-00000042"}}
SENT = {
    "channel": "email",
    "idempotency_key": "key",
    "message_id": "<m1@bank.example>",
    "recipients": ["operations@bank.example"],
    "refused": [],
    "status_code": None,
    "sent_at": "2026-05-11T08:00:00+00:00",
}


def workflow_text() -> str:
    """The tutorial's credit.yaml, taken from docs/tutorial.md so the two cannot drift apart."""
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    start = text.index("<!-- tutorial-file: credit.yaml -->")
    body = text[text.index("```yaml\n", start) + len("```yaml\n") :]
    return body[: body.index("```")]


def inputs(reference: str) -> dict[str, str]:
    return {
        "reference": reference,
        "account": "6222020200112233",
        "beneficiary": "Zhang San",
        "amount": "250.50",
        "amount_in_words": "人民币贰佰伍拾元伍角整",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", type=int, default=30, help="offline runs")
    parser.add_argument("--real", type=int, default=5, help="runs against the real portal")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} for the real runs", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder, run_platform("portal", data_dir=Path(folder)) as portal:
        workflow = Path(folder) / "credit.yaml"
        workflow.write_text(workflow_text(), encoding="utf-8")
        platforms = {
            "portal": {"base_url": portal.base_url, "login": {"username": "bot", "password_secret": "pw"}}
        }
        runner = WorkflowRunner(Path(folder) / "work", secrets={"pw": "bot-password"}, platforms=platforms)
        offline_ms: list[float] = []
        real_ms: list[float] = []
        per_real = max(1, args.offline // max(1, args.real))
        runner.run(
            workflow, inputs("WARM-UP"), fakes={"do.browser.submit_form": POSTED, "speak.notify": SENT}
        )
        for round_number in range(args.real):
            for index in range(per_real):
                t0 = time.perf_counter()
                run = runner.run(
                    workflow,
                    inputs(f"OFF-{round_number}-{index}"),
                    fakes={"do.browser.submit_form": POSTED, "speak.notify": SENT},
                )
                offline_ms.append((time.perf_counter() - t0) * 1000)
                run.assert_done()
            t0 = time.perf_counter()
            run = runner.run(workflow, inputs(f"REAL-{round_number}"), fakes={"speak.notify": SENT})
            real_ms.append((time.perf_counter() - t0) * 1000)
            run.assert_done()
        runner.close()
        credits = httpx.get(f"{portal.base_url}/api/credits").json()
    posted = sorted(c["reference"] for c in credits)
    expected = sorted(f"REAL-{n}" for n in range(args.real))
    offline = statistics.median(offline_ms)
    real = statistics.median(real_ms)
    print(f"offline (browser and mail faked): {len(offline_ms)} runs, median {offline:.1f} ms/run")
    print(f"real portal (Chromium per run):   {len(real_ms)} runs, median {real:.1f} ms/run")
    print(f"portal credits: {len(posted)} (expected {len(expected)})")
    print(f"ratio={real / offline:.1f}")
    return 0 if posted == expected else 1


if __name__ == "__main__":
    sys.exit(main())
