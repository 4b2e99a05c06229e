"""Device choice shared by every trainer and CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from core.errors import InputError

__all__ = ["pick_device", "torch_threads"]


def pick_device(preference: str = "auto") -> torch.device:
    """Resolve "auto" | "cpu" | "cuda" | "cuda:N" | "mps" to a usable `torch.device`.

    "auto" picks CUDA when available, else CPU.

    Raises:
        InputError: for an unknown name, or a device that is not available here.
    """
    choice = preference.strip().lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(
                "CUDA was requested but no CUDA device is available",
                item=preference,
                expected="'auto' or 'cpu' on this machine",
            )
        device = torch.device(choice)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(
                "no such CUDA device",
                item=preference,
                expected=f"cuda:0 .. cuda:{torch.cuda.device_count() - 1}",
            )
        return device
    if choice == "mps":
        if not torch.backends.mps.is_available():
            raise InputError("MPS was requested but is not available", item=preference)
        return torch.device("mps")
    raise InputError("unknown device", item=preference, expected="'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run a block with `count` intra-op CPU threads, restoring the previous number afterwards.

    Many small tensor ops (small fits, message passing on small graphs, pruning one tree) run
    faster on one thread than on several that contend with each other and with other processes.

    Raises:
        InputError: if `count` is not a positive integer.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise InputError("thread count must be a positive integer", item=count)
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
