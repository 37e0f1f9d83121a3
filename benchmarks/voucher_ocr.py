"""Benchmark ``see.voucher`` against raw RapidOCR on the same generated vouchers, in one run.

For each set (clean renders, noisy scans) it generates vouchers with ``examples.vouchers``,
reads every image once with raw rapidocr (the baseline: OCR only, same models, same engine
object) and once with the ``see.voucher`` skill (image loading, seal wash-out, OCR, label
finding, shape checks, pydantic output), alternating which goes first. It prints vouchers per
second of both, per-field exact accuracy of the skill, how many fields were flagged, how many
flags the skill's second look lifted (``--no-reread``: the first pass alone), how many
wrong values were *not* flagged, and the amount safety figure: a voucher's amount is accepted
only when neither amount field is flagged and ``check_amount(words, figure)`` matches, and an
accepted amount that differs from the truth is counted as a wrong amount accepted (target 0).
A third, smaller set of noisy vouchers with defects (wrong 大写, bad accounts and bank codes,
unreadable scans) checks that defective vouchers are stopped.

The last line is ``ratio=<raw_time/framework_time>`` over the clean and noisy sets (>= 0.8
means the framework adds at most 25% to raw OCR).

Usage::

    .venv/bin/python benchmarks/voucher_ocr.py                 # 200 clean + 200 noisy + 40 defects
    .venv/bin/python benchmarks/voucher_ocr.py --count 10 --defect-count 8   # a quick check
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.vouchers.generate import generate
from skills.see.ocr_engine import ocr_service
from skills.see.voucher import voucher
from skills.see.voucher_layouts import FIELD_NAMES
from skills.see.voucher_reader import VoucherReading
from skills.see.voucher_reread import reread_flagged
from skills.testing import run_skill, service_pool
from skills.think.checks.amounts import check_amount

DEFECT_SHARES = {"amount_mismatch": 0.25, "bad_account": 0.25, "bad_bank_code": 0.25, "unreadable": 0.25}


class SecondLook:
    """Stands in for the skill's ``reread_flagged``: notes which flags it lifted, or is off.

    The skill's output does not say which fields the second look unflagged, so the benchmark
    wraps the call (``--no-reread`` measures the first pass alone).
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.lifted: list[str] = []

    def __call__(self, reading: VoucherReading, *args: Any, **kwargs: Any) -> VoucherReading:
        if not self.enabled:
            return reading
        again = reread_flagged(reading, *args, **kwargs)
        self.lifted = [name for name, field in again.fields.items() if field.reread]
        return again


@dataclass
class SetFigures:
    """Counts and timings of one set of vouchers."""

    name: str
    vouchers: int = 0
    raw_seconds: list[float] = field(default_factory=list)
    framework_seconds: list[float] = field(default_factory=list)
    exact: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    reread: Counter[str] = field(default_factory=Counter)
    unflagged_wrong: Counter[str] = field(default_factory=Counter)
    raw_found: Counter[str] = field(default_factory=Counter)
    amounts_accepted: int = 0
    wrong_amounts_accepted: int = 0
    wrong_amounts_stopped: int = 0
    notes: list[str] = field(default_factory=list)
    defects: Counter[str] = field(default_factory=Counter)
    defects_stopped: Counter[str] = field(default_factory=Counter)

    def fields_total(self) -> int:
        return self.vouchers * len(FIELD_NAMES)


def printed_forms(truth: dict[str, str]) -> dict[str, str]:
    """How each true value appears in raw OCR text (for the raw 'text found' reference)."""
    year, month, day = truth["date"].split("-")
    forms = dict(truth)
    forms["date"] = f"{year}年{month}月{day}日"
    forms["amount_figure"] = truth["amount_figure"].replace(".", "")
    return forms


def amount_outcome(result: Any, truth: dict[str, str], has_mismatch_defect: bool) -> tuple[bool, bool]:
    """(accepted, wrong): accepted = both amount fields unflagged and words == figure."""
    words, figure = result.fields["amount_words"], result.fields["amount_figure"]
    accepted = (
        not words.flagged
        and not figure.flagged
        and check_amount(words.value or "", figure.value or "").outcome == "match"
    )
    wrong = (
        figure.value != truth["amount_figure"] or words.value != truth["amount_words"] or has_mismatch_defect
    )
    return accepted, wrong


def measure(folder: Path, figures: SetFigures, pool: Any, second_look: SecondLook) -> None:
    """Read every voucher of ``folder`` with raw rapidocr and with ``see.voucher``."""
    raw_engine = pool.get("ocr").engine
    for index, truth_file in enumerate(sorted(folder.glob("voucher-*.json"))):
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        image = folder / truth["image"]
        order = ("raw", "framework") if index % 2 == 0 else ("framework", "raw")
        for which in order:
            started = time.perf_counter()
            if which == "raw":
                raw_output = raw_engine(str(image))
                figures.raw_seconds.append(time.perf_counter() - started)
            else:
                second_look.lifted = []
                result = run_skill(voucher, {"image": str(image)}, services=pool)
                figures.framework_seconds.append(time.perf_counter() - started)
        figures.vouchers += 1
        if figures.vouchers % 25 == 0:
            print(f"  {figures.name}: {figures.vouchers} read", file=sys.stderr, flush=True)
        raw_text = "".join(raw_output.txts or ()).replace(" ", "")
        for name, form in printed_forms(truth["fields"]).items():
            figures.raw_found[name] += form in raw_text
        defects = truth["defects"]
        for name, expected in truth["fields"].items():
            reading = result.fields[name]
            figures.exact[name] += reading.value == expected
            figures.flagged[name] += reading.flagged
            figures.reread[name] += name in second_look.lifted
            if not reading.flagged and reading.value != expected:
                figures.unflagged_wrong[name] += 1
                figures.notes.append(f"{truth['id']} {name}: read {reading.value!r}, truth {expected!r}")
        accepted, wrong = amount_outcome(result, truth["fields"], "amount_mismatch" in defects)
        figures.amounts_accepted += accepted
        figures.wrong_amounts_accepted += accepted and wrong
        figures.wrong_amounts_stopped += wrong and not accepted
        for defect in defects:
            figures.defects[defect] += 1
            if defect == "amount_mismatch":
                figures.defects_stopped[defect] += not accepted
            elif defect == "unreadable":  # every lost field flagged, no field guessed
                figures.defects_stopped[defect] += all(
                    result.fields[n].flagged for n in truth["lost_fields"]
                ) and all(
                    result.fields[n].flagged or result.fields[n].value == truth["fields"][n]
                    for n in FIELD_NAMES
                )
            else:  # bad account / bank code: read exactly, so the think checks can reject it
                target = "account" if defect == "bad_account" else "bank_code"
                figures.defects_stopped[defect] += all(
                    result.fields[n].value == truth["fields"][n] or result.fields[n].flagged
                    for n in FIELD_NAMES
                    if n.endswith(target)
                )


def percent(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "n/a"


def report(figures: SetFigures) -> None:
    """Print the figures of one set."""
    n = figures.vouchers
    raw_total, fw_total = sum(figures.raw_seconds), sum(figures.framework_seconds)
    print(f"\n== {figures.name}: {n} vouchers ==")
    print(
        f"raw rapidocr : {n / raw_total:.3f} vouchers/s, mean {statistics.fmean(figures.raw_seconds):.3f} s"
        f" (median {statistics.median(figures.raw_seconds):.3f} s)"
    )
    fw_sorted = sorted(figures.framework_seconds)
    p95 = fw_sorted[min(len(fw_sorted) - 1, int(0.95 * len(fw_sorted)))]
    print(
        f"see.voucher  : {n / fw_total:.3f} vouchers/s, mean {statistics.fmean(fw_sorted):.3f} s"
        f" (median {statistics.median(fw_sorted):.3f} s, p95 {p95:.3f} s)"
    )
    print(f"time ratio raw/framework: {raw_total / fw_total:.3f}")
    if figures.defects:
        for defect, count in sorted(figures.defects.items()):
            print(f"defect {defect:16s}: {figures.defects_stopped[defect]}/{count} handled")
    else:
        print(
            f"{'field':16s} {'exact':>8s} {'flagged':>8s} {'reread ok':>9s} {'unflagged wrong':>16s}"
            f" {'raw text found':>15s}"
        )
        for name in FIELD_NAMES:
            print(
                f"{name:16s} {percent(figures.exact[name], n):>8s} {percent(figures.flagged[name], n):>8s}"
                f" {figures.reread[name]:>9d} {figures.unflagged_wrong[name]:>16d}"
                f" {percent(figures.raw_found[name], n):>15s}"
            )
        total = figures.fields_total()
        print(
            f"all fields: exact {percent(sum(figures.exact.values()), total)}, flagged "
            f"{percent(sum(figures.flagged.values()), total)}, unflagged wrong "
            f"{sum(figures.unflagged_wrong.values())} of {total}, unflagged by the second look "
            f"{sum(figures.reread.values())}"
        )
    print(
        f"amounts: {figures.amounts_accepted} accepted, wrong amounts accepted {figures.wrong_amounts_accepted}, "
        f"wrong amounts stopped (flagged or check_amount failed) {figures.wrong_amounts_stopped}"
    )
    for note in figures.notes[:20]:
        print(f"  unflagged wrong: {note}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="vouchers per set (default 200)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sets", default="clean,noisy", help="comma-separated: clean, noisy")
    parser.add_argument("--defect-count", type=int, default=40, help="noisy vouchers with defects (0: skip)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: all cores)")
    parser.add_argument(
        "--keep", type=Path, default=None, help="write the vouchers here instead of a temp dir"
    )
    parser.add_argument(
        "--no-reread", action="store_true", help="first pass only: flagged fields are not read again"
    )
    args = parser.parse_args(argv)
    second_look = SecondLook(enabled=not args.no_reread)
    # The module, not the skill function that skills.see exports under the same name.
    importlib.import_module("skills.see.voucher").reread_flagged = second_look
    pool = service_pool([ocr_service], {"ocr": {"threads": args.threads}})
    with tempfile.TemporaryDirectory(prefix="voucher-bench-") as temp:
        root = args.keep or Path(temp)
        sets = [(name, name, {}) for name in args.sets.split(",") if name]
        if args.defect_count:
            sets.append(("defects (noisy)", "noisy", DEFECT_SHARES))
        folders = []
        for label, noise, shares in sets:
            folder = root / label.split()[0]
            count = args.defect_count if shares else args.count
            generate(count, args.seed, folder, noise=noise, defects=shares)
            folders.append((label, folder))
        warm = next(folders[0][1].glob("voucher-*.json"))
        warm_image = str(folders[0][1] / json.loads(warm.read_text(encoding="utf-8"))["image"])
        pool.get("ocr").engine(warm_image)
        run_skill(voucher, {"image": warm_image}, services=pool)
        print(
            f"seed {args.seed}, {os.cpu_count()} cores, onnxruntime threads {args.threads or 'all'}, "
            f"second look {'off' if args.no_reread else 'on'}"
        )
        results = []
        for label, folder in folders:
            figures = SetFigures(label)
            measure(folder, figures, pool, second_look)
            report(figures)
            sys.stdout.flush()
            results.append(figures)
    pool.close()
    timed = [f for f in results if not f.defects]
    raw_time = sum(sum(f.raw_seconds) for f in timed)
    framework_time = sum(sum(f.framework_seconds) for f in timed)
    print(f"\nwrong amounts accepted, all sets: {sum(f.wrong_amounts_accepted for f in results)}")
    print(f"ratio={raw_time / framework_time:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
