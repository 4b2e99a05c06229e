"""Train and score one Not-so-Clevr task (classification, regression or rendering) with one network.

Scores: classification accuracy (arg-max pixel == centre pixel); regression accuracy (predicted
coordinates rounded to the nearest pixel == centre, both axes) and RMSE in pixels; rendering mean IoU of
the thresholded map (sigmoid > 0.5) with the 9x9 square.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vision_attention.config import TrainConfig
from vision_attention.coordconv.config import CoordTaskConfig
from vision_attention.coordconv.data import CANVAS, NotSoClevr, not_so_clevr, split_indices
from vision_attention.coordconv.models import make_model, parameter_count
from vision_attention.training import build_model, fit

__all__ = ["CoordTaskResult", "score", "task_loss", "task_tensors", "train_task"]

_PIXELS_PER_UNIT = (CANVAS - 1) / 2.0


def task_tensors(data: NotSoClevr, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, targets)`` of every position for `task`."""
    if task == "classification":
        return data.coordinates, data.pixel
    if task == "regression":
        return data.onehot, data.coordinates
    return data.coordinates, data.squares.flatten(1)


def task_loss(task: str):
    """``loss(model, (inputs, targets))``: cross-entropy over 4096 pixels, MSE, or per-pixel BCE."""

    def loss(model: nn.Module, batch: list[torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        output = model(inputs)
        if task == "classification":
            return F.cross_entropy(output, targets)
        if task == "regression":
            return F.mse_loss(output, targets)
        return F.binary_cross_entropy_with_logits(output, targets)

    return loss


@torch.no_grad()
def score(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, task: str, chunk: int = 256) -> dict:
    """The task's metrics on ``(inputs, targets)`` (see the module docstring)."""
    model.eval()
    outputs = torch.cat([model(inputs[i : i + chunk]) for i in range(0, len(inputs), chunk)])
    if task == "classification":
        return {"accuracy": float((outputs.argmax(1) == targets).float().mean())}
    if task == "regression":
        error = (outputs - targets) * _PIXELS_PER_UNIT
        hit = (error.abs() < 0.5).all(dim=1)
        return {
            "accuracy": float(hit.float().mean()),
            "rmse_pixels": float(error.pow(2).sum(1).mean().sqrt()),
        }
    predicted, truth = outputs > 0, targets > 0.5
    iou = (predicted & truth).sum(1).float() / (predicted | truth).sum(1).clamp(min=1).float()
    return {"iou": float(iou.mean())}


@dataclass
class CoordTaskResult:
    """One trained network and its scores.

    Attributes:
        config, train: the configs it ran with.
        parameters: trainable parameters.
        seconds: training time (excluding evaluation).
        train_scores, test_scores: `score` on the two halves of the split.
        history: `vision_attention.training.fit`'s rows.
        model: the trained network.
    """

    config: CoordTaskConfig
    train: TrainConfig
    parameters: int
    seconds: float
    train_scores: dict[str, float]
    test_scores: dict[str, float]
    history: list[dict[str, Any]]
    model: nn.Module


def train_task(
    config: CoordTaskConfig,
    train: TrainConfig,
    *,
    data: NotSoClevr | None = None,
    checkpoint: str | Path | None = None,
    device: torch.device | None = None,
    **fit_options: Any,
) -> CoordTaskResult:
    """Train `config`'s network on its split of Not-so-Clevr with `train`; score both halves."""
    data = data if data is not None else not_so_clevr()
    device = device or torch.device("cpu")
    inputs, targets = task_tensors(data, config.task)
    train_rows, test_rows = split_indices(data.centers, config.split, config.split_seed)
    model = build_model(lambda: make_model(config), train.seed).to(device)
    history = fit(
        model,
        task_loss(config.task),
        [inputs[train_rows], targets[train_rows]],
        train,
        checkpoint=checkpoint,
        **fit_options,
    )
    on = {"device": device}
    return CoordTaskResult(
        config=config,
        train=train,
        parameters=parameter_count(model),
        seconds=history[-1]["seconds"] if history else 0.0,
        train_scores=score(model, inputs[train_rows].to(**on), targets[train_rows].to(**on), config.task),
        test_scores=score(model, inputs[test_rows].to(**on), targets[test_rows].to(**on), config.task),
        history=history,
        model=model,
    )
