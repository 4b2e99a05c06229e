"""Random-policy episodes of CarRacing-v3 on disk: the data V and M learn from (World Models, sec. 3).

Each episode is one ``.npz`` file holding ``frames`` ``(T + 1, 64, 64, 3)`` uint8 (the first frame
and one after every action, already resized by `env.preprocess`), ``actions`` ``(T, 3)`` float32,
``rewards`` ``(T,)`` float32 and ``done`` ``(T,)`` bool. Episode ``i`` of a collection runs on track
seed ``seed + i`` with actions from ``numpy.random.default_rng(seed + i)``, so a collection is
reproducible and can be spread over joblib workers in any order. Files are written atomically; a
collection run again skips the episodes it already holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.files import atomic_write

__all__ = ["Episode", "collect_random_rollouts", "load_episodes", "random_action"]


@dataclass(frozen=True)
class Episode:
    """One episode's arrays (see the module docstring for shapes)."""

    frames: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    done: np.ndarray


def random_action(rng: np.random.Generator) -> np.ndarray:
    """A uniform action: steer in [-1, 1], gas in [0, 1], brake in [0, 1] (float32 ``(3,)``)."""
    return np.array([rng.uniform(-1, 1), rng.uniform(0, 1), rng.uniform(0, 1)], np.float32)


def _collect_one(path: Path, seed: int, max_steps: int) -> float:
    from genmodels.world_models.env import CarRacing

    env = CarRacing(max_steps=max_steps)
    rng = np.random.default_rng(seed)
    frame, _ = env.reset(seed=seed)
    frames, actions, rewards, done = [frame], [], [], []
    while True:
        action = random_action(rng)
        frame, reward, terminated, truncated, _ = env.step(action)
        frames.append(frame)
        actions.append(action)
        rewards.append(reward)
        done.append(terminated or truncated)
        if terminated or truncated:
            break
    env.close()
    pixels = np.round(np.moveaxis(np.stack(frames), 1, -1) * 255).astype(np.uint8)
    arrays = {
        "frames": pixels,
        "actions": np.stack(actions),
        "rewards": np.asarray(rewards, np.float32),
        "done": np.asarray(done, bool),
    }
    atomic_write(path, lambda tmp: np.savez_compressed(open(tmp, "wb"), **arrays))
    return float(np.sum(rewards))


def collect_random_rollouts(
    folder: str | os.PathLike[str], episodes: int, *, max_steps: int = 1000, seed: int = 0, workers: int = 1
) -> list[Path]:
    """Collect `episodes` random-policy episodes into `folder` (``episode_00000.npz``, ...).

    Args:
        max_steps: steps per episode at most (the paper: 1000; 10,000 episodes).
        workers: joblib processes (each imports only gymnasium, Box2D and NumPy).

    Returns:
        The episode files, in order.
    """
    if episodes < 1 or max_steps < 1 or workers < 1:
        raise InputError("episodes, max_steps and workers must be >= 1", item=(episodes, max_steps, workers))
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise InputError("rollout folder is a file", item=str(target))
    target.mkdir(parents=True, exist_ok=True)
    paths = [target / f"episode_{i:05d}.npz" for i in range(episodes)]
    todo = [(path, seed + i) for i, path in enumerate(paths) if not path.exists()]
    if todo:
        from joblib import Parallel, delayed

        Parallel(n_jobs=min(workers, len(todo)))(
            delayed(_collect_one)(path, s, max_steps) for path, s in todo
        )
    return paths


def load_episodes(folder: str | os.PathLike[str]) -> list[Episode]:
    """Every ``episode_*.npz`` in `folder`, in name order.

    Raises:
        InputError: the folder is missing, holds no episodes, or a file lacks an array.
    """
    source = Path(folder)
    files = sorted(source.glob("episode_*.npz")) if source.is_dir() else []
    if not files:
        raise InputError(
            "no rollout episodes found",
            item=str(source),
            expected="episode_*.npz files from collect_random_rollouts",
        )
    episodes = []
    for file in files:
        try:
            with np.load(file, allow_pickle=False) as data:
                episodes.append(Episode(data["frames"], data["actions"], data["rewards"], data["done"]))
        except (KeyError, ValueError, OSError) as exc:
            raise InputError("broken rollout file", item=f"{file}: {exc}") from exc
    return episodes
