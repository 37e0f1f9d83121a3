"""Run evidence (screenshots, documents) kept as files named by content hash."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

from orchestrator.plugin import EvidenceRef

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FileEvidenceSink:
    """Writes each piece of evidence once under ``root`` (``<name>-<sha12>.<ext>``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def save(self, name: str, data: bytes, media_type: str) -> EvidenceRef:
        digest = hashlib.sha256(data).hexdigest()
        extension = mimetypes.guess_extension(media_type) or ".bin"
        safe = _SAFE.sub("_", name)[:120]
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{safe}-{digest[:12]}{extension}"
        if not path.exists():
            path.write_bytes(data)
        return EvidenceRef(name=name, path=str(path), sha256=digest, media_type=media_type)
