"""Atomic checkpoints: tensors in safetensors, the run's config as JSON from a frozen dataclass.

A checkpoint is one ``.safetensors`` file. Its header metadata holds the config (as JSON), the
config's type name and any JSON-able extras (step, RNG seeds, metrics). Nested state such as
``{"model": model.state_dict(), "optimizer": opt.state_dict()}`` is flattened to dotted tensor keys
plus a JSON skeleton for the non-tensor leaves, so optimiser state survives a round trip and a run
can resume exactly where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from core.errors import CheckpointMismatchError, InputError

__all__ = ["Checkpoint", "atomic_write", "load_checkpoint", "save_checkpoint"]

ConfigT = TypeVar("ConfigT")

_TENSOR_MARK = "__tensor__"
_FORMAT_VERSION = "1"


@dataclasses.dataclass(frozen=True)
class Checkpoint(typing.Generic[ConfigT]):
    """What `load_checkpoint` returns.

    Attributes:
        state: the nested state as saved (tensors restored in place of their keys).
        config: an instance of the requested config type.
        extra: the JSON-able extras saved alongside (e.g. ``{"step": 1200}``).
    """

    state: dict[str, Any]
    config: ConfigT
    extra: dict[str, Any]


def atomic_write(path: str | os.PathLike[str], write: typing.Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)` and move the result onto `path` only if it returned normally.

    The temporary file lives in the destination folder, so the final `os.replace` is atomic on
    POSIX and Windows: a reader sees either the old file or the new one, never half of one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save_checkpoint(
    path: str | os.PathLike[str],
    state: dict[str, Any],
    config: Any,
    *,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `state` and `config` to `path` atomically.

    Args:
        path: destination ``.safetensors`` file; parent folders are created.
        state: a (possibly nested) dict/list of tensors and JSON-able values, e.g. a module's
            ``state_dict()`` or ``{"model": ..., "optimizer": opt.state_dict()}``.
        config: a dataclass instance describing the run (its fields must be JSON-able).
        extra: further JSON-able values (step counters, metrics).

    Returns:
        The path written.

    Raises:
        InputError: if `config` is not a dataclass instance or a value is not JSON-able.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise InputError("config must be a dataclass instance", item=type(config).__name__)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _flatten(state, "", tensors)
    try:
        metadata = {
            "format_version": _FORMAT_VERSION,
            "config_type": f"{type(config).__module__}.{type(config).__qualname__}",
            "config": json.dumps(dataclasses.asdict(config), sort_keys=True),
            "skeleton": json.dumps(skeleton),
            "extra": json.dumps(extra or {}),
        }
    except TypeError as exc:
        raise InputError("checkpoint config/extra values must be JSON-serialisable", item=str(exc)) from exc
    contiguous = {key: value.detach().cpu().clone().contiguous() for key, value in tensors.items()}
    return atomic_write(path, lambda tmp: save_file(contiguous, str(tmp), metadata=metadata))


def load_checkpoint(
    path: str | os.PathLike[str],
    config_type: type[ConfigT],
    *,
    expected: ConfigT | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint[ConfigT]:
    """Read a checkpoint written by `save_checkpoint`.

    Args:
        path: the ``.safetensors`` file.
        config_type: the dataclass the stored config must fit (same field names).
        expected: if given, every stored field must equal this config's value (use it when
            resuming a run: resuming with other hyper-parameters is refused).
        map_location: device for the restored tensors.

    Raises:
        InputError: the file is missing or not a checkpoint of this project.
        CheckpointMismatchError: a field is missing, unknown or (with `expected`) differs;
            the message names the field and both values.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("checkpoint file not found", item=str(source))
    try:
        with safe_open(str(source), framework="pt", device=str(map_location)) as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:
        raise InputError("not a readable safetensors checkpoint", item=f"{source}: {exc}") from exc
    if "config" not in metadata or "skeleton" not in metadata:
        raise InputError("safetensors file carries no checkpoint metadata", item=str(source))
    stored = json.loads(metadata["config"])
    config = _config_from_dict(stored, config_type, source)
    if expected is not None:
        difference = _first_difference(stored, _jsonable(dataclasses.asdict(expected)))  # type: ignore[call-overload]
        if difference is not None:
            name, have, want = difference
            raise CheckpointMismatchError(
                f"checkpoint config field '{name}' differs from the requested config",
                item=f"{source}: stored {have!r}, requested {want!r}",
            )
    state = _unflatten(json.loads(metadata["skeleton"]), tensors)
    return Checkpoint(state=state, config=config, extra=json.loads(metadata.get("extra", "{}")))


def _config_from_dict(
    stored: dict[str, Any], config_type: type[ConfigT], source: Path, path: str = ""
) -> ConfigT:
    """Rebuild `config_type` from its JSON form; nested dataclass fields are rebuilt recursively.

    `path` is the dotted name of the config being rebuilt (``"train.optimizer"``), used in errors.
    """
    if not dataclasses.is_dataclass(config_type):
        raise InputError("config_type must be a dataclass", item=config_type)
    fields = {field.name: field for field in dataclasses.fields(config_type)}
    unknown = sorted(set(stored) - set(fields))
    if unknown:
        raise CheckpointMismatchError(
            f"checkpoint config has field '{path}{unknown[0]}' that {config_type.__name__} does not define",
            item=str(source),
            expected=f"fields of {config_type.__name__}: {sorted(fields)}",
        )
    missing = [
        name
        for name, field in fields.items()
        if name not in stored
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise CheckpointMismatchError(
            f"checkpoint config lacks field '{path}{missing[0]}' required by {config_type.__name__}",
            item=str(source),
        )
    hints = typing.get_type_hints(config_type)
    values = {
        name: _coerce(value, hints.get(name), source, f"{path}{name}.") for name, value in stored.items()
    }
    return config_type(**values)


def _coerce(value: Any, hint: Any, source: Path, path: str) -> Any:
    """Undo what JSON flattened: tuples come back as tuples, nested dataclasses as dataclasses."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg) or typing.get_origin(arg) is tuple or arg is tuple:
                return _coerce(value, arg, source, path)
        return value
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _config_from_dict(value, hint, source, path)
    if (origin is tuple or hint is tuple) and isinstance(value, list):
        return tuple(value)
    return value


def _first_difference(stored: Any, wanted: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first (dotted field name, stored, wanted) where two JSON config trees differ, else None."""
    if isinstance(stored, dict) and isinstance(wanted, dict):
        for name in wanted:
            found = _first_difference(stored.get(name), wanted[name], f"{path}{name}.")
            if found is not None:
                return found
        return None
    if stored != wanted:
        return path.rstrip("."), stored, wanted
    return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _flatten(node: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(node, torch.Tensor):
        tensors[prefix] = node
        return {_TENSOR_MARK: prefix}
    if isinstance(node, dict):
        return {
            "__dict__": [
                [_key(k), _flatten(v, f"{prefix}.{k}" if prefix else str(k), tensors)]
                for k, v in node.items()
            ]
        }
    if isinstance(node, list | tuple):
        items = [_flatten(v, f"{prefix}.{i}" if prefix else str(i), tensors) for i, v in enumerate(node)]
        return {"__tuple__" if isinstance(node, tuple) else "__list__": items}
    return {"__value__": node}


def _key(key: Any) -> Any:
    if isinstance(key, str | int | float | bool) or key is None:
        return key
    raise InputError("checkpoint state keys must be str, int, float or bool", item=repr(key))


def _unflatten(node: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if _TENSOR_MARK in node:
        return tensors[node[_TENSOR_MARK]]
    if "__dict__" in node:
        return {key: _unflatten(value, tensors) for key, value in node["__dict__"]}
    if "__list__" in node:
        return [_unflatten(value, tensors) for value in node["__list__"]]
    if "__tuple__" in node:
        return tuple(_unflatten(value, tensors) for value in node["__tuple__"])
    return node["__value__"]
