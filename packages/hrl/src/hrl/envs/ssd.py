"""Sequential social dilemmas Harvest and Cleanup as PettingZoo parallel environments.

Gridworlds in the spirit of Leibo et al. (2017) / Perolat et al. (2017) as used by Jaques et al.
(ICML 2019, social influence), written here at a small scale (maps and constants chosen here, not
copied from any published code; values said to follow the literature are as we recall it, not checked):

- **Harvest**: eating an apple pays +1; an eaten apple's cell regrows with a probability that rises
  with the number of apples within distance 2 of it (0 when none are left nearby), so greedy
  harvesting of a patch kills it for good: the dilemma is restraint.
- **Cleanup**: apples grow in an orchard at a rate that falls linearly to 0 as the fraction of the
  river's cells holding waste rises to ``depletion_threshold``; waste accumulates in the river, and
  cleaning it (action ``clean``) pays nothing: the dilemma is who does the unpaid work.

Both: ``n_agents`` agents on the map's spawn cells, actions 0 stay, 1 up, 2 down, 3 left, 4 right,
5 ``zap`` (every other agent within Chebyshev distance ``zap_radius`` is removed from the map for
``timeout`` steps; the zapper pays ``zap_cost``), and in Cleanup 6 ``clean`` (removes the waste within
Chebyshev distance ``clean_radius``). Moves are resolved one agent at a time in a random order; an
agent cannot enter a wall or another agent's cell. Observations are egocentric windows of
(2 ``view_radius`` + 1)² cells × 4 channels (wall or outside the map, apple, waste, other agent),
flattened to float32 in [0, 1]; a removed agent sees zeros. Episodes end by truncation after
``max_cycles`` steps; nobody terminates.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from core.errors import InputError

__all__ = [
    "ACTION_NAMES",
    "CLEANUP_MAP",
    "HARVEST_MAP",
    "CleanupEnv",
    "HarvestEnv",
    "SSDEnv",
    "equality",
    "make_ssd",
    "sustainability",
]

HARVEST_MAP = (
    "############",
    "#P   A    P#",
    "#   AAA    #",
    "#  AAAAA   #",
    "#   AAA  A #",
    "#P   A  AAA#",
    "#        A #",
    "# A     P  #",
    "#AAA       #",
    "#PA       P#",
    "############",
)
"""``#`` wall, ``P`` spawn cell, ``A`` apple cell (an apple at the start and where apples regrow)."""

CLEANUP_MAP = (
    "############",
    "#RRR  P  OO#",
    "#RWR    OOO#",
    "#RRR P  OOO#",
    "#RWR    OOO#",
    "#RRR  P  OO#",
    "#RWR    OOO#",
    "#RRR P   OO#",
    "############",
)
"""``R`` river cell (waste spawns there), ``W`` river cell holding waste at the start, ``O`` orchard cell
(apples spawn there; none at the start), ``P`` spawn cell, ``#`` wall."""

ACTION_NAMES = ("stay", "up", "down", "left", "right", "zap", "clean")
_MOVES = {1: (-1, 0), 2: (1, 0), 3: (0, -1), 4: (0, 1)}
_CHANNELS = 4  # wall, apple, waste, other agent

HARVEST_REGROWTH = (0.0, 0.001, 0.005, 0.025)
"""Regrowth probability per step of an empty apple cell with 0, 1-2, 3-4, >= 5 apples within L2
distance 2 (the values of the sequential-social-dilemma literature as we recall them; not checked)."""


def equality(returns: np.ndarray) -> float:
    """Perolat et al.'s equality 1 - Gini of the agents' episode returns, (N,) -> float.

    1 - Σ_i Σ_j |R_i - R_j| / (2 N Σ_i R_i); 1.0 when every agent earned the same (also when all earned 0).
    """
    values = np.asarray(returns, dtype=np.float64)
    total = values.sum()
    if total == 0.0:
        return 1.0
    return float(1.0 - np.abs(values[:, None] - values[None, :]).sum() / (2 * len(values) * total))


def sustainability(reward_times: list[list[int]]) -> float:
    """Perolat et al.'s sustainability: mean over agents of the mean step at which each collected reward.

    Args:
        reward_times: per agent, the steps (0-based) at which it collected a positive reward; agents
            that collected none are left out (``nan`` when nobody collected anything).
    """
    means = [float(np.mean(times)) for times in reward_times if times]
    return float(np.mean(means)) if means else float("nan")


class SSDEnv(ParallelEnv):
    """Common grid, agents, zapping and observations of Harvest and Cleanup (see the module docstring).

    Args:
        n_agents: agents (at most the map's spawn cells).
        max_cycles: steps per episode (truncation).
        view_radius: the observation window's half-width, cells.
        zap_radius, timeout, zap_cost: the tagging action's reach (Chebyshev cells), how many steps a
            tagged agent stays off the map, and what the zapper pays.
        render_mode: None, ``"ansi"`` (a text picture) or ``"rgb_array"`` (4 × 4 pixels per cell).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "ssd",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
    }
    game_map: tuple[str, ...] = ()
    n_actions = 6

    def __init__(
        self,
        n_agents: int = 2,
        max_cycles: int = 200,
        view_radius: int = 3,
        zap_radius: int = 1,
        timeout: int = 25,
        zap_cost: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        spawns = [(r, c) for r, row in enumerate(self.game_map) for c, ch in enumerate(row) if ch == "P"]
        if not 1 <= n_agents <= len(spawns):
            raise InputError(
                "n_agents must be between 1 and the map's spawn cells",
                item=n_agents,
                expected=f"1..{len(spawns)}",
            )
        for name, value in (("max_cycles", max_cycles), ("view_radius", view_radius), ("timeout", timeout)):
            if value < 1:
                raise InputError(f"{name} must be >= 1", item=value)
        if zap_radius < 0 or zap_cost < 0:
            raise InputError("zap_radius and zap_cost must be >= 0", item=(zap_radius, zap_cost))
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise InputError(
                "unknown render_mode", item=render_mode, expected=str(self.metadata["render_modes"])
            )
        self.n_agents, self.max_cycles, self.view_radius = n_agents, max_cycles, view_radius
        self.zap_radius, self.timeout, self.zap_cost = zap_radius, timeout, float(zap_cost)
        self.render_mode = render_mode
        self.possible_agents = [f"agent_{i}" for i in range(n_agents)]
        self.agents: list[str] = []
        self._spawns = spawns
        grid = np.array([list(row) for row in self.game_map])
        self.walls = grid == "#"
        self.shape = self.walls.shape
        self._grid_chars = grid
        self.np_random = np.random.default_rng()
        self._window = 2 * view_radius + 1
        self._obs_space = spaces.Box(0.0, 1.0, (self._window * self._window * _CHANNELS,), np.float32)
        self._act_space = spaces.Discrete(self.n_actions)

    # PettingZoo wants the same space object on every call.
    @functools.cache  # noqa: B019 - one entry per agent name
    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_space

    # --- game-specific hooks -------------------------------------------------------------------
    def _reset_resources(self) -> None:
        raise RuntimeError("subclasses set up apples and waste")  # pragma: no cover

    def _special_action(self, index: int, action: int) -> None:
        """Actions beyond ``zap`` (Cleanup's ``clean``)."""

    def _grow(self) -> None:
        raise RuntimeError("subclasses grow apples")  # pragma: no cover

    # --- PettingZoo API ------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        self.apples = np.zeros(self.shape, dtype=bool)
        self.waste = np.zeros(self.shape, dtype=bool)
        self._reset_resources()
        order = self.np_random.permutation(len(self._spawns))[: self.n_agents]
        self.positions = np.array([self._spawns[i] for i in order], dtype=np.int64)
        self.removed = np.zeros(self.n_agents, dtype=np.int64)  # steps left off the map
        observations = {a: self._observe(i) for i, a in enumerate(self.agents)}
        return observations, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        rewards = np.zeros(self.n_agents)
        acts = np.zeros(self.n_agents, dtype=np.int64)
        for i, agent in enumerate(self.agents):
            if agent not in actions:
                raise InputError("missing action for an agent", item=agent)
            acts[i] = int(actions[agent])
        active = self.removed == 0
        for i in self.np_random.permutation(self.n_agents):
            if not active[i] or acts[i] not in _MOVES:
                continue
            target = self.positions[i] + _MOVES[acts[i]]
            occupied = any(
                active[j] and j != i and (self.positions[j] == target).all() for j in range(self.n_agents)
            )
            if not self.walls[tuple(target)] and not occupied:
                self.positions[i] = target
        for i in range(self.n_agents):
            if active[i] and self.apples[tuple(self.positions[i])]:
                self.apples[tuple(self.positions[i])] = False
                rewards[i] += 1.0
        tagged = np.zeros(self.n_agents, dtype=bool)
        for i in range(self.n_agents):
            if not active[i]:
                continue
            if acts[i] == 5:
                rewards[i] -= self.zap_cost
                for j in range(self.n_agents):
                    if (
                        j != i
                        and active[j]
                        and np.abs(self.positions[j] - self.positions[i]).max() <= self.zap_radius
                    ):
                        tagged[j] = True
            elif acts[i] >= 6:
                self._special_action(i, int(acts[i]))
        self.removed = np.maximum(self.removed - 1, 0)
        for j in np.flatnonzero((self.removed == 0) & ~active):  # back on the map: respawn
            self._respawn(j)
        for j in np.flatnonzero(tagged):
            self.removed[j] = self.timeout
        self._grow()
        self.t += 1
        truncated = self.t >= self.max_cycles
        names = list(self.agents)
        observations = {a: self._observe(i) for i, a in enumerate(names)}
        reward_dict = {a: float(rewards[i]) for i, a in enumerate(names)}
        terminations = {a: False for a in names}
        truncations = {a: truncated for a in names}
        infos = {a: {"removed": bool(self.removed[i] > 0)} for i, a in enumerate(names)}
        if truncated:
            self.agents = []
        return observations, reward_dict, terminations, truncations, infos

    def _respawn(self, j: int) -> None:
        free = [
            s
            for s in self._spawns
            if not any(
                (self.positions[k] == s).all()
                for k in range(self.n_agents)
                if k != j and self.removed[k] == 0
            )
        ]
        self.positions[j] = free[self.np_random.integers(len(free))] if free else self.positions[j]

    def _observe(self, i: int) -> np.ndarray:
        r = self.view_radius
        view = np.zeros((self._window, self._window, _CHANNELS), dtype=np.float32)
        if self.removed[i] > 0:
            return view.reshape(-1)
        row, col = self.positions[i]
        h, w = self.shape
        for dr in range(-r, r + 1):
            for dc in range(-r, r + 1):
                rr, cc = row + dr, col + dc
                cell = view[dr + r, dc + r]
                if not (0 <= rr < h and 0 <= cc < w) or self.walls[rr, cc]:
                    cell[0] = 1.0
                    continue
                cell[1] = self.apples[rr, cc]
                cell[2] = self.waste[rr, cc]
        for j in range(self.n_agents):
            if j != i and self.removed[j] == 0:
                dr, dc = self.positions[j] - self.positions[i]
                if abs(dr) <= r and abs(dc) <= r:
                    view[dr + r, dc + r, 3] = 1.0
        return view.reshape(-1)

    def state(self) -> np.ndarray:
        """The whole map: (H, W, 5) float32 (wall, apple, waste, agent, removed-agent count 0)."""
        grid = np.zeros((*self.shape, 4), dtype=np.float32)
        grid[..., 0], grid[..., 1], grid[..., 2] = self.walls, self.apples, self.waste
        for j in range(self.n_agents):
            if self.removed[j] == 0:
                grid[(*tuple(self.positions[j]), 3)] = 1.0
        return grid

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            rows = [["#" if w else " " for w in row] for row in self.walls]
            for r, c in zip(*np.nonzero(self.apples)):
                rows[r][c] = "a"
            for r, c in zip(*np.nonzero(self.waste)):
                rows[r][c] = "~"
            for j in range(self.n_agents):
                if self.removed[j] == 0:
                    rows[self.positions[j][0]][self.positions[j][1]] = str(j % 10)
            return "\n".join("".join(row) for row in rows)
        colours = np.array([[0, 0, 0], [60, 200, 60], [140, 100, 40], [240, 240, 240]], dtype=np.uint8)
        image = np.full((*self.shape, 3), 30, dtype=np.uint8)
        layers = self.state()
        for channel in range(4):
            image[layers[..., channel] > 0] = colours[channel]
        return np.kron(image, np.ones((4, 4, 1), dtype=np.uint8))

    def close(self) -> None:
        return None


class HarvestEnv(SSDEnv):
    """Harvest (see the module docstring); ``regrowth`` overrides `HARVEST_REGROWTH`."""

    metadata: ClassVar[dict[str, Any]] = {**SSDEnv.metadata, "name": "harvest_v0"}
    game_map = HARVEST_MAP

    def __init__(self, *args: Any, regrowth: tuple[float, ...] = HARVEST_REGROWTH, **kwargs: Any) -> None:
        if len(regrowth) != 4 or any(not 0.0 <= p <= 1.0 for p in regrowth):
            raise InputError("regrowth must be 4 probabilities", item=regrowth)
        super().__init__(*args, **kwargs)
        self.regrowth = np.asarray(regrowth, dtype=np.float64)
        self.apple_cells = self._grid_chars == "A"
        rr, cc = np.mgrid[-2:3, -2:3]
        self._disc = (rr**2 + cc**2 <= 4).astype(np.int64)  # L2 distance <= 2, centre included

    def _reset_resources(self) -> None:
        self.apples[:] = self.apple_cells

    def _grow(self) -> None:
        padded = np.pad(self.apples.astype(np.int64), 2)
        h, w = self.shape
        counts = sum(
            self._disc[dr + 2, dc + 2] * padded[2 + dr : 2 + dr + h, 2 + dc : 2 + dc + w]
            for dr in range(-2, 3)
            for dc in range(-2, 3)
        )
        level = np.digitize(counts, [1, 3, 5])  # 0 | 1-2 | 3-4 | >= 5
        candidates = self.apple_cells & ~self.apples
        for j in range(self.n_agents):
            if self.removed[j] == 0:
                candidates[tuple(self.positions[j])] = False
        draws = self.np_random.random(self.shape)
        self.apples |= candidates & (draws < self.regrowth[level])


class CleanupEnv(SSDEnv):
    """Cleanup (see the module docstring).

    Args:
        apple_respawn: per-step spawn probability of an apple on an empty orchard cell with a clean river.
        waste_spawn: probability per step that one clean river cell (uniform) receives waste, while the
            river's waste fraction is under ``depletion_threshold``.
        depletion_threshold: waste fraction at which apples stop growing.
        clean_radius: reach of ``clean`` (Chebyshev cells).
    """

    metadata: ClassVar[dict[str, Any]] = {**SSDEnv.metadata, "name": "cleanup_v0"}
    game_map = CLEANUP_MAP
    n_actions = 7

    def __init__(
        self,
        *args: Any,
        apple_respawn: float = 0.05,
        waste_spawn: float = 0.5,
        depletion_threshold: float = 0.4,
        clean_radius: int = 1,
        **kwargs: Any,
    ) -> None:
        for name, value in (("apple_respawn", apple_respawn), ("waste_spawn", waste_spawn)):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be a probability", item=value)
        if not 0.0 < depletion_threshold <= 1.0:
            raise InputError("depletion_threshold must be in (0, 1]", item=depletion_threshold)
        if clean_radius < 0:
            raise InputError("clean_radius must be >= 0", item=clean_radius)
        super().__init__(*args, **kwargs)
        self.apple_respawn, self.waste_spawn = apple_respawn, waste_spawn
        self.depletion_threshold, self.clean_radius = depletion_threshold, clean_radius
        self.river = np.isin(self._grid_chars, ["R", "W"])
        self.orchard = self._grid_chars == "O"

    def waste_fraction(self) -> float:
        """Fraction of the river's cells holding waste."""
        return float(self.waste[self.river].mean())

    def _reset_resources(self) -> None:
        self.waste[:] = self._grid_chars == "W"

    def _special_action(self, index: int, action: int) -> None:
        row, col = self.positions[index]
        k = self.clean_radius
        self.waste[max(row - k, 0) : row + k + 1, max(col - k, 0) : col + k + 1] = False

    def _grow(self) -> None:
        fraction = self.waste_fraction()
        rate = self.apple_respawn * max(0.0, 1.0 - fraction / self.depletion_threshold)
        candidates = self.orchard & ~self.apples
        for j in range(self.n_agents):
            if self.removed[j] == 0:
                candidates[tuple(self.positions[j])] = False
        self.apples |= candidates & (self.np_random.random(self.shape) < rate)
        if fraction < self.depletion_threshold and self.np_random.random() < self.waste_spawn:
            clean = np.flatnonzero((self.river & ~self.waste).reshape(-1))
            if clean.size:
                self.waste.reshape(-1)[clean[self.np_random.integers(clean.size)]] = True


def make_ssd(name: str, **kwargs: Any) -> SSDEnv:
    """``"harvest"`` or ``"cleanup"`` with keyword arguments for the class; an unknown name is an `InputError`."""
    games = {"harvest": HarvestEnv, "cleanup": CleanupEnv}
    if name not in games:
        raise InputError("unknown social dilemma", item=name, expected="harvest or cleanup")
    return games[name](**kwargs)
