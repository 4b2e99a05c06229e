"""The reservoir memory of ER and MER (Vitter's Algorithm R)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["ReservoirBuffer"]


class ReservoirBuffer:
    """A memory of at most ``capacity`` stream items, each seen item kept with probability capacity/seen.

    Vitter's Algorithm R: the first ``capacity`` items fill the memory; item number ``n`` (0-based)
    after that replaces a uniformly chosen slot with probability ``capacity / (n + 1)``.

    Args:
        capacity: the memory size (>= 1).
        rng: the generator for the replacement draws and for `sample`.
    """

    def __init__(self, capacity: int, rng: np.random.Generator) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise InputError(f"ReservoirBuffer capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self.rng = rng
        self.items: list[Any] = []
        self.seen = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: Any) -> None:
        """Offer one stream item to the memory."""
        if len(self.items) < self.capacity:
            self.items.append(item)
        else:
            slot = int(self.rng.integers(0, self.seen + 1))
            if slot < self.capacity:
                self.items[slot] = item
        self.seen += 1

    def sample(self, count: int) -> list[Any]:
        """``min(count, len(self))`` distinct items, uniformly without replacement."""
        count = min(count, len(self.items))
        if count == 0:
            return []
        picks = self.rng.choice(len(self.items), size=count, replace=False)
        return [self.items[i] for i in picks]

    def state(self) -> dict[str, Any]:
        """The generator state and counter (JSON-able); the items are saved by the caller."""
        return {"seen": self.seen, "rng": self.rng.bit_generator.state}

    def restore(self, items: list[Any], state: dict[str, Any]) -> None:
        """Put back the items and the `state` of a saved memory."""
        self.items = list(items)
        self.seen = int(state["seen"])
        self.rng.bit_generator.state = state["rng"]
