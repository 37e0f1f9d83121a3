"""JSON for the store and the audit hashes that keeps exact types.

Step outputs and inputs are reloaded when a run resumes, and an amount must come back as the
same ``Decimal`` (not a string that ``*`` would repeat, not a float). So ``Decimal``, dates and
datetimes are written as tagged objects (``{"$decimal": "12345.60"}``, like MongoDB's extended
JSON) and turned back into their types by ``loads``. Output is compact and key-sorted, so the
same value always gives the same text (the audit hashes depend on it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

_TAGS = {"$decimal", "$datetime", "$date", "$time", "$bytes"}


_PLAIN = frozenset({str, int, bool, float, type(None)})


def to_tagged(value: Any) -> Any:
    """Plain JSON types, with exact types tagged."""
    kind = type(value)
    if kind in _PLAIN:  # the common cases first, by exact type (isinstance chains cost more)
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): to_tagged(v) for k, v in value.items()}
    if kind is list:
        return [to_tagged(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): to_tagged(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_tagged(v) for v in value]
    if isinstance(value, BaseModel):
        return to_tagged(value.model_dump())
    if isinstance(value, Enum):
        return to_tagged(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    return str(value)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, raw),) = obj.items()
        if key in _TAGS and isinstance(raw, str):
            try:
                if key == "$decimal":
                    return Decimal(raw)
                if key == "$datetime":
                    return datetime.fromisoformat(raw)
                if key == "$date":
                    return date.fromisoformat(raw)
                if key == "$time":
                    return time.fromisoformat(raw)
                return base64.b64decode(raw)
            except ValueError:
                return obj
    return obj


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for display and APIs: Decimal as its exact string, dates ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump())
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# json.dumps with any option builds a new encoder per call; this one is built once
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON of plain values (str, int, float, bool, None, lists, dicts)."""
    return _CANONICAL.encode(value)


def dumps(value: Any) -> str:
    """Compact, key-sorted, type-tagged JSON."""
    return _CANONICAL.encode(to_tagged(value))


def loads(text: str | None) -> Any:
    """Inverse of ``dumps`` (``None`` stays ``None``)."""
    return None if text is None else json.loads(text, object_hook=_untag)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
