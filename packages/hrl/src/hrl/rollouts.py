"""Pictures of rollouts in the maze tasks: the walls, the path taken and the goals the high level set.

A top-down figure per episode (`plot_maze_rollout`): the body's (x, y) path, the target and success
circle, and for a hierarchical agent every absolute subgoal s_t + g_t it emitted (one per c steps), so a
reader sees how the high level steered the low level. Recordings (`record_rollout`, `save_recording`):
the frames of a deterministic episode with the target (green) and the high level's current subgoal (red)
drawn in them, saved as an animated GIF and a frame strip (PNG). Point Maze frames are drawn in numpy;
the ant's are MuJoCo's offscreen renders from above (``MUJOCO_GL=egl`` by default, ``osmesa`` where EGL
is missing), with the goals added to the scene as marker spheres.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["maze_rollout", "plot_maze_rollout", "record_rollout", "save_recording"]


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


def _subgoal(agent: Any, obs: np.ndarray, state: Any) -> np.ndarray | None:
    """The absolute (x, y) subgoal s_t + g_t of a hierarchical agent's `state`, else None."""
    if state is None or getattr(getattr(agent, "config", None), "c", None) is None:
        return None
    index = list(agent.config.goal_indices)
    return np.asarray(obs, dtype=float)[index][:2] + np.asarray(state[0], dtype=float)[:2]


def _draw_point_maze(
    walls: np.ndarray, position: np.ndarray, target: np.ndarray, subgoal: np.ndarray | None, size: int
) -> np.ndarray:
    """A (size, size, 3) uint8 top-down frame: walls grey, body blue, target green, subgoal red."""
    low = np.array([walls[:, 0].min(), walls[:, 2].min()])
    span = max(walls[:, 1].max() - low[0], walls[:, 3].max() - low[1])
    pixel = span / size  # world units per pixel
    centres = (np.arange(size) + 0.5) * pixel
    x, y = np.meshgrid(low[0] + centres, low[1] + centres[::-1])  # image row 0 is the top (largest y)
    frame = np.full((size, size, 3), 245, np.uint8)
    for x_min, x_max, y_min, y_max in walls:
        frame[(x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)] = 140
    ring = np.abs(np.hypot(x - target[0], y - target[1]) - 5.0) < pixel  # the success radius
    frame[ring] = (40, 160, 40)
    for point, radius, colour in ((target, 1.0, (40, 160, 40)), (subgoal, 0.8, (220, 40, 40))):
        if point is not None:
            frame[np.hypot(x - point[0], y - point[1]) < radius] = colour
    frame[np.hypot(x - position[0], y - position[1]) < 0.7] = (30, 80, 220)
    return frame


class _AntCamera:
    """MuJoCo offscreen renders of an `AntMaze` from above, with target and subgoal marker spheres."""

    def __init__(self, maze: Any, size: int) -> None:
        import os

        os.environ.setdefault("MUJOCO_GL", "egl")
        import mujoco

        self.mujoco, self.maze = mujoco, maze
        self.renderer = mujoco.Renderer(maze.ant.model, size, size)
        walls = maze.walls
        self.camera = mujoco.MjvCamera()
        self.camera.lookat[:] = [
            (walls[:, 0].min() + walls[:, 1].max()) / 2,
            (walls[:, 2].min() + walls[:, 3].max()) / 2,
            0,
        ]
        self.camera.distance = 1.15 * max(
            walls[:, 1].max() - walls[:, 0].min(), walls[:, 3].max() - walls[:, 2].min()
        )
        self.camera.elevation, self.camera.azimuth = -90.0, 90.0

    def _marker(self, point: np.ndarray, rgba: tuple[float, ...]) -> None:
        scene = self.renderer.scene
        if scene.ngeom >= scene.maxgeom:
            return
        position = np.zeros(3)
        position[: min(3, len(point))] = point[:3]
        position[2] = max(position[2], 0.5)
        self.mujoco.mjv_initGeom(
            scene.geoms[scene.ngeom],
            self.mujoco.mjtGeom.mjGEOM_SPHERE,
            np.array([0.5, 0.0, 0.0]),  # radius 0.5: the ant (about 1 unit across) stays visible
            position,
            np.eye(3).ravel(),
            np.asarray(rgba, np.float32),
        )
        scene.ngeom += 1

    def frame(self, target: np.ndarray, subgoal: np.ndarray | None) -> np.ndarray:
        self.renderer.update_scene(self.maze.ant.data, self.camera)
        self._marker(target, (0.1, 0.8, 0.1, 0.6))
        if subgoal is not None:
            self._marker(subgoal, (0.9, 0.1, 0.1, 0.6))
        return self.renderer.render().copy()

    def close(self) -> None:
        self.renderer.close()


def record_rollout(
    agent: Any, env: Any, target: tuple[float, ...], *, seed: int = 0, size: int = 160, every: int = 1
) -> dict[str, Any]:
    """Frames of one deterministic episode towards `target`, the goals drawn in them.

    Args:
        agent: anything with SB3's ``predict(obs, state=, episode_start=, deterministic=)``.
        env: a Point Maze or Ant maze task (``env.unwrapped`` has ``walls``; an ant one has ``ant``).
        every: keep one frame in `every` steps (the first and last are always kept).

    Returns:
        ``frames``: list of (size, size, 3) uint8 images; ``success`` (bool); ``steps`` (int).

    Raises:
        RuntimeError, AttributeError, ImportError: from MuJoCo when no offscreen GL context exists
        (ant tasks only; Point Maze frames need no GL).
    """
    base = env.unwrapped
    camera = _AntCamera(base, size) if hasattr(base, "ant") else None
    goal = np.asarray(target, dtype=float)
    obs, info = env.reset(seed=seed, options={"target": target})
    state, start, done, step, subgoal, frames = None, True, False, 0, None, []

    def draw() -> np.ndarray:
        if camera is not None:
            return camera.frame(goal, subgoal)
        return _draw_point_maze(base.walls, np.asarray(obs[:2], float), goal, subgoal, size)

    try:
        while not done:
            action, state = agent.predict(
                obs, state=state, episode_start=np.array([start]), deterministic=True
            )
            fresh = _subgoal(agent, obs, state)
            if fresh is not None and step % agent.config.c == 0:
                subgoal = fresh
            if step % every == 0:
                frames.append(draw())
            start = False
            obs, _, terminated, truncated, info = env.step(action)
            done, step = terminated or truncated, step + 1
        frames.append(draw())
    finally:
        if camera is not None:
            camera.close()
    return {"frames": frames, "success": bool(info["success"]), "steps": step}


def save_recording(recording: dict[str, Any], stem: Any, strip_frames: int = 8, fps: int = 20) -> list[Path]:
    """Save `recording` (from `record_rollout`) as ``<stem>.gif`` and a frame strip ``<stem>_strip.png``
    of `strip_frames` evenly spaced frames side by side; returns both paths."""
    from PIL import Image

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    frames = recording["frames"]
    images = [Image.fromarray(frame) for frame in frames]
    gif = stem.with_suffix(".gif")
    images[0].save(gif, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    picks = np.linspace(0, len(frames) - 1, min(strip_frames, len(frames))).round().astype(int)
    strip = stem.parent / f"{stem.name}_strip.png"
    Image.fromarray(np.concatenate([frames[i] for i in picks], axis=1)).save(strip)
    return [gif, strip]
