"""Progress & Compress (Schwarz et al., ICML 2018) on a sequence of MiniGrid tasks, trained with PPO.

The paper's RL setting (a sequence of Atari games / 3-D mazes learnt by an actor-critic) at small
scale: a sequence of MiniGrid tasks (default Empty-5x5, LavaGap-S5, DoorKey-5x5) seen through one
shared partial-observation encoding (`SharedEncoding`: MiniGrid's 7 x 7 egocentric view as one-hot
object types and door states, plus the agent's direction), one shared action set (MiniGrid's first
``actions``), learnt one after the other by `hrl.agents.ppo.PPO` with the same budget per task.
Methods (`MINIGRID_METHODS`):

- ``"finetune"``: one actor-critic trained on each task in turn (no protection);
- ``"ewc"``: the same plus Kirkpatrick et al.'s EWC penalty on the policy network, one (anchor,
  Fisher) pair per task (`EWCPenalty(online=False)`);
- ``"online-ewc"``: the same with online EWC's single pair, running Fisher ``F <- gamma F + F_task``;
- ``"pc"``: Progress & Compress. The knowledge base (KB) is a policy MLP; the active column (AC) is
  an actor-critic whose policy and value layers ``l >= 2`` and outputs add lateral inputs
  ``U_l h^KB_{l-1}`` from the frozen KB's hidden layers (`LateralActorCritic`; linear adaptors,
  zero at the start so the AC starts as a plain actor-critic). *Progress*: PPO trains the AC and
  its laterals on the task. *Compress*: the KB learns ``KL(pi_AC(.|s) || pi_KB(.|s))`` (logits over
  ``distill_temperature``) on the last ``compress_states`` states the AC visited in its PPO
  rollouts, plus online EWC's penalty (``compress_lambda``), ``compress_epochs`` epochs of Adam;
  then the KB's Fisher on those states is folded in. Tasks are scored with the KB; the AC is scored
  right after its progress phase (``active``) and kept from task to task;
- ``"independent"``: a fresh actor-critic per task (no forgetting, no transfer; the upper bound);
  task j is scored with network ``min(i, j)`` after task i.

The EWC Fishers are ``mean_s (d log pi(a_s | s) / d theta)^2`` over the last ``fisher_states``
visited states, with ``a_s`` drawn from the policy (``fisher_labels="sampled"``: the true Fisher's
Monte-Carlo estimate) or its greedy action (``"greedy"``: the empirical Fisher of the Catcher stream,
`hrl.continual.rl_stream`, which vanishes where the policy is confident).

Scores: ``result[i, j]`` the mean deterministic return on task j after task i over
``eval_episodes`` seeded episodes (the same episodes for every method); ACC / LA / BTI from
`hrl.continual.metrics`; forward transfer = LA minus the independent network's. MiniGrid's return is
``1 - 0.9 * steps / max_steps`` on reaching the goal, 0 otherwise.

`train_minigrid_sequence(config, checkpoint=path)` saves after every task and resumes from an
existing file under the workspace's one resume rule (the config must be equal).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from core.errors import InputError
from hrl.config import PPOConfig

__all__ = [
    "MINIGRID_METHODS",
    "MiniGridSequenceConfig",
    "MiniGridSequenceRun",
    "SharedEncoding",
    "make_minigrid_task",
    "policy_fisher",
    "random_returns",
    "train_minigrid_sequence",
]

MINIGRID_METHODS = ("finetune", "ewc", "online-ewc", "pc", "independent")

OBJECT_TYPES = 11
"""MiniGrid's object indices 0-10 (unseen, empty, wall, floor, door, key, ball, box, goal, lava, agent)."""
DOOR_STATES = 3
"""MiniGrid's state indices 0-2 (open, closed, locked)."""


class SharedEncoding(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """MiniGrid's egocentric view as one flat float vector shared by every task: per cell of the
    ``view x view`` image a one-hot object type (11) and a one-hot state (3), then a one-hot
    direction (4); colours are dropped. Shape ``(view * view * 14 + 4,)``, values 0/1."""

    def __init__(self, env: Any) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        image = env.observation_space["image"]
        self.view = int(image.shape[0])
        size = self.view * self.view * (OBJECT_TYPES + DOOR_STATES) + 4
        self.observation_space = gym.spaces.Box(0.0, 1.0, (size,), np.float32)
        self._rows, self._cols = np.indices((self.view, self.view))

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        image = observation["image"]
        cells = np.zeros((self.view, self.view, OBJECT_TYPES + DOOR_STATES), np.float32)
        cells[self._rows, self._cols, image[..., 0]] = 1.0
        cells[self._rows, self._cols, OBJECT_TYPES + image[..., 2]] = 1.0
        direction = np.zeros(4, np.float32)
        direction[int(observation["direction"])] = 1.0
        return np.concatenate([cells.ravel(), direction])


def make_minigrid_task(env_id: str, actions: int) -> gym.Env:
    """``gym.make(env_id)`` with MiniGrid's first `actions` actions and the `SharedEncoding`.

    Raises:
        InputError: `env_id` is not a registered MiniGrid environment, or `actions` is not in 1..7.
    """
    import minigrid  # noqa: F401  (registers the MiniGrid ids)

    from hrl.curiosity.envs import FirstActions

    if not isinstance(env_id, str) or env_id not in gym.registry or not env_id.startswith("MiniGrid-"):
        raise InputError("not a registered MiniGrid environment id", item=env_id)
    if not isinstance(actions, int) or isinstance(actions, bool) or not 1 <= actions <= 7:
        raise InputError("actions must be an integer in 1..7 (MiniGrid's first actions)", item=actions)
    return SharedEncoding(FirstActions(gym.make(env_id), actions))


def _default_ppo() -> PPOConfig:
    return PPOConfig(
        hidden=(64, 64),
        n_envs=8,
        n_steps=128,
        batch_size=256,
        n_epochs=4,
        learning_rate=1e-3,
        ent_coef=0.01,
        gamma=0.99,
        gae_lambda=0.95,
    )


@dataclass(frozen=True)
class MiniGridSequenceConfig:
    """One learner on a MiniGrid task sequence.

    Attributes:
        method: one of `MINIGRID_METHODS`.
        tasks: MiniGrid env ids, in order.
        actions: MiniGrid's first ``actions`` actions (6: left, right, forward, pickup, drop, toggle).
        steps_per_task: PPO environment steps per task (P&C: of its progress phase).
        ppo: PPO's settings (its ``total_timesteps`` and ``seed`` are ignored: set per task / below).
        eval_episodes: seeded deterministic episodes per task and score.
        ewc_lambda: EWC's and online EWC's strength. ewc_gamma: online EWC's Fisher decay (and P&C's).
        fisher_states: the last visited states a Fisher is averaged over.
        fisher_labels: ``"sampled"`` (actions drawn from the policy) or ``"greedy"`` (its argmax).
        compress_epochs, compress_lr, compress_batch: P&C's compress phase (Adam).
        compress_states: the last visited states of the progress phase distilled into the KB.
        compress_lambda: online EWC's strength in P&C's compress phase.
        distill_temperature: the logits of AC and KB are divided by it in the distillation KL.
        reset_active: P&C re-initialises its active column (and laterals) before each task.
        seed: initial weights, actions, minibatches and episode resets.
    """

    method: str = "pc"
    tasks: tuple[str, ...] = ("MiniGrid-Empty-5x5-v0", "MiniGrid-LavaGapS5-v0", "MiniGrid-DoorKey-5x5-v0")
    actions: int = 6
    steps_per_task: int = 40_000
    ppo: PPOConfig = field(default_factory=_default_ppo)
    eval_episodes: int = 20
    ewc_lambda: float = 100.0
    ewc_gamma: float = 1.0
    fisher_states: int = 1000
    fisher_labels: str = "sampled"
    compress_epochs: int = 5
    compress_lr: float = 1e-3
    compress_batch: int = 64
    compress_states: int = 4096
    compress_lambda: float = 100.0
    distill_temperature: float = 1.0
    reset_active: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self.method not in MINIGRID_METHODS:
            raise InputError(f"{name}.method must be one of {', '.join(MINIGRID_METHODS)}", item=self.method)
        if not self.tasks or not all(isinstance(t, str) and t.startswith("MiniGrid-") for t in self.tasks):
            raise InputError(f"{name}.tasks must be a non-empty tuple of MiniGrid env ids", item=self.tasks)
        if not isinstance(self.ppo, PPOConfig):
            raise InputError(f"{name}.ppo must be a PPOConfig", item=type(self.ppo).__name__)
        for key in (
            "actions",
            "steps_per_task",
            "eval_episodes",
            "fisher_states",
            "compress_epochs",
            "compress_batch",
            "compress_states",
            "seed",
        ):
            value = getattr(self, key)
            low = 0 if key == "seed" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InputError(f"{name}.{key} must be an integer >= {low}", item=value)
        if self.actions > 7:
            raise InputError(f"{name}.actions must be at most 7 (MiniGrid has 7 actions)", item=self.actions)
        for key in ("ewc_lambda", "compress_lr", "compress_lambda", "distill_temperature"):
            value = getattr(self, key)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < float("inf"):
                raise InputError(f"{name}.{key} must be a positive finite number", item=value)
        if not isinstance(self.ewc_gamma, int | float) or not 0 < self.ewc_gamma <= 1:
            raise InputError(f"{name}.ewc_gamma must be in (0, 1]", item=self.ewc_gamma)
        if self.fisher_labels not in ("sampled", "greedy"):
            raise InputError(f"{name}.fisher_labels must be 'sampled' or 'greedy'", item=self.fisher_labels)


@dataclass(frozen=True)
class MiniGridSequenceRun:
    """What `train_minigrid_sequence` returns: ``result[i, j]`` the mean return on task j after task i
    (P&C: its knowledge base's), ``active[i]`` P&C's active column on task i after its progress phase,
    and ``fisher[i]`` the mean of the Fisher diagonal consolidated after task i (EWC, online EWC, P&C)."""

    result: np.ndarray
    active: np.ndarray | None
    fisher: np.ndarray | None


def random_returns(tasks: tuple[str, ...], actions: int, episodes: int, seed: int = 10_000) -> np.ndarray:
    """The uniform-random policy's mean return per task over the evaluation episodes (seeds from `seed`)."""
    rng = np.random.default_rng(seed)
    means = []
    for env_id in tasks:
        env = make_minigrid_task(env_id, actions)
        total = 0.0
        for episode in range(episodes):
            env.reset(seed=seed + episode)
            done = False
            while not done:
                _, reward, terminated, truncated, _ = env.step(int(rng.integers(actions)))
                total += float(reward)
                done = terminated or truncated
        means.append(total / episodes)
    return np.asarray(means)


def _hidden(mlp: Any, x: Any) -> list[Any]:
    """The tanh activations of a `hrl.agents.ppo._tanh_mlp` (one per hidden layer)."""
    import torch

    out = []
    for module in mlp:
        x = module(x)
        if isinstance(module, torch.nn.Tanh):
            out.append(x)
    return out


def _lateral_module():
    """The torch classes, built on first use (torch is not imported with this module)."""
    import torch
    from torch import nn

    from hrl.agents.ppo import ActorCritic, _tanh_mlp

    class LateralMLP(nn.Module):
        """A tanh MLP column whose linear layer ``l >= 1`` adds ``U_l h^KB_{l-1}`` of a frozen KB."""

        def __init__(self, column: nn.Sequential, kb: list[nn.Module], hidden: tuple[int, ...]) -> None:
            super().__init__()
            self.column, self._kb = column, kb  # the KB in a plain list: registered once, by the owner
            outs = [*hidden[1:], column[-1].out_features]
            self.laterals = nn.ModuleList(
                nn.Linear(width, out, bias=False) for width, out in zip(hidden, outs, strict=False)
            )
            for lateral in self.laterals:
                nn.init.zeros_(lateral.weight)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                kb = _hidden(self._kb[0], x)
            linears = [m for m in self.column if isinstance(m, nn.Linear)]
            h = x
            for layer, linear in enumerate(linears):
                z = linear(h)
                if layer >= 1:
                    z = z + self.laterals[layer - 1](kb[layer - 1])
                h = torch.tanh(z) if layer < len(linears) - 1 else z
            return h

    class LateralActorCritic(ActorCritic):
        """P&C's active column: an `ActorCritic` whose policy and value MLPs get lateral inputs from
        the knowledge base ``base`` (a policy MLP, frozen: no gradient, not in the optimiser)."""

        def __init__(self, obs_dim: int, hidden: tuple[int, ...], n_actions: int) -> None:
            super().__init__(obs_dim, hidden, n_actions, True)
            self.base = _tanh_mlp(obs_dim, hidden, n_actions, 0.01)
            self.base.requires_grad_(False)
            kb = [self.base]
            self.policy = LateralMLP(self.policy, kb, hidden)
            self.value = LateralMLP(self.value, kb, hidden)

    return LateralMLP, LateralActorCritic


def policy_fisher(net: Any, states: Any, labels: str, generator: Any) -> list[Any]:
    """The Fisher diagonal of the categorical policy ``softmax(net(s))`` (logits MLP ``net``) at the
    rows of `states` (n, d), one tensor per parameter of ``net``: ``mean_n (d log pi(a_n|s_n)/d theta)^2``
    with ``a_n`` drawn from the policy (``labels="sampled"``, `generator`) or its argmax (``"greedy"``)."""
    import torch
    from torch.func import functional_call

    from hrl.continual.regularizers import diagonal_fisher

    names = [name for name, _ in net.named_parameters()]
    params = [p.detach() for _, p in net.named_parameters()]
    with torch.no_grad():
        logits = net(states)
    if labels == "greedy":
        actions = logits.argmax(1)
    else:
        actions = torch.multinomial(torch.softmax(logits, 1), 1, generator=generator).squeeze(1)

    def forward(ps: list[Any], x: Any) -> Any:
        return functional_call(net, dict(zip(names, ps, strict=True)), (x,))

    return diagonal_fisher(params, states, actions, forward)


def _agent_class():
    from hrl.agents.ppo import PPO

    class ContinualPPO(PPO):
        """`PPO` that adds a penalty on its policy network to every minibatch loss and keeps the
        observations of its rollouts (the states a Fisher or P&C's distillation uses)."""

        penalty: Any = None
        visited: list[Any]

        def _extra_loss(self) -> Any:
            if self.penalty is None or not self.penalty.anchors:
                return 0.0
            return self.penalty(list(self.policy.policy.parameters()))

        def _collect(self) -> dict[str, Any]:
            rollout = super()._collect()
            self.visited.append(rollout["obs"].flatten(0, 1))
            return rollout

    return ContinualPPO


class _Learner:
    """One method's networks, penalty and agent through the sequence."""

    def __init__(self, config: MiniGridSequenceConfig, obs_dim: int) -> None:
        import torch

        from hrl.continual.regularizers import EWCPenalty

        self.config, self.obs_dim = config, obs_dim
        self.ppo = replace(config.ppo, total_timesteps=config.steps_per_task)
        self.fisher_generator = torch.Generator().manual_seed(config.seed + 3)
        self.compress_generator = torch.Generator().manual_seed(config.seed + 4)
        method = config.method
        self.penalty = (
            EWCPenalty(
                config.compress_lambda if method == "pc" else config.ewc_lambda,
                online=method != "ewc",
                gamma=config.ewc_gamma,
            )
            if method in ("ewc", "online-ewc", "pc")
            else None
        )
        self.agent: Any = None
        self.columns: list[Any] = []  # independent: the policy state of every finished task
        self.fishers: list[float] = []

    def new_agent(self, task: int, env_id: str) -> Any:
        """The agent for task `task`: built on the first task (and every task for "independent"),
        otherwise the same networks in the new task's environment; a fresh Adam per task."""
        import torch

        from hrl.agents.ppo import _make_vector_env

        config = self.config
        factory = _TaskFactory(env_id, config.actions)
        if self.agent is None or config.method == "independent":
            seed = config.seed + 100 * task if config.method == "independent" else config.seed
            agent = _agent_class()(factory, replace(self.ppo, seed=seed))
            if config.method == "pc":
                _, lateral = _lateral_module()
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(config.seed)
                    agent.policy = lateral(self.obs_dim, config.ppo.hidden, config.actions)
            if self.agent is not None:  # independent: keep counting episodes for fresh reset seeds
                agent.episodes_started = self.agent.episodes_started
                agent.num_timesteps = self.agent.num_timesteps
            self.agent = agent
        else:
            self.agent.env = _make_vector_env(factory, config.ppo.n_envs)
            self.agent._obs = None
            if config.method == "pc" and config.reset_active:
                _, lateral = _lateral_module()
                base = self.agent.policy.base.state_dict()
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(config.seed + 100 * task)
                    self.agent.policy = lateral(self.obs_dim, config.ppo.hidden, config.actions)
                self.agent.policy.base.load_state_dict(base)
        agent = self.agent
        agent.penalty = self.penalty if config.method in ("ewc", "online-ewc") else None
        agent.visited = []
        agent.optimizer = torch.optim.Adam(
            [p for p in agent.policy.parameters() if p.requires_grad], lr=config.ppo.learning_rate, eps=1e-5
        )
        return agent

    def learn_task(self, task: int, env_id: str) -> float | None:
        """Learn one task; P&C returns its active column's score after the progress phase."""
        import torch

        config = self.config
        agent = self.new_agent(task, env_id)
        agent.learn(agent.num_timesteps + config.steps_per_task)
        states = torch.cat(agent.visited)
        agent.visited = []
        method = config.method
        if method in ("ewc", "online-ewc"):
            fisher = policy_fisher(
                agent.policy.policy,
                states[-config.fisher_states :],
                config.fisher_labels,
                self.fisher_generator,
            )
            self.penalty.consolidate(list(agent.policy.policy.parameters()), fisher)
            self.fishers.append(_mean(fisher))
        if method == "independent":
            self.columns.append({k: v.clone() for k, v in agent.policy.state_dict().items()})
        if method != "pc":
            return None
        active = self.score(env_id, task, network="active")
        self.compress(states[-config.compress_states :])
        base = agent.policy.base
        fisher = policy_fisher(
            base, states[-config.fisher_states :], config.fisher_labels, self.fisher_generator
        )
        self.penalty.consolidate(list(base.parameters()), fisher)
        self.fishers.append(_mean(fisher))
        return active

    def compress(self, states: Any) -> None:
        """P&C's compress phase: the KB distils the AC's policy on `states` under online EWC."""
        import torch
        import torch.nn.functional as F

        config, policy = self.config, self.agent.policy
        base, temperature = policy.base, config.distill_temperature
        with torch.no_grad():
            teacher = torch.log_softmax(policy.policy(states) / temperature, dim=1)
        live = [p.detach().clone().requires_grad_(True) for p in base.parameters()]
        optimiser = torch.optim.Adam(live, lr=config.compress_lr)
        from torch.func import functional_call

        names = [name for name, _ in base.named_parameters()]
        for _ in range(config.compress_epochs):
            order = torch.randperm(len(states), generator=self.compress_generator)
            for start in range(0, len(states), config.compress_batch):
                idx = order[start : start + config.compress_batch]
                logits = functional_call(base, dict(zip(names, live, strict=True)), (states[idx],))
                student = torch.log_softmax(logits / temperature, dim=1)
                loss = F.kl_div(student, teacher[idx], log_target=True, reduction="batchmean")
                if self.penalty.anchors:
                    loss = loss + self.penalty(live)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        with torch.no_grad():
            for p, q in zip(base.parameters(), live, strict=True):
                p.copy_(q)

    def score(self, env_id: str, task: int, network: str = "main") -> float:
        """Mean deterministic return on `env_id` (the evaluation episodes); ``network``: ``"main"``
        (P&C: the KB; independent: column `task`) or ``"active"`` (P&C's active column)."""
        from hrl.evaluation import evaluate_policy

        config = self.config
        env = make_minigrid_task(env_id, config.actions)
        return float(
            evaluate_policy(_Greedy(self, task, network), env, config.eval_episodes, seed=10_000).mean()
        )

    def state(self) -> dict[str, Any]:
        agent = self.agent
        return {
            "policy": agent.policy.state_dict(),
            "generator": agent.generator.get_state(),
            "fisher_generator": self.fisher_generator.get_state(),
            "compress_generator": self.compress_generator.get_state(),
            "ewc": self.penalty.tensors() if self.penalty is not None else {},
            "columns": self.columns,
        }

    def restore(self, state: dict[str, Any], extra: dict[str, Any], task: int, env_id: str) -> None:
        import torch

        self.columns = [dict(c) for c in state["columns"]]
        if self.config.method == "independent":
            self.agent = None
        agent = self.new_agent(task, env_id)
        agent.policy.load_state_dict(state["policy"])
        agent.generator.set_state(state["generator"].to(torch.uint8))
        self.fisher_generator.set_state(state["fisher_generator"].to(torch.uint8))
        self.compress_generator.set_state(state["compress_generator"].to(torch.uint8))
        if self.penalty is not None:
            self.penalty.restore(state["ewc"])
        agent.num_timesteps, agent.episodes_started = int(extra["num_timesteps"]), int(extra["episodes"])
        self.fishers = list(extra["fishers"])


def _mean(tensors: list[Any]) -> float:
    total = sum(float(t.sum()) for t in tensors)
    return total / sum(t.numel() for t in tensors)


class _TaskFactory:
    """A picklable zero-argument factory of one task's environment."""

    def __init__(self, env_id: str, actions: int) -> None:
        self.env_id, self.actions = env_id, actions

    def __call__(self) -> gym.Env:
        return make_minigrid_task(self.env_id, self.actions)


class _Greedy:
    """An SB3-shaped deterministic policy for `evaluate_policy` from a learner's chosen network."""

    def __init__(self, learner: _Learner, task: int, network: str) -> None:
        import torch

        policy = learner.agent.policy
        if learner.config.method == "independent" and network == "main":
            from hrl.agents.ppo import ActorCritic

            column = min(task, len(learner.columns) - 1)
            net = ActorCritic(learner.obs_dim, learner.config.ppo.hidden, learner.config.actions, True)
            net.load_state_dict(learner.columns[column])
            self.logits = net.policy
        elif learner.config.method == "pc" and network == "main":
            self.logits = policy.base
        else:
            self.logits = policy.policy
        self.torch = torch

    def predict(self, obs: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True):
        with self.torch.no_grad():
            logits = self.logits(self.torch.as_tensor(np.asarray(obs, np.float32))[None])
        return int(logits.argmax(1)[0]), None


def train_minigrid_sequence(
    config: MiniGridSequenceConfig,
    checkpoint: str | os.PathLike[str] | None = None,
    progress_bar: bool = False,
) -> MiniGridSequenceRun:
    """Learn ``config.tasks`` in order with ``config.method``; the return matrix (see the module doc).

    Args:
        config: the learner and the sequence.
        checkpoint: a ``.safetensors`` file saved after every task; an existing one is resumed (its
            config must equal ``config``).
        progress_bar: a bar over the tasks.

    Raises:
        InputError: a task id that is not a MiniGrid environment.
        CheckpointMismatchError: the checkpoint was written for another config.
    """
    from core.checkpoint import load_checkpoint, save_checkpoint

    envs = [make_minigrid_task(env_id, config.actions) for env_id in config.tasks]
    obs_dim = int(envs[0].observation_space.shape[0])
    learner = _Learner(config, obs_dim)
    n = len(config.tasks)
    result, active = np.zeros((n, n)), np.zeros(n)
    first = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint, MiniGridSequenceConfig, resume=config)
        first = int(saved.extra["tasks_done"])
        result[:first] = np.asarray(saved.extra["result"])
        active[:first] = np.asarray(saved.extra["active"])
        learner.restore(saved.state, saved.extra, first - 1, config.tasks[first - 1])
    tasks: Any = range(first, n)
    if progress_bar:
        from core.progress import progress

        tasks = progress(tasks, desc=f"minigrid sequence {config.method}")
    for i in tasks:
        active[i] = learner.learn_task(i, config.tasks[i]) or 0.0
        for j, env_id in enumerate(config.tasks):
            result[i, j] = learner.score(env_id, j)
        if checkpoint is not None:
            extra = {
                "tasks_done": i + 1,
                "result": result[: i + 1].tolist(),
                "active": active[: i + 1].tolist(),
                "num_timesteps": learner.agent.num_timesteps,
                "episodes": learner.agent.episodes_started,
                "fishers": learner.fishers,
            }
            save_checkpoint(checkpoint, learner.state(), config, extra=extra)
    fisher = np.asarray(learner.fishers) if learner.fishers else None
    return MiniGridSequenceRun(result=result, active=active if config.method == "pc" else None, fisher=fisher)
