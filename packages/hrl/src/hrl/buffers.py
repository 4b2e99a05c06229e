"""Experience replay: a fixed-capacity ring of transitions in NumPy arrays.

One buffer type serves every off-policy learner: its fields are named with their per-item shapes
(``{"obs": (3,), "action": (1,), "reward": (), ...}``), so TD3 stores flat transitions and HIRO's
high level stores c-step state and action sequences (``{"states": (c + 1, obs_dim), ...}``) in the
same structure. Sampling uses the buffer's own `numpy.random.Generator`; the buffer's state
(contents, write position, generator state) round-trips through `state_dict` / `load_state_dict`
and through `save` / `load` (a `core` checkpoint), so a resumed run samples exactly the same
minibatches as an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["BufferConfig", "ReplayBuffer", "transition_fields"]


def transition_fields(obs_dim: int, action_dim: int) -> dict[str, tuple[int, ...]]:
    """The fields of a flat transition (s, a, r, s', terminated): shapes per item."""
    return {
        "obs": (obs_dim,),
        "action": (action_dim,),
        "reward": (),
        "next_obs": (obs_dim,),
        "terminated": (),
    }


@dataclass(frozen=True)
class BufferConfig:
    """What a saved buffer was built with: its capacity and its fields' per-item shapes."""

    capacity: int = 1
    fields: dict[str, list[int]] = field(default_factory=dict)


class ReplayBuffer:
    """A ring buffer of transitions stored as float32 arrays, one per field.

    Args:
        capacity: most items held; the oldest are overwritten first.
        fields: name -> per-item shape (``()`` for scalars).
        rng: the generator `sample` draws indices from (default: ``numpy.random.default_rng(0)``).

    Raises:
        InputError: capacity < 1, no fields, or a shape that is not a tuple of positive integers.
    """

    def __init__(
        self,
        capacity: int,
        fields: Mapping[str, tuple[int, ...]],
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise InputError("replay buffer capacity must be a positive integer", item=capacity)
        if not fields:
            raise InputError("a replay buffer needs at least one field", item=dict(fields))
        for name, shape in fields.items():
            if not all(isinstance(n, int | np.integer) and n >= 1 for n in tuple(shape)):
                raise InputError(f"replay buffer field '{name}' has a bad shape", item=shape)
        self.capacity = capacity
        self.shapes = {name: tuple(int(n) for n in shape) for name, shape in fields.items()}
        self.data = {
            name: np.zeros((capacity, *shape), dtype=np.float32) for name, shape in self.shapes.items()
        }
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.position = 0  # next slot to write
        self.size = 0  # items held

    def __len__(self) -> int:
        return self.size

    def grown(self, capacity: int) -> ReplayBuffer:
        """A buffer of `capacity` (>= this one's) holding this one's items in order, sharing its generator.

        Only for a buffer that has not wrapped (its items sit in slots 0..size-1), as the agents that keep
        every transition use it.
        """
        if self.position != self.size % self.capacity or capacity < self.size:
            raise InputError(
                "only a buffer that has not wrapped can grow, to at least its size", item=capacity
            )
        bigger = ReplayBuffer(capacity, self.shapes, rng=self.rng)
        for name, values in self.data.items():
            bigger.data[name][: self.size] = values[: self.size]
        bigger.size = bigger.position = self.size
        return bigger

    def add(self, **values: Any) -> None:
        """Store one item; every field must be given, with its per-item shape.

        Raises:
            InputError: a field is missing or unknown, or a value has the wrong shape.
        """
        if set(values) != set(self.shapes):
            missing = sorted(set(self.shapes) - set(values))
            unknown = sorted(set(values) - set(self.shapes))
            raise InputError(
                "replay buffer item does not match the fields",
                item=f"missing {missing}, unknown {unknown}",
                expected=f"fields {sorted(self.shapes)}",
            )
        for name, value in values.items():
            array = np.asarray(value, dtype=np.float32)
            if array.shape != self.shapes[name]:
                raise InputError(
                    f"replay buffer field '{name}' has shape {array.shape}",
                    item=name,
                    expected=f"shape {self.shapes[name]}",
                )
            self.data[name][self.position] = array
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """`batch_size` items drawn uniformly with replacement: name -> (batch_size, *shape) float32.

        Raises:
            InputError: the buffer is empty or batch_size < 1.
        """
        if self.size == 0:
            raise InputError("cannot sample from an empty replay buffer", item=batch_size)
        if batch_size < 1:
            raise InputError("batch_size must be a positive integer", item=batch_size)
        index = self.rng.integers(0, self.size, size=batch_size)
        return {name: array[index] for name, array in self.data.items()}

    def state_dict(self) -> dict[str, Any]:
        """Contents (held items only, as CPU tensors), write position, size and generator state."""
        import torch

        return {
            "position": self.position,
            "size": self.size,
            "rng": self.rng.bit_generator.state,
            "data": {name: torch.from_numpy(array[: self.size].copy()) for name, array in self.data.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any], *, source: object = "replay buffer state") -> None:
        """Restore what `state_dict` returned into a buffer built with the same capacity and fields.

        Raises:
            InputError: the saved fields, shapes or size do not fit this buffer.
        """
        data = state["data"]
        if set(data) != set(self.shapes):
            raise InputError(
                "saved replay buffer has other fields",
                item=f"{source}: {sorted(data)}",
                expected=f"{sorted(self.shapes)}",
            )
        size = int(state["size"])
        if size > self.capacity:
            raise InputError(
                "saved replay buffer holds more items than this buffer's capacity",
                item=f"{source}: {size} > {self.capacity}",
            )
        for name, tensor in data.items():
            array = tensor.numpy() if hasattr(tensor, "numpy") else np.asarray(tensor)
            if array.shape != (size, *self.shapes[name]):
                raise InputError(
                    f"saved replay buffer field '{name}' has shape {array.shape}",
                    item=str(source),
                    expected=f"shape {(size, *self.shapes[name])}",
                )
            self.data[name][:size] = array
            self.data[name][size:] = 0.0
        self.size = size
        self.position = int(state["position"])
        self.rng.bit_generator.state = state["rng"]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the buffer (contents, position, generator state) to a `core` checkpoint, atomically."""
        from core.checkpoint import save_checkpoint

        config = BufferConfig(self.capacity, {name: list(shape) for name, shape in self.shapes.items()})
        return save_checkpoint(path, self.state_dict(), config)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReplayBuffer:
        """Read a buffer written by `save`.

        Raises:
            InputError: the file is missing, damaged or not a replay buffer checkpoint.
        """
        from core.checkpoint import load_checkpoint

        saved = load_checkpoint(path, BufferConfig)
        config = saved.config
        fields = {name: tuple(shape) for name, shape in config.fields.items()}
        bit_generator = getattr(np.random, str(saved.state["rng"]["bit_generator"]))
        buffer = cls(config.capacity, fields, rng=np.random.Generator(bit_generator()))
        buffer.load_state_dict(saved.state, source=path)
        return buffer
