"""Config checks for ``__post_init__``: one-line `InputError`s naming the config, the field and the value.

@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        require_ints(self, "steps", minimum=1)
        require_positive(self, "learning_rate")
        require_seed(self)
"""

from __future__ import annotations

import math
from typing import Any

from core.errors import InputError

__all__ = ["require_ints", "require_positive", "require_seed"]


def require_ints(config: Any, *names: str, minimum: int = 1) -> None:
    """Each named field is an integer (not a bool) >= `minimum`."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise InputError(f"{type(config).__name__}.{name} must be an integer >= {minimum}", item=value)


def require_positive(config: Any, *names: str) -> None:
    """Each named field is a finite number > 0 (rates, tolerances, scales)."""
    for name in names:
        value = getattr(config, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (0 < value and math.isfinite(value))
        ):
            raise InputError(f"{type(config).__name__}.{name} must be a finite number > 0", item=value)


def require_seed(config: Any, name: str = "seed") -> None:
    """The field is a seed: an integer in [0, 2**32)."""
    value = getattr(config, name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
        raise InputError(f"{type(config).__name__}.{name} must be an integer in [0, 2**32)", item=value)
