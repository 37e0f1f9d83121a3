"""File skills: read, write (atomically) and append records exactly once."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, TechnicalError, skill
from skills.paths import confine


class WriteFileParams(BaseModel):
    path: str = Field(description="File to write, relative to the work folder or inside a file root.")
    content: str = Field(description="Text to write.")
    encoding: str = Field("utf-8", description="Text encoding.")


class FileResult(BaseModel):
    path: str = Field(description="Absolute path of the file.")
    sha256: str = Field(description="SHA-256 of the file's bytes.")
    size: int = Field(description="Size in bytes.")


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@skill("do.write_file", effect="idempotent")
def write_file(ctx: SkillContext, params: WriteFileParams) -> FileResult:
    """Write a text file atomically (a crash never leaves half a file)."""
    target = confine(ctx, params.path)
    data = params.content.encode(params.encoding)
    try:
        _atomic_write(target, data)
    except OSError as exc:
        raise TechnicalError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return FileResult(path=str(target), sha256=hashlib.sha256(data).hexdigest(), size=len(data))


class ReadFileParams(BaseModel):
    path: str = Field(description="File to read, relative to the work folder or inside a file root.")
    encoding: str = Field("utf-8", description="Text encoding.")


class ReadFileResult(FileResult):
    content: str = Field(description="The file's text.")


@skill("do.read_file", effect="none")
def read_file(ctx: SkillContext, params: ReadFileParams) -> ReadFileResult:
    """Read a text file."""
    target = confine(ctx, params.path)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise BusinessError(f"file {params.path!r} does not exist", code="file_missing") from None
    except OSError as exc:
        raise TechnicalError(f"cannot read {target}: {exc.strerror or exc}") from exc
    try:
        text = data.decode(params.encoding)
    except UnicodeDecodeError as exc:
        raise BusinessError(
            f"file {params.path!r} is not {params.encoding} text: {exc.reason}", code="file_encoding"
        ) from None
    return ReadFileResult(
        path=str(target), sha256=hashlib.sha256(data).hexdigest(), size=len(data), content=text
    )


class AppendRecordParams(BaseModel):
    path: str = Field(description="JSON-lines file to append to.")
    record: dict[str, Any] = Field(description="The record; stored with the step's idempotency key.")


class AppendRecordResult(BaseModel):
    path: str = Field(description="Absolute path of the file.")
    idempotency_key: str = Field(description="Key the record was stored under.")
    line: int = Field(description="1-based line number of the record.")


def _find_record(target: Path, key: str) -> int | None:
    if not target.exists():
        return None
    with target.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                if json.loads(line).get("idempotency_key") == key:
                    return number
            except (json.JSONDecodeError, AttributeError):
                continue
    return None


def find_appended_record(ctx: SkillContext, params: AppendRecordParams) -> AppendRecordResult | None:
    """Verify companion: the record is there when a line carries this step's idempotency key."""
    target = confine(ctx, params.path)
    line = _find_record(target, ctx.idempotency_key)
    if line is None:
        return None
    return AppendRecordResult(path=str(target), idempotency_key=ctx.idempotency_key, line=line)


@skill("do.append_record", effect="once", verify=find_appended_record)
def append_record(ctx: SkillContext, params: AppendRecordParams) -> AppendRecordResult:
    """Append a record as one JSON line tagged with the idempotency key (a journal, a ledger file)."""
    target = confine(ctx, params.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    entry = {"idempotency_key": ctx.idempotency_key, **params.record}
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    try:
        with target.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise TechnicalError(f"cannot append to {target}: {exc.strerror or exc}") from exc
    with target.open(encoding="utf-8") as handle:
        count = sum(1 for _ in handle)
    return AppendRecordResult(path=str(target), idempotency_key=ctx.idempotency_key, line=count)
