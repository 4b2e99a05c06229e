"""One call makes a run reproducible."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["make_generator", "seed_everything"]


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's `random`, NumPy's global state and torch (CPU and every CUDA device).

    This sets process-wide state: applications (the `reproduce` dispatcher, a CLI command, a
    user's script) call it; library code takes explicit generators instead (`make_generator`).
    String hashing (PYTHONHASHSEED) can only be fixed before the interpreter starts.

    Args:
        seed: a non-negative integer.
        deterministic: also ask torch for deterministic kernels (slower on GPU).

    Raises:
        InputError: if `seed` is negative or not an integer.
    """
    from core.errors import InputError

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError("seed must be a non-negative integer", item=seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeding the legacy global state is the point
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A `torch.Generator` on `device` seeded with `seed`, for randomness passed explicitly."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator
