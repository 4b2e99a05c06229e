"""Atomic checkpoints: tensors in safetensors, the run's config as JSON from a frozen dataclass.

A checkpoint is one ``.safetensors`` file. Its header metadata holds the config (as JSON), the
config's type name and any JSON-able extras (step, RNG seeds, metrics). Nested state such as
``{"model": model.state_dict(), "optimizer": opt.state_dict()}`` is flattened to dotted tensor keys
plus a JSON skeleton for the non-tensor leaves, so optimiser state survives a round trip and a run
can resume exactly where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from core.errors import CheckpointMismatchError, InputError
from core.files import atomic_write
from core.resume import check_resumable

__all__ = ["Checkpoint", "atomic_write", "load_checkpoint", "load_state_into", "save_checkpoint"]

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


def save_checkpoint(
    path: str | os.PathLike[str],
    state: dict[str, Any],
    config: Any,
    *,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `state` and `config` to `path` atomically.

    The header also stores a SHA-256 of every tensor's bytes, so `load_checkpoint` can tell a
    damaged file from a good one.

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
    contiguous = {key: value.detach().cpu().clone().contiguous() for key, value in tensors.items()}
    try:
        metadata = {
            "format_version": _FORMAT_VERSION,
            "config_type": f"{type(config).__module__}.{type(config).__qualname__}",
            "config": json.dumps(dataclasses.asdict(config), sort_keys=True, allow_nan=False),
            "skeleton": json.dumps(skeleton, allow_nan=False),
            "extra": json.dumps(extra or {}, allow_nan=False),
            "sha256": _tensor_digest(contiguous),
        }
    except (TypeError, ValueError) as exc:
        raise InputError("checkpoint config/extra values must be JSON-serialisable", item=str(exc)) from exc
    return atomic_write(path, lambda tmp: save_file(contiguous, str(tmp), metadata=metadata))


def load_checkpoint(
    path: str | os.PathLike[str],
    config_type: type[ConfigT],
    *,
    resume: ConfigT | None = None,
    map_location: str | torch.device = "cpu",
    allow_nonfinite: bool = False,
) -> Checkpoint[ConfigT]:
    """Read a checkpoint written by `save_checkpoint`, refusing any file that is not intact.

    Args:
        path: the ``.safetensors`` file.
        config_type: the dataclass the stored config must fit (same field names).
        resume: the config of a run about to resume from this checkpoint: it must equal the stored
            config except for fields declared extendable (`core.resume.extendable`), the one
            resume rule of the workspace (`core.resume.check_resumable`).
        map_location: device for the restored tensors.
        allow_nonfinite: accept NaN/inf in floating tensors (refused by default: a model with
            non-finite weights only produces NaN).

    Raises:
        InputError: the file is missing, a folder, not a safetensors file, carries no or broken
            checkpoint metadata, a tensor's bytes do not match the stored checksum, a tensor is
            missing, or a tensor holds NaN/inf; the message names the file (and the tensor).
        CheckpointMismatchError: a config field is missing, unknown or (with `resume`) differs;
            the message names the field and both values.
    """
    source = Path(path)
    if source.is_dir():
        raise InputError("checkpoint path is a folder, not a file", item=str(source))
    if not source.is_file():
        raise InputError("checkpoint file not found", item=str(source))
    try:
        with safe_open(str(source), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError("not a readable safetensors checkpoint", item=f"{source}: {reason}") from exc
    if "config" not in metadata or "skeleton" not in metadata:
        raise InputError("safetensors file carries no checkpoint metadata", item=str(source))
    digest = metadata.get("sha256")
    if digest is not None and digest != _tensor_digest(tensors):
        raise InputError(
            "checkpoint is damaged: tensor bytes do not match the stored checksum", item=str(source)
        )
    stored, skeleton, extra = (
        _metadata_json(metadata, key, source) for key in ("config", "skeleton", "extra")
    )
    config = _config_from_dict(stored, config_type, source)
    if resume is not None:
        check_resumable(stored, resume, source=source)
    if not allow_nonfinite:
        for key, tensor in tensors.items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise InputError(
                    "checkpoint holds non-finite values (NaN or inf)", item=f"{source}: tensor '{key}'"
                )
    try:
        state = _unflatten(skeleton, tensors)
    except KeyError as exc:
        raise InputError(
            "checkpoint is damaged: a tensor is missing", item=f"{source}: {exc.args[0]!r}"
        ) from exc
    if str(map_location) != "cpu":
        state = _to_device(state, torch.device(map_location))
    return Checkpoint(state=state, config=config, extra=extra or {})


def load_state_into(
    module: torch.nn.Module, state: dict[str, torch.Tensor], *, source: object = "checkpoint"
) -> None:
    """`module.load_state_dict(state)` with one-line errors naming the first bad tensor.

    Raises:
        InputError: a tensor is missing, unexpected, or its shape differs from the module's
            (the config does not match the saved tensors).
    """
    own = module.state_dict()
    missing = [key for key in own if key not in state]
    unexpected = [key for key in state if key not in own]
    if missing or unexpected:
        key = (missing or unexpected)[0]
        what = "lacks tensor" if missing else "has a tensor the model does not define"
        raise InputError(f"checkpoint {what} '{key}'", item=str(source))
    for key, tensor in own.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise InputError(
                f"checkpoint tensor '{key}' has shape {tuple(state[key].shape)} but the config builds"
                f" {tuple(tensor.shape)}",
                item=str(source),
            )
    module.load_state_dict(state)


def _metadata_json(metadata: dict[str, str], key: str, source: Path) -> Any:
    try:
        return json.loads(metadata.get(key, "{}"))
    except json.JSONDecodeError as exc:
        raise InputError(f"checkpoint metadata '{key}' is not valid JSON", item=f"{source}: {exc}") from exc


def _tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(tensors):
        tensor = tensors[key].contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        if tensor.numel():
            digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _to_device(node: Any, device: torch.device) -> Any:
    if isinstance(node, torch.Tensor):
        return node.to(device)
    if isinstance(node, dict):
        return {key: _to_device(value, device) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(_to_device(value, device) for value in node)
    return node


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
