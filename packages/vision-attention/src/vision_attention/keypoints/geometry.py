"""Camera geometry of KeypointNet: views, projection / unprojection, orthogonal Procrustes, rotation distance.

Conventions: camera frame x right, y down, z forward; the object's centre sits at ``t = (0, 0, distance)`` in
every view, so a view is its rotation ``R`` alone (``X_cam = R X_obj + t``). Image coordinates are normalised:
``u = focal X / Z``, ``v = focal Y / Z``, pixel centres in (-1, 1). Between two views A and B of one object the
relative rotation is ``R_AB = R_B R_A^T`` and ``X_B = R_AB (X_A - t) + t`` (`transfer`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.errors import InputError

__all__ = [
    "angular_distance",
    "procrustes",
    "project",
    "rotation_mean",
    "transfer",
    "unproject",
    "view_rotation",
]


def view_rotation(azimuth: float, elevation: float) -> np.ndarray:
    """The object-to-camera rotation ``(3, 3)`` of a camera at `azimuth` around the object's vertical axis and
    `elevation` above its horizontal plane (radians). The object's up axis (+y) maps to up in the image (-y)."""
    ca, sa = math.cos(azimuth), math.sin(azimuth)
    spin = np.array([[ca, 0.0, sa], [0.0, 1.0, 0.0], [-sa, 0.0, ca]])  # about the object's vertical axis
    upright = np.diag([1.0, -1.0, -1.0])  # object +y -> image up, a proper rotation (180 deg about x)
    ce, se = math.cos(elevation), math.sin(elevation)
    tilt = np.array(
        [[1.0, 0.0, 0.0], [0.0, ce, -se], [0.0, se, ce]]
    )  # camera raised: the top comes into view
    return tilt @ upright @ spin


def project(points: torch.Tensor, focal: float) -> torch.Tensor:
    """Camera-frame points ``(..., 3)`` -> normalised image coordinates ``(..., 2)`` (u, v)."""
    z = points[..., 2:3].clamp_min(1e-6)
    return focal * points[..., :2] / z


def unproject(uv: torch.Tensor, depth: torch.Tensor, focal: float) -> torch.Tensor:
    """Image coordinates ``(..., 2)`` and depth Z ``(...)`` -> camera-frame points ``(..., 3)``; inverts `project`."""
    return torch.cat([uv * depth.unsqueeze(-1) / focal, depth.unsqueeze(-1)], dim=-1)


def transfer(points: torch.Tensor, rotation: torch.Tensor, distance: float) -> torch.Tensor:
    """Points ``(B, N, 3)`` in view A's camera frame -> view B's, given ``R_AB`` ``(B, 3, 3)``."""
    t = points.new_tensor([0.0, 0.0, distance])
    return (points - t) @ rotation.transpose(-1, -2) + t


def procrustes(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The rotation ``R`` ``(..., 3, 3)`` minimising ``sum_i |R (a_i - a) - (b_i - b)|^2`` (orthogonal Procrustes,
    Kabsch with the reflection fix: ``det R = +1``). `source` and `target`: ``(..., N, 3)``, N >= 3 points,
    centred here. Differentiable through ``torch.linalg.svd`` (KeypointNet's relative-pose loss).

    Raises:
        InputError: the shapes differ or are not ``(..., N, 3)`` with N >= 3.
    """
    if source.shape != target.shape or source.shape[-1] != 3 or source.shape[-2] < 3:
        raise InputError(
            "procrustes needs two (..., N, 3) point sets of one shape, N >= 3",
            item=(tuple(source.shape), tuple(target.shape)),
        )
    a = source - source.mean(-2, keepdim=True)
    b = target - target.mean(-2, keepdim=True)
    u, _, vh = torch.linalg.svd(a.transpose(-1, -2) @ b)  # H = A^T B = U S V^T
    v = vh.transpose(-1, -2)
    sign = torch.sign(torch.linalg.det(v @ u.transpose(-1, -2)))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    fix = torch.diag_embed(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], dim=-1))
    return v @ fix @ u.transpose(-1, -2)


def angular_distance(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Geodesic angle (radians) between rotations ``(..., 3, 3)``: ``2 arcsin(|R1 - R2|_F / (2 sqrt 2))``,
    the paper's pose error and loss."""
    chord = torch.linalg.matrix_norm(first - second) / (2 * math.sqrt(2))
    return 2 * torch.asin(chord.clamp(0.0, 1.0 - 1e-7))


def rotation_mean(rotations: torch.Tensor) -> torch.Tensor:
    """The chordal L2 mean of rotations ``(n, 3, 3)``: their arithmetic mean projected onto SO(3) (the
    mean-pose baseline)."""
    u, _, vh = torch.linalg.svd(rotations.mean(0))
    sign = torch.sign(torch.linalg.det(u @ vh))
    return u @ torch.diag(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign])) @ vh
