"""KeypointNet's network: a fully-convolutional dilated stack with N keypoint heads (Suwajanakorn et al. 2018).

Each head i gives a probability map ``g_i`` (spatial softmax over the pixels) and a depth map ``d_i``; its
keypoint is the expectation ``(u_i, v_i) = sum g_i(u, v) (u, v)`` and ``z_i = distance + sum g_i d_i`` (depth
relative to the object's centre). The normalised pixel coordinates are appended to the input (CoordConv style)
so positions are easy to read off. The same network, trained on annotated keypoints, is the supervised baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.errors import InputError
from vision_attention.keypoints.config import KeypointConfig
from vision_attention.keypoints.geometry import unproject

__all__ = ["KeypointNet", "Keypoints", "pixel_grid"]


@dataclass(frozen=True)
class Keypoints:
    """One batch of predictions: ``uv (B, N, 2)``, depth ``z (B, N)``, maps ``probabilities (B, N, H, W)`` and the
    camera-frame points ``xyz (B, N, 3)``."""

    uv: torch.Tensor
    z: torch.Tensor
    probabilities: torch.Tensor
    xyz: torch.Tensor


def pixel_grid(size: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised coordinates ``u, v`` ``(S, S)`` of the pixel centres (u along columns, v along rows)."""
    grid = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size * 2 - 1
    v, u = torch.meshgrid(grid, grid, indexing="ij")
    return u, v


class KeypointNet(nn.Module):
    """Images ``(B, 3, S, S)`` -> `Keypoints` of ``config.keypoints`` heads (maps ``S / stride`` square), for a
    camera of `focal` at `distance`."""

    def __init__(self, config: KeypointConfig, *, focal: float, distance: float) -> None:
        super().__init__()
        self.config, self.focal, self.distance = config, focal, distance
        layers: list[nn.Module] = []
        channels = 5  # RGB + u, v
        for k, dilation in enumerate(config.dilations):
            stride = config.stride if k == 0 else 1
            layers += [
                nn.Conv2d(channels, config.width, 3, stride=stride, padding=dilation, dilation=dilation),
                nn.BatchNorm2d(config.width),
                nn.LeakyReLU(0.1),
            ]
            channels = config.width
        self.body = nn.Sequential(*layers)
        self.heads = nn.Conv2d(channels, 2 * config.keypoints, 1)  # N logit maps, N depth maps

    def forward(self, images: torch.Tensor) -> Keypoints:
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
            raise InputError("KeypointNet takes square RGB images (B, 3, S, S)", item=tuple(images.shape))
        batch, _, size, _ = images.shape
        if size % self.config.stride:
            raise InputError(
                "the image side must be a multiple of KeypointConfig.stride",
                item=size,
                expected=f"stride {self.config.stride}",
            )
        u, v = pixel_grid(size, images.device)
        coords = torch.stack([u, v]).expand(batch, 2, size, size)
        out = self.heads(self.body(torch.cat([images, coords], 1)))
        size = out.shape[-1]  # the maps' side, S / stride
        u, v = pixel_grid(size, images.device)
        n = self.config.keypoints
        logits, depth = out[:, :n].flatten(2), out[:, n:].flatten(2)
        probabilities = logits.softmax(-1)  # (B, N, S*S)
        uv = torch.stack([(probabilities * u.flatten()).sum(-1), (probabilities * v.flatten()).sum(-1)], -1)
        z = self.distance + (probabilities * depth).sum(-1)
        return Keypoints(
            uv=uv,
            z=z,
            probabilities=probabilities.view(batch, n, size, size),
            xyz=unproject(uv, z, self.focal),
        )
