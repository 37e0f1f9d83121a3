"""Failure screenshots and other evidence of a run, found in the evidence folder and checked.

A run's evidence is (a) every file recorded in its ``step_*`` audit events (name and SHA-256;
the file is ``<name>-<sha12><ext>``) and (b) files whose name starts with the run id (what
``ctx.save_evidence`` writes) that no event recorded — e.g. a screenshot of the attempt that
parked the run. Only those files can be served, only from the evidence folder itself (no
sub-folders, no symbolic links), and only images are shown inline.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.dashboard.models import AuditView, EvidenceView

SAFE_FILE = re.compile(r"[A-Za-z0-9._-]{1,200}")
SAFE_RUN = re.compile(r"[A-Za-z0-9_-]{1,64}")
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{12})\.[A-Za-z0-9]+$")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class EvidenceFile:
    view: EvidenceView
    path: Path


class EvidenceFolder:
    """The ``<home>/evidence`` folder, read-only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _inside(self, name: str) -> Path | None:
        if not SAFE_FILE.fullmatch(name) or name.startswith("."):
            return None
        path = self.root / name
        try:
            if path.is_symlink() or not path.is_file():
                return None
            if not path.resolve().is_relative_to(self.root.resolve()):
                return None
        except OSError:
            return None
        return path

    def for_run(self, run_id: str, audit: list[AuditView]) -> list[EvidenceFile]:
        if not SAFE_RUN.fullmatch(run_id) or not self.root.is_dir():
            return []
        found: dict[str, EvidenceFile] = {}
        for event in audit:
            payload = event.payload if isinstance(event.payload, dict) else {}
            for ref in payload.get("evidence") or []:
                sha = str(ref.get("sha256", ""))
                if not re.fullmatch(r"[0-9a-f]{64}", sha):
                    continue
                for candidate in sorted(self.root.glob(f"*-{sha[:12]}.*")):
                    path = self._inside(candidate.name)
                    if path is None or path.name in found:
                        continue
                    found[path.name] = self._describe(
                        run_id, path, str(ref.get("name", path.name)), event.step_id, sha
                    )
        for candidate in sorted(self.root.glob(f"{run_id}-*")):
            path = self._inside(candidate.name)
            if path is not None and path.name not in found:
                found[path.name] = self._describe(run_id, path, path.name, None, None)
        return list(found.values())

    def _describe(
        self, run_id: str, path: Path, name: str, step_id: str | None, sha: str | None
    ) -> EvidenceFile:
        actual = _sha256(path)
        if sha is not None:
            verified = actual == sha
        else:  # unrecorded: the file name carries the first 12 hex digits of its content hash
            match = _HASH_IN_NAME.search(path.name)
            verified = bool(match) and actual.startswith(match.group(1))  # type: ignore[union-attr]
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        view = EvidenceView(
            file=path.name,
            name=name,
            step_id=step_id,
            sha256=sha,
            verified=verified,
            media_type=media_type,
            size=path.stat().st_size,
            url=f"/evidence/{run_id}/{path.name}",
        )
        return EvidenceFile(view=view, path=path)

    def find(self, run_id: str, file: str, audit: list[AuditView]) -> EvidenceFile | None:
        """The run's evidence file named ``file``, or None when it is not one of the run's."""
        if not SAFE_FILE.fullmatch(file):
            return None
        return next((e for e in self.for_run(run_id, audit) if e.view.file == file), None)
