"""Training loop of JT-VAE: Adam, exponential learning-rate decay, linear KL annealing, checkpoints.

Defaults follow the authors' release (batch 32, lr 1e-3 decayed x0.9 per epoch, beta raised
from 0 towards 1 after a warm-up); one file, read top to bottom.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from molgraph.config import TrainConfig
from molgraph.dataset import MoleculeSample, chunks
from molgraph.model import JTVAE

__all__ = ["TrainConfig", "TrainHistory", "train"]


@dataclass
class TrainHistory:
    """Per-epoch means of each loss term and accuracy."""

    rows: list[dict[str, float]]


def train(
    model: JTVAE,
    samples: list[MoleculeSample],
    config: TrainConfig | None = None,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    stop_after: int | None = None,
    callback: Callable[[int, int, dict[str, torch.Tensor]], None] | None = None,
) -> TrainHistory:
    """Fit `model` on prepared `samples`; resumes from `checkpoint` when it exists.

    Args:
        model: a `JTVAE` (its device is used).
        samples: prepared molecules (`molgraph.dataset.prepare`).
        config: `TrainConfig` (None: the authors' schedule).
        checkpoint: optional ``.safetensors`` path, written at the end of every epoch; an existing
            one resumes the run under the workspace's one resume rule (`core.resume`): its config
            must equal `config` except ``epochs``, which may be raised to extend a finished run.
        stop_after: return after this many epochs in this call (a time-limited job); call again
            with the same `checkpoint` to continue.
        callback: ``callback(epoch, step, losses)`` after every optimisation step (0-based epoch,
            steps done so far); an exception it raises stops training (the last epoch's
            checkpoint stays).

    Randomness comes only from ``config.seed``: epoch ``e`` shuffles with ``random.Random(s)`` and
    draws the reparameterisation noise from a ``torch.Generator`` seeded with ``s``, where
    ``s = seed * 100003 + e``; so a run resumed from its checkpoint repeats the uninterrupted one
    exactly, and no process-wide random state is read or changed.

    Raises:
        InputError: with no samples, or a checkpoint that is damaged or does not fit the model.
        CheckpointMismatchError: when the checkpoint's config differs in a non-extendable field.
    """
    config = config if config is not None else TrainConfig()
    if not samples:
        raise InputError("no training molecules", expected="at least one prepared molecule")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, config.lr_decay)
    start_epoch, step, rows = 0, 0, []
    if checkpoint is not None and Path(checkpoint).is_file():
        ckpt = load_checkpoint(checkpoint, TrainConfig, resume=config, map_location=model.device)
        load_state_into(model, ckpt.state["model"], source=checkpoint)
        optimizer.load_state_dict(ckpt.state["optimizer"])
        scheduler.load_state_dict(ckpt.state["scheduler"])
        start_epoch, step, rows = ckpt.extra["epoch"], ckpt.extra["step"], ckpt.extra["history"]
    model.train()
    for epoch in range(start_epoch, config.epochs):
        if stop_after is not None and epoch >= start_epoch + stop_after:
            break
        # per-epoch seeds make a resumed run repeat the uninterrupted one exactly
        epoch_seed = config.seed * 100_003 + epoch
        generator = torch.Generator(device="cpu")
        generator.manual_seed(epoch_seed)
        order = list(range(len(samples)))
        random.Random(epoch_seed).shuffle(order)
        sums: dict[str, float] = {}
        batches = chunks([samples[i] for i in order], config.batch_size)
        for batch in progress(batches, desc=f"epoch {epoch + 1}/{config.epochs}"):
            out = model(batch, config.beta(step), generator=generator)
            optimizer.zero_grad()
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            step += 1
            for key, value in out.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach())
            if callback is not None:
                callback(epoch, step, out)
        scheduler.step()
        rows.append(
            {"epoch": epoch + 1, "beta": config.beta(step), **{k: v / len(batches) for k, v in sums.items()}}
        )
        if checkpoint is not None:
            _save(checkpoint, model, optimizer, scheduler, config, epoch + 1, step, rows)
    model.eval()
    return TrainHistory(rows)


def _save(path, model, optimizer, scheduler, config, epoch, step, rows) -> None:  # type: ignore[no-untyped-def]
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    extra = {
        "epoch": epoch,
        "step": step,
        "history": rows,
        "vocab": model.vocab.to_json(),
        "model_config": asdict(model.config),
    }
    save_checkpoint(path, state, config, extra=extra)
