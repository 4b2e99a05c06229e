"""The data of the KeypointNet study: objects built from boxes, ray-cast under random views.

Each object is a union of axis-aligned boxes in its own frame (y up), centred on its bounding box and scaled
so that its bounding box has half-diagonal 1. A view ray-casts every pixel against every box (slab method:
exact occlusion, no anti-aliasing), colours the first face hit by its direction's colour (six colours,
jittered per instance, so the faces of a box are told apart) and shades it with a fixed light. The views of a
pair share the object and have independent random azimuths (full circle) and elevations
(`ViewConfig.elevation`); the known cameras give the relative rotation and the annotated keypoints in each
camera frame. Everything is a function of the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.errors import InputError
from vision_attention.keypoints.config import CATEGORIES, ViewConfig
from vision_attention.keypoints.geometry import view_rotation

__all__ = ["PALETTE", "Shape", "ViewPairs", "annotated_keypoints", "make_pairs", "make_shape", "render_view"]

PALETTE = np.array(
    [
        [0.90, 0.20, 0.20],  # -x
        [0.20, 0.75, 0.25],  # +x
        [0.25, 0.35, 0.90],  # -y (bottom)
        [0.95, 0.85, 0.20],  # +y (top)
        [0.85, 0.30, 0.85],  # -z
        [0.20, 0.85, 0.85],  # +z
    ]
)
"""Face colours by outward normal: -x, +x, -y, +y, -z, +z."""
LIGHT = np.array([-0.3, -0.5, -1.0]) / math.sqrt(0.09 + 0.25 + 1.0)
"""Towards the light, camera frame (from the upper left, behind the camera)."""


@dataclass(frozen=True)
class Shape:
    """One object: ``boxes (k, 2, 3)`` (min and max corners), ``colours (6, 3)`` per face direction and the 8
    annotated keypoints ``(8, 3)``, object frame."""

    category: str
    boxes: np.ndarray
    colours: np.ndarray
    keypoints: np.ndarray


@dataclass(frozen=True)
class ViewPairs:
    """n pairs of views: images ``(n, 3, S, S)`` in [0, 1], silhouettes ``(n, S, S)`` in {0, 1}, the object-to-camera
    rotations ``(n, 3, 3)``, the relative rotation ``rotation_ab = R_B R_A^T`` and the annotated keypoints in
    each camera frame ``(n, 8, 3)``."""

    images_a: torch.Tensor
    images_b: torch.Tensor
    masks_a: torch.Tensor
    masks_b: torch.Tensor
    rotations_a: torch.Tensor
    rotations_b: torch.Tensor
    rotation_ab: torch.Tensor
    keypoints_a: torch.Tensor
    keypoints_b: torch.Tensor

    def tensors(self) -> list[torch.Tensor]:
        """The tensors the trainers batch, in the order `loss.batch_fields` names them."""
        return [
            self.images_a,
            self.images_b,
            self.masks_a,
            self.masks_b,
            self.rotation_ab,
            self.keypoints_a,
            self.keypoints_b,
        ]


def _box(low: list[float], high: list[float]) -> np.ndarray:
    return np.array([low, high], dtype=float)


def _corners(box: np.ndarray, ys: str) -> list[list[float]]:
    """The 4 corners of `box` on its bottom (``ys="low"``) or top face."""
    y = box[0, 1] if ys == "low" else box[1, 1]
    return [[box[i, 0], y, box[j, 2]] for i in (0, 1) for j in (0, 1)]


def make_shape(category: str, rng: np.random.Generator, colour_jitter: float = 0.1) -> Shape:
    """A random instance of `category` (one of `CATEGORIES`).

    Raises:
        InputError: unknown category.
    """
    if category not in CATEGORIES:
        raise InputError("unknown object category", item=category, expected=str(CATEGORIES))
    u = rng.uniform
    if category == "box":
        half = u(0.35, 0.8, size=3)
        boxes = [_box(list(-half), list(half))]
        keypoints = _corners(boxes[0], "low") + _corners(boxes[0], "high")
    elif category == "chair":
        w, d, leg, seat, back = u(0.45, 0.7), u(0.45, 0.7), u(0.4, 0.7), 0.08, u(0.5, 0.9)
        boxes = [
            _box([-w, leg, -d], [w, leg + seat, d]),
            _box([-w, leg + seat, -d], [w, leg + seat + back, -d + 0.1]),
        ]
        for sx in (-1, 1):
            for sz in (-1, 1):
                x, z = sx * (w - 0.07), sz * (d - 0.07)
                boxes.append(_box([x - 0.06, 0.0, z - 0.06], [x + 0.06, leg, z + 0.06]))
        keypoints = [[sx * w, 0.0, sz * d] for sx in (-1, 1) for sz in (-1, 1)]
        keypoints += [[sx * w, leg + seat, d] for sx in (-1, 1)] + [
            [sx * w, leg + seat + back, -d] for sx in (-1, 1)
        ]
    else:  # lshape: a base block and an upright block on its -x end
        bx, by, bz = u(0.6, 0.9), u(0.15, 0.3), u(0.3, 0.5)
        ux, uy = u(0.15, 0.3), u(0.5, 1.0)
        boxes = [
            _box([-bx, 0.0, -bz], [bx, 2 * by, bz]),
            _box([-bx, 2 * by, -bz], [-bx + 2 * ux, 2 * by + uy, bz]),
        ]
        keypoints = _corners(boxes[0], "low") + _corners(boxes[1], "high")
    stacked = np.stack(boxes)
    points = np.asarray(keypoints, dtype=float)
    low, high = stacked[:, 0].min(0), stacked[:, 1].max(0)
    centre, scale = (low + high) / 2, np.linalg.norm(high - low) / 2
    colours = np.clip(PALETTE + u(-colour_jitter, colour_jitter, size=PALETTE.shape), 0.0, 1.0)
    return Shape(category, (stacked - centre) / scale, colours, (points - centre) / scale)


def annotated_keypoints(shape: Shape, rotation: np.ndarray, distance: float) -> np.ndarray:
    """The shape's 8 keypoints in the camera frame of the view `rotation`, ``(8, 3)``."""
    return shape.keypoints @ rotation.T + np.array([0.0, 0.0, distance])


def render_view(
    shape: Shape, rotation: np.ndarray, config: ViewConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray-cast `shape` seen with object-to-camera `rotation` ``(3, 3)``.

    Returns:
        image ``(3, S, S)`` float32 in [0, 1] (background 0), silhouette ``(S, S)`` float32 in {0, 1}, depth Z
        ``(S, S)`` float32 (``inf`` off the object).
    """
    size = config.size
    grid = (np.arange(size) + 0.5) / size * 2 - 1  # pixel centres, normalised
    v, u = np.meshgrid(grid, grid, indexing="ij")
    rays = np.stack([u / config.focal, v / config.focal, np.ones_like(u)], -1).reshape(-1, 3)  # camera frame
    origin = -rotation.T @ np.array([0.0, 0.0, config.distance])  # the camera centre, object frame
    direction = rays @ rotation  # R^T d for every ray, object frame
    direction = np.where(np.abs(direction) < 1e-12, 1e-12, direction)
    t_low = (shape.boxes[None, :, 0] - origin) / direction[:, None]  # (P, k, 3)
    t_high = (shape.boxes[None, :, 1] - origin) / direction[:, None]
    near, far = np.minimum(t_low, t_high), np.maximum(t_low, t_high)
    t_near, t_far = near.max(-1), far.min(-1)  # (P, k)
    hit = (t_near <= t_far) & (t_far > 0)
    t = np.where(hit, t_near, np.inf)
    box = t.argmin(1)
    rows = np.arange(len(rays))
    first = t[rows, box]
    seen = np.isfinite(first)
    axis = near[rows, box].argmax(-1)  # the slab entered last is the face hit
    # the ray enters through the face whose outward normal points against it: the low face when d > 0
    face = 2 * axis + (direction[rows, axis] < 0).astype(int)
    normal = np.zeros((len(rays), 3))
    normal[rows, axis] = np.where(direction[rows, axis] < 0, 1.0, -1.0)
    shade = 0.45 + 0.55 * np.clip((normal @ rotation.T) @ LIGHT, 0.0, 1.0)
    colour = shape.colours[face] * shade[:, None] * seen[:, None]
    image = colour.reshape(size, size, 3).transpose(2, 0, 1).astype(np.float32)
    depth = np.where(seen, first * rays[:, 2], np.inf).reshape(size, size).astype(np.float32)
    return image, seen.reshape(size, size).astype(np.float32), depth


def make_pairs(category: str, count: int, config: ViewConfig, seed: int) -> ViewPairs:
    """`count` pairs of views, each of a fresh random instance of `category`.

    Raises:
        InputError: unknown category, `count` < 1.
    """
    if category not in CATEGORIES:
        raise InputError("unknown object category", item=category, expected=str(CATEGORIES))
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError("make_pairs needs count >= 1 pairs", item=count)
    rng = np.random.default_rng([seed, CATEGORIES.index(category)])
    low, high = np.radians(config.elevation)
    fields: dict[str, list[np.ndarray]] = {k: [] for k in ("ia", "ib", "ma", "mb", "ra", "rb", "ka", "kb")}
    for _ in range(count):
        shape = make_shape(category, rng, config.colour_jitter)
        for side in "ab":
            rotation = view_rotation(rng.uniform(0, 2 * math.pi), rng.uniform(low, high))
            image, mask, _ = render_view(shape, rotation, config)
            fields["i" + side].append(image)
            fields["m" + side].append(mask)
            fields["r" + side].append(rotation)
            fields["k" + side].append(annotated_keypoints(shape, rotation, config.distance))
    stacked = {k: np.stack(v) for k, v in fields.items()}
    relative = stacked["rb"] @ stacked["ra"].transpose(0, 2, 1)  # in float64, then stored as float32
    as_tensor = {k: torch.from_numpy(v).float() for k, v in stacked.items()}
    return ViewPairs(
        images_a=as_tensor["ia"],
        images_b=as_tensor["ib"],
        masks_a=as_tensor["ma"],
        masks_b=as_tensor["mb"],
        rotations_a=as_tensor["ra"],
        rotations_b=as_tensor["rb"],
        rotation_ab=torch.from_numpy(relative).float(),
        keypoints_a=as_tensor["ka"],
        keypoints_b=as_tensor["kb"],
    )
