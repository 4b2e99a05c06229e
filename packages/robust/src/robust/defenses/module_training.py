"""The resumable minibatch loop of the denoiser / autoencoder defenses (guided denoiser, fortified
networks, S2SNets): Adam on a per-minibatch loss of any module, one checkpoint per epoch.

A checkpoint holds the module, the optimiser, the shuffling generator and the history; it resumes
under the workspace's resume rule (the saved config must equal the requested one except its
``epochs``, which may be raised).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from core.checkpoint import save_checkpoint
from core.errors import InputError
from core.progress import progress
from robust.train import resume_from

__all__ = ["train_module"]

BatchLoss = Callable[[int, tuple[Tensor, ...]], Tensor]


def train_module(
    module: nn.Module,
    parameters: Sequence[nn.Parameter],
    tensors: Sequence[Tensor],
    batch_loss: BatchLoss,
    config: Any,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    checkpoint: str | Path | None = None,
    desc: str = "train",
    end_epoch: Callable[[nn.Module], dict[str, float]] | None = None,
) -> list[dict[str, float]]:
    """Minimise ``batch_loss(epoch, minibatch)`` over `parameters` of `module` with Adam.

    Args:
        module: what is trained and checkpointed (in train mode during an epoch, eval mode after).
        parameters: the parameters Adam updates (a subset of the module's, e.g. a decoder only).
        tensors: equal-length tensors ``(n, ...)`` split into the same shuffled minibatches.
        batch_loss: scalar loss of one minibatch (a tuple of slices of `tensors`).
        config: the frozen config dataclass saved in (and checked against) the checkpoint.
        epochs, batch_size, learning_rate, seed: the run (seed drives the shuffling).
        checkpoint: ``.safetensors`` path, resumed when it exists, rewritten after every epoch.
        end_epoch: extra history entries computed after each epoch.

    Returns:
        the history: one row per epoch with ``epoch``, ``train_loss``, extras and ``train_seconds``.
    """
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise InputError("training tensors differ in length", item=[len(t) for t in tensors])
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    path = Path(checkpoint) if checkpoint is not None else None
    device = tensors[0].device
    history, start, _ = resume_from(path, config, module, optimizer, generator, key="module", device=device)
    seconds = history[-1]["train_seconds"] if history else 0.0
    for epoch in progress(range(start + 1, epochs + 1), desc=desc):
        began = time.perf_counter()
        module.train()
        order = torch.randperm(n, generator=generator).to(device)
        total = 0.0
        for batch in order.split(batch_size):
            loss = batch_loss(epoch, tuple(t[batch] for t in tensors))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        module.eval()
        extra = end_epoch(module) if end_epoch is not None else {}
        seconds += time.perf_counter() - began
        history.append({"epoch": epoch, "train_loss": total / n, **extra, "train_seconds": seconds})
        if path is not None:
            state = {
                "module": module.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
            }
            save_checkpoint(path, state, config, extra={"epoch": epoch, "history": history})
    module.eval()
    return history
