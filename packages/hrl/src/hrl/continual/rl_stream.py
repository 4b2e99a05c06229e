"""MER's RL setting (Riemer et al., ICLR 2019, sec. 5.2: DQN with MER on non-stationary Catcher and
Flappy Bird) at toy scale: a Catcher-like game written here whose dynamics change from task to task,
learnt by Q-learning one transition at a time with the online, ER and MER update rules of
`hrl.continual.learners` applied to the TD loss.

The game (`Catcher`): a ``width`` x ``height`` grid; a paddle on the bottom row moves left, stays or
moves right; one pellet starts on the top row and falls one row per step while drifting ``drift``
columns per step (clamped at the walls). The episode ends when the pellet reaches the bottom row:
reward +1 if it lands on the paddle, -1 otherwise. The observation (one-hot) is the pellet's column
relative to the paddle, its row, its column and its last horizontal move (so the drift can be read
off after the first step and one network can play every task). Task t of the stream is a drift (default 0, +1, -1): the same screen asks for a
different move in each task, so learning one interferes with the others.

The Flappy-Bird-like stream (``game="flappy"``; `hrl.envs.flappy.Flappy`): task t is a pipe gap size
and a pipe speed (``gaps[t]``, ``speeds[t]``; default gaps 3, 2, 3 and speeds 1, 1, 2), the paper's
Flappy Bird variants at grid scale. Every game has ``features``, ``actions``, ``reset(*start)``,
``step(action)``, ``random_start(rng)`` (a training episode's start) and ``starts()`` (the fixed
evaluation episodes), which is all the loop below uses (`make_games`, `evaluate_game`).

`train_rl_stream` plays the tasks in order (``steps_per_task`` environment steps each, epsilon-greedy
with a target network synced every ``target_every`` steps) and after each task evaluates the greedy
policy on every task exactly (every paddle start x pellet column): the return matrix R[i, j], with
ACC / LA / BTI from `hrl.continual.metrics`. Methods (`RL_METHODS`), all one TD step per transition
except ER's and MER's replayed ones:

- ``"online"``: Q-learning by plain SGD, the fine-tuning baseline (no protection);
- ``"er"``, ``"mer"``: ER and MER's Algorithm 1 (the learner's ``batches``, ``batch_size``,
  ``memory``, ``beta``, ``gamma``) on transitions drawn from a reservoir memory;
- ``"ewc"``: online SGD on the TD loss plus EWC's penalty with one (anchor, Fisher) pair per task
  (Kirkpatrick et al. 2017; `EWCPenalty(online=False)`, ``learner.ewc_lambda``), the Fisher as online EWC's;
- ``"online-ewc"``: online SGD on the TD loss plus online EWC's penalty
  ``lambda / 2 sum_i F_i (theta_i - theta*_i)^2`` (Schwarz et al. 2018; `EWCPenalty(online=True)`,
  ``F <- ewc_gamma F + F_task``), the Fisher the empirical one of the Boltzmann policy
  ``softmax(Q(s) / temperature)`` at ``fisher_states`` of the task's visited states with its greedy actions;
- ``"pc"``: Progress & Compress (Schwarz et al. 2018) in RL: *progress*, the active column (with
  lateral inputs from the frozen knowledge base, `hrl.continual.progress_compress.active_forward`)
  learns the task by Q-learning; *compress*, the knowledge base learns
  ``KL(softmax(AC(s) / T) || softmax(KB(s) / T))`` on the task's visited states plus the online EWC
  penalty (``compress_lambda``; ``compress_epochs`` epochs of Adam), after which its Fisher is
  folded in. Tasks are scored with the knowledge base; the active column is kept across tasks and
  scored right after progress;
- ``"independent"``: a fresh network per task (no forgetting, no transfer), task j scored with
  network min(i, j) after task i; forward transfer is a method's LA minus this one's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InputError
from hrl.continual.learners import ContinualConfig, _forward, _init_params, _lerp
from hrl.continual.memory import ReservoirBuffer

__all__ = [
    "GAMES",
    "RL_METHODS",
    "Catcher",
    "RLStreamConfig",
    "RLStreamRun",
    "evaluate_catcher",
    "evaluate_game",
    "make_games",
    "task_labels",
    "td_sgd",
    "train_rl_stream",
]

RL_METHODS = ("online", "er", "mer", "ewc", "online-ewc", "pc", "independent")
GAMES = ("catcher", "flappy")


@dataclass(frozen=True)
class RLStreamConfig:
    """The RL stream: Catcher tasks (one per drift) or Flappy tasks (one per gap and speed) and the
    Q-learning loop around the learner.

    Attributes:
        game: ``"catcher"`` (tasks ``drifts``) or ``"flappy"`` (tasks ``zip(gaps, speeds)``).
        drifts: the pellet drift (columns per step) of each Catcher task, in order.
        gaps, speeds: the pipe gap (rows) and pipe speed (columns per step) of each Flappy task.
        pipes: pipes per Flappy episode.
        width, height: the grid.
        steps_per_task: environment steps of Q-learning per task.
        discount: gamma of the TD target.
        epsilon: exploration rate of the epsilon-greedy behaviour.
        target_every: environment steps between target-network syncs.
        temperature: of the Boltzmann policy softmax(Q / temperature) whose Fisher online EWC and
            P&C use and which P&C's compress phase distils.
        fisher_states: visited states of a task (the last ones) the Fisher is averaged over.
        compress_epochs, compress_lr, compress_batch: P&C's compress phase (Adam on the task's
            visited states).
        compress_lambda: online EWC's lambda in P&C's compress phase (its distillation loss has
            another scale than the TD loss online EWC's ``learner.ewc_lambda`` is weighed against).
    """

    drifts: tuple[int, ...] = (0, 1, -1)
    game: str = "catcher"
    gaps: tuple[int, ...] = (3, 2, 3)
    speeds: tuple[int, ...] = (1, 1, 2)
    pipes: int = 3
    width: int = 7
    height: int = 7
    steps_per_task: int = 3000
    discount: float = 0.9
    epsilon: float = 0.2
    target_every: int = 100
    temperature: float = 0.1
    fisher_states: int = 500
    compress_epochs: int = 5
    compress_lr: float = 1e-3
    compress_batch: int = 32
    compress_lambda: float = 10.0

    def __post_init__(self) -> None:
        if not self.drifts or any(not isinstance(d, int) or isinstance(d, bool) for d in self.drifts):
            raise InputError("RLStreamConfig.drifts must be a non-empty tuple of integers", item=self.drifts)
        if self.game not in GAMES:
            raise InputError("RLStreamConfig.game is not a known game", item=self.game, expected=str(GAMES))
        for name in ("gaps", "speeds"):
            value = getattr(self, name)
            if not value or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value):
                raise InputError(
                    f"RLStreamConfig.{name} must be a non-empty tuple of integers >= 1", item=value
                )
        if len(self.gaps) != len(self.speeds):
            raise InputError(
                "RLStreamConfig.speeds must have one speed per gap",
                item=self.speeds,
                expected=f"{len(self.gaps)}",
            )
        for name in (
            "width",
            "height",
            "steps_per_task",
            "target_every",
            "fisher_states",
            "compress_epochs",
            "compress_batch",
            "pipes",
        ):
            value = getattr(self, name)
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < (3 if name in ("width", "height") else 1)
            ):
                raise InputError(
                    f"RLStreamConfig.{name} must be an integer >= {3 if name in ('width', 'height') else 1}",
                    item=value,
                )
        for name in ("discount", "epsilon"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise InputError(f"RLStreamConfig.{name} must be a number in [0, 1]", item=value)
        for name in ("temperature", "compress_lr", "compress_lambda"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < float("inf"):
                raise InputError(f"RLStreamConfig.{name} must be a positive finite number", item=value)


@dataclass(frozen=True)
class RLStreamRun:
    """What `train_rl_stream` returns: ``result[i, j]`` the greedy return on task j after task i (P&C:
    its knowledge base's) and, for P&C, ``active[i]`` the active column's return on task i right after
    its progress phase."""

    result: np.ndarray
    active: np.ndarray | None


class Catcher:
    """One Catcher task (see the module docstring); ``reset(paddle, column)``, ``step(action)``."""

    actions = 3

    def __init__(self, width: int, height: int, drift: int) -> None:
        self.width, self.height, self.drift = width, height, drift
        self.features = 3 * width + height + 2

    def random_start(self, rng: np.random.Generator) -> tuple[int, int]:
        """A training episode's (paddle, pellet column), drawn from `rng`."""
        return int(rng.integers(self.width)), int(rng.integers(self.width))

    def starts(self) -> list[tuple[int, int]]:
        """The evaluation episodes: every (paddle start, pellet column) pair."""
        return list(itertools.product(range(self.width), range(self.width)))

    def reset(self, paddle: int, column: int) -> np.ndarray:
        self.paddle, self.pellet, self.previous = paddle, (0, column), (0, column)
        return self.observe()

    def observe(self) -> np.ndarray:
        """One-hot: pellet column - paddle column (2 width - 1), pellet row (height), pellet column
        (width) and the pellet's last horizontal move (3: left, none, right)."""
        obs = np.zeros(self.features, dtype=np.float32)
        w, h = self.width, self.height
        obs[self.pellet[1] - self.paddle + w - 1] = 1
        obs[2 * w - 1 + self.pellet[0]] = 1
        obs[2 * w - 1 + h + self.pellet[1]] = 1
        obs[3 * w - 1 + h + self.pellet[1] - self.previous[1] + 1] = 1
        return obs

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        """Move the paddle by action - 1, then the pellet; (observation, reward, done)."""
        self.paddle = min(self.width - 1, max(0, self.paddle + action - 1))
        row, col = self.pellet
        self.previous = self.pellet
        self.pellet = (row + 1, min(self.width - 1, max(0, col + self.drift)))
        done = self.pellet[0] == self.height - 1
        reward = (1.0 if self.pellet[1] == self.paddle else -1.0) if done else 0.0
        return self.observe(), reward, done


def make_games(stream: RLStreamConfig) -> list[Any]:
    """The stream's tasks: a `Catcher` per drift or a `hrl.envs.flappy.Flappy` per (gap, speed)."""
    if stream.game == "catcher":
        return [Catcher(stream.width, stream.height, drift) for drift in stream.drifts]
    from hrl.envs.flappy import Flappy

    return [
        Flappy(stream.width, stream.height, gap, speed, stream.pipes)
        for gap, speed in zip(stream.gaps, stream.speeds, strict=True)
    ]


def task_labels(stream: RLStreamConfig) -> list[str]:
    """A short name per task: ``drift d`` (Catcher) or ``gap g, speed v`` (Flappy)."""
    if stream.game == "catcher":
        return [f"drift {d}" for d in stream.drifts]
    return [f"gap {g}, speed {v}" for g, v in zip(stream.gaps, stream.speeds, strict=True)]


def evaluate_game(params: list[Any], game: Any, forward: Any = None) -> float:
    """Mean return of the greedy policy over the game's evaluation episodes (``game.starts()``; Catcher:
    every (paddle start, pellet column) pair); ``forward(params, obs)`` gives the Q-values (default: the
    MLP `_forward`)."""
    import torch

    forward = forward or _forward
    total, starts = 0.0, game.starts()
    for start in starts:
        obs, done = game.reset(*start), False
        while not done:
            with torch.no_grad():
                action = int(forward(params, torch.from_numpy(obs)[None]).argmax(1))
            obs, reward, done = game.step(action)
            total += reward
    return total / len(starts)


evaluate_catcher = evaluate_game
"""The name `evaluate_game` had when the stream had Catcher only."""


def td_sgd(
    params: list[Any],
    target: list[Any],
    batch: tuple[Any, ...],
    lr: float,
    discount: float,
    forward: Any = None,
    penalty: Any = None,
) -> list[Any]:
    """One SGD step on the mean squared TD error of a batch (obs, action, reward, next_obs, done):
    (Q(s, a) - r - discount (1 - done) max_a' Q_target(s', a'))^2 / 2, plus ``penalty(params)`` if
    given; ``forward(params, obs)`` gives Q (default: the MLP `_forward`); returns new tensors."""
    import torch

    forward = forward or _forward
    obs, action, reward, next_obs, done = batch
    with torch.no_grad():
        goal = reward + discount * (1 - done) * forward(target, next_obs).max(1).values
    live = [p.detach().requires_grad_(True) for p in params]
    q = forward(live, obs).gather(1, action[:, None]).squeeze(1)
    loss = 0.5 * ((q - goal) ** 2).mean()
    if penalty is not None and penalty.anchors:
        loss = loss + penalty(live)
    grads = torch.autograd.grad(loss, live)
    return [(p - lr * g).detach() for p, g in zip(params, grads, strict=True)]


def _update(
    params: list[Any],
    target: list[Any],
    item: tuple[Any, ...],
    memory: ReservoirBuffer | None,
    learner: ContinualConfig,
    discount: float,
    method: str,
) -> list[Any]:
    """Online SGD's, ER's or MER's (Algorithm 1) update for one transition, on the TD loss."""
    import torch

    if memory is None:
        return td_sgd(params, target, item, learner.lr, discount)
    assert memory is not None
    batches = []
    for _ in range(learner.batches):
        drawn = [item, *memory.sample(learner.batch_size - 1)]
        batches.append(tuple(torch.cat(column) for column in zip(*drawn, strict=True)))
    if method == "er":
        for batch in batches:
            params = td_sgd(params, target, batch, learner.lr, discount)
    else:
        start = params
        for batch in batches:
            inner = params
            for j in range(len(batch[0])):
                inner = td_sgd(
                    inner, target, tuple(column[j : j + 1] for column in batch), learner.lr, discount
                )
            params = _lerp(params, inner, learner.beta)
        params = _lerp(start, params, learner.gamma)
    memory.add(item)
    return params


def _boltzmann_fisher(params: list[Any], states: Any, temperature: float, forward: Any) -> list[Any]:
    """The empirical Fisher's diagonal of softmax(Q / temperature) at `states`, labels its greedy actions."""
    import torch

    from hrl.continual.regularizers import diagonal_fisher

    with torch.no_grad():
        greedy = forward(params, states).argmax(1)
    return diagonal_fisher(params, states, greedy, lambda p, x: forward(p, x) / temperature)


def _compress(
    base: list[Any], teacher: Any, states: Any, penalty: Any, stream: RLStreamConfig, seed: int
) -> list[Any]:
    """P&C's compress phase: Adam on KL(softmax(teacher / T) || softmax(KB(s) / T)) + the EWC penalty."""
    import torch
    import torch.nn.functional as F

    from hrl.continual.progress_compress import ProgressCompressConfig, _fit

    target = torch.log_softmax(teacher / stream.temperature, dim=1)

    def loss_of(params: list[Any], idx: Any) -> Any:
        student = torch.log_softmax(_forward(params, states[idx]) / stream.temperature, dim=1)
        loss = F.kl_div(student, target[idx], log_target=True, reduction="batchmean")
        return loss + penalty(params) if penalty.anchors else loss

    config = ProgressCompressConfig(
        lr=stream.compress_lr, epochs=stream.compress_epochs, batch_size=stream.compress_batch, seed=seed
    )
    return _fit(base, loss_of, states, config, torch.Generator().manual_seed(seed + 2))


def train_rl_stream(
    stream: RLStreamConfig, learner: ContinualConfig, method: str | None = None
) -> RLStreamRun:
    """Q-learning through the tasks of `stream` with one of `RL_METHODS`; the return matrix.

    Args:
        stream: the tasks and the Q-learning loop.
        learner: step size, network, memory, MER's rates, EWC's lambda and gamma, seed.
        method: one of `RL_METHODS` (default ``learner.method``; ``"pc"`` and ``"independent"`` are
            not stream-learner methods, so they are named here).

    Returns:
        `RLStreamRun`: R (T, T), R[i, j] the greedy policy's mean return on task j after training on
        tasks 0..i; for P&C the active column's just-learned returns.

    Raises:
        InputError: a method not in `RL_METHODS`.
    """
    import torch

    from hrl.continual.progress_compress import active_forward
    from hrl.continual.regularizers import EWCPenalty

    method = learner.method if method is None else method
    if method not in RL_METHODS:
        raise InputError("the RL stream runs these methods only", item=method, expected=str(RL_METHODS))
    games = make_games(stream)
    actions = games[0].actions
    generator = torch.Generator().manual_seed(learner.seed)
    sizes = [games[0].features, *learner.hidden, actions]
    params = _init_params(sizes, generator)
    base: list[Any] = []
    split = len(params)
    forward: Any = _forward
    if method == "pc":
        # params: the active column and its laterals; base: the knowledge base.
        base = _init_params(sizes, generator)
        laterals = [
            (torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) / fan_in**0.5
            for fan_in, fan_out in itertools.pairwise(sizes[1:])
        ]
        params = [*params, *laterals]
    penalty = (
        EWCPenalty(
            stream.compress_lambda if method == "pc" else learner.ewc_lambda,
            online=method != "ewc",
            gamma=learner.ewc_gamma,
        )
        if method in ("ewc", "online-ewc", "pc")
        else None
    )
    columns: list[list[Any]] = []
    target = [p.clone() for p in params]
    rng = np.random.default_rng(learner.seed + 1)
    memory = (
        ReservoirBuffer(learner.memory, np.random.default_rng(learner.seed))
        if method in ("er", "mer")
        else None
    )
    result = np.zeros((len(games), len(games)))
    active = np.zeros(len(games))
    steps = 0
    for i, game in enumerate(games):
        if method == "independent" and i:
            params = _init_params(sizes, generator)
            target = [p.clone() for p in params]
        if method == "pc":
            kb = base
            forward = lambda ps, x, kb=kb: active_forward(ps[:split], ps[split:], kb, x)  # noqa: E731
        visited: list[Any] = []
        obs, done = game.reset(*game.random_start(rng)), False
        for _ in range(stream.steps_per_task):
            visited.append(obs)
            if rng.random() < stream.epsilon:
                action = int(rng.integers(actions))
            else:
                with torch.no_grad():
                    action = int(forward(params, torch.from_numpy(obs)[None]).argmax(1))
            next_obs, reward, done = game.step(action)
            item = (
                torch.from_numpy(obs)[None],
                torch.tensor([action]),
                torch.tensor([reward], dtype=torch.float32),
                torch.from_numpy(next_obs)[None],
                torch.tensor([float(done)]),
            )
            if method in ("er", "mer"):
                params = _update(params, target, item, memory, learner, stream.discount, method)
            else:
                params = td_sgd(
                    params,
                    target,
                    item,
                    learner.lr,
                    stream.discount,
                    forward,
                    penalty if method in ("ewc", "online-ewc") else None,
                )
            steps += 1
            if steps % stream.target_every == 0:
                target = [p.clone() for p in params]
            obs = game.reset(*game.random_start(rng)) if done else next_obs
        states = torch.from_numpy(np.stack(visited))
        recent = states[-stream.fisher_states :]
        if method in ("ewc", "online-ewc"):
            penalty.consolidate(params, _boltzmann_fisher(params, recent, stream.temperature, _forward))
        if method == "pc":
            active[i] = evaluate_game(params, game, forward)
            with torch.no_grad():
                teacher = forward(params, states)
            base = _compress(base, teacher, states, penalty, stream, learner.seed + 7 * i)
            penalty.consolidate(base, _boltzmann_fisher(base, recent, stream.temperature, _forward))
        if method == "independent":
            columns.append(params)
        for j, other in enumerate(games):
            if method == "pc":
                result[i, j] = evaluate_game(base, other)
            elif method == "independent":
                result[i, j] = evaluate_game(columns[min(i, j)], other)
            else:
                result[i, j] = evaluate_game(params, other)
    return RLStreamRun(result=result, active=active if method == "pc" else None)
