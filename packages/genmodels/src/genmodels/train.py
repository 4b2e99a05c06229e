"""The training loop every genmodels trainer shares: epochs over shuffled minibatches, resumable.

Reads top to bottom: shuffle the data with the run's own `torch.Generator`, take one step per
minibatch (the caller's `step` function: loss, backward, optimiser), average the step metrics over
the epoch, evaluate, checkpoint, report. A checkpoint holds every stateful object (modules,
optimiser, objective state such as GECO's multiplier), the generator's state and the history, so a
killed run resumed from it continues bit for bit. Resuming follows the workspace's one rule
(`core.load_checkpoint(..., resume=config)`): the saved config must equal the requested one except
the extendable ``epochs``, which may be raised to extend a finished run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import torch

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from core.progress import progress
from genmodels.config import TrainConfig

__all__ = ["Stateful", "TrainConfig", "run_epochs"]


class Stateful(Protocol):
    def state_dict(self) -> Mapping[str, Any]: ...
    def load_state_dict(self, state: Mapping[str, Any]) -> Any: ...


StepFn = Callable[[torch.Tensor, torch.Generator, int], Mapping[str, float]]


def run_epochs(
    *,
    desc: str,
    train: TrainConfig,
    run_config: Any,
    run_type: type,
    size: int,
    step: StepFn,
    stateful: Mapping[str, Stateful],
    generator: torch.Generator,
    evaluate: Callable[[], Mapping[str, float]] | None = None,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    drop_last: bool = True,
) -> list[dict[str, float]]:
    """Train for ``train.epochs`` epochs (resuming from `checkpoint` when it exists); return the history.

    Args:
        desc: progress label.
        train: the optimisation settings (its ``epochs`` is the run's length).
        run_config: the whole run's frozen config (stored in, and checked against, the checkpoint).
        run_type: its dataclass type.
        size: number of training items; minibatches are index tensors into them.
        step: ``step(index (batch,) int64, generator, global_step) -> metrics``; takes the
            optimiser step itself.
        stateful: everything whose state the checkpoint keeps, by name (modules, optimiser, ...).
        generator: the run's CPU generator (shuffling and noise); its state is checkpointed.
        evaluate: metrics computed after each epoch (e.g. held-out ELBO), merged into the row.
        checkpoint: the ``.safetensors`` file to resume from and save to (None: no checkpoints).
        on_epoch: called with ``(epoch, row)`` after the epoch's checkpoint is written.
        drop_last: skip the last incomplete minibatch of an epoch.

    Returns:
        One row per epoch: ``epoch``, ``step`` and the epoch means of the step metrics plus `evaluate`'s.

    Raises:
        InputError: too few items for one minibatch; `CheckpointMismatchError` when resuming
            under a config that differs in a non-extendable field.
    """
    per_epoch = size // train.batch_size if drop_last else -(-size // train.batch_size)
    if per_epoch < 1:
        raise InputError(
            "fewer training items than one minibatch", item=f"{size} items, batch_size {train.batch_size}"
        )
    path = Path(checkpoint) if checkpoint is not None else None
    history: list[dict[str, float]] = []
    done = 0
    if path is not None and path.exists():
        saved = load_checkpoint(path, run_type, resume=run_config)
        for name, item in stateful.items():
            item.load_state_dict(saved.state[name])
        generator.set_state(saved.state["generator"])
        done, history = saved.extra["epoch"], saved.extra["history"]
    global_step = done * per_epoch
    for epoch in progress(range(done + 1, train.epochs + 1), desc=desc, total=max(0, train.epochs - done)):
        order = torch.randperm(size, generator=generator)
        sums: dict[str, float] = {}
        for batch in range(per_epoch):
            global_step += 1
            metrics = step(
                order[batch * train.batch_size : (batch + 1) * train.batch_size], generator, global_step
            )
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + float(value)
        row = {"epoch": epoch, "step": global_step, **{k: v / per_epoch for k, v in sums.items()}}
        if evaluate is not None:
            row.update({key: float(value) for key, value in evaluate().items()})
        history.append(row)
        if path is not None and (epoch % train.checkpoint_every == 0 or epoch == train.epochs):
            state = {name: item.state_dict() for name, item in stateful.items()}
            state["generator"] = generator.get_state()
            save_checkpoint(path, state, run_config, extra={"epoch": epoch, "history": history})
        if on_epoch is not None:
            on_epoch(epoch, row)
    return history
