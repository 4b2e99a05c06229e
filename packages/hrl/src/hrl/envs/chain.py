"""The randomised chain of Model-Based Active Exploration (Shyam, Jaskowski and Gomez, ICML 2019).

A chain of ``length`` states; the agent starts in the second (index 1). Each state has three actions:
one moves one state left, one stays, one moves one state right, and which action does what is drawn
per state when the chain is built (``layout_seed``), so the agent cannot learn "always press right".
An episode lasts ``length + 9`` steps; the left end pays 0.001 per step spent there, the right end 1
(the chain is a hard-exploration task: a random walk from the left almost never reaches the right).
The setup is the paper's as we read it (left/stay/right per state, N + 9 steps, rewards 0.001 and 1).

The observation is the state index (`gymnasium.spaces.Discrete`); `one_hot` turns indices into the
vectors the exploration models take.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from core.errors import InputError

__all__ = ["LEFT", "RIGHT", "STAY", "RandomChain", "one_hot"]

LEFT, STAY, RIGHT = -1, 0, 1


def one_hot(index: np.ndarray, size: int) -> np.ndarray:
    """(...,) integer indices -> (..., size) float32 one-hot rows."""
    index = np.asarray(index, dtype=np.int64)
    out = np.zeros((*index.shape, size), dtype=np.float32)
    np.put_along_axis(out, index[..., None], 1.0, axis=-1)
    return out


class RandomChain(gym.Env):
    """The randomised chain (see the module docstring).

    Args:
        length: number of states (>= 3).
        layout_seed: draws which action moves left / stays / moves right in each state.

    Attributes:
        moves: (length, 3) integers in {-1, 0, 1}: the move of each action in each state.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(self, length: int = 50, layout_seed: int = 0) -> None:
        if not isinstance(length, int) or isinstance(length, bool) or length < 3:
            raise InputError("RandomChain length must be an integer >= 3", item=length)
        self.length = length
        rng = np.random.default_rng(np.random.SeedSequence([layout_seed, 0xC4A1]))
        self.moves = np.stack([rng.permutation([LEFT, STAY, RIGHT]) for _ in range(length)])
        self.observation_space = spaces.Discrete(length)
        self.action_space = spaces.Discrete(3)
        self.episode_steps = length + 9
        self.state = 1
        self.steps = 0

    def transition(self, state: int, action: int) -> int:
        """The next state of `action` in `state` (deterministic; the ends are walls)."""
        return int(np.clip(state + self.moves[state, action], 0, self.length - 1))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.state, self.steps = 1, 0
        return self.state, {}

    def step(self, action: int):
        if not self.action_space.contains(action):
            raise InputError("RandomChain action must be 0, 1 or 2", item=action)
        self.state = self.transition(self.state, int(action))
        self.steps += 1
        reward = 1.0 if self.state == self.length - 1 else 0.001 if self.state == 0 else 0.0
        return self.state, reward, False, self.steps >= self.episode_steps, {}
