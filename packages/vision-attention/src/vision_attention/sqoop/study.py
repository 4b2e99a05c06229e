"""The SQOOP systematic-generalisation study: train on k rhs/lhs, test on the held-out pairs.

For each #rhs/lhs ``k``: `data.rhs_split` gives every left-hand object X its ``k`` training partners Y; the
training questions use only those pairs, the test questions only the others (never seen together in
training). Each model (`SQOOP_MODELS`) trains with cross-entropy through `vision_attention.training.fit`
(checkpointed, resumable) and is scored on both. The layout-inducing models also log, after every epoch, the
layout they induce (`induced_layout`): ``p_tree`` (layout model) or ``correct_attention`` (attention model: the
mean weight each module puts on its right word, X / Y / R) and the word chosen by each module.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from vision_attention.config import TrainConfig
from vision_attention.sqoop.config import SqoopConfig
from vision_attention.sqoop.data import make_questions, rhs_split
from vision_attention.sqoop.models import AttentionNMN, LayoutNMN, make_sqoop_model
from vision_attention.sqoop.render import encode, render
from vision_attention.training import build_model, fit

__all__ = ["SqoopRun", "SqoopSet", "accuracy", "induced_layout", "make_sets", "train_sqoop"]

MODULE_WORDS = ((0, "X"), (2, "Y"), (1, "R"))
"""The right word of each module of `AttentionNMN` (Find 1, Find 2, Relate): token slot and its name."""


@dataclass(frozen=True)
class SqoopSet:
    """Images ``(n, 1, H, W)``, tokens ``(n, 3)`` and answers ``(n,)`` of one split half."""

    images: torch.Tensor
    tokens: torch.Tensor
    answers: torch.Tensor


@dataclass(frozen=True)
class SqoopRun:
    model: str
    rhs_per_lhs: int
    train_accuracy: float
    test_accuracy: float
    parameters: int
    seconds: float
    history: list
    induced: dict = field(default_factory=dict)


def make_sets(
    rhs_per_lhs: int, train_count: int, test_count: int, config: SqoopConfig, seed: int = 0
) -> tuple[SqoopSet, SqoopSet]:
    """Training questions on the split's train pairs, test questions on its held-out pairs."""
    train_pairs, test_pairs = rhs_split(rhs_per_lhs, seed=seed, vocabulary=config.vocabulary)
    out = []
    for pairs, count, offset in ((train_pairs, train_count, 1), (test_pairs, test_count, 2)):
        questions = make_questions(
            pairs,
            count,
            grid=config.grid,
            n_objects=config.objects,
            seed=seed * 10 + offset,
            vocabulary=config.vocabulary,
        )
        tokens, answers = encode(questions)
        out.append(SqoopSet(render(questions, config.grid, config.cell), tokens, answers))
    return out[0], out[1]


def accuracy(model: torch.nn.Module, data: SqoopSet) -> float:
    """Fraction of questions answered correctly (eval mode, no gradients)."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        right = sum(
            int((model(i.to(device), t.to(device)).argmax(1).cpu() == a).sum())
            for i, t, a in zip(data.images.split(512), data.tokens.split(512), data.answers.split(512))
        )
    return right / len(data.answers)


def induced_layout(model: torch.nn.Module) -> dict:
    """What a layout-inducing model has chosen so far (empty for the others).

    layout: ``{"p_tree": p}``; attention: ``{"correct_attention": mean weight on the right words,
    "words": "XYR"-style argmax word of Find 1, Find 2, Relate}``.
    """
    if isinstance(model, LayoutNMN):
        return {"p_tree": model.p_tree()}
    if isinstance(model, AttentionNMN):
        weights = model.word_attention().detach().cpu()
        names = "XRY"
        right = sum(float(weights[row, slot]) for row, (slot, _) in enumerate(MODULE_WORDS)) / 3
        return {"correct_attention": right, "words": "".join(names[int(i)] for i in weights.argmax(1))}
    return {}


def train_sqoop(
    config: SqoopConfig,
    train: TrainConfig,
    train_set: SqoopSet,
    test_set: SqoopSet,
    *,
    rhs_per_lhs: int,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    quiet: bool = True,
) -> SqoopRun:
    """Train one model on `train_set`; its accuracy on both sets (test: held-out pairs only)."""
    model = build_model(lambda: make_sqoop_model(config), train.seed).to(device)

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(module(batch[0], batch[1]), batch[2])

    began = time.perf_counter()
    history = fit(
        model,
        loss,
        [train_set.images, train_set.tokens, train_set.answers],
        train,
        checkpoint=checkpoint,
        quiet=quiet,
        evaluate=lambda module: {k: v for k, v in induced_layout(module).items() if isinstance(v, float)},
    )
    seconds = history[-1]["seconds"] if history else time.perf_counter() - began
    return SqoopRun(
        model=config.model,
        rhs_per_lhs=rhs_per_lhs,
        train_accuracy=accuracy(model, train_set),
        test_accuracy=accuracy(model, test_set),
        parameters=sum(p.numel() for p in model.parameters()),
        seconds=seconds,
        history=history,
        induced=induced_layout(model),
    )
