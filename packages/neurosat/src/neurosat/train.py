"""Training NeuroSAT on single-bit supervision: sigmoid cross-entropy of the mean vote (Section 3).

Adam with an L2 weight penalty and gradient-norm clipping, batches cut by node count, one
checkpoint per epoch (model, optimiser, history) so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import CheckpointMismatchError, InputError
from core.progress import progress
from neurosat.cnf import Problem
from neurosat.graph import batch_problems
from neurosat.model import NeuroSAT

__all__ = ["TrainConfig", "TrainHistory", "fit", "loss_fn"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper / authors' code defaults).

    Attributes:
        epochs: passes over the training problems.
        learning_rate: Adam step size (2e-5).
        l2_weight: weight of the L2 penalty on all parameters (1e-10).
        clip_norm: global gradient-norm clip (0.65).
        max_nodes: literals + clauses per batch (12,000).
        rounds: message-passing rounds in training; None uses the model config's (26).
        seed: shuffling seed.
        pair_batches: keep each SAT/UNSAT twin pair (problems ``2i``, ``2i+1``, as `generate_sr`
            returns them) in the same batch. The common part of the two graphs then cancels in the
            gradient and only the one-literal difference drives learning; with shuffled single
            problems the same small model stays at chance far longer (measured: see README).
    """

    epochs: int = 10
    learning_rate: float = 2e-5
    l2_weight: float = 1e-10
    clip_norm: float = 0.65
    max_nodes: int = 12_000
    rounds: int | None = None
    seed: int = 0
    pair_batches: bool = True


@dataclass
class TrainHistory:
    """Per-epoch training loss and accuracy (means over the epoch's batches, weighted by formulas)."""

    loss: list[float]
    accuracy: list[float]


def _training_units(problems: Sequence[Problem], pair_batches: bool) -> list[list[int]]:
    """Indices grouped into the units that are shuffled: twin pairs or single problems."""
    if not pair_batches:
        return [[i] for i in range(len(problems))]
    if len(problems) % 2:
        raise InputError(
            "pair_batches needs SAT/UNSAT twin pairs but the problem count is odd",
            item=len(problems),
            expected="problems ordered [sat0, unsat0, sat1, unsat1, ...] or pair_batches=False",
        )
    for i in range(0, len(problems), 2):
        if problems[i].is_sat == problems[i + 1].is_sat:
            raise InputError(
                "pair_batches needs each consecutive pair to hold one SAT and one UNSAT problem",
                item=f"problems {i} and {i + 1} ({problems[i].name}, {problems[i + 1].name})",
                expected="problems ordered [sat0, unsat0, ...] as generate_sr returns, or pair_batches=False",
            )
    return [[i, i + 1] for i in range(0, len(problems), 2)]


def _unit_batches(unit_sizes: list[int], shuffled: Sequence[Problem], max_nodes: int) -> list[list[int]]:
    """Consecutive batches of whole units with at most `max_nodes` literals + clauses (one unit may exceed)."""
    groups: list[list[int]] = []
    current: list[int] = []
    nodes = start = 0
    for size in unit_sizes:
        members = list(range(start, start + size))
        unit_nodes = sum(2 * shuffled[i].n_vars + shuffled[i].n_clauses for i in members)
        if current and nodes + unit_nodes > max_nodes:
            groups.append(current)
            current, nodes = [], 0
        current += members
        nodes += unit_nodes
        start += size
    if current:
        groups.append(current)
    return groups


def loss_fn(model: NeuroSAT, logits: torch.Tensor, labels: torch.Tensor, l2_weight: float) -> torch.Tensor:
    """Mean sigmoid cross-entropy (logits, labels: (B,)) plus ``l2_weight * Σ ||θ||²``."""
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    if l2_weight > 0:
        loss = loss + l2_weight * sum(p.pow(2).sum() for p in model.parameters())
    return loss


def fit(
    model: NeuroSAT,
    problems: Sequence[Problem],
    config: TrainConfig = TrainConfig(),
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
) -> TrainHistory:
    """Train `model` in place on labelled `problems`; returns the loss/accuracy history.

    With `checkpoint`, the state is saved after every epoch and a run started again with the same
    path and settings resumes after the last finished epoch (``epochs`` may be raised to extend it).

    Raises:
        InputError: no problems, a problem without a label, or (with ``pair_batches``) problems
            that are not consecutive SAT/UNSAT twins.
        CheckpointMismatchError: resuming a checkpoint made with other model or training settings.
    """
    if not problems:
        raise InputError("no training problems", item="problems")
    for i, problem in enumerate(problems):
        if problem.is_sat is None:
            raise InputError("training problem has no SAT/UNSAT label", item=f"problem {i} ({problem.name})")
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history = TrainHistory(loss=[], accuracy=[])
    start_epoch = 0
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    if ckpt_path is not None and ckpt_path.is_file():
        state = load_checkpoint(ckpt_path, type(model.config), expected=model.config, map_location=device)
        stored = dict(state.extra.get("train_config", {}))
        wanted = json.loads(json.dumps(asdict(config)))
        stored.pop("epochs", None), wanted.pop("epochs")  # a run may be extended by more epochs
        differing = sorted(k for k in wanted if stored.get(k) != wanted[k])
        if differing:
            raise CheckpointMismatchError(
                f"checkpoint was made with other training settings ('{differing[0]}')",
                item=f"{ckpt_path}: stored {stored.get(differing[0])!r}, requested {wanted[differing[0]]!r}",
            )
        model.load_state_dict(state.state["model"])
        optimizer.load_state_dict(state.state["optimizer"])
        start_epoch = int(state.extra["epoch"])
        history = TrainHistory(**state.extra["history"])
    units = _training_units(problems, config.pair_batches)
    rng = np.random.default_rng(config.seed)
    for _ in range(start_epoch):
        rng.permutation(len(units))
    for epoch in range(start_epoch, config.epochs):
        order = rng.permutation(len(units))
        shuffled = [problems[i] for unit in order for i in units[unit]]
        groups = _unit_batches([len(units[u]) for u in order], shuffled, config.max_nodes)
        model.train()
        total_loss = total_correct = total_count = 0.0
        bar = progress(groups, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not show_progress)
        for group in bar:
            batch = batch_problems([shuffled[i] for i in group]).to(device)
            logits = model(batch, config.rounds)
            loss = loss_fn(model, logits, batch.labels, config.l2_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            count = batch.n_problems
            total_loss += float(loss.detach()) * count
            total_correct += float(((logits > 0).float() == batch.labels).sum())
            total_count += count
        history.loss.append(total_loss / total_count)
        history.accuracy.append(total_correct / total_count)
        if ckpt_path is not None:
            save_checkpoint(
                ckpt_path,
                {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
                model.config,
                extra={"epoch": epoch + 1, "history": asdict(history), "train_config": asdict(config)},
            )
    model.eval()
    return history
