"""Cooperative navigation on a grid (PettingZoo parallel env) and its single-learner view (gymnasium).

A small cooperative game in the spirit of Tacchetti et al. (ICLR 2019, relational forward models) and
Lowe et al.'s cooperative navigation, written here: ``n_agents`` agents and as many landmarks on a
``size`` x ``size`` grid with no walls; actions 0 stay, 1 up, 2 down, 3 left, 4 right (agents may share a
cell); every step every agent receives the shared reward (landmarks covered by at least one agent) /
``n_landmarks``. Episodes are truncated after ``max_cycles`` steps.

Observation of agent i, float32 in [-1, 1]: its own position (2, scaled by size - 1), then the other
agents' positions relative to it (2 each, agent order), then the landmarks' relative positions (2
each), then the other agents' previous actions one-hot (5 each, zeros at the start).

`greedy_targets` is the scripted teammates' rule: agents in index order each take the nearest landmark
(Manhattan distance, ties to the lower index) not already taken by a lower-indexed agent.
`CoopNavLearnerEnv` is the gymnasium view of agent 0 playing with scripted teammates (agents 1..N-1
walk to their `greedy_targets` landmark, the rule applied to the teammates alone (they ignore the
learner), with probability 1 - ``noise``, else act uniformly at random). The learner's best play is
to cover the landmark the teammates leave, so knowing where they are heading helps. It knows the
teammates' current targets (``info["targets"]``), which `hrl.multiagent.rfm` uses to read out edge
activations.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from core.errors import InputError

__all__ = ["N_ACTIONS", "CoopNavEnv", "CoopNavLearnerEnv", "greedy_targets", "step_towards"]

N_ACTIONS = 5
_MOVES = np.array([(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)], dtype=np.int64)


def greedy_targets(agents: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Each agent's landmark under the scripted rule (module docstring): (N, 2), (L, 2) -> (N,) indices."""
    taken: set[int] = set()
    targets = np.zeros(len(agents), dtype=np.int64)
    for i, position in enumerate(agents):
        distances = np.abs(landmarks - position).sum(1).astype(np.float64)
        for j in taken:
            distances[j] = np.inf
        if np.isinf(distances).all():  # more agents than landmarks: nearest of all
            distances = np.abs(landmarks - position).sum(1).astype(np.float64)
        targets[i] = int(np.argmin(distances))
        taken.add(int(targets[i]))
    return targets


def step_towards(position: np.ndarray, target: np.ndarray) -> int:
    """The action that reduces the larger coordinate gap to `target` (0 when there)."""
    dr, dc = (target - position).tolist()
    if dr == 0 and dc == 0:
        return 0
    if abs(dr) >= abs(dc):
        return 2 if dr > 0 else 1
    return 4 if dc > 0 else 3


class CoopNavEnv(ParallelEnv):
    """Cooperative navigation (module docstring).

    Args:
        n_agents: agents (and landmarks), >= 2.
        size: grid side, >= 3.
        max_cycles: steps per episode.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "coop_nav_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
    }

    def __init__(
        self, n_agents: int = 3, size: int = 6, max_cycles: int = 25, render_mode: str | None = None
    ):
        if n_agents < 2:
            raise InputError("n_agents must be >= 2 (a cooperative game)", item=n_agents)
        if size < 3:
            raise InputError("size must be >= 3", item=size)
        if max_cycles < 1:
            raise InputError("max_cycles must be >= 1", item=max_cycles)
        if render_mode not in (None, "ansi"):
            raise InputError("unknown render_mode", item=render_mode, expected="None or ansi")
        self.n_agents, self.n_landmarks, self.size, self.max_cycles = n_agents, n_agents, size, max_cycles
        self.render_mode = render_mode
        self.possible_agents = [f"agent_{i}" for i in range(n_agents)]
        self.agents: list[str] = []
        self.np_random = np.random.default_rng()
        width = 2 + 2 * (n_agents - 1) + 2 * self.n_landmarks + N_ACTIONS * (n_agents - 1)
        self._obs_space = spaces.Box(-1.0, 1.0, (width,), np.float32)
        self._act_space = spaces.Discrete(N_ACTIONS)

    @functools.cache  # noqa: B019 - one entry per agent name
    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_space

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        cells = self.np_random.choice(self.size * self.size, self.n_agents + self.n_landmarks, replace=False)
        coords = np.stack([cells // self.size, cells % self.size], 1).astype(np.int64)
        self.positions, self.landmarks = coords[: self.n_agents], coords[self.n_agents :]
        self.last_actions = np.full(self.n_agents, -1, dtype=np.int64)
        return self._observations(), {a: {} for a in self.agents}

    def covered(self) -> int:
        """Landmarks with at least one agent on them."""
        return int(sum((self.positions == lm).all(1).any() for lm in self.landmarks))

    def step(self, actions: dict[str, Any]):
        names = list(self.agents)
        for agent in names:
            if agent not in actions:
                raise InputError("missing action for an agent", item=agent)
        acts = np.array([int(actions[a]) for a in names], dtype=np.int64)
        self.positions = np.clip(self.positions + _MOVES[acts], 0, self.size - 1)
        self.last_actions = acts
        self.t += 1
        reward = self.covered() / self.n_landmarks
        truncated = self.t >= self.max_cycles
        observations = self._observations()
        if truncated:
            self.agents = []
        return (
            observations,
            {a: reward for a in names},
            {a: False for a in names},
            {a: truncated for a in names},
            {a: {} for a in names},
        )

    def _observations(self) -> dict[str, np.ndarray]:
        scale = self.size - 1
        out = {}
        for i, agent in enumerate(self.possible_agents):
            others = [j for j in range(self.n_agents) if j != i]
            rel_agents = (self.positions[others] - self.positions[i]) / scale
            rel_landmarks = (self.landmarks - self.positions[i]) / scale
            onehot = np.zeros((len(others), N_ACTIONS))
            for row, j in enumerate(others):
                if self.last_actions[j] >= 0:
                    onehot[row, self.last_actions[j]] = 1.0
            parts = [self.positions[i] / scale, rel_agents.ravel(), rel_landmarks.ravel(), onehot.ravel()]
            out[agent] = np.concatenate(parts).astype(np.float32)
        return out

    def state(self) -> np.ndarray:
        """Positions of agents then landmarks: (2N, 2) int64."""
        return np.concatenate([self.positions, self.landmarks])

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        rows = [["." for _ in range(self.size)] for _ in range(self.size)]
        for r, c in self.landmarks:
            rows[r][c] = "L"
        for j, (r, c) in enumerate(self.positions):
            rows[r][c] = str(j % 10)
        return "\n".join("".join(row) for row in rows)

    def close(self) -> None:
        return None


class CoopNavLearnerEnv(gym.Env):
    """Agent 0 of `CoopNavEnv` with scripted teammates (module docstring), as a gymnasium env.

    Args:
        n_agents, size, max_cycles: as `CoopNavEnv`.
        noise: probability that a teammate acts uniformly at random in a step.
        augment: optional ``fn(env) -> (k,) float32`` whose output is appended to the observation
            (the RFM's embeddings in `hrl.multiagent.rfm`); ``augment_dim`` its width.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        n_agents: int = 3,
        size: int = 6,
        max_cycles: int = 25,
        noise: float = 0.2,
        augment: Any = None,
        augment_dim: int = 0,
    ) -> None:
        if not 0.0 <= noise <= 1.0:
            raise InputError("noise must be a probability", item=noise)
        self.game = CoopNavEnv(n_agents, size, max_cycles)
        self.noise, self.augment, self.augment_dim = noise, augment, augment_dim
        base = self.game.observation_space("agent_0").shape[0]
        high = np.full(base + augment_dim, np.inf, np.float32)
        high[:base] = 1.0
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self._rng = np.random.default_rng()

    def _obs(self, observations: dict[str, np.ndarray]) -> np.ndarray:
        obs = observations["agent_0"]
        if self.augment is not None:
            obs = np.concatenate([obs, np.asarray(self.augment(self), np.float32)])
        return obs.astype(np.float32)

    def targets(self) -> np.ndarray:
        """The scripted teammates' current landmarks, (N - 1,) indices (agents 1..N-1)."""
        return greedy_targets(self.game.positions[1:], self.game.landmarks)

    def teammate_actions(self) -> np.ndarray:
        """Actions of agents 1..N-1 for this step (scripted, with noise)."""
        targets = self.targets()
        acts = []
        for j in range(1, self.game.n_agents):
            if self._rng.random() < self.noise:
                acts.append(int(self._rng.integers(N_ACTIONS)))
            else:
                acts.append(step_towards(self.game.positions[j], self.game.landmarks[targets[j - 1]]))
        return np.array(acts, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed + 1)
        observations, _ = self.game.reset(seed=seed)
        return self._obs(observations), {"targets": self.targets()}

    def step(self, action: Any):
        names = self.game.possible_agents
        acts = [int(action), *self.teammate_actions().tolist()]
        observations, rewards, _, truncations, _ = self.game.step(dict(zip(names, acts)))
        truncated = truncations["agent_0"]
        return self._obs(observations), rewards["agent_0"], False, truncated, {"targets": self.targets()}
