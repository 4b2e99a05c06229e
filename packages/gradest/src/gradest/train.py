"""Training loop shared by the learning experiments: resumable, checkpointed, with a progress bar.

Reads top to bottom like a CleanRL script: draw a minibatch, estimate the gradient with the chosen
estimator, take an Adam step, evaluate exactly every ``eval_every`` steps, checkpoint every
``checkpoint_every`` steps (model, optimiser, estimator state, RNG state and history).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from core.progress import progress
from gradest.registry import make_estimator
from gradest.tasks import Task

__all__ = ["TrainConfig", "fit"]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run.

    Attributes:
        estimator: a name from `gradest.ESTIMATORS`.
        num_samples: draws per row (the evaluation budget; REBAR/RELAX spend 3 evaluations per draw).
        steps: optimiser steps.
        batch_size: rows per minibatch.
        learning_rate: Adam step size.
        eval_every: steps between exact evaluations.
        checkpoint_every: steps between checkpoints (when a path is given).
        seed: seeds the model initialisation and every draw.
        k: categories summed exactly by the ``rb-`` estimators (an int, or "auto" for the paper's choice).
    """

    estimator: str = "rb-reinforce"
    num_samples: int = 3
    steps: int = 1000
    batch_size: int = 64
    learning_rate: float = 1e-3
    eval_every: int = 100
    checkpoint_every: int = 500
    seed: int = 0
    k: int | str = "auto"


def fit(
    task: Task, config: TrainConfig, checkpoint: str | Path | None = None, device: torch.device | None = None
) -> tuple[torch.nn.Module, list[dict[str, float]]]:
    """Train `task`'s model with `config`; resume from `checkpoint` when the file exists.

    Returns:
        ``(model, history)``: history rows hold ``step``, ``train_seconds`` (excluding evaluation),
        ``evaluations`` (objective calls per row so far) and the task's exact metrics.

    Raises:
        InputError: bad config values; CheckpointMismatchError when resuming with another config.
    """
    if config.steps < 1 or config.batch_size < 1 or config.eval_every < 1:
        raise InputError("steps, batch_size and eval_every must be positive", item=config)
    device = device or torch.device("cpu")
    task.to(device)
    torch.manual_seed(config.seed)
    model = task.make_model().to(device)
    options = {"k": config.k} if config.estimator.startswith("rb-") else {}
    estimator = make_estimator(config.estimator, **options)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)  # minibatches (CPU)
    noise = torch.Generator(device=device).manual_seed(config.seed + 1)  # the estimators' draws
    history: list[dict[str, float]] = []
    start_step, train_seconds, evaluations = 0, 0.0, 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        saved = load_checkpoint(path, TrainConfig, expected=config)
        model.load_state_dict(saved.state["model"])
        optimizer.load_state_dict(saved.state["optimizer"])
        estimator.load_state_dict(saved.state["estimator"])
        generator.set_state(saved.state["generator"])
        noise.set_state(saved.state["noise"].to(torch.uint8).cpu())
        start_step = saved.extra["step"]
        train_seconds = saved.extra["train_seconds"]
        evaluations = saved.extra["evaluations"]
        history = saved.extra["history"]
    if start_step == 0:
        history.append({"step": 0, "train_seconds": 0.0, "evaluations": 0, **task.evaluate(model)})
    for step in progress(range(start_step + 1, config.steps + 1), desc=f"{task.name} {config.estimator}"):
        began = time.perf_counter()
        index = torch.randint(0, task.train_size, (config.batch_size,), generator=generator)
        loss, estimate = task.batch_loss(model, estimator, index, config.num_samples, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        train_seconds += time.perf_counter() - began
        evaluations += estimate.evaluations
        if step % config.eval_every == 0 or step == config.steps:
            history.append(
                {
                    "step": step,
                    "train_seconds": train_seconds,
                    "evaluations": evaluations,
                    **task.evaluate(model),
                }
            )
        if path is not None and (step % config.checkpoint_every == 0 or step == config.steps):
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "estimator": estimator.state_dict(),
                "generator": generator.get_state(),
                "noise": noise.get_state(),
            }
            extra = {
                "step": step,
                "train_seconds": train_seconds,
                "evaluations": evaluations,
                "history": history,
            }
            save_checkpoint(path, state, config, extra=extra)
    return model, history
