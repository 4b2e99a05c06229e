"""The one training loop of the package: minibatch Adam over tensors, resumable and checkpointed.

Reads top to bottom: shuffle the examples with a generator seeded by ``(seed, epoch)``, take Adam steps
on ``loss(model, batch)``, record the epoch's mean loss (and the caller's evaluation), checkpoint every
``checkpoint_every`` epochs (model, optimiser, history). The order of minibatches depends only on the
seed and the epoch, so a run resumed from a checkpoint is bit-identical to an uninterrupted one; the
resume rule is the workspace's (`core.load_checkpoint(..., resume=config)`): only ``epochs`` may change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from vision_attention.config import TrainConfig

__all__ = ["build_model", "fit"]

Loss = Callable[[torch.nn.Module, Sequence[torch.Tensor]], torch.Tensor]
Evaluate = Callable[[torch.nn.Module], dict[str, float]]


def build_model(make: Callable[[], torch.nn.Module], seed: int) -> torch.nn.Module:
    """``make()`` under a seeded, forked RNG: a reproducible initialisation that leaves the caller's RNG alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def _epoch_order(count: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(count, generator=generator)


def fit(
    model: torch.nn.Module,
    loss: Loss,
    data: Sequence[torch.Tensor],
    config: TrainConfig,
    *,
    evaluate: Evaluate | None = None,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int], None] | None = None,
    quiet: bool = True,
) -> list[dict[str, Any]]:
    """Train `model` in place on `data` and return its history.

    Args:
        model: the module (already on its device, e.g. built with `build_model`).
        loss: ``loss(model, batch) -> scalar``; ``batch`` holds the rows of each tensor of `data`.
        data: tensors with the same first dimension (n examples).
        config: the optimisation; ``config.epochs`` epochs in all, resumed from `checkpoint` if it exists.
        evaluate: called after each epoch; its numbers are added to that epoch's history row.
        checkpoint: a ``.safetensors`` path written every ``config.checkpoint_every`` epochs and at the end.
        on_epoch: called with the epoch number after the epoch's checkpoint (tests crash a run here).
        quiet: no progress bar.

    Returns:
        One row per epoch: ``epoch``, ``loss`` (mean training loss), ``seconds`` (cumulative training
        time, excluding evaluation), plus the evaluation's numbers.

    Raises:
        InputError: `data` is empty or its tensors disagree in length; a damaged checkpoint, one whose
            tensors do not fit `model`, or one further along than ``config.epochs``.
        CheckpointMismatchError: the checkpoint was saved with a config that differs in a field other than
            ``epochs``.
    """
    if not data:
        raise InputError("fit needs at least one data tensor")
    count = len(data[0])
    lengths = [len(tensor) for tensor in data]
    if count == 0 or any(length != count for length in lengths):
        raise InputError("data tensors must be non-empty and of equal length", item=lengths)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    history: list[dict[str, Any]] = []
    start, seconds = 0, 0.0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        saved = load_checkpoint(path, TrainConfig, resume=config)
        load_state_into(model, saved.state["model"], source=path)
        optimizer.load_state_dict(saved.state["optimizer"])
        start, seconds, history = saved.extra["epoch"], saved.extra["seconds"], saved.extra["history"]
        if start > config.epochs:
            raise InputError(
                "the checkpoint is further along than the requested run",
                item=f"{path}: epoch {start}, requested epochs = {config.epochs}",
                expected=f"epochs >= {start}",
            )
    device = next(model.parameters()).device
    epochs = range(start + 1, config.epochs + 1)
    for epoch in epochs if quiet else progress(epochs, desc=config.model):
        began = time.perf_counter()
        model.train()
        order = _epoch_order(count, config.seed, epoch)
        total, steps = 0.0, 0
        for first in range(0, count, config.batch_size):
            index = order[first : first + config.batch_size]
            batch = [tensor[index].to(device) for tensor in data]
            optimizer.zero_grad(set_to_none=True)
            value = loss(model, batch)
            value.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            total, steps = total + float(value.detach()), steps + 1
        seconds += time.perf_counter() - began
        row: dict[str, Any] = {"epoch": epoch, "loss": total / steps, "seconds": seconds}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                row.update(evaluate(model))
        history.append(row)
        if path is not None and (epoch % config.checkpoint_every == 0 or epoch == config.epochs):
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
            save_checkpoint(
                path, state, config, extra={"epoch": epoch, "seconds": seconds, "history": history}
            )
        if on_epoch is not None:
            on_epoch(epoch)
    model.eval()
    return history
