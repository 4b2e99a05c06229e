"""Training NeuroSAT on single-bit supervision: sigmoid cross-entropy of the mean vote (Section 3).

Adam with an L2 weight penalty and gradient-norm clipping, batches of whole SAT/UNSAT twin pairs
cut by node count. A checkpoint (model, optimiser, history, position in the epoch) is written at the
end of every epoch and, with ``checkpoint_every``, every that many steps, so a killed run resumes
where it stopped and continues bit for bit as if it had never stopped. Resuming follows the
workspace's one rule (`core.resume`): the saved `TrainingRun` (architecture + optimisation
settings) must equal the requested one except ``train.epochs``, which may grow to extend a run.

Under ``torchrun`` (an initialised `torch.distributed` process group) the same call trains with
DistributedDataParallel: every global batch is cut into per-rank shares of whole twin pairs
(`rank_share`), the loss is scaled so that the averaged gradient equals the single-process
gradient of the global batch, and only rank 0 writes checkpoints (see `neurosat.distributed`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from neurosat.cnf import Problem
from neurosat.config import TrainConfig, TrainingRun
from neurosat.graph import batch_problems, group_by_budget
from neurosat.model import NeuroSAT

__all__ = ["TrainConfig", "TrainHistory", "TrainingRun", "fit", "loss_fn", "rank_share", "training_batches"]


@dataclass
class TrainHistory:
    """Training curves.

    Attributes:
        loss: per epoch, mean training loss over the epoch's formulas.
        accuracy: per epoch, training accuracy (mean vote > 0 means SAT).
        step_loss: per optimisation step, the loss of the (global) batch.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)


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


def training_batches(
    problems: Sequence[Problem], units: list[list[int]], order: np.ndarray, max_nodes: int
) -> list[list[list[int]]]:
    """One epoch's batches: consecutive whole units (in `order`) with at most `max_nodes` nodes each.

    Returns a list of batches, each a list of units (lists of problem indices). A unit larger than
    `max_nodes` gets a batch of its own.
    """
    chosen = [units[int(u)] for u in order]
    sizes = [sum(2 * problems[i].n_vars + problems[i].n_clauses for i in unit) for unit in chosen]
    return [[chosen[j] for j in group] for group in group_by_budget(sizes, max_nodes)]


def rank_share(batch: list[list[int]], problems: Sequence[Problem], rank: int, world: int) -> list[int]:
    """The problems of `batch` (a list of units) that process `rank` of `world` trains on.

    Units are never split (twin pairs stay together); they are dealt greedily by node count to the
    least-loaded rank, so every rank gets a similar share of the work. Deterministic, so all
    ranks agree without communicating.
    """
    loads = [0] * world
    owner: list[int] = []
    for unit in batch:
        target = min(range(world), key=loads.__getitem__)
        owner.append(target)
        loads[target] += sum(2 * problems[i].n_vars + problems[i].n_clauses for i in unit)
    return [i for unit, r in zip(batch, owner) if r == rank for i in unit]


def loss_fn(
    model: torch.nn.Module, logits: torch.Tensor, labels: torch.Tensor, l2_weight: float
) -> torch.Tensor:
    """Mean sigmoid cross-entropy (logits, labels: (B,)) plus ``l2_weight * Σ ||θ||²``."""
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    if l2_weight > 0:
        loss = loss + l2_weight * sum(p.pow(2).sum() for p in model.parameters())
    return loss


def _world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised process group, ``(0, 1)`` without one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def fit(
    model: NeuroSAT,
    problems: Sequence[Problem],
    config: TrainConfig | None = None,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainHistory:
    """Train `model` in place on labelled `problems`; returns the history.

    Args:
        config: optimisation settings (default: the paper's `TrainConfig()`).
        checkpoint: a ``.safetensors`` path; when the file exists the run resumes from it (the
            one resume rule: only ``epochs`` may differ), and the state is written there after
            every epoch.
        checkpoint_every: also write the checkpoint every this many optimisation steps.
        on_step: called as ``on_step(step, loss)`` after every optimisation step (1-based step
            counted over the whole run); an exception it raises stops the run (used by tests to
            simulate a crash).

    Under an initialised `torch.distributed` process group the model is wrapped in
    DistributedDataParallel and each rank trains on its `rank_share` of every global batch; the
    history and checkpoints are the same as a single process would produce (up to float
    summation order).

    Raises:
        InputError: no problems, a problem without a label, (with ``pair_batches``) problems
            that are not consecutive SAT/UNSAT twins, or a damaged checkpoint.
        CheckpointMismatchError: resuming a checkpoint made with other model or training
            settings; the message names the field and both values.
    """
    config = TrainConfig() if config is None else config
    if not problems:
        raise InputError("no training problems", item="problems")
    for i, problem in enumerate(problems):
        if problem.is_sat is None:
            raise InputError("training problem has no SAT/UNSAT label", item=f"problem {i} ({problem.name})")
    if checkpoint_every is not None and checkpoint_every < 1:
        raise InputError("checkpoint_every must be >= 1 step", item=checkpoint_every)
    rank, world = _world()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    run = TrainingRun(model=model.config, train=config)
    history = TrainHistory()
    start_epoch = start_batch = step = 0
    partial = [0.0, 0.0, 0.0]  # loss sum, correct, count of the epoch in progress
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    if ckpt_path is not None and ckpt_path.is_file():
        saved = load_checkpoint(ckpt_path, TrainingRun, resume=run, map_location=device)
        load_state_into(model, saved.state["model"], source=ckpt_path)
        optimizer.load_state_dict(saved.state["optimizer"])
        start_epoch, start_batch = int(saved.extra["epoch"]), int(saved.extra.get("batch", 0))
        step = int(saved.extra.get("step", 0))
        partial = [float(v) for v in saved.extra.get("partial", partial)]
        history = TrainHistory(**saved.extra["history"])
    trained: torch.nn.Module = model
    if world > 1:
        trained = torch.nn.parallel.DistributedDataParallel(model)

    def save(epoch: int, batch: int) -> None:
        if ckpt_path is None or rank != 0:
            return
        save_checkpoint(
            ckpt_path,
            {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
            run,
            extra={
                "epoch": epoch,
                "batch": batch,
                "step": step,
                "partial": partial,
                "history": asdict(history),
            },
        )

    units = _training_units(problems, config.pair_batches)
    rng = np.random.default_rng(config.seed)
    for epoch in range(config.epochs):
        order = rng.permutation(len(units))  # drawn for every epoch, so resuming replays the stream
        if epoch < start_epoch:
            continue
        batches = training_batches(problems, units, order, config.max_nodes)
        first = start_batch if epoch == start_epoch else 0
        model.train()
        bar = progress(
            range(first, len(batches)), desc=f"epoch {epoch + 1}/{config.epochs}", disable=not show_progress
        )
        for index in bar:
            total = sum(len(unit) for unit in batches[index])
            mine = rank_share(batches[index], problems, rank, world)
            loss_value, correct = _step(
                trained, model, [problems[i] for i in mine], total, world, config, optimizer, device
            )
            step += 1
            partial = [partial[0] + loss_value * total, partial[1] + correct, partial[2] + total]
            history.step_loss.append(loss_value)
            if on_step is not None:
                on_step(step, loss_value)
            if checkpoint_every and step % checkpoint_every == 0 and index + 1 < len(batches):
                save(epoch, index + 1)
        history.loss.append(partial[0] / partial[2])
        history.accuracy.append(partial[1] / partial[2])
        partial = [0.0, 0.0, 0.0]
        save(epoch + 1, 0)
    model.eval()
    return history


_STAND_IN = Problem(1, ((1,),), is_sat=True, name="stand-in")


def _step(
    trained: torch.nn.Module,
    model: NeuroSAT,
    share: list[Problem],
    total: int,
    world: int,
    config: TrainConfig,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str,
) -> tuple[float, float]:
    """One optimisation step on this process's `share` of a global batch of `total` formulas.

    Returns the global batch's loss and its number of correctly classified formulas. The
    cross-entropy is summed over the share and divided by `total`, times `world` because DDP
    averages gradients over the ranks: the applied gradient is then that of the mean loss over
    the whole global batch, exactly as in a single process.
    """
    # A rank left without a unit (a batch with fewer twin pairs than ranks) still joins DDP's
    # gradient all-reduce, with a one-clause stand-in whose loss is multiplied by 0.
    weight = 1.0 if share else 0.0
    batch = batch_problems(share or [_STAND_IN]).to(device)
    logits = trained(batch, config.rounds)
    ce_sum = weight * F.binary_cross_entropy_with_logits(logits, batch.labels, reduction="sum")
    l2 = sum(p.pow(2).sum() for p in model.parameters()) if config.l2_weight > 0 else logits.new_zeros(())
    loss = ce_sum * (world / total) + config.l2_weight * l2
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
    optimizer.step()
    correct = weight * ((logits.detach() > 0).float() == batch.labels).sum()
    stats = torch.stack([ce_sum.detach(), correct.to(ce_sum.dtype)])
    if world > 1:
        torch.distributed.all_reduce(stats)
    return float(stats[0]) / total + config.l2_weight * float(l2.detach()), float(stats[1])
