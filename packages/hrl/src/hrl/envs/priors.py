"""The human-priors platformer (Dubey et al. 2018) and its re-renderings, as a pixel gymnasium env.

A tile platformer in the spirit of the paper's game (itself modelled on Montezuma's Revenge): three
floors joined by ladders, spikes on the bottom floor, an enemy patrolling each upper floor, a key at
the far end of the top floor and a door at its other end. The only reward is 1 for walking into the
door while holding the key (the paper's "terminal" reward); touching spikes or an enemy ends the
episode with 0. No manual: which sprite is the player, what a key or a ladder is, is for the player
to find out.

Dynamics (the same for every rendering, deterministic): 7 actions, `ACTIONS` (wait, left, right,
up, down, jump-left, jump-right). Left/right move one tile unless a platform is in the way; up/down
climb while on (or, for down, above) a ladder; a jump hops two tiles sideways over the tile between
(a spike or an enemy) when the player stands on something and the two tiles above are free, and
lands on the third. Whoever is neither on a ladder nor standing on a platform or a ladder falls one
tile per step. Enemies walk one tile per step along their floor and turn at walls and edges; meeting
one (same tile, or swapping tiles) kills.

Renderings (`RENDERINGS`; the paper's Figure 2 as the brief reads it), all drawn from the same state
and so changing pixels only, never dynamics:

- ``original``: textured sprites (brick platforms, ladders, a golden key, a red creature, grey spikes,
  a wooden door that opens once the key is held).
- ``masked``: masked object semantics: key, enemies, spikes and door are uniform coloured blocks.
- ``reversed``: reversed affordances: platforms are drawn as the background was (black) and the
  background as the platforms were (bricks).
- ``similarity``: masked visual similarity: every instance (each platform tile, ladder tile, enemy,
  spike) has a colour of its own, so alike things no longer look alike.
- ``all``: every object a uniform block and every instance its own colour.

The player's own sprite is the same in all of them. The observation is (3, H, W) uint8 RGB, channels
first (PPO's CNN layout), ``tile`` pixels per tile; ``render()`` gives an (H', W', 3) RGB array
(``render_mode="rgb_array"``, upscaled) or the ANSI text a terminal shows (``"ansi"``), drawn from
the same looks (each look has a character and a colour as well as its sprite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from core.errors import InputError
from hrl.human.config import ACTIONS, RENDERINGS, check_rendering

__all__ = [
    "ACTIONS",
    "LAYOUT",
    "RENDERINGS",
    "SMALL_LAYOUT",
    "Layout",
    "Look",
    "PriorsPlatformer",
    "check_rendering",
    "parse_layout",
    "shortest_solution",
]

LAYOUT = (
    "################",
    "#..............#",
    "#D.....E......K#",
    "###H############",
    "#..H...........#",
    "#..H.....E.....#",
    "#############H##",
    "#............H.#",
    "#S....^......H.#",
    "################",
)
"""The default level: start bottom-left, spikes, a ladder up on the right, an enemy, a ladder up on
the left, another enemy, the key far right and the door far left of the top floor (a shortest solution
is about 60 steps). Legend: ``#`` platform, ``H`` ladder, ``S`` start, ``K`` key, ``D`` door, ``E``
an enemy's start, ``^`` spikes, ``.`` background."""

SMALL_LAYOUT = (
    "##########",
    "#........#",
    "#D..E..K.#",
    "###H######",
    "#..H.....#",
    "#S.H..^..#",
    "##########",
)
"""A two-floor level (spikes, one ladder, one enemy, the key and the door; a shortest solution is 12
steps) for quick learning checks; at ``tile=8`` its frames are big enough for PPO's Nature CNN."""

LEGEND = "#HSKDE^."


@dataclass(frozen=True)
class Layout:
    """A parsed level: static tiles and the start positions of everything that moves."""

    rows: tuple[str, ...]
    solid: np.ndarray  # (R, C) bool
    ladder: np.ndarray  # (R, C) bool
    spikes: np.ndarray  # (R, C) bool
    start: tuple[int, int]
    key: tuple[int, int]
    door: tuple[int, int]
    enemies: tuple[tuple[int, int], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return self.solid.shape  # type: ignore[return-value]


def parse_layout(rows: tuple[str, ...] | list[str]) -> Layout:
    """Parse a level drawn in `LEGEND` characters; bad levels raise an `InputError` naming the cell."""
    rows = tuple(rows)
    if not rows or any(not isinstance(r, str) for r in rows):
        raise InputError("a priors layout is a non-empty sequence of strings", item=rows)
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputError(
                "priors layout rows differ in length", item=f"row {i}", expected=f"{width} characters"
            )
        for j, ch in enumerate(row):
            if ch not in LEGEND:
                raise InputError(
                    "unknown character in priors layout",
                    item=f"{ch!r} at row {i}, column {j}",
                    expected=LEGEND,
                )
    grid = np.array([list(r) for r in rows])
    found = {}
    for ch, name in (("S", "start"), ("K", "key"), ("D", "door")):
        cells = np.argwhere(grid == ch)
        if len(cells) != 1:
            raise InputError(f"a priors layout needs exactly one {name} ({ch!r})", item=f"{len(cells)} found")
        found[name] = (int(cells[0][0]), int(cells[0][1]))
    border = np.ones_like(grid, dtype=bool)
    border[1:-1, 1:-1] = False
    if (grid[border] != "#").any():
        raise InputError("a priors layout must be walled in by '#' on every side", item="its border")
    enemies = tuple((int(r), int(c)) for r, c in np.argwhere(grid == "E"))
    return Layout(
        rows=rows,
        solid=grid == "#",
        ladder=grid == "H",
        spikes=grid == "^",
        start=found["start"],
        key=found["key"],
        door=found["door"],
        enemies=enemies,
    )


# ----------------------------------------------------------------------------------------- looks
@dataclass(frozen=True)
class Look:
    """How one thing is drawn: a (tile, tile, 3) uint8 sprite, a terminal character and its colour."""

    sprite: np.ndarray
    char: str
    rgb: tuple[int, int, int]


_PATTERNS = {  # 4 x 4 masks ("o" on, "." off), scaled to the tile size (nearest neighbour)
    "brick": ("ooo.", "....", "o.oo", "...."),  # mortar lines where '.'
    "ladder": ("o..o", "oooo", "o..o", "oooo"),
    "key": (".oo.", ".oo.", "..o.", "..oo"),
    "enemy": (".oo.", "oooo", "o..o", ".oo."),
    "spikes": ("....", ".o.o", ".o.o", "oooo"),
    "door": ("oooo", "o..o", "o.oo", "o..o"),
    "door_open": ("oooo", "o..o", "o..o", "o..o"),
    "agent": (".oo.", "oooo", ".oo.", "o..o"),
    "block": ("oooo", "oooo", "oooo", "oooo"),
}
_COLOURS = {
    "background": (0, 0, 0),
    "platform": (170, 90, 40),
    "mortar": (110, 55, 25),
    "ladder": (220, 200, 90),
    "key": (240, 200, 40),
    "enemy": (220, 40, 40),
    "spikes": (185, 185, 195),
    "door": (140, 80, 30),
    "door_open": (90, 60, 30),
    "agent": (90, 170, 255),
}
_CHARS = {
    "background": " ",
    "platform": "#",
    "ladder": "H",
    "key": "k",
    "enemy": "E",
    "spikes": "^",
    "door": "D",
    "door_open": "d",
    "agent": "@",
}
_MASKED_COLOURS = {  # arbitrary block colours with nothing of the originals' hue
    "key": (60, 200, 120),
    "enemy": (120, 90, 230),
    "spikes": (40, 160, 200),
    "door": (230, 110, 200),
    "door_open": (200, 230, 60),
}
OBJECTS = ("key", "enemy", "spikes", "door", "door_open")
_SIMILARITY_CHARS = "#%&$*+=~?!"


def _mask(name: str, tile: int) -> np.ndarray:
    pattern = np.array([[ch == "o" for ch in row] for row in _PATTERNS[name]])
    index = (np.arange(tile) * 4) // tile
    return pattern[np.ix_(index, index)]


def _sprite(mask: np.ndarray, colour: tuple[int, ...], ground: tuple[int, ...]) -> np.ndarray:
    out = np.empty((*mask.shape, 3), np.uint8)
    out[:] = ground
    out[mask] = colour
    return out


def _original(kind: str, tile: int) -> Look:
    black = _COLOURS["background"]
    if kind == "background":
        return Look(_sprite(np.zeros((tile, tile), bool), black, black), " ", black)
    if kind == "platform":
        sprite = _sprite(_mask("brick", tile), _COLOURS["platform"], _COLOURS["mortar"])
        return Look(sprite, "#", _COLOURS["platform"])
    pattern = {"door": "door", "door_open": "door_open"}.get(kind, kind)
    return Look(_sprite(_mask(pattern, tile), _COLOURS[kind], black), _CHARS[kind], _COLOURS[kind])


def _block(colour: tuple[int, int, int], tile: int, char: str = "█") -> Look:
    return Look(_sprite(_mask("block", tile), colour, colour), char, colour)


class _Looks:
    """The look of every (kind, instance) under one rendering; instances are numbered in raster order."""

    def __init__(self, rendering: str, tile: int, seed: int) -> None:
        self.rendering, self.tile = check_rendering(rendering), tile
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9121]))
        self.cache: dict[tuple[str, int], Look] = {}

    def _random_colour(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.rng.integers(40, 256, size=3))  # type: ignore[return-value]

    def __call__(self, kind: str, instance: int = 0) -> Look:
        key = (kind, instance)
        if key not in self.cache:
            self.cache[key] = self._make(kind)
        return self.cache[key]

    def _make(self, kind: str) -> Look:
        name, tile = self.rendering, self.tile
        if kind == "agent" or name == "original":
            return _original(kind, tile)
        if name == "masked":
            return _block(_MASKED_COLOURS[kind], tile) if kind in OBJECTS else _original(kind, tile)
        if name == "reversed":
            if kind == "background":
                return Look(_original("platform", tile).sprite, "#", _COLOURS["platform"])
            if kind == "platform":
                return _original("background", tile)
            return _original(kind, tile)
        if kind == "background":
            return _original(kind, tile)
        colour = self._random_colour()
        if name == "all":
            return _block(colour, tile)
        # similarity: the original shape, a colour (and a character) of the instance's own
        pattern = {"platform": "brick"}.get(kind, kind)
        ground = tuple(v // 2 for v in colour) if kind == "platform" else _COLOURS["background"]
        char = _SIMILARITY_CHARS[int(self.rng.integers(len(_SIMILARITY_CHARS)))]
        return Look(_sprite(_mask(pattern, tile), colour, ground), char, colour)


# ------------------------------------------------------------------------------------ the game
class PriorsPlatformer(gym.Env):
    """The platformer (see the module docstring).

    Args:
        rendering: one of `RENDERINGS`.
        layout: the level's rows in `LEGEND` characters (default `LAYOUT`).
        tile: pixels per tile in the observation (>= 4).
        max_steps: steps before the episode is truncated.
        rendering_seed: draws the per-instance colours of ``similarity`` and ``all``.
        render_mode: ``"rgb_array"`` or ``"ansi"`` (or None).
        render_scale: upscaling of ``render()``'s RGB array.

    Attributes:
        state: the game state as plain data (`state_dict`), what replays compare.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        rendering: str = "original",
        layout: tuple[str, ...] | list[str] | None = None,
        tile: int = 4,
        max_steps: int = 500,
        rendering_seed: int = 0,
        render_mode: str | None = None,
        render_scale: int = 4,
    ) -> None:
        self.rendering = check_rendering(rendering)
        if not isinstance(tile, int) or isinstance(tile, bool) or tile < 4:
            raise InputError("priors tile must be an integer >= 4 (pixels per tile)", item=tile)
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
            raise InputError("priors max_steps must be a positive integer", item=max_steps)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InputError("unknown render_mode", item=render_mode, expected="rgb_array or ansi")
        self.layout = parse_layout(LAYOUT if layout is None else layout)
        self.tile, self.max_steps, self.rendering_seed = tile, max_steps, rendering_seed
        self.render_mode, self.render_scale = render_mode, render_scale
        rows, cols = self.layout.shape
        self.observation_space = spaces.Box(0, 255, (3, rows * tile, cols * tile), np.uint8)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.looks = _Looks(rendering, tile, rendering_seed)
        self._static_looks = self._static()
        for kind in ("door", "door_open", "key"):  # every look drawn up front, in a fixed order
            self.looks(kind)
        for i in range(len(self.layout.enemies)):
            self.looks("enemy", i)
        self._background = self._draw_static()
        self._patrols = [self._patrol_row(r, c) for r, c in self.layout.enemies]
        self._set_start()

    # ------------------------------------------------------------------ state
    def _set_start(self) -> None:
        self.agent = self.layout.start
        self.has_key, self.steps, self.outcome = False, 0, None
        self.enemies = [(r, c, 1) for r, c in self.layout.enemies]

    def state_dict(self) -> dict[str, Any]:
        """The full game state as JSON-ready data."""
        return {
            "agent": list(self.agent),
            "has_key": self.has_key,
            "enemies": [list(e) for e in self.enemies],
            "steps": self.steps,
            "outcome": self.outcome,
        }

    @property
    def state(self) -> dict[str, Any]:
        return self.state_dict()

    # ---------------------------------------------------------------- physics
    def _free(self, r: int, c: int) -> bool:
        return not self.layout.solid[r, c]

    def _supported(self, r: int, c: int) -> bool:
        """Standing on a platform or a ladder top, or holding on to a ladder."""
        lay = self.layout
        return bool(lay.ladder[r, c] or lay.solid[r + 1, c] or lay.ladder[r + 1, c])

    def _patrol_row(self, r: int, c: int) -> tuple[int, int]:
        """The columns an enemy starting at (r, c) walks between: free tiles with ground under them."""

        def walkable(col: int) -> bool:
            return self._free(r, col) and bool(
                self.layout.solid[r + 1, col] or self.layout.ladder[r + 1, col]
            )

        low = c
        while walkable(low - 1):
            low -= 1
        high = c
        while walkable(high + 1):
            high += 1
        return low, high

    def _move_agent(self, action: int) -> tuple[int, int]:
        r, c = self.agent
        lay = self.layout
        name = ACTIONS[action]
        if name in ("left", "right"):
            dc = -1 if name == "left" else 1
            if self._free(r, c + dc):
                c += dc
        elif name == "up":
            if lay.ladder[r, c] and self._free(r - 1, c):
                r -= 1
        elif name == "down":
            if (lay.ladder[r, c] or lay.ladder[r + 1, c]) and self._free(r + 1, c):
                r += 1
        elif name in ("jump-left", "jump-right"):
            dc = -1 if name == "jump-left" else 1
            standing = (lay.solid[r + 1, c] or lay.ladder[r + 1, c]) and not lay.ladder[r, c]
            landing = c + 2 * dc
            if (
                standing
                and 0 < landing < lay.shape[1]
                and self._free(r - 1, c)
                and self._free(r - 1, c + dc)
                and self._free(r, landing)
            ):
                c = landing
        if not self._supported(r, c) and self._free(r + 1, c):  # gravity, one tile per step
            r += 1
        return r, c

    def _move_enemies(self) -> list[tuple[int, int, int]]:
        moved = []
        for (r, c, d), (low, high) in zip(self.enemies, self._patrols):
            if not low <= c + d <= high:
                d = -d
            if low <= c + d <= high:
                c += d
            moved.append((r, c, d))
        return moved

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)  # the game itself has no randomness
        self._set_start()
        return self._observation(), {"state": self.state_dict()}

    def step(self, action: Any):
        if self.outcome is not None:
            raise InputError("the priors episode has ended; call reset() first", item=self.outcome)
        if not self.action_space.contains(action):
            raise InputError("priors action must be an integer in 0..6", item=action, expected=str(ACTIONS))
        before_agent, before_enemies = self.agent, self.enemies
        self.agent = self._move_agent(int(action))
        self.enemies = self._move_enemies()
        self.steps += 1
        r, c = self.agent
        if (r, c) == self.layout.key and not self.has_key:
            self.has_key = True
        hit = any(
            (er, ec) == self.agent or ((er, ec) == before_agent and (br, bc) == self.agent)
            for (er, ec, _), (br, bc, _) in zip(self.enemies, before_enemies)
        )
        reward, terminated = 0.0, False
        if self.layout.spikes[r, c] or hit:
            self.outcome, terminated = "died", True
        elif self.has_key and (r, c) == self.layout.door:
            self.outcome, terminated, reward = "solved", True, 1.0
        truncated = not terminated and self.steps >= self.max_steps
        if truncated:
            self.outcome = "timeout"
        return self._observation(), reward, terminated, truncated, {"state": self.state_dict()}

    # ---------------------------------------------------------------- drawing
    def _static(self) -> np.ndarray:
        """(R, C) object array: the look of every static tile (instances numbered per kind)."""
        lay, counts = self.layout, {"platform": 0, "ladder": 0, "spikes": 0, "background": 0}
        out = np.empty(lay.shape, dtype=object)
        for r in range(lay.shape[0]):
            for c in range(lay.shape[1]):
                kind = (
                    "platform"
                    if lay.solid[r, c]
                    else "ladder"
                    if lay.ladder[r, c]
                    else "spikes"
                    if lay.spikes[r, c]
                    else "background"
                )
                out[r, c] = self.looks(kind, counts[kind])
                counts[kind] += 1
        return out

    def _draw_static(self) -> np.ndarray:
        rows, cols = self.layout.shape
        t = self.tile
        image = np.empty((rows * t, cols * t, 3), np.uint8)
        for r in range(rows):
            for c in range(cols):
                image[r * t : (r + 1) * t, c * t : (c + 1) * t] = self._static_looks[r, c].sprite
        return image

    def _dynamic(self) -> list[tuple[tuple[int, int], Look]]:
        """The moving things and their looks, in drawing order (the player last, on top)."""
        items = [(self.layout.door, self.looks("door_open" if self.has_key else "door"))]
        if not self.has_key:
            items.append((self.layout.key, self.looks("key")))
        items += [((r, c), self.looks("enemy", i)) for i, (r, c, _) in enumerate(self.enemies)]
        items.append((self.agent, self.looks("agent")))
        return items

    def frame(self) -> np.ndarray:
        """The current (H, W, 3) RGB frame at ``tile`` pixels per tile."""
        image = self._background.copy()
        t = self.tile
        for (r, c), look in self._dynamic():
            image[r * t : (r + 1) * t, c * t : (c + 1) * t] = look.sprite
        return image

    def _observation(self) -> np.ndarray:
        return np.ascontiguousarray(self.frame().transpose(2, 0, 1))

    def text(self, color: bool = True) -> str:
        """The current screen as text, one character per tile (24-bit ANSI colours unless `color` is off)."""
        cells = [[look for look in row] for row in self._static_looks]
        for (r, c), look in self._dynamic():
            cells[r][c] = look
        lines = []
        for row in cells:
            if color:
                line = "".join(f"\x1b[38;2;{lk.rgb[0]};{lk.rgb[1]};{lk.rgb[2]}m{lk.char}" for lk in row)
                lines.append(line + "\x1b[0m")
            else:
                lines.append("".join(lk.char for lk in row))
        return "\n".join(lines)

    def render(self):
        if self.render_mode == "ansi":
            return self.text()
        if self.render_mode == "rgb_array":
            s = self.render_scale
            return np.kron(self.frame(), np.ones((s, s, 1), np.uint8))
        return None


def shortest_solution(env: PriorsPlatformer, limit: int = 200_000) -> list[int] | None:
    """A shortest action sequence that solves `env`'s level from its start (breadth-first search over
    the full game state), or None when none exists within `limit` expanded states. Leaves `env` reset."""
    from collections import deque

    env.reset()
    start = env.state_dict()

    def key(state: dict[str, Any]) -> tuple:
        return (tuple(state["agent"]), state["has_key"], tuple(tuple(e) for e in state["enemies"]))

    def load(state: dict[str, Any]) -> None:
        env.agent, env.has_key = tuple(state["agent"]), state["has_key"]
        env.enemies = [tuple(e) for e in state["enemies"]]
        env.steps, env.outcome = 0, None

    parents: dict[tuple, tuple[tuple | None, int]] = {key(start): (None, -1)}
    queue = deque([start])
    while queue and len(parents) < limit:
        state = queue.popleft()
        for action in range(len(ACTIONS)):
            load(state)
            _, reward, terminated, _, info = env.step(action)
            nxt = info["state"]
            k = key(nxt)
            if k in parents:
                continue
            parents[k] = (key(state), action)
            if reward > 0:
                actions = []
                node: tuple | None = k
                while node is not None and parents[node][1] >= 0:
                    prev, a = parents[node]
                    actions.append(a)
                    node = prev
                env.reset()
                return actions[::-1]
            if not terminated:
                queue.append(nxt)
    env.reset()
    return None
