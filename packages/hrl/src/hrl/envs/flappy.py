"""A Flappy-Bird-like game on a grid, for MER's RL stream (Riemer et al., ICLR 2019, sec. 5.2: DQN with
MER on Flappy Bird whose pipe gap and speed change from task to task).

The game (`Flappy`): a ``width`` x ``height`` grid (row 0 at the top); the bird sits in column 1. Each
step it flaps (action 1: up one row) or falls (action 0: down one row); leaving the grid is a crash.
Pipes come one at a time from the right edge (column ``width - 1``) and move ``speed`` columns left
per step; each has a gap of ``gap`` rows whose top row is drawn per pipe. When a pipe reaches the
bird's column (column <= 1) the bird passes it if its row is inside the gap (reward ``1 / pipes``,
the next pipe enters at the right edge) and crashes otherwise (reward -1, end). The episode ends
after ``pipes`` pipes (return 1) or at a crash (return -1 plus the pipes passed so far), so returns
lie in [-1, 1] like Catcher's (`hrl.continual.rl_stream.Catcher`).

The observation follows Catcher's conventions (one-hot blocks, float32): the pipe gap's top row
relative to the bird (2 height - 1), the bird's row (height), the pipe's distance to the bird
(width - 1: columns 1 .. width - 1 ahead, clamped) and the pipe's last move (width - 1: 0 .. width - 2
columns; 0 at the start of an episode and when a pipe has just entered), so the speed can be read
off after the first step. The gap size is not observed: the same screen asks for another move when
the gap shrinks, so tasks interfere.

`Flappy.reset(bird, gaps)` starts from a given bird row and gap tops (one per pipe); `random_start`
draws them, `starts()` is the fixed list of evaluation episodes. `FlappyBirdEnv` is the gymnasium
wrapper (``hrl/Flappy-v0``): ``reset(seed=...)`` draws the start from its ``np_random``, so an
episode is deterministic given the seed.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from core.errors import InputError

__all__ = ["Flappy", "FlappyBirdEnv"]

BIRD_COLUMN = 1


class Flappy:
    """One Flappy task (see the module docstring); ``reset(bird, gaps)``, ``step(action)``.

    Args:
        width, height: the grid (width >= 4, height >= 4).
        gap: rows in each pipe's gap (1 .. height - 2).
        speed: columns the pipe moves per step (1 .. width - 2).
        pipes: pipes per episode (>= 1).
        eval_episodes: evaluation episodes in `starts` (>= 1).
    """

    actions = 2

    def __init__(
        self, width: int, height: int, gap: int, speed: int, pipes: int = 3, eval_episodes: int = 49
    ) -> None:
        for name, value, low in (
            ("width", width, 4),
            ("height", height, 4),
            ("gap", gap, 1),
            ("speed", speed, 1),
            ("pipes", pipes, 1),
            ("eval_episodes", eval_episodes, 1),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InputError(f"Flappy {name} must be an integer >= {low}", item=value)
        if gap > height - 2:
            raise InputError(f"Flappy gap must be at most height - 2 = {height - 2}", item=gap)
        if speed > width - 2:
            raise InputError(f"Flappy speed must be at most width - 2 = {width - 2}", item=speed)
        self.width, self.height, self.gap, self.speed = width, height, gap, speed
        self.pipes, self.eval_episodes = pipes, eval_episodes
        self.features = 2 * height - 1 + height + 2 * (width - 1)
        self.reset(height // 2, (0,) * pipes)

    def random_start(self, rng: np.random.Generator) -> tuple[int, tuple[int, ...]]:
        """A bird row (not the edges) and one gap top per pipe, drawn from `rng`."""
        bird = int(rng.integers(1, self.height - 1))
        gaps = tuple(int(g) for g in rng.integers(0, self.height - self.gap + 1, size=self.pipes))
        return bird, gaps

    def starts(self) -> list[tuple[int, tuple[int, ...]]]:
        """The evaluation episodes: `eval_episodes` starts from a fixed generator (the same for every
        task of one size, so tasks differing in speed only are scored on the same gap sequences)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.eval_episodes, 0xF1A9]))
        return [self.random_start(rng) for _ in range(self.eval_episodes)]

    def reset(self, bird: int, gaps: tuple[int, ...]) -> np.ndarray:
        if not 0 <= bird < self.height:
            raise InputError(f"Flappy bird row must be in [0, {self.height})", item=bird)
        if len(gaps) != self.pipes or any(not 0 <= g <= self.height - self.gap for g in gaps):
            raise InputError(
                f"Flappy gaps must be {self.pipes} tops in [0, {self.height - self.gap}]", item=gaps
            )
        self.bird, self.gaps, self.passed = bird, tuple(gaps), 0
        self.pipe, self.moved = self.width - 1, 0
        return self.observe()

    def observe(self) -> np.ndarray:
        """One-hot: gap top - bird row (2 height - 1), bird row (height), pipe distance - 1 (width - 1),
        the pipe's last move (width - 1)."""
        obs = np.zeros(self.features, dtype=np.float32)
        h, w = self.height, self.width
        top = self.gaps[min(self.passed, self.pipes - 1)]
        obs[top - self.bird + h - 1] = 1
        obs[2 * h - 1 + self.bird] = 1
        obs[3 * h - 1 + min(w - 2, max(0, self.pipe - BIRD_COLUMN - 1))] = 1
        obs[3 * h - 1 + w - 1 + self.moved] = 1
        return obs

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        """Flap (1) or fall (0), then move the pipe; (observation, reward, done)."""
        if action not in (0, 1):
            raise InputError("Flappy action must be 0 (fall) or 1 (flap)", item=action)
        self.bird += -1 if action == 1 else 1
        if not 0 <= self.bird < self.height:
            self.bird = min(self.height - 1, max(0, self.bird))
            return self.observe(), -1.0, True
        self.pipe -= self.speed
        self.moved = self.speed
        if self.pipe > BIRD_COLUMN:
            return self.observe(), 0.0, False
        top = self.gaps[self.passed]
        if not top <= self.bird < top + self.gap:
            return self.observe(), -1.0, True
        self.passed += 1
        done = self.passed == self.pipes
        if not done:
            self.pipe, self.moved = self.width - 1, 0
        return self.observe(), 1.0 / self.pipes, done


class FlappyBirdEnv(gym.Env):
    """`Flappy` as a gymnasium environment (``hrl/Flappy-v0``): Box(0, 1) one-hot observations,
    Discrete(2) actions (0 fall, 1 flap); ``reset(seed=...)`` draws the bird row and the gap tops from
    ``np_random`` (``options={"bird": row, "gaps": tops}`` sets them); episodes end by themselves.

    Args: as `Flappy` (defaults: 7 x 7, gap 3, speed 1, 3 pipes).
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(self, width: int = 7, height: int = 7, gap: int = 3, speed: int = 1, pipes: int = 3) -> None:
        self.game = Flappy(width, height, gap, speed, pipes)
        self.observation_space = spaces.Box(0.0, 1.0, (self.game.features,), dtype=np.float32)
        self.action_space = spaces.Discrete(Flappy.actions)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        bird, gaps = self.game.random_start(self.np_random)
        options = options or {}
        obs = self.game.reset(int(options.get("bird", bird)), tuple(options.get("gaps", gaps)))
        return obs, {}

    def step(self, action: Any):
        obs, reward, done = self.game.step(int(action))
        return obs, reward, done, False, {"passed": self.game.passed}
