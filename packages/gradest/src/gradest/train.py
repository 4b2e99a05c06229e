"""Training loop shared by the learning experiments: resumable, checkpointed, with a progress bar.

Reads top to bottom like a CleanRL script: draw a minibatch, estimate the gradient with the chosen
estimator, take an Adam step, evaluate exactly every ``eval_every`` steps, checkpoint every
``checkpoint_every`` steps (model, optimiser, estimator state, RNG state and history).

Randomness flows from ``config.seed`` only: the model is initialised inside `torch.random.fork_rng`
(the caller's global RNG is left as it was), minibatches and the estimators' draws come from two
explicit generators. Resuming follows the workspace's one rule (`core.resume`): the saved config must
equal the requested one except ``steps``, which may be raised to extend a finished run; the extended run
is bit-identical to one made with the larger ``steps`` from the start.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from gradest.config import TrainConfig
from gradest.registry import make_estimator
from gradest.tasks import Task

__all__ = ["TrainConfig", "fit"]


def fit(
    task: Task, config: TrainConfig, checkpoint: str | Path | None = None, device: torch.device | None = None
) -> tuple[torch.nn.Module, list[dict[str, float]]]:
    """Train `task`'s model with `config`; resume from `checkpoint` when the file exists.

    Returns:
        ``(model, history)``: history rows hold ``step``, ``train_seconds`` (excluding evaluation),
        ``evaluations`` (objective calls per row so far) and the task's exact metrics.

    Raises:
        InputError: an unknown estimator; a damaged checkpoint or one whose tensors do not fit the model.
        CheckpointMismatchError: resuming with a config that differs in a field other than ``steps``.
    """
    device = device or torch.device("cpu")
    task.to(device)
    with torch.random.fork_rng(devices=[]):  # the initialisation is seeded; the caller's RNG is untouched
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
        saved = load_checkpoint(path, TrainConfig, resume=config)
        load_state_into(model, saved.state["model"], source=path)
        optimizer.load_state_dict(saved.state["optimizer"])
        estimator.load_state_dict(saved.state["estimator"])
        generator.set_state(saved.state["generator"])
        noise.set_state(saved.state["noise"].to(torch.uint8).cpu())
        start_step = saved.extra["step"]
        if start_step > config.steps:
            raise InputError(
                "the checkpoint is further along than the requested run",
                item=f"{path}: step {start_step}, requested steps = {config.steps}",
                expected=f"steps >= {start_step}",
            )
        train_seconds = saved.extra["train_seconds"]
        evaluations = saved.extra["evaluations"]
        history = saved.extra["history"]
        if history and history[-1]["step"] % config.eval_every != 0 and start_step < config.steps:
            history.pop()  # the end-of-run row of a shorter run: an extended run evaluates on schedule
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
