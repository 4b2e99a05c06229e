"""Evaluating a trained agent: deterministic returns over seeded episodes."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["evaluate_policy", "run_episode"]


def run_episode(
    agent: Any, env: Any, *, seed: int, options: dict[str, Any] | None = None
) -> tuple[float, dict]:
    """One deterministic episode of ``agent.predict`` in `env` (reset with `seed` and `options`).

    A stateful policy's ``state`` (HIRO's goal) is passed back each step, with ``episode_start``
    True on the first.

    Returns:
        ``(return, info)``: the undiscounted return and the last step's info dict.
    """
    obs, info = env.reset(seed=seed, options=options)
    total, state, start, done = 0.0, None, True, False
    while not done:
        action, state = agent.predict(obs, state=state, episode_start=np.array([start]), deterministic=True)
        start = False
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        done = terminated or truncated
    return total, info


def evaluate_policy(agent: Any, env: Any, episodes: int = 10, *, seed: int = 0) -> np.ndarray:
    """Returns of `episodes` episodes of ``agent.predict(obs, deterministic=True)`` in `env`.

    Episode i is reset with seed ``seed + i``, so two agents evaluated with the same seed meet the
    same start states. Works with any agent exposing Stable-Baselines3's ``predict``; a stateful
    policy's ``state`` (HIRO's goal) is passed back each step, with ``episode_start`` at resets.

    Returns:
        (episodes,) float64: the undiscounted return of each episode.

    Raises:
        InputError: episodes < 1.
    """
    if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
        raise InputError("episodes must be a positive integer", item=episodes)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        done, state, start = False, None, True
        while not done:
            action, state = agent.predict(
                obs, state=state, episode_start=np.array([start]), deterministic=True
            )
            start = False
            obs, reward, terminated, truncated, _ = env.step(action)
            returns[episode] += float(reward)
            done = terminated or truncated
    return returns
