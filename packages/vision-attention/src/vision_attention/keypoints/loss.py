"""KeypointNet's losses (Suwajanakorn et al. 2018, sec. 4) and the supervised-keypoint baseline's.

All take the `Keypoints` of the two views A and B of each pair and the known relative rotation ``R_AB``:

- multi-view consistency: view A's 3-D keypoints moved into view B and projected land on B's 2-D keypoints
  (and back), ``1/2N sum_i |pi(T_AB X_i) - (u'_i, v'_i)|^2 + |pi(T_BA X'_i) - (u_i, v_i)|^2``;
- relative pose: the angle between Procrustes' rotation on the two keypoint sets and ``R_AB``,
  ``2 arcsin(|R_hat - R|_F / (2 sqrt 2))``;
- separation: ``1/N^2 sum_{i != j} max(0, delta^2 - |X_i - X_j|^2)`` (keypoints do not collapse);
- silhouette: ``1/N sum_i -log sum_{u,v} b(u, v) g_i(u, v)`` (every keypoint's map inside the object).

A batch is the tensors of `render.ViewPairs.tensors`: images A, B, silhouettes A, B, ``R_AB``, and the
annotated keypoints in A's and B's camera frames (used only by the supervised loss).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vision_attention.keypoints.config import KeypointConfig
from vision_attention.keypoints.geometry import angular_distance, procrustes, project, transfer
from vision_attention.keypoints.models import KeypointNet, Keypoints

__all__ = [
    "consistency_loss",
    "keypointnet_loss",
    "pose_loss",
    "separation_loss",
    "silhouette_loss",
    "supervised_loss",
]


def consistency_loss(
    a: Keypoints, b: Keypoints, rotation_ab: torch.Tensor, *, focal: float, distance: float
) -> torch.Tensor:
    """Multi-view consistency, mean over the batch (normalised image units squared)."""
    a_in_b = project(transfer(a.xyz, rotation_ab, distance), focal)
    b_in_a = project(transfer(b.xyz, rotation_ab.transpose(-1, -2), distance), focal)
    per = ((a_in_b - b.uv) ** 2).sum(-1) + ((b_in_a - a.uv) ** 2).sum(-1)
    return per.mean() / 2


def pose_loss(
    xyz_a: torch.Tensor, xyz_b: torch.Tensor, rotation_ab: torch.Tensor, *, noise: float = 0.0
) -> torch.Tensor:
    """Relative-pose loss (radians), mean over the batch. `noise`: Gaussian noise on both keypoint sets before
    Procrustes, drawn from a generator seeded by the batch's rotations (a resumed run sees the same noise)."""
    if noise > 0:
        seed = int(rotation_ab.detach().double().abs().sum().item() * 1e6) % (2**31)
        generator = torch.Generator().manual_seed(seed)
        shape = (2, *xyz_a.shape)
        jitter = (noise * torch.randn(shape, generator=generator)).to(xyz_a.device, xyz_a.dtype)
        xyz_a, xyz_b = xyz_a + jitter[0], xyz_b + jitter[1]
    return angular_distance(procrustes(xyz_a, xyz_b), rotation_ab).mean()


def separation_loss(xyz: torch.Tensor, delta: float) -> torch.Tensor:
    """Separation of the 3-D keypoints ``(B, N, 3)``, mean over the batch."""
    n = xyz.shape[1]
    squared = ((xyz[:, :, None] - xyz[:, None]) ** 2).sum(-1)
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=xyz.device)
    return ((delta**2 - squared).clamp_min(0) * off_diagonal).sum((1, 2)).mean() / n**2


def silhouette_loss(probabilities: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Silhouette loss of the maps ``(B, N, s, s)`` against the silhouettes ``(B, S, S)`` (averaged down to
    ``s x s`` when the maps are coarser: b is then the fraction of the cell inside the object)."""
    if masks.shape[-1] != probabilities.shape[-1]:
        masks = torch.nn.functional.adaptive_avg_pool2d(masks[:, None], probabilities.shape[-2:])[:, 0]
    inside = (probabilities * masks[:, None]).sum((2, 3))
    return -torch.log(inside.clamp_min(1e-12)).mean()


def keypointnet_loss(
    model: KeypointNet, batch: Sequence[torch.Tensor], config: KeypointConfig
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted sum of the four losses on a batch, and each term (unweighted)."""
    images_a, images_b, masks_a, masks_b, rotation_ab = batch[:5]
    both = model(torch.cat([images_a, images_b]))
    half = images_a.shape[0]
    a = Keypoints(both.uv[:half], both.z[:half], both.probabilities[:half], both.xyz[:half])
    b = Keypoints(both.uv[half:], both.z[half:], both.probabilities[half:], both.xyz[half:])
    terms = {
        "consistency": consistency_loss(a, b, rotation_ab, focal=model.focal, distance=model.distance),
        "pose": pose_loss(a.xyz, b.xyz, rotation_ab, noise=config.pose_noise),
        "separation": separation_loss(both.xyz, config.separation_delta),
        "silhouette": silhouette_loss(both.probabilities, torch.cat([masks_a, masks_b])),
    }
    total = sum(getattr(config, name) * value for name, value in terms.items())
    return total, terms


def supervised_loss(model: KeypointNet, batch: Sequence[torch.Tensor]) -> torch.Tensor:
    """The supervised baseline: squared error of each head's (u, v) and depth against its annotated keypoint's
    projection and depth, both views (head i regresses annotated keypoint i)."""
    images_a, images_b = batch[:2]
    truth = torch.cat([batch[5], batch[6]])  # (2B, 8, 3), camera frames
    predicted = model(torch.cat([images_a, images_b]))
    uv = project(truth, model.focal)
    return ((predicted.uv - uv) ** 2).sum(-1).mean() + ((predicted.z - truth[..., 2]) ** 2).mean()
