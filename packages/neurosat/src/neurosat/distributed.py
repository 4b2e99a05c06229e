"""Running ``neurosat fit`` under ``torchrun``: the process group from the launcher's environment.

``torchrun --nproc_per_node=N -m neurosat.cli -- fit DATA --out RUN`` starts N processes with
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and a rendezvous address in their environment;
`process_group` joins them (gloo on CPU, NCCL on CUDA, one GPU per local rank) and `fit` then trains
with DistributedDataParallel (see `neurosat.train`). Without those variables nothing happens. (The ``--`` keeps torchrun's own argument parser from
taking ``--d`` for an abbreviation of one of its options.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["launched_by_torchrun", "process_group"]


def launched_by_torchrun() -> bool:
    """Whether this process is one of several started by torchrun (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextmanager
def process_group(device: torch.device) -> Iterator[torch.device]:
    """Join torchrun's process group for the block; yields the device this rank trains on.

    On CUDA each process takes ``cuda:LOCAL_RANK``; on CPU all use the CPU with the gloo backend.
    Outside torchrun the block runs as one process on `device`.
    """
    if not launched_by_torchrun():
        yield device
        return
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    torch.distributed.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        yield device
    finally:
        torch.distributed.destroy_process_group()
