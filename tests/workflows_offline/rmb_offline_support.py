"""Shared pieces of the offline RMB workflow tests: workflows, fakes of the platforms, messages.

The portal and the reporting platform are replaced by fakes that answer the way the real ones
do (``TXN-`` numbers, ``RPT-`` ids) and record what they were asked; everything else runs for
real: parsing, identifier checks, screening against the real SDN snapshot, routing with the
repository's ``config/routing.yaml``, pacs.002/pacs.008 writing. The sanctions list is loaded
once per session and shared by the runs (loading it takes a second or two per run otherwise).
"""

from __future__ import annotations

import dataclasses
import itertools
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from orchestrator.plugin import ServiceSpec
from orchestrator.registry import SkillRegistry
from orchestrator.testing import WorkflowRunner
from skills.think.check_skills import DEFAULT_SANCTIONS_LIST

ROOT = Path(__file__).resolve().parents[2]
INBOUND = ROOT / "workflows" / "rmb_inbound.yaml"
OUTBOUND = ROOT / "workflows" / "rmb_outbound.yaml"
STATUS = ROOT / "workflows" / "rmb_status.yaml"
SDN = DEFAULT_SANCTIONS_LIST  # the snapshot shipped with the package


def require_sanctions_list() -> None:
    if not (SDN / "sdn.csv").is_file():
        pytest.skip(f"the OFAC SDN snapshot is missing ({SDN / 'sdn.csv'}), so names cannot be screened")


@cache
def registry() -> SkillRegistry:
    """Every installed skill; the sanctions list service hands out one screener, loaded once."""
    from skills.think.check_skills import sanctions_list

    installed = SkillRegistry.from_entry_points()
    screener = sanctions_list({})
    services = {
        **installed.services,
        "sanctions_list": ServiceSpec("sanctions_list", lambda _settings: screener),
    }
    return dataclasses.replace(installed, services=services)


def runner(tmp_path: Path) -> WorkflowRunner:
    require_sanctions_list()
    return WorkflowRunner(tmp_path / "work", registry=registry())


class FakePortal:
    """``do.browser.submit_form`` answering as the example portal does; keeps what was posted."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1)
        self.posted: list[dict[str, Any]] = []

    def __call__(self, ctx: Any, params: Any) -> dict[str, Any]:
        txn_no = f"TXN-{next(self.numbers):08d}"
        self.posted.append({"txn_no": txn_no, **params.fields})
        return {"url": "http://portal.test/credits", "values": {"txn_no": txn_no}, "found_by_lookup": False}


class FakeReporting:
    """``do.http_post`` to ``/api/reports`` answering 201 with a report id; keeps the bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, ctx: Any, params: Any) -> dict[str, Any]:
        self.bodies.append(params.json_body)
        report_id = f"RPT-{len(self.bodies):08d}"
        return {"status": 201, "found": True, "json_body": {"report_id": report_id}, "text": ""}


def write_messages(folder: Path, messages: list[Any]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for message in messages:
        path = folder / message.file_name
        path.write_bytes(message.content)
        paths[message.file_name] = path
    return paths
