"""Device choice shared by every trainer and CLI."""

from __future__ import annotations

import torch

from core.errors import InputError

__all__ = ["pick_device"]


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
