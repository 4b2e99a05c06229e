"""gymnasium's CarRacing-v3 with the World Models observation: 64x64 RGB frames in [0, 1].

CarRacing renders 96x96x3 uint8 frames (the bottom 12 rows are the dashboard). World Models
resizes every frame to 64x64 (Ha & Schmidhuber 2018, sec. 3); here the resize is an exact area
average (each output pixel is the mean of the 1.5 x 1.5 input pixels it covers), written as two
small matrix products so that a whole batch of frames resizes at once (tested against doubling
every pixel and averaging 3 x 3 blocks, which is the same resize; PIL's BOX filter samples its box
at pixel centres instead and differs). Differences from the paper's CarRacing-v0 worth knowing when reading scores: v3 ends an
episode when the lap is complete (``lap_complete_percent`` 0.95 of the tiles) or the car leaves the
playfield (reward -100), and the 1000-step time limit is gymnasium's ``TimeLimit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["FRAME_SIZE", "CarRacing", "area_resize", "preprocess"]

FRAME_SIZE = 64
"""Side of the frames V sees."""


@lru_cache(maxsize=8)
def _area_matrix(source: int, target: int) -> np.ndarray:
    """``(target, source)`` weights: row i averages the source pixels under output pixel i."""
    scale = source / target
    weights = np.zeros((target, source), np.float64)
    for i in range(target):
        low, high = i * scale, (i + 1) * scale
        for j in range(int(np.floor(low)), int(np.ceil(high))):
            weights[i, j] = min(high, j + 1) - max(low, j)
    return weights / scale


def area_resize(frames: np.ndarray, size: int = FRAME_SIZE) -> np.ndarray:
    """Area-average resize of ``(..., H, W, C)`` frames to ``(..., size, size, C)`` float32 (input units).

    Raises:
        InputError: frames that are not ``(..., H, W, C)`` with H, W >= size.
    """
    frames = np.asarray(frames)
    if frames.ndim < 3 or frames.shape[-3] < size or frames.shape[-2] < size:
        raise InputError(
            "frames must be (..., height, width, channels) at least as large as the target",
            item=f"shape {frames.shape}",
            expected=f"height and width >= {size}",
        )
    rows = _area_matrix(frames.shape[-3], size)
    cols = _area_matrix(frames.shape[-2], size)
    out = np.einsum("ih,...hwc,jw->...ijc", rows, frames.astype(np.float64), cols, optimize=True)
    return out.astype(np.float32)


def preprocess(frames: np.ndarray) -> np.ndarray:
    """CarRacing frames ``(..., 96, 96, 3)`` uint8 -> V's input ``(..., 3, 64, 64)`` float32 in [0, 1].

    Raises:
        InputError: not uint8 RGB frames.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim < 3 or frames.shape[-1] != 3:
        raise InputError(
            "CarRacing frames must be uint8 RGB arrays (..., height, width, 3)",
            item=f"dtype {frames.dtype}, shape {frames.shape}",
        )
    return np.moveaxis(area_resize(frames) / 255.0, -1, -3).astype(np.float32)


@dataclass
class CarRacing:
    """CarRacing-v3 returning preprocessed frames ``(3, 64, 64)``; gymnasium's reset/step signature.

    Args:
        max_steps: episode length cap (gymnasium's default time limit is 1000 steps).
        render: keep a full-size RGB copy of every frame in ``last_frame`` (for videos).
    """

    max_steps: int = 1000
    render: bool = False

    def __post_init__(self) -> None:
        import gymnasium as gym

        if self.max_steps < 1:
            raise InputError("max_steps must be >= 1", item=self.max_steps)
        self.env = gym.make("CarRacing-v3", max_episode_steps=self.max_steps)
        self.action_space = self.env.action_space
        self.last_frame: np.ndarray | None = None

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode on the track of `seed`; returns ``(frame (3, 64, 64), info)``."""
        frame, info = self.env.reset(seed=seed)
        self.last_frame = frame
        return preprocess(frame), info

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One step with ``action = (steer in [-1, 1], gas in [0, 1], brake in [0, 1])``."""
        action = np.asarray(action, dtype=np.float32)
        if action.shape != (3,) or not np.isfinite(action).all():
            raise InputError("CarRacing actions are 3 finite numbers (steer, gas, brake)", item=action)
        frame, reward, terminated, truncated, info = self.env.step(
            np.clip(action, self.action_space.low, self.action_space.high)
        )
        self.last_frame = frame
        return preprocess(frame), float(reward), bool(terminated), bool(truncated), info

    def close(self) -> None:
        self.env.close()
