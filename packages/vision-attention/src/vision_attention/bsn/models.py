"""BSN's two networks and their training targets and losses.

- `TEM` (temporal evaluation module): three 1-D convolutions over the snippet features, the last with three
  sigmoid outputs, the actionness, starting and ending probabilities of every snippet.
- `tem_targets`: a snippet's label is its IoP (intersection over the snippet's own region
  ``[t - 1/(2T), t + 1/(2T)]``) with the ground-truth actions (actionness) or with the boundary regions
  ``[t_s - d/10, t_s + d/10]`` / ``[t_e - d/10, t_e + d/10]`` (start / end, ``d = t_e - t_s``), max over segments.
- `tem_loss`: ``lambda L_action + L_start + L_end``, each the class-balanced binary logistic loss of the paper,
  ``b_i = [g_i > theta_IoP]``, weights ``T / #pos`` and ``T / #neg``.
- `PEM` (proposal evaluation module): a one-hidden-layer perceptron from BSP features to a confidence in
  (0, 1), trained with the squared error to the proposal's best tIoU with the ground truth.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vision_attention.bsn.config import BSNConfig

__all__ = ["PEM", "TEM", "binary_logistic_loss", "tem_loss", "tem_targets"]


class TEM(nn.Module):
    """``(n, T, D)`` features -> ``(n, 3, T)`` probabilities: actionness, start, end."""

    def __init__(self, config: BSNConfig) -> None:
        super().__init__()
        h = config.tem_hidden
        self.net = nn.Sequential(
            nn.Conv1d(config.features, h, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(h, h, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(h, 3, 1),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(features.transpose(1, 2)))


class PEM(nn.Module):
    """``(p, 32)`` BSP features -> ``(p,)`` confidence."""

    def __init__(self, config: BSNConfig) -> None:
        super().__init__()
        inputs = config.center_points + 2 * config.boundary_points
        self.net = nn.Sequential(
            nn.Linear(inputs, config.pem_hidden), nn.ReLU(), nn.Linear(config.pem_hidden, 1)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(features)).squeeze(-1)


def _iop(regions: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """``(T,)`` max over windows of |region & window| / |region| for regions ``(T, 2)`` and windows ``(g, 2)``."""
    if len(windows) == 0:
        return np.zeros(len(regions))
    inter = np.clip(
        np.minimum(regions[:, None, 1], windows[None, :, 1])
        - np.maximum(regions[:, None, 0], windows[None, :, 0]),
        0,
        None,
    )
    return (inter / (regions[:, 1] - regions[:, 0])[:, None]).max(axis=1)


def tem_targets(segments: np.ndarray, length: int) -> np.ndarray:
    """``(3, T)`` IoP labels (actionness, start, end) of a video with ground truth `segments` ``(g, 2)``."""
    segs = np.asarray(segments, dtype=float).reshape(-1, 2)
    centres = (np.arange(length) + 0.5) / length
    regions = np.stack([centres - 0.5 / length, centres + 0.5 / length], axis=1)
    d = (segs[:, 1] - segs[:, 0])[:, None] / 10
    start = np.concatenate([segs[:, :1] - d, segs[:, :1] + d], axis=1)
    end = np.concatenate([segs[:, 1:] - d, segs[:, 1:] + d], axis=1)
    return np.stack([_iop(regions, segs), _iop(regions, start), _iop(regions, end)])


def binary_logistic_loss(probs: torch.Tensor, labels: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The paper's class-balanced logistic loss over ``(n, T)``: positives ``labels > threshold`` weighted
    ``T / #pos`` and negatives ``T / #neg`` (counts over the whole batch), mean over snippets."""
    b = (labels > threshold).float()
    count = b.numel()
    positives = b.sum().clamp(min=1)
    negatives = (count - b.sum()).clamp(min=1)
    p = probs.clamp(1e-6, 1 - 1e-6)
    loss = (count / positives) * b * torch.log(p) + (count / negatives) * (1 - b) * torch.log(1 - p)
    return -loss.mean()


def tem_loss(probs: torch.Tensor, targets: torch.Tensor, config: BSNConfig) -> torch.Tensor:
    """``lambda L_action + L_start + L_end`` on ``(n, 3, T)`` probabilities and IoP targets."""
    losses = [binary_logistic_loss(probs[:, k], targets[:, k], config.iop_threshold) for k in range(3)]
    return config.action_weight * losses[0] + losses[1] + losses[2]
