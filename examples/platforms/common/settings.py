"""Building a platform's settings model with one readable line per problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class SettingsError(ValueError):
    """Settings that the platform's model refuses; the message lists ``field: problem`` pairs."""


def build_settings(model: type[SettingsT], values: Mapping[str, Any]) -> SettingsT:
    """Validate ``values`` against ``model``.

    Raises:
        SettingsError: e.g. ``reject_duplicate: Extra inputs are not permitted``.
    """
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise SettingsError(
            "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
            )
        ) from None
