"""Training loop of JT-VAE: Adam, exponential learning-rate decay, linear KL annealing, checkpoints.

Defaults follow the authors' release (batch 32, lr 1e-3 decayed x0.9 per epoch, beta raised
from 0 towards 1 after a warm-up); one file, read top to bottom.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from core.progress import progress
from molgraph.dataset import MoleculeSample, chunks
from molgraph.model import JTVAE

__all__ = ["TrainConfig", "TrainHistory", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        epochs: passes over the data; batch_size: molecules per step.
        lr: Adam learning rate, multiplied by `lr_decay` after every epoch.
        beta_start, beta_max: KL weight at the start and its ceiling.
        beta_warmup: steps at `beta_start` before annealing; beta_step: increase per `beta_every` steps.
        clip_norm: gradient-norm clip; seed: shuffling and reparameterisation noise.
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    lr_decay: float = 0.9
    beta_start: float = 0.0
    beta_max: float = 1.0
    beta_warmup: int = 40000
    beta_step: float = 0.002
    beta_every: int = 1000
    clip_norm: float = 50.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise InputError("epochs and batch_size must be >= 1", item=(self.epochs, self.batch_size))
        if self.lr <= 0:
            raise InputError("lr must be positive", item=self.lr)

    def beta(self, step: int) -> float:
        """KL weight at optimisation step `step` (linear annealing after the warm-up)."""
        if step < self.beta_warmup:
            return self.beta_start
        raised = self.beta_start + self.beta_step * ((step - self.beta_warmup) // self.beta_every + 1)
        return min(self.beta_max, raised)


@dataclass
class TrainHistory:
    """Per-epoch means of each loss term and accuracy."""

    rows: list[dict[str, float]]


def train(
    model: JTVAE,
    samples: list[MoleculeSample],
    config: TrainConfig = TrainConfig(),
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    stop_after: int | None = None,
) -> TrainHistory:
    """Fit `model` on prepared `samples`; resumes from `checkpoint` when it exists.

    Args:
        model: a `JTVAE` (its device is used).
        samples: prepared molecules (`molgraph.dataset.prepare`).
        config: `TrainConfig`.
        checkpoint: optional ``.safetensors`` path, written at the end of every epoch; an existing
            one with the same config resumes the run.
        stop_after: return after this many epochs in this call (a time-limited job); call again
            with the same `checkpoint` to continue.

    Raises:
        InputError: with no samples, or when the checkpoint belongs to another configuration.
    """
    if not samples:
        raise InputError("no training molecules", expected="at least one prepared molecule")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, config.lr_decay)
    start_epoch, step, rows = 0, 0, []
    if checkpoint is not None and Path(checkpoint).is_file():
        ckpt = load_checkpoint(checkpoint, TrainConfig, expected=config, map_location=model.device)
        model.load_state_dict(ckpt.state["model"])
        optimizer.load_state_dict(ckpt.state["optimizer"])
        scheduler.load_state_dict(ckpt.state["scheduler"])
        start_epoch, step, rows = ckpt.extra["epoch"], ckpt.extra["step"], ckpt.extra["history"]
    model.train()
    for epoch in range(start_epoch, config.epochs):
        if stop_after is not None and epoch >= start_epoch + stop_after:
            break
        # per-epoch seeds make a resumed run repeat the uninterrupted one exactly
        torch.manual_seed(config.seed * 100_003 + epoch)
        order = list(range(len(samples)))
        random.Random(config.seed * 100_003 + epoch).shuffle(order)
        sums: dict[str, float] = {}
        batches = chunks([samples[i] for i in order], config.batch_size)
        for batch in progress(batches, desc=f"epoch {epoch + 1}/{config.epochs}"):
            out = model(batch, config.beta(step))
            optimizer.zero_grad()
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            step += 1
            for key, value in out.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach())
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
        "vocab": model.vocab.clusters,
        "model_config": asdict(model.config),
    }
    save_checkpoint(path, state, config, extra=extra)
