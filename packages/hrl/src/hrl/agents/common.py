"""What every agent shares: space checks, episode seeding, observation batching for `predict`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = [
    "box_bounds",
    "check_run_length",
    "episode_seed",
    "flat_box_dim",
    "observation_batch",
    "requested_total",
    "start_learning",
    "substream",
]


def flat_box_dim(space: Any, what: str) -> int:
    """The width of a 1-D gymnasium `Box` space.

    Raises:
        InputError: the space is not a 1-D Box (the agents here act on flat vectors).
    """
    from gymnasium import spaces

    if not isinstance(space, spaces.Box) or len(space.shape) != 1:
        raise InputError(f"the {what} space must be a 1-D gymnasium Box", item=space)
    return int(space.shape[0])


def box_bounds(space: Any) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of a bounded 1-D Box action space, as float32 arrays.

    Raises:
        InputError: the space is not a 1-D Box or a bound is infinite.
    """
    flat_box_dim(space, "action")
    low, high = np.asarray(space.low, np.float32), np.asarray(space.high, np.float32)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise InputError("the action space must be bounded", item=space)
    return low, high


def substream(seed: int, *key: int) -> np.random.Generator:
    """An independent NumPy generator for one use of a run's seed (``key`` names the use)."""
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def episode_seed(seed: int, episode: int) -> int:
    """The seed passed to ``env.reset`` for episode number `episode` (0-based) of a run.

    Every episode's reset is seeded from the run's seed and its index, so a run resumed from a
    checkpoint written at an episode end meets exactly the episodes an uninterrupted run meets.
    """
    return int(np.random.SeedSequence([seed, 0x5EED, episode]).generate_state(1)[0])


def requested_total(default: int, total_timesteps: int | None) -> int:
    """The run length `learn` was asked for: `total_timesteps`, or the config's `default`.

    Raises:
        InputError: not a positive integer.
    """
    total = default if total_timesteps is None else total_timesteps
    if not isinstance(total, int) or isinstance(total, bool) or total < 1:
        raise InputError("total_timesteps must be a positive integer", item=total)
    return total


def check_run_length(num_timesteps: int, total: int) -> None:
    """Refuse to run to `total` an agent that has already taken more steps.

    Raises:
        InputError: num_timesteps > total.
    """
    if num_timesteps > total:
        raise InputError(
            "the agent is further along than the requested run",
            item=f"{num_timesteps} steps taken, total_timesteps = {total}",
            expected=f"total_timesteps >= {num_timesteps}",
        )


def observation_batch(observation: Any, obs_dim: int) -> tuple[np.ndarray, bool]:
    """`observation` (obs_dim,) or (n, obs_dim) as a float32 (n, obs_dim) array, and whether it was one.

    Raises:
        InputError: the last dimension is not obs_dim.
    """
    obs = np.asarray(observation, dtype=np.float32)
    if obs.ndim not in (1, 2) or obs.shape[-1] != obs_dim:
        raise InputError(
            "observation has the wrong shape",
            item=obs.shape,
            expected=f"({obs_dim},) or (n, {obs_dim})",
        )
    return obs.reshape(-1, obs_dim), obs.ndim == 1


def start_learning(
    agent: Any, total_timesteps: int | None, checkpoint: Any, checkpoint_every: Any
) -> Path | None:
    """The checks every ``learn`` starts with; sets ``agent.config.total_timesteps`` to the run's length.

    Returns:
        the checkpoint path, or None.

    Raises:
        InputError: the agent has no environment, or a bad total or `checkpoint_every`.
    """
    if agent.env is None:
        kind = type(agent).__name__
        raise InputError("this agent has no environment to learn in", expected=f"{kind}.load(path, env)")
    total = requested_total(agent.config.total_timesteps, total_timesteps)
    if not isinstance(checkpoint_every, int) or isinstance(checkpoint_every, bool) or checkpoint_every < 1:
        raise InputError("checkpoint_every must be a positive integer", item=checkpoint_every)
    agent.config = replace(agent.config, total_timesteps=total)
    return Path(checkpoint) if checkpoint is not None else None
