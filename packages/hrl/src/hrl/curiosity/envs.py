"""MiniGrid mazes as grayscale pixels for curiosity, with an optional noisy TV.

`make_minigrid` renders a MiniGrid env fully observed from above (`TopDownFrame`: MiniGrid's own
full render without the view-cone highlight, ``tile_size`` pixels per cell; the agent is a triangle
pointing where it faces, still told apart by its shading at 2 pixels per cell; the static maze is
rendered once per episode and only the agent's cell per step), converts it to grayscale and lays it out channels first, (1, H, W) uint8, the
layout PPO's CNN policy and `hrl.curiosity.features.FeatureCuriosity` take. The actions are
MiniGrid's first ``actions`` (left, right, forward by default: navigation only). With
``layout_seed`` every episode is the same maze, start and goal (MiniGrid draws them per reset
otherwise), so cells visited across episodes measure exploration of one maze.

The noisy TV (`NoisyTV`; Burda et al. 2019 sec. 5, Savinov et al. 2019 sec. 4): a band of ``rows``
pixel rows under the maze is a TV screen, and one extra action, the remote, leaves the maze as it is
(MiniGrid's no-op ``done``) while, when the TV is on, filling the screen with fresh uniform noise
(an unpredictable "channel", shown until the next press); when it is off the screen stays black and
the remote only wastes a step. The noise comes from the wrapper's own generator, seeded at every
seeded reset.

`VisitCounter` records every grid cell the agent stands on, over all episodes, and the remote's
presses, so a study can read exploration (cells visited) beside the extrinsic return.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from core.errors import InputError

__all__ = [
    "FirstActions",
    "FixedLayout",
    "GrayscaleCHW",
    "NoisyTV",
    "TopDownFrame",
    "VisitCounter",
    "make_minigrid",
]

LUMA = np.array([0.299, 0.587, 0.114])
"""ITU-R 601 luma weights of (R, G, B)."""


class TopDownFrame(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """MiniGrid's full top-down RGB frame (``get_frame(highlight=False)``), (H, W, 3) uint8, fast.

    The grid without the agent is rendered at every reset and the agent's tile pasted on it at every
    step, which equals MiniGrid's render while the grid itself does not change within an episode:
    true for navigation-only actions (left, right, forward), which is what `make_minigrid` keeps by
    default; with ``static=False`` every step renders the whole grid (doors, keys, boxes).
    """

    def __init__(self, env: Any, tile_size: int, static: bool = True) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, tile_size=tile_size, static=static)
        gym.ObservationWrapper.__init__(self, env)
        self.tile_size, self.static, self.background = tile_size, static, None
        base = env.unwrapped
        shape = (base.height * tile_size, base.width * tile_size, 3)
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)

    def reset(self, **kwargs: Any):
        self.background = None
        return super().reset(**kwargs)

    def observation(self, observation: Any) -> np.ndarray:
        from minigrid.core.grid import Grid

        base, size = self.env.unwrapped, self.tile_size
        if not self.static:
            return base.grid.render(size, base.agent_pos, base.agent_dir)
        if self.background is None:
            self.background = base.grid.render(size, (-1, -1))
        x, y = (int(v) for v in base.agent_pos)
        frame = self.background.copy()
        frame[y * size : (y + 1) * size, x * size : (x + 1) * size] = Grid.render_tile(
            base.grid.get(x, y), agent_dir=base.agent_dir, tile_size=size
        )
        return frame


class GrayscaleCHW(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """RGB (H, W, 3) uint8 -> (1, H, W) uint8 grayscale (ITU-R 601 luma, rounded)."""

    def __init__(self, env: Any) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        height, width, _ = env.observation_space.shape
        self.observation_space = gym.spaces.Box(0, 255, (1, height, width), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.rint(observation.astype(np.float64) @ LUMA).astype(np.uint8)[None]


class FirstActions(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """Keep the first `n` actions of a Discrete space (MiniGrid's 0-2: left, right, forward)."""

    def __init__(self, env: Any, n: int) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, n=n)
        gym.ActionWrapper.__init__(self, env)
        self.action_space = gym.spaces.Discrete(n)

    def action(self, action: Any) -> int:
        return int(action)


class FixedLayout(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Reset the inner env with `layout_seed` every time: one maze, start and goal for all episodes.

    The seed a caller passes still reaches the wrappers outside this one (the noisy TV's noise)."""

    def __init__(self, env: Any, layout_seed: int) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, layout_seed=layout_seed)
        gym.Wrapper.__init__(self, env)
        self.layout_seed = int(layout_seed)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        return self.env.reset(seed=self.layout_seed, options=options)


class NoisyTV(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """A TV screen of `rows` pixel rows under a (C, H, W) image and a remote (the last action).

    Args:
        env: a MiniGrid env with (C, H, W) uint8 observations and Discrete actions.
        on: True: the remote fills the screen with fresh uniform noise; False: the screen stays
            black (the control: same observation size and action set, nothing to watch).
        rows: height of the screen in pixels.
    """

    def __init__(self, env: Any, *, on: bool = True, rows: int = 8) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, on=on, rows=rows)
        gym.Wrapper.__init__(self, env)
        channels, height, width = env.observation_space.shape
        self.on, self.rows, self.remote = bool(on), int(rows), int(env.action_space.n)
        self.observation_space = gym.spaces.Box(0, 255, (channels, height + rows, width), np.uint8)
        self.action_space = gym.spaces.Discrete(self.remote + 1)
        self.screen = np.zeros((channels, rows, width), np.uint8)
        self.rng = np.random.default_rng(0)

    def _show(self, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, self.screen], axis=1)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.rng = np.random.default_rng([int(seed), 7919])
        self.screen = np.zeros_like(self.screen)
        obs, info = self.env.reset(seed=seed, options=options)
        return self._show(obs), info

    def step(self, action: Any):
        action = int(action)
        if action == self.remote:
            if self.on:
                self.screen = self.rng.integers(0, 256, self.screen.shape, dtype=np.uint8)
            action = int(self.env.unwrapped.actions.done)  # MiniGrid's no-op
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._show(obs), reward, terminated, truncated, info


class VisitCounter(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Counts the grid cells the agent has stood on and the remote's presses, over all episodes.

    Attributes:
        visited: set of (x, y) cells. steps: steps taken. remote_presses: steps that pressed `remote`.
    """

    def __init__(self, env: Any, remote: int | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, remote=remote)
        gym.Wrapper.__init__(self, env)
        self.remote = remote
        self.visited: set[tuple[int, int]] = set()
        self.steps = self.remote_presses = 0

    def _mark(self) -> None:
        x, y = self.env.unwrapped.agent_pos
        self.visited.add((int(x), int(y)))

    def reset(self, **kwargs: Any):
        out = self.env.reset(**kwargs)
        self._mark()
        return out

    def step(self, action: Any):
        out = self.env.step(action)
        self.steps += 1
        self.remote_presses += int(self.remote is not None and int(action) == self.remote)
        self._mark()
        return out


def make_minigrid(
    env_id: str = "MiniGrid-FourRooms-v0",
    *,
    tile_size: int = 2,
    max_steps: int | None = None,
    actions: int = 3,
    layout_seed: int | None = None,
    noisy_tv: bool | None = None,
    tv_rows: int = 8,
) -> Any:
    """A MiniGrid env as (1, H, W) uint8 grayscale pixels, optionally with a noisy TV.

    Args:
        env_id: a ``MiniGrid-...`` id (FourRooms: a 19 x 19 grid, 38 x 38 pixels at tile size 2).
        tile_size: pixels per grid cell.
        max_steps: steps before truncation; None: the env's own (FourRooms: 100).
        actions: how many of MiniGrid's 7 actions to keep (3: left, right, forward).
        layout_seed: None: MiniGrid's layout, start and goal drawn per reset; an int: the same every
            episode (`FixedLayout`).
        noisy_tv: None: no TV; True: a TV screen and a remote that shows fresh noise; False: the
            same screen and remote, but the screen stays black (the ablation's control).
        tv_rows: height of the TV screen in pixels.

    Returns:
        The env, outermost a `VisitCounter` (``.visited``, ``.remote_presses``; the remote is
        action ``actions`` when there is a TV).

    Raises:
        InputError: an unknown id, or a size or count out of range, naming it.
    """
    import minigrid  # noqa: F401 - registers the MiniGrid ids

    for name, value in (("tile_size", tile_size), ("actions", actions), ("tv_rows", tv_rows)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"make_minigrid's {name} must be a positive integer", item=value)
    if max_steps is not None and (
        not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1
    ):
        raise InputError("make_minigrid's max_steps must be a positive integer or None", item=max_steps)
    if not isinstance(env_id, str) or not env_id.startswith("MiniGrid-") or env_id not in gym.registry:
        raise InputError("unknown MiniGrid env (expected an id such as MiniGrid-FourRooms-v0)", item=env_id)
    if actions > 7:
        raise InputError("make_minigrid's actions must be at most MiniGrid's 7", item=actions)
    if noisy_tv is not None and not isinstance(noisy_tv, bool):
        raise InputError("make_minigrid's noisy_tv must be None, True or False", item=noisy_tv)
    env = gym.make(env_id, **({} if max_steps is None else {"max_steps": max_steps}))
    if layout_seed is not None:
        env = FixedLayout(env, layout_seed)
    env = FirstActions(GrayscaleCHW(TopDownFrame(env, tile_size, static=actions <= 3)), actions)
    if noisy_tv is None:
        return VisitCounter(env)
    return VisitCounter(NoisyTV(env, on=noisy_tv, rows=tv_rows), remote=actions)
