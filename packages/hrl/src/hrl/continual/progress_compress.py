"""Progress & Compress (Schwarz et al., ICML 2018) and its baselines on a sequence of supervised tasks.

Unlike the single-pass stream of `hrl.continual.learners`, each task here is learned for ``epochs``
epochs of Adam minibatches, the setting of the P&C paper. Methods (`SEQUENCE_METHODS`):

- ``"pc"``: Progress & Compress. Two MLPs of the same shape: the knowledge base (KB) and the active
  column (AC). The AC's hidden layer ``l >= 2`` and its output get a lateral input
  ``U_l h_{l-1}^KB`` from the KB's previous hidden layer (a linear adaptor; the paper's adaptor is
  ``alpha * U sigma(V h)``). *Progress*: the AC and its laterals learn the new task by cross-entropy,
  the KB frozen. *Compress*: the KB learns to match the AC by distillation,
  ``KL(softmax(AC(x)) || softmax(KB(x)))`` on the task's inputs, plus the online EWC penalty
  ``lambda / 2 sum_i F_i (theta_i - theta*_i)^2`` with the running Fisher ``F <- gamma F + F_task``
  (`EWCPenalty(online=True)`), after which the KB's Fisher on the task is folded in and the anchor
  moved to the KB's weights. The AC keeps its weights from task to task (``reset_active=False``) or is
  re-initialised. Tasks are evaluated with the KB; the AC's accuracy on each task right after its
  progress phase is kept too (``active``).
- ``"finetune"``: one MLP trained on each task in turn (no protection).
- ``"ewc"`` / ``"online-ewc"``: the same plus EWC's per-task penalties / online EWC's single one.
- ``"independent"``: a fresh MLP per task (no forgetting, no transfer: the per-task upper bound);
  task j is evaluated with network ``min(i, j)`` after task i.

Measures: the accuracy matrix, ACC / LA / BTI (`continual_metrics`), and forward transfer: a method's
just-learned accuracy minus the independent network's on the same task.
`train_sequence(..., checkpoint=path)` saves after every task and resumes under the workspace's one
resume rule, like `train_stream`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from hrl.continual.learners import _forward, _init_params, _stream_digest, accuracy
from hrl.continual.regularizers import EWCPenalty, diagonal_fisher

__all__ = ["SEQUENCE_METHODS", "ProgressCompressConfig", "SequenceRun", "active_forward", "train_sequence"]

SEQUENCE_METHODS = ("finetune", "ewc", "online-ewc", "pc", "independent")


@dataclass(frozen=True)
class ProgressCompressConfig:
    """One learner of a task sequence.

    Attributes:
        method: one of `SEQUENCE_METHODS`.
        hidden: the MLP's hidden widths (KB and AC alike).
        lr: Adam's step size (every phase).
        epochs: epochs per task (P&C: per phase).
        batch_size: minibatch size.
        ewc_lambda: EWC's / online EWC's penalty strength (P&C: in the compress phase).
        ewc_gamma: online EWC's Fisher decay (online EWC and P&C), in (0, 1].
        reset_active: P&C re-initialises the active column before each task.
        seed: initial weights and minibatch order.
    """

    method: str = "pc"
    hidden: tuple[int, ...] = (100, 100)
    lr: float = 1e-3
    epochs: int = 3
    batch_size: int = 32
    ewc_lambda: float = 100.0
    ewc_gamma: float = 1.0
    reset_active: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self.method not in SEQUENCE_METHODS:
            raise InputError(
                f"{name} method must be one of {', '.join(SEQUENCE_METHODS)}, got {self.method!r}"
            )
        if not self.hidden or any(
            not isinstance(w, int) or isinstance(w, bool) or w < 1 for w in self.hidden
        ):
            raise InputError(f"{name} hidden must be positive integer widths, got {self.hidden!r}")
        for field_name in ("lr", "ewc_lambda"):
            value = getattr(self, field_name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < float("inf"):
                raise InputError(f"{name} {field_name} must be a positive finite number, got {value!r}")
        if not isinstance(self.ewc_gamma, (int, float)) or not 0 < self.ewc_gamma <= 1:
            raise InputError(f"{name} ewc_gamma must be in (0, 1], got {self.ewc_gamma!r}")
        for field_name in ("epochs", "batch_size"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{name} {field_name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise InputError(f"{name} seed must be an integer >= 0, got {self.seed!r}")


@dataclass(frozen=True)
class SequenceRun:
    """What `train_sequence` returns: ``result[i, j]`` the accuracy on task j after task i (the KB's for
    P&C) and, for P&C, ``active[i]`` the active column's accuracy on task i after its progress phase."""

    result: np.ndarray
    active: np.ndarray | None


def _hidden(params: list[Any], x: Any) -> list[Any]:
    """The ReLU hidden activations of the MLP ``params`` (as `_forward` computes them)."""
    import torch

    out = []
    for i in range(0, len(params) - 2, 2):
        x = torch.relu(x @ params[i].T + params[i + 1])
        out.append(x)
    return out


def active_forward(active: list[Any], laterals: list[Any], base: list[Any], x: Any) -> Any:
    """The active column's logits: layer ``l >= 2`` adds ``laterals[l - 2] @ h_{l-1}^KB`` of the
    knowledge base ``base`` (its activations detached: the KB is frozen in the progress phase)."""
    import torch

    kb = [h.detach() for h in _hidden(base, x)]
    h = torch.relu(x @ active[0].T + active[1])
    layers = len(active) // 2
    for layer in range(1, layers):
        z = h @ active[2 * layer].T + active[2 * layer + 1] + kb[layer - 1] @ laterals[layer - 1].T
        h = z if layer == layers - 1 else torch.relu(z)
    return h


def _fit(
    params: list[Any], loss_of: Any, x: Any, config: ProgressCompressConfig, generator: Any
) -> list[Any]:
    """``epochs`` epochs of Adam on ``loss_of(params, batch_indices)``; returns detached tensors."""
    import torch

    live = [p.detach().clone().requires_grad_(True) for p in params]
    optimiser = torch.optim.Adam(live, lr=config.lr)
    for _ in range(config.epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            optimiser.zero_grad()
            loss_of(live, order[start : start + config.batch_size]).backward()
            optimiser.step()
    return [p.detach() for p in live]


class _Sequence:
    """The state of one method on a sequence: networks, penalty, generator."""

    def __init__(self, config: ProgressCompressConfig, width: int, classes: int) -> None:
        import torch

        self.config = config
        self.sizes = [width, *config.hidden, classes]
        self.init = torch.Generator().manual_seed(config.seed)
        self.shuffle = torch.Generator().manual_seed(config.seed + 1)
        self.base = _init_params(self.sizes, self.init)
        self.columns: list[list[Any]] = []  # independent: one network per finished task
        self.active = _init_params(self.sizes, self.init) if config.method == "pc" else []
        self.laterals = self._new_laterals() if config.method == "pc" else []
        online = config.method in ("online-ewc", "pc")
        self.penalty = (
            EWCPenalty(config.ewc_lambda, online=online, gamma=config.ewc_gamma)
            if config.method in ("ewc", "online-ewc", "pc")
            else None
        )

    def _new_laterals(self) -> list[Any]:
        import torch

        return [
            (torch.rand(fan_out, fan_in, generator=self.init) * 2 - 1) / fan_in**0.5
            for fan_in, fan_out in zip(self.sizes[1:-1], self.sizes[2:], strict=True)
        ]

    def learn(self, x: Any, y: Any, x_test: Any, y_test: Any) -> float | None:
        """Learn one task (x, y); P&C returns its active column's test accuracy after the progress phase."""
        import torch
        import torch.nn.functional as F

        method, config = self.config.method, self.config
        penalty = self.penalty

        def supervised(params: list[Any], idx: Any) -> Any:
            loss = F.cross_entropy(_forward(params, x[idx]), y[idx])
            return loss + penalty(params) if penalty is not None and penalty.anchors else loss

        if method == "independent":
            if self.columns:
                self.base = _init_params(self.sizes, self.init)
            self.base = _fit(self.base, supervised, x, config, self.shuffle)
            self.columns.append(self.base)
            return None
        if method != "pc":
            self.base = _fit(self.base, supervised, x, config, self.shuffle)
        else:
            if config.reset_active and self.columns:
                self.active, self.laterals = _init_params(self.sizes, self.init), self._new_laterals()
            split = len(self.active)
            base = self.base

            def progress(params: list[Any], idx: Any) -> Any:
                return F.cross_entropy(active_forward(params[:split], params[split:], base, x[idx]), y[idx])

            both = _fit([*self.active, *self.laterals], progress, x, config, self.shuffle)
            self.active, self.laterals = both[:split], both[split:]
            with torch.no_grad():
                teacher = torch.log_softmax(active_forward(self.active, self.laterals, base, x), dim=1)
                tested = active_forward(self.active, self.laterals, base, x_test).argmax(1)
                active_accuracy = float((tested == y_test).float().mean())

            def compress(params: list[Any], idx: Any) -> Any:
                student = torch.log_softmax(_forward(params, x[idx]), dim=1)
                loss = F.kl_div(student, teacher[idx], log_target=True, reduction="batchmean")
                return loss + penalty(params) if penalty.anchors else loss

            self.base = _fit(self.base, compress, x, config, self.shuffle)
            self.columns.append([])  # counts the finished tasks
        if penalty is not None:
            penalty.consolidate(self.base, diagonal_fisher(self.base, x, y, _forward))
        return active_accuracy if method == "pc" else None

    def evaluate(self, task: int, x: Any, y: Any) -> float:
        """Accuracy on a task's test set (independent: with network min(last, task))."""
        if self.config.method == "independent":
            return accuracy(self.columns[min(task, len(self.columns) - 1)], x, y)
        return accuracy(self.base, x, y)

    def state(self) -> dict[str, Any]:
        import torch

        return {
            "base": self.base,
            "columns": self.columns if self.config.method == "independent" else [],
            "active": self.active,
            "laterals": self.laterals,
            "ewc": self.penalty.tensors() if self.penalty is not None else {},
            "init": self.init.get_state(),
            "shuffle": self.shuffle.get_state(),
            "tasks_done": torch.tensor(len(self.columns)),
        }

    def restore(self, state: dict[str, Any]) -> None:
        def fresh(tensors: list[Any]) -> list[Any]:
            return [t.clone() for t in tensors]

        self.base, self.active, self.laterals = (
            fresh(state["base"]),
            fresh(state["active"]),
            fresh(state["laterals"]),
        )
        done = int(state["tasks_done"])
        self.columns = [fresh(c) for c in state["columns"]] or [[] for _ in range(done)]
        if self.penalty is not None:
            self.penalty.restore(state["ewc"])
        self.init.set_state(state["init"])
        self.shuffle.set_state(state["shuffle"])


def train_sequence(
    tasks: list[tuple[Any, Any, Any, Any]],
    config: ProgressCompressConfig,
    checkpoint: str | os.PathLike[str] | None = None,
) -> SequenceRun:
    """Learn the tasks in order (``config.epochs`` epochs each); the accuracy matrix and P&C's AC accuracies.

    Args:
        tasks: per task ``(x_train (n, d) float, y_train (n,) long, x_test (m, d), y_test (m,))``.
        config: the learner.
        checkpoint: a ``.safetensors`` file saved after every task; an existing one is resumed
            (its config must equal ``config`` and its stream ``tasks``).
    """
    import torch

    from core.checkpoint import load_checkpoint, save_checkpoint

    if not tasks:
        raise InputError("train_sequence needs at least one task")
    width = tasks[0][0].shape[1]
    classes = int(max(int(t[1].max()) for t in tasks)) + 1
    run = _Sequence(config, width, classes)
    result = np.zeros((len(tasks), len(tasks)))
    active = np.zeros(len(tasks))
    first = 0
    digest = _stream_digest(tasks) if checkpoint is not None else ""
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint, ProgressCompressConfig, resume=config)
        if saved.extra["stream"] != digest:
            raise InputError(
                "train_sequence checkpoint was written for a different task sequence", item=str(checkpoint)
            )
        run.restore(saved.state)
        first = int(saved.extra["tasks_done"])
        result[:first] = saved.state["result"].numpy()
        active[:first] = saved.state["active_accuracy"].numpy()
    for i in range(first, len(tasks)):
        x_train, y_train, x_test, y_test = tasks[i]
        active[i] = run.learn(x_train, y_train, x_test, y_test) or 0.0
        for j, (_, _, xt, yt) in enumerate(tasks):
            result[i, j] = run.evaluate(j, xt, yt)
        if checkpoint is not None:
            state = run.state()
            state["result"] = torch.from_numpy(result[: i + 1].copy())
            state["active_accuracy"] = torch.from_numpy(active[: i + 1].copy())
            save_checkpoint(checkpoint, state, config, extra={"tasks_done": i + 1, "stream": digest})
    return SequenceRun(result=result, active=active if config.method == "pc" else None)
