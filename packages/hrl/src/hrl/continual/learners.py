"""The stream learners and `train_stream` (one pass over a task sequence, one example at a time).

Six learners see the same stream with the same network and step size:

- ``"online"``: one SGD step on each incoming example (no memory).
- ``"er"``: experience replay. For each incoming example, ``batches`` SGD steps, each on the mean loss
  of a batch of the current example plus ``batch_size - 1`` examples drawn from a reservoir memory.
- ``"mer"``: MER's Algorithm 1 (Riemer et al., ICLR 2019). For each incoming example, ``batches``
  batches ``B_i`` (the current example plus ``batch_size - 1`` from memory); SGD with rate ``lr``
  through the ``batch_size`` examples of ``B_i`` one at a time, then the within-batch Reptile step
  ``theta <- theta_i0 + beta (theta_ik - theta_i0)``; after the ``batches`` batches the across-batch
  step ``theta <- theta_A0 + gamma (theta_As - theta_A0)``. With ``batches=1, batch_size=1,
  beta=gamma=1`` this is one SGD step on the current example (``"online"``).
- ``"ewc"``: online SGD on cross-entropy plus EWC's penalty (Kirkpatrick et al. 2017), one (anchor,
  empirical Fisher) pair per finished task, the Fisher over that task's training examples.
- ``"online-ewc"``: the same with online EWC's single running pair, Fisher decay ``ewc_gamma``
  (Schwarz et al. 2018).
- ``"gem"``: GEM (Lopez-Paz and Ranzato 2017): an episodic memory of the last ``memory // tasks``
  examples of each task; each SGD step's gradient is projected (`gem_project`) so that it does not
  increase any previous task's memory loss.

ER and MER update their reservoir memory (`ReservoirBuffer`) after the update. EWC and GEM use the
task boundaries; ER and MER do not.

`train_stream(..., checkpoint=path)` saves the learner (weights, memories, EWC's anchors and Fishers,
generator states, the accuracy rows so far) after every task with `core.save_checkpoint` and resumes
from an existing file under the workspace's one resume rule (`core.load_checkpoint(..., resume=config)`:
any changed config field is refused by name; a different stream is refused too), so a killed run
resumed from its checkpoint gives the same accuracy matrix and weights as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from hrl.continual.memory import ReservoirBuffer
from hrl.continual.regularizers import EWCPenalty, diagonal_fisher, gem_project

__all__ = ["METHODS", "ContinualConfig", "StreamLearner", "accuracy", "learn_example", "train_stream"]

METHODS = ("online", "er", "mer", "ewc", "online-ewc", "gem")


@dataclass(frozen=True)
class ContinualConfig:
    """One learner of the stream.

    Attributes:
        method: one of `METHODS`.
        lr: SGD step size alpha.
        beta: MER's within-batch Reptile rate (MER only).
        gamma: MER's across-batch Reptile rate (MER only).
        batches: s, batches (ER: SGD steps) per incoming example.
        batch_size: k, examples per batch, the current one included.
        memory: reservoir capacity (ER and MER); GEM's memory over all tasks (``memory // tasks`` each).
        hidden: widths of the ReLU MLP (the paper's: two layers of 100).
        ewc_lambda: EWC's penalty strength lambda (EWC, online EWC). Not the paper's (not in the
            issue or notes): the best of 0.1, 1, 10, 100, 1000 on the smoke Rotations stream (README).
        ewc_gamma: online EWC's Fisher decay, in (0, 1].
        gem_margin: GEM's margin on the dual variables (its code's ``memory_strength``, 0.5).
        seed: initial weights and memory draws.
    """

    method: str = "mer"
    lr: float = 0.03
    beta: float = 0.3
    gamma: float = 1.0
    batches: int = 5
    batch_size: int = 10
    memory: int = 200
    hidden: tuple[int, ...] = (100, 100)
    ewc_lambda: float = 1.0
    ewc_gamma: float = 1.0
    gem_margin: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(
                f"ContinualConfig method must be one of {', '.join(METHODS)}, got {self.method!r}"
            )
        for name in ("lr", "beta", "gamma", "ewc_lambda"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < float("inf"):
                raise InputError(f"ContinualConfig {name} must be a positive finite number, got {value!r}")
        if not isinstance(self.ewc_gamma, (int, float)) or not 0 < self.ewc_gamma <= 1:
            raise InputError(f"ContinualConfig ewc_gamma must be in (0, 1], got {self.ewc_gamma!r}")
        if not isinstance(self.gem_margin, (int, float)) or not 0 <= self.gem_margin < float("inf"):
            raise InputError(
                f"ContinualConfig gem_margin must be a finite number >= 0, got {self.gem_margin!r}"
            )
        for name in ("batches", "batch_size", "memory"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"ContinualConfig {name} must be an integer >= 1, got {value!r}")
        if not self.hidden or any(not isinstance(w, int) or w < 1 for w in self.hidden):
            raise InputError(f"ContinualConfig hidden must be positive integer widths, got {self.hidden!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"ContinualConfig seed must be an integer >= 0, got {self.seed!r}")

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (for result notes)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _init_params(sizes: list[int], generator: Any) -> list[Any]:
    """PyTorch's default Linear initialisation (uniform +-1/sqrt(fan_in)) for weights and biases."""
    import torch

    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / fan_in**0.5
        params.append((torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound)
        params.append((torch.rand(fan_out, generator=generator) * 2 - 1) * bound)
    return params


def _forward(params: list[Any], x: Any) -> Any:
    """Logits (batch, classes) of the ReLU MLP for inputs x (batch, features)."""
    import torch

    for i in range(0, len(params) - 2, 2):
        x = torch.relu(x @ params[i].T + params[i + 1])
    return x @ params[-2].T + params[-1]


def _grad(params: list[Any], x: Any, y: Any, penalty: EWCPenalty | None = None) -> list[Any]:
    """Gradients of the mean cross-entropy of (x, y) (plus the penalty) at params."""
    import torch

    live = [p.detach().requires_grad_(True) for p in params]
    loss = torch.nn.functional.cross_entropy(_forward(live, x), y)
    if penalty is not None and penalty.anchors:
        loss = loss + penalty(live)
    return list(torch.autograd.grad(loss, live))


def _sgd(params: list[Any], x: Any, y: Any, lr: float, penalty: EWCPenalty | None = None) -> list[Any]:
    """One SGD step on the mean cross-entropy of (x, y) (plus the penalty); returns new tensors."""
    grads = _grad(params, x, y, penalty)
    return [(p - lr * g).detach() for p, g in zip(params, grads, strict=True)]


def _lerp(start: list[Any], end: list[Any], rate: float) -> list[Any]:
    """start + rate (end - start), tensor by tensor (a Reptile step)."""
    return [a + rate * (b - a) for a, b in zip(start, end, strict=True)]


def accuracy(params: list[Any], x: Any, y: Any) -> float:
    """Fraction of rows of x (n, features) whose arg-max logit is the label y (n,)."""
    import torch

    with torch.no_grad():
        return float((_forward(params, x).argmax(1) == y).float().mean())


def learn_example(
    params: list[Any], x: Any, y: Any, memory: ReservoirBuffer | None, config: ContinualConfig
) -> list[Any]:
    """Online SGD's, ER's or MER's update for one example x (1, features), y (1,); the new weights.

    The memory (ER, MER) is offered the example after the update.
    """
    import torch

    if config.method == "online":
        return _sgd(params, x, y, config.lr)
    if config.method not in ("er", "mer") or memory is None:
        raise InputError(f"learn_example runs online, er and mer (with a memory), got {config.method!r}")
    batches = []
    for _ in range(config.batches):
        drawn = memory.sample(config.batch_size - 1)
        bx = torch.cat([x, *(m[0] for m in drawn)])
        by = torch.cat([y, *(m[1] for m in drawn)])
        batches.append((bx, by))
    if config.method == "er":
        for bx, by in batches:
            params = _sgd(params, bx, by, config.lr)
    else:
        start = params
        for bx, by in batches:
            inner = params
            for j in range(len(by)):
                inner = _sgd(inner, bx[j : j + 1], by[j : j + 1], config.lr)
            params = _lerp(params, inner, config.beta)
        params = _lerp(start, params, config.gamma)
    memory.add((x, y))
    return params


class StreamLearner:
    """Any of `METHODS` on a stream of ``tasks`` tasks of ``width`` features and ``classes`` labels."""

    def __init__(self, config: ContinualConfig, width: int, classes: int, tasks: int) -> None:
        import torch

        self.config = config
        self.width = width
        generator = torch.Generator().manual_seed(config.seed)
        self.params = _init_params([width, *config.hidden, classes], generator)
        self.memory = (
            ReservoirBuffer(config.memory, np.random.default_rng(config.seed))
            if config.method in ("er", "mer")
            else None
        )
        self.penalty = (
            EWCPenalty(config.ewc_lambda, online=config.method == "online-ewc", gamma=config.ewc_gamma)
            if config.method in ("ewc", "online-ewc")
            else None
        )
        self.per_task = max(1, config.memory // tasks)
        self.episodic: list[tuple[Any, Any]] = []  # GEM: per finished task, its last examples
        self.recent: list[tuple[Any, Any]] = []  # GEM: the current task's last examples

    def learn(self, x: Any, y: Any) -> None:
        """Update on one example x (1, width), y (1,)."""
        method = self.config.method
        if method in ("online", "er", "mer"):
            self.params = learn_example(self.params, x, y, self.memory, self.config)
        elif method in ("ewc", "online-ewc"):
            self.params = _sgd(self.params, x, y, self.config.lr, self.penalty)
        else:
            self.params = self._gem_step(x, y)
            self.recent = [*self.recent, (x, y)][-self.per_task :]

    def _gem_step(self, x: Any, y: Any) -> list[Any]:
        import torch

        grads = _grad(self.params, x, y)
        if self.episodic:
            flat = torch.cat([g.reshape(-1) for g in grads]).double().numpy()
            memories = np.stack(
                [
                    torch.cat([g.reshape(-1) for g in _grad(self.params, mx, my)]).double().numpy()
                    for mx, my in self.episodic
                ]
            )
            projected = torch.from_numpy(gem_project(flat, memories, self.config.gem_margin)).float()
            grads = list(torch.split(projected, [g.numel() for g in grads]))
            grads = [g.reshape(p.shape) for g, p in zip(grads, self.params, strict=True)]
        return [(p - self.config.lr * g).detach() for p, g in zip(self.params, grads, strict=True)]

    def end_task(self, x_train: Any, y_train: Any) -> None:
        """At a task boundary: EWC consolidates its Fisher, GEM files the task's memory."""
        import torch

        if self.penalty is not None:
            self.penalty.consolidate(self.params, diagonal_fisher(self.params, x_train, y_train, _forward))
        if self.config.method == "gem" and self.recent:
            xs, ys = zip(*self.recent, strict=True)
            self.episodic.append((torch.cat(xs), torch.cat(ys)))
            self.recent = []

    def state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Tensors and JSON-able extras of the learner (for `core.save_checkpoint`)."""
        import torch

        tensors: dict[str, Any] = {"params": self.params}
        extra: dict[str, Any] = {}
        if self.memory is not None:
            items = self.memory.items
            tensors["memory_x"] = torch.cat([i[0] for i in items]) if items else torch.zeros(0, self.width)
            tensors["memory_y"] = torch.cat([i[1] for i in items]) if items else torch.zeros(0).long()
            extra["memory"] = self.memory.state()
        if self.penalty is not None:
            tensors["ewc"] = self.penalty.tensors()
        tensors["episodic"] = [list(pair) for pair in self.episodic]
        return tensors, extra

    def restore(self, tensors: dict[str, Any], extra: dict[str, Any]) -> None:
        """Put back what `state` returned."""
        self.params = [p.clone() for p in tensors["params"]]
        if self.memory is not None:
            x, y = tensors["memory_x"], tensors["memory_y"]
            self.memory.restore([(x[i : i + 1], y[i : i + 1]) for i in range(len(y))], extra["memory"])
        if self.penalty is not None:
            self.penalty.restore(tensors.get("ewc", {}))
        # fresh (aligned) copies: kernels on the loaded buffers can round differently in the last bit
        self.episodic = [(pair[0].clone(), pair[1].clone()) for pair in tensors.get("episodic", [])]


def _stream_digest(tasks: list[tuple[Any, Any, Any, Any]]) -> str:
    """SHA-256 of every tensor of the stream (a checkpoint resumes only on the stream it was made on)."""
    digest = hashlib.sha256()
    for task in tasks:
        for tensor in task:
            digest.update(f"{tuple(tensor.shape)}{tensor.dtype};".encode())
            digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def train_stream(
    tasks: list[tuple[Any, Any, Any, Any]],
    config: ContinualConfig,
    checkpoint: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """Learn the tasks in order, one pass, one example at a time; the accuracy matrix R (T, T).

    Args:
        tasks: per task ``(x_train (n, d) float, y_train (n,) long, x_test (m, d), y_test (m,))``.
        config: the learner.
        checkpoint: a ``.safetensors`` file saved after every task; an existing one is resumed
            (its config must equal ``config`` and its stream ``tasks``).

    Returns:
        ``R[i, j]``: test accuracy on task j after training on tasks 0..i.
    """
    import torch

    from core.checkpoint import load_checkpoint, save_checkpoint

    if not tasks:
        raise InputError("train_stream needs at least one task")
    width = tasks[0][0].shape[1]
    classes = int(max(int(t[1].max()) for t in tasks)) + 1
    learner = StreamLearner(config, width, classes, len(tasks))
    order_rng = np.random.default_rng(config.seed + 1)
    result = np.zeros((len(tasks), len(tasks)))
    first = 0
    digest = _stream_digest(tasks) if checkpoint is not None else ""
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint, ContinualConfig, resume=config)
        if saved.extra["stream"] != digest:
            raise InputError(
                "train_stream checkpoint was written for a different stream (tasks or their data differ)",
                item=str(checkpoint),
            )
        learner.restore(saved.state, saved.extra)
        order_rng.bit_generator.state = saved.extra["order_rng"]
        first = int(saved.extra["tasks_done"])
        result[:first] = saved.state["result"].numpy()
    for i in range(first, len(tasks)):
        x_train, y_train = tasks[i][0], tasks[i][1]
        for n in order_rng.permutation(len(y_train)):
            learner.learn(x_train[n : n + 1], y_train[n : n + 1])
        learner.end_task(x_train, y_train)
        for j, (_, _, x_test, y_test) in enumerate(tasks):
            result[i, j] = accuracy(learner.params, x_test, y_test)
        if checkpoint is not None:
            tensors, extra = learner.state()
            tensors["result"] = torch.from_numpy(result[: i + 1].copy())
            extra.update(tasks_done=i + 1, order_rng=order_rng.bit_generator.state, stream=digest)
            save_checkpoint(checkpoint, tensors, config, extra=extra)
    return result
