"""Procedural cities for goal-driven navigation without a map (Mirowski et al., NeurIPS 2018).

The paper's agent walks Street View's panorama graph of London, Paris and New York; that data is not
available offline, so `make_city` builds a city: a ``size x size`` street grid with a share of its
segments deleted (kept connected), blocks between the streets with a facade colour each, and K of the
blocks painted as striped landmarks. `CityNavigation` (``hrl/City-v0``) is the paper's courier task on
it: the agent stands at an intersection with one of 16 headings (0 = north, clockwise), sees a small
first-person colour view (ray-cast, windows drawn on the facades), and acts with the paper's five
actions (`hrl.city.config.ACTIONS`: turn 22.5 or 67.5 degrees either way, or step to the neighbouring
intersection whose bearing is within 45 degrees of the heading). The goal is given as the paper's goal
descriptor: the goal's distances d_k to the K landmarks through a soft-max, g_k = exp(-alpha d_k) /
sum_j exp(-alpha d_j). Reaching the goal node pays ``goal_reward`` and a new goal is drawn (courier);
inside ``shaping_radius_m`` each new closest approach pays an early reward. A `StreetGraph` loaded by
`hrl.city.streetlearn` can replace the procedural city (views then crop its panoramas).

Views depend only on (node, heading), so each is rendered once and cached.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from core.errors import InputError
from hrl.city.config import CityConfig

__all__ = ["N_HEADINGS", "CityNavigation", "StreetGraph", "goal_descriptor", "make_city", "oracle_action"]

N_HEADINGS = 16
"""Headings are multiples of 22.5 degrees."""

_SKY = np.array([150, 190, 235], np.uint8)
_GROUND = np.array([70, 70, 75], np.uint8)


@dataclass
class StreetGraph:
    """A street graph: nodes with positions, neighbours, landmarks and a view per (node, heading).

    Attributes:
        positions: (N, 2) float, metres (x east, y north).
        neighbors: per node, the list of neighbouring node indices.
        landmarks: (K, 2) float, metres: the goal descriptor's reference points.
        tiles: procedural cities only: the ray-caster's map, (R, C) int (0 street, >0 colour index).
        colours: procedural cities only: (n_colours, 3) uint8, index 0 unused.
        panoramas: loaded graphs only: per node an (H, W, 3) uint8 equirectangular image, or None.
        pano_headings: loaded graphs only: (N,) float, the compass heading of each panorama's centre column.
        ids: the nodes' names (StreetLearn pano ids for a loaded graph).
    """

    positions: np.ndarray
    neighbors: list[list[int]]
    landmarks: np.ndarray
    tiles: np.ndarray | None = None
    colours: np.ndarray | None = None
    panoramas: list[np.ndarray | None] | None = None
    pano_headings: np.ndarray | None = None
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.positions)
        if len(self.neighbors) != n:
            raise InputError("one neighbour list per node", item=f"{len(self.neighbors)} lists, {n} nodes")
        for i, row in enumerate(self.neighbors):
            for j in row:
                if not 0 <= j < n or j == i:
                    raise InputError("neighbour index out of range", item=f"node {i}: {j}")
        if len(self.landmarks) < 1:
            raise InputError("a street graph needs at least one landmark", item=len(self.landmarks))

    def bearing(self, i: int, j: int) -> float:
        """Compass bearing in degrees (0 north, clockwise) from node `i` to node `j`."""
        dx, dy = self.positions[j] - self.positions[i]
        return float(np.degrees(np.arctan2(dx, dy)) % 360.0)

    def forward(self, node: int, heading_deg: float) -> int:
        """The neighbour within 45 degrees of the heading (the closest), else `node` itself."""
        best, best_diff = node, 45.0
        for j in self.neighbors[node]:
            diff = abs((self.bearing(node, j) - heading_deg + 180.0) % 360.0 - 180.0)
            if diff < best_diff:
                best, best_diff = j, diff
        return best


def goal_descriptor(goal_xy: np.ndarray, landmarks: np.ndarray, alpha: float) -> np.ndarray:
    """The paper's goal descriptor: soft-max over landmarks of -alpha x distance.

    Args:
        goal_xy: (2,) metres; landmarks: (K, 2) metres; alpha: per metre.

    Returns:
        (K,) float32, non-negative, summing to 1.
    """
    d = np.linalg.norm(np.asarray(landmarks, float) - np.asarray(goal_xy, float), axis=1)
    z = -alpha * d
    e = np.exp(z - z.max())
    return (e / e.sum()).astype(np.float32)


def make_city(config: CityConfig) -> StreetGraph:
    """Build the procedural city of `config` (deterministic in ``config.city_seed``)."""
    rng = np.random.default_rng(config.city_seed)
    n = config.size
    index = {(r, c): r * n + c for r in range(n) for c in range(n)}
    edges = [((r, c), (r, c + 1)) for r in range(n) for c in range(n - 1)]
    edges += [((r, c), (r + 1, c)) for r in range(n - 1) for c in range(n)]
    kept = set(edges)
    for k in rng.permutation(len(edges))[: round(config.delete_fraction * len(edges))]:
        trial = kept - {edges[k]}
        if _connected(n, trial):
            kept = trial
    neighbors: list[list[int]] = [[] for _ in range(n * n)]
    for a, b in sorted(kept):
        neighbors[index[a]].append(index[b])
        neighbors[index[b]].append(index[a])
    # tile map: node (r, c) at tile (2r + 1, 2c + 1) with north = row 0; a border ring of blocks
    side = 2 * n + 1
    tiles = np.zeros((side, side), np.int64)
    block_ids = np.arange(1, side * side + 1).reshape(side, side)
    walls = np.ones((side, side), bool)
    for r in range(n):
        for c in range(n):
            walls[2 * r + 1, 2 * c + 1] = False
    for (r1, c1), (r2, c2) in kept:
        walls[r1 + r2 + 1, c1 + c2 + 1] = False
    block_cells = [(r, c) for r in range(0, side, 2) for c in range(0, side, 2)]  # even-even: block corners
    colour_of_block = {}
    palette = [np.array([0, 0, 0], np.uint8)]
    for cell in block_cells:
        colour_of_block[cell] = len(palette)
        palette.append(rng.integers(60, 200, size=3).astype(np.uint8))
    for r in range(side):
        for c in range(side):
            if walls[r, c]:  # a wall tile takes the colour of the nearest block corner
                tiles[r, c] = colour_of_block[(r - r % 2, c - c % 2)]
    del block_ids
    # landmarks: K interior wall tiles (blocks), painted in saturated colours, stripes drawn by the renderer
    candidates = [
        (r, c) for r in range(side) for c in range(side) if walls[r, c] and r % 2 == 0 and c % 2 == 0
    ]
    candidates = [rc for rc in candidates if 0 < rc[0] < side - 1 and 0 < rc[1] < side - 1] or candidates
    if config.n_landmarks > len(candidates):
        candidates = [(r, c) for r in range(side) for c in range(side) if walls[r, c]]
    chosen = [candidates[k] for k in rng.choice(len(candidates), size=config.n_landmarks, replace=False)]
    hues = np.linspace(0.0, 1.0, config.n_landmarks, endpoint=False)
    for (r, c), hue in zip(chosen, hues, strict=True):
        tiles[r, c] = -len(palette)  # negative: a landmark (striped)
        palette.append(_hue_to_rgb(hue))
    metres = config.spacing_m / 2.0  # one tile is half the spacing

    def xy(r: float, c: float) -> np.ndarray:
        return np.array([(c + 0.5 - side / 2) * metres, (side / 2 - r - 0.5) * metres])

    positions = np.array([xy(2 * r + 1, 2 * c + 1) for r in range(n) for c in range(n)])
    landmarks = np.array([xy(r, c) for r, c in chosen])
    ids = [f"{r},{c}" for r in range(n) for c in range(n)]
    return StreetGraph(positions, neighbors, landmarks, tiles=tiles, colours=np.array(palette), ids=ids)


def _hue_to_rgb(hue: float) -> np.ndarray:
    import colorsys

    return (np.array(colorsys.hsv_to_rgb(hue, 1.0, 1.0)) * 255).astype(np.uint8)


def _connected(n: int, edges: set) -> bool:
    adj: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    seen, todo = {(0, 0)}, [(0, 0)]
    while todo:
        for b in adj.get(todo.pop(), []):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return len(seen) == n * n


def render_tiles(graph: StreetGraph, node: int, heading_deg: float, size: int, fov_deg: float) -> np.ndarray:
    """Ray-cast the first-person view of a procedural city: (size, size, 3) uint8."""
    tiles, colours = graph.tiles, graph.colours
    assert tiles is not None and colours is not None
    side = tiles.shape[0]
    n = (side - 1) // 2
    r0, c0 = divmod(node, n)
    pos = np.array([2 * c0 + 1.5, 2 * r0 + 1.5])  # (x = column, y = row), tile units
    angles = np.radians(heading_deg + np.linspace(-fov_deg / 2, fov_deg / 2, size))
    dirs = np.stack([np.sin(angles), -np.cos(angles)], axis=1)  # north = -row
    dirs[np.abs(dirs) < 1e-9] = 1e-9
    cell = np.floor(pos).astype(int)[None].repeat(size, 0)
    step = np.sign(dirs).astype(int)
    delta = np.abs(1.0 / dirs)
    side_dist = np.where(dirs > 0, (cell + 1 - pos) * delta, (pos - cell) * delta)
    hit = np.zeros(size, bool)
    hit_side = np.zeros(size, int)
    hit_value = np.zeros(size, int)
    for _ in range(4 * side):
        axis = (side_dist[:, 1] < side_dist[:, 0]).astype(int)  # 0: step in x, 1: step in y
        move = ~hit
        rows = np.arange(size)[move]
        cell[rows, axis[move]] += step[rows, axis[move]]
        side_dist[rows, axis[move]] += delta[rows, axis[move]]
        cell_c = np.clip(cell, 0, side - 1)
        value = tiles[cell_c[:, 1], cell_c[:, 0]]
        newly = move & (value != 0)
        hit_side[newly] = axis[newly]
        hit_value[newly] = value[newly]
        hit |= newly
        if hit.all():
            break
    dist = np.where(hit_side == 0, side_dist[:, 0] - delta[:, 0], side_dist[:, 1] - delta[:, 1])
    dist = np.maximum(dist * np.cos(angles - np.radians(heading_deg)), 1e-3)
    along = (
        np.where(
            hit_side == 0,
            pos[1] + dist / np.cos(angles - np.radians(heading_deg)) * dirs[:, 1],
            pos[0] + dist / np.cos(angles - np.radians(heading_deg)) * dirs[:, 0],
        )
        % 1.0
    )
    image = np.empty((size, size, 3), np.uint8)
    image[: size // 2] = _SKY
    image[size // 2 :] = _GROUND
    v = np.arange(size)
    for col in range(size):
        half = min(size / 2, 0.45 * size / dist[col])
        top, bottom = round(size / 2 - half), round(size / 2 + half)
        value = hit_value[col]
        rgb = colours[abs(value)].astype(float) * (0.75 if hit_side[col] else 1.0)
        rows = v[top:bottom]
        frac = (rows - (size / 2 - half)) / max(2 * half, 1e-6)
        shade = np.ones(len(rows))
        if value < 0:  # landmark: bright vertical stripes
            shade[:] = 1.0 if int(along[col] * 4) % 2 == 0 else 0.55
        else:  # facade: a grid of darker windows
            windows = (np.floor(frac * 6) % 2 == 1) & (int(along[col] * 4) % 2 == 1)
            shade[windows] = 0.5
        image[top:bottom, col] = np.clip(rgb[None] * shade[:, None], 0, 255).astype(np.uint8)
    return image


def crop_panorama(
    pano: np.ndarray, pano_heading: float, heading_deg: float, size: int, fov_deg: float
) -> np.ndarray:
    """The view of an equirectangular panorama at a heading, nearest-neighbour resized: (size, size, 3)."""
    h, w = pano.shape[:2]
    angles = heading_deg - pano_heading + np.linspace(-fov_deg / 2, fov_deg / 2, size)
    cols = np.round((angles / 360.0 + 0.5) * w).astype(int) % w
    rows = np.round(np.linspace(h * (0.5 - fov_deg / 360), h * (0.5 + fov_deg / 360) - 1, size)).astype(int)
    return pano[np.clip(rows, 0, h - 1)][:, cols]


class CityNavigation(gym.Env):
    """The courier task on a street graph (``hrl/City-v0``).

    Observation: ``{"image": (3, S, S) uint8, "goal": (K,) float32}`` (the goal descriptor). Actions:
    `hrl.city.config.ACTIONS`. ``info``: ``node``, ``heading_deg`` (the auxiliary target), ``goal``,
    ``distance_m`` (straight-line, to the goal), ``goals_reached`` (this episode).

    Args:
        config: the city and task (`CityConfig`); ignored fields for a loaded `graph`: the layout ones.
        graph: a `StreetGraph` to use instead of ``make_city(config)``.
        render_mode: None or ``"rgb_array"`` (the current view, (S, S, 3)).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        config: CityConfig | None = None,
        graph: StreetGraph | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        from dataclasses import replace

        config = config or CityConfig()
        if overrides:
            try:
                config = replace(config, **overrides)
            except TypeError as error:
                raise InputError("unknown CityConfig field", item=str(error)) from None
        if render_mode not in (None, "rgb_array"):
            raise InputError("unknown render_mode", item=render_mode, expected="None or 'rgb_array'")
        self.config, self.render_mode = config, render_mode
        self.graph = graph if graph is not None else make_city(config)
        if self.graph.tiles is None and self.graph.panoramas is None:
            raise InputError("a street graph needs tiles or panoramas to render views", item="graph")
        k, s = len(self.graph.landmarks), config.image_size
        self.observation_space = gym.spaces.Dict(
            {
                "image": gym.spaces.Box(0, 255, (3, s, s), np.uint8),
                "goal": gym.spaces.Box(0.0, 1.0, (k,), np.float32),
            }
        )
        self.action_space = gym.spaces.Discrete(5)
        self.max_goal_distance_m = config.max_goal_distance_m
        self._views: dict[tuple[int, int], np.ndarray] = {}
        self._descriptors = [
            goal_descriptor(p, self.graph.landmarks, config.alpha) for p in self.graph.positions
        ]
        self.node = self.heading = self.goal = 0
        self.t = self.goals_reached = 0
        self._closest = np.inf

    def view(self, node: int, heading: int) -> np.ndarray:
        """The (S, S, 3) uint8 view at `node` facing heading index `heading` (cached)."""
        key = (node, heading)
        if key not in self._views:
            c, deg = self.config, heading * 360.0 / N_HEADINGS
            if self.graph.tiles is not None:
                self._views[key] = render_tiles(self.graph, node, deg, c.image_size, c.fov_deg)
            else:
                pano = self.graph.panoramas[node]
                if pano is None:
                    self._views[key] = np.zeros((c.image_size, c.image_size, 3), np.uint8)
                else:
                    ph = (
                        float(self.graph.pano_headings[node]) if self.graph.pano_headings is not None else 0.0
                    )
                    self._views[key] = crop_panorama(pano, ph, deg, c.image_size, c.fov_deg)
        return self._views[key]

    def distance(self, a: int, b: int) -> float:
        return float(np.linalg.norm(self.graph.positions[a] - self.graph.positions[b]))

    def _new_goal(self) -> None:
        n = len(self.graph.positions)
        d = np.linalg.norm(self.graph.positions - self.graph.positions[self.node], axis=1)
        options = np.flatnonzero((d > 0) & (d <= (self.max_goal_distance_m or np.inf) + 1e-6))
        if len(options) == 0:  # nothing in range: the nearest other nodes
            others = np.flatnonzero(np.arange(n) != self.node)
            options = others[d[others] <= d[others].min() + 1e-6]
        self.goal = int(self.np_random.choice(options))
        self._closest = self.distance(self.node, self.goal)

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            "image": np.ascontiguousarray(self.view(self.node, self.heading).transpose(2, 0, 1)),
            "goal": self._descriptors[self.goal].copy(),
        }

    def _info(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "heading_deg": self.heading * 360.0 / N_HEADINGS,
            "heading_index": self.heading,
            "goal": self.goal,
            "distance_m": self.distance(self.node, self.goal),
            "goals_reached": self.goals_reached,
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "max_goal_distance_m" in options:
            value = options["max_goal_distance_m"]
            if value is not None and not value > 0:
                raise InputError("max_goal_distance_m must be positive or None", item=value)
            self.max_goal_distance_m = value
        self.node = int(self.np_random.integers(len(self.graph.positions)))
        self.heading = int(self.np_random.integers(N_HEADINGS))
        self.t = self.goals_reached = 0
        self._new_goal()
        return self._obs(), self._info()

    def step(self, action: Any):
        if not self.action_space.contains(action):
            raise InputError("action outside Discrete(5)", item=action)
        a = int(action)
        turn = {0: -1, 1: 1, 2: -3, 3: 3}
        if a in turn:
            self.heading = (self.heading + turn[a]) % N_HEADINGS
        else:
            self.node = self.graph.forward(self.node, self.heading * 360.0 / N_HEADINGS)
        self.t += 1
        c = self.config
        reward = 0.0
        d = self.distance(self.node, self.goal)
        if self.node == self.goal:
            reward += c.goal_reward
            self.goals_reached += 1
            self._new_goal()
        elif c.shaping_radius_m > 0 and d < self._closest:
            gained = min(self._closest, c.shaping_radius_m) - min(d, c.shaping_radius_m)
            reward += c.shaping_scale * c.goal_reward * max(gained, 0.0) / c.shaping_radius_m
            self._closest = d
        truncated = self.t >= c.max_steps
        return self._obs(), reward, False, truncated, self._info()

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.view(self.node, self.heading).copy()
        return None


def oracle_action(env: CityNavigation) -> int:
    """The first action of a shortest action sequence to the goal (breadth-first over (node, heading))."""
    start = (env.node, env.heading)
    first: dict[tuple[int, int], int] = {start: -1}
    todo = deque([start])
    graph = env.graph
    while todo:
        node, heading = state = todo.popleft()
        if node == env.goal:
            return first[state]
        for a, turn in ((4, 0), (0, -1), (1, 1), (2, -3), (3, 3)):
            if a == 4:
                nxt = (graph.forward(node, heading * 360.0 / N_HEADINGS), heading)
            else:
                nxt = (node, (heading + turn) % N_HEADINGS)
            if nxt not in first:
                first[nxt] = a if first[state] == -1 else first[state]
                todo.append(nxt)
    return 4
