"""Pictures of rollouts in the maze tasks: the walls, the path taken and the goals the high level set.

A top-down figure per episode (`plot_maze_rollout`) stands in for a video: the body's (x, y) path, the
target and success circle, and for a hierarchical agent every absolute subgoal s_t + g_t it emitted
(one per c steps, numbered), so a reader sees how the high level steered the low level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["maze_rollout", "plot_maze_rollout"]


def maze_rollout(
    agent: Any, env: Any, target: tuple[float, float], *, seed: int = 0
) -> dict[str, np.ndarray]:
    """One deterministic episode towards `target`, recorded.

    Returns:
        ``positions`` (T + 1, 2): the body's x, y from the reset on; ``subgoals`` (n, 2): the absolute
        targets s_t + g_t of each high-level decision (empty for a flat agent); ``success`` (bool).
    """
    obs, info = env.reset(seed=seed, options={"target": target})
    positions, subgoals = [np.asarray(obs[:2], dtype=float)], []
    state, start, done, step = None, True, False, 0
    c = getattr(getattr(agent, "config", None), "c", None)
    while not done:
        action, state = agent.predict(obs, state=state, episode_start=np.array([start]), deterministic=True)
        if c is not None and state is not None and step % c == 0:
            index = list(agent.config.goal_indices)
            subgoals.append(np.asarray(obs, dtype=float)[index][:2] + np.asarray(state[0], dtype=float)[:2])
        start = False
        obs, _, terminated, truncated, info = env.step(action)
        positions.append(np.asarray(obs[:2], dtype=float))
        done, step = terminated or truncated, step + 1
    return {
        "positions": np.stack(positions),
        "subgoals": np.asarray(subgoals, dtype=float).reshape(-1, 2),
        "success": np.array(bool(info["success"])),
    }


def plot_maze_rollout(
    rollout: dict[str, np.ndarray], walls: np.ndarray, target: tuple[float, float], path: Any, title: str = ""
) -> Path:
    """Save a top-down picture of `rollout` (from `maze_rollout`) among `walls` ((n, 4) boxes)."""
    from matplotlib.patches import Circle, Rectangle

    from core.plots import new_figure, save_figure

    figure = new_figure(4.8, 4.8)
    axes = figure.add_subplot()
    for x_min, x_max, y_min, y_max in walls:
        axes.add_patch(Rectangle((x_min, y_min), x_max - x_min, y_max - y_min, color="0.55"))
    target = tuple(target)[:2]  # Ant Fall's target is (x, y, z): drawn at its x, y
    axes.add_patch(Circle(target, 5.0, fill=False, linestyle="--", color="tab:green"))
    positions, subgoals = rollout["positions"], rollout["subgoals"]
    axes.plot(positions[:, 0], positions[:, 1], color="tab:blue", linewidth=1.2, label="path")
    axes.plot(*positions[0], "ko", label="start")
    axes.plot(*target, "*", color="tab:green", markersize=14, label="target")
    if len(subgoals):
        axes.scatter(subgoals[:, 0], subgoals[:, 1], s=14, color="tab:red", zorder=3, label="subgoals s + g")
    axes.set_xlim(walls[:, 0].min(), walls[:, 1].max())
    axes.set_ylim(walls[:, 2].min(), walls[:, 3].max())
    axes.set_aspect("equal")
    axes.set_title(title + (" (success)" if bool(rollout["success"]) else " (no success)"))
    axes.legend(loc="upper right", fontsize=7)
    return save_figure(figure, path)
