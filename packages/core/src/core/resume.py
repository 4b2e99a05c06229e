"""The one resume rule every trainer follows.

A checkpointed run resumes when its config equals the saved one, except for the fields its config
declares *extendable* (a run's length: ``epochs``, ``steps``, ``max_iter``), which may be raised to
extend a finished run. Any other difference is refused with an error naming the field and both
values. Declare a field extendable with `extendable`::

    @dataclass(frozen=True)
    class TrainConfig:
        learning_rate: float = 1e-3
        epochs: int = extendable(10)

Nested dataclass configs are compared field by field; their extendable fields count too
(reported with dotted names such as ``"train.epochs"``).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

from core.errors import CheckpointMismatchError

__all__ = ["check_resumable", "extendable", "extendable_fields"]

_EXTENDABLE = "core.resume.extendable"


def extendable(default: Any, **field_options: Any) -> Any:
    """A dataclass field whose value may change when a run resumes (a run's length).

    Args:
        default: the field's default value.
        field_options: passed on to `dataclasses.field` (``metadata`` is merged).
    """
    metadata = {**field_options.pop("metadata", {}), _EXTENDABLE: True}
    return dataclasses.field(default=default, metadata=metadata, **field_options)


def extendable_fields(config: Any, prefix: str = "") -> set[str]:
    """Dotted names of the extendable fields of a config dataclass (type or instance), nested included."""
    config_type = config if isinstance(config, type) else type(config)
    try:
        hints = typing.get_type_hints(config_type)
    except (NameError, TypeError):  # annotations naming types that are not importable here
        hints = {}
    names: set[str] = set()
    for field in dataclasses.fields(config_type):
        if field.metadata.get(_EXTENDABLE):
            names.add(prefix + field.name)
        nested = None if isinstance(config, type) else getattr(config, field.name, None)
        if not dataclasses.is_dataclass(nested):
            nested = hints.get(field.name)
        if dataclasses.is_dataclass(nested):
            names |= extendable_fields(nested, f"{prefix}{field.name}.")
    return names


def check_resumable(stored: dict[str, Any], requested: Any, *, source: object = "checkpoint") -> None:
    """Refuse to resume a run saved with config `stored` (its JSON dict) under config `requested`.

    Raises:
        CheckpointMismatchError: naming the first differing non-extendable field, both values
            and `source` (the checkpoint file).
    """
    wanted = json.loads(json.dumps(dataclasses.asdict(requested)))
    allowed = extendable_fields(requested)
    difference = _first_difference(stored, wanted, allowed)
    if difference is not None:
        name, have, want = difference
        raise CheckpointMismatchError(
            f"cannot resume: config field '{name}' differs from the checkpoint's"
            " (only run-length fields may change on resume"
            + (f": {', '.join(sorted(allowed))}" if allowed else "")
            + ")",
            item=f"{source}: saved {have!r}, requested {want!r}",
        )


def _first_difference(
    stored: Any, wanted: Any, allowed: set[str], path: str = ""
) -> tuple[str, Any, Any] | None:
    if isinstance(stored, dict) and isinstance(wanted, dict):
        for name in sorted(set(stored) | set(wanted)):
            dotted = f"{path}{name}"
            if dotted in allowed:
                continue
            found = _first_difference(stored.get(name), wanted.get(name), allowed, dotted + ".")
            if found is not None:
                return found
        return None
    if stored != wanted:
        return path.rstrip("."), stored, wanted
    return None
