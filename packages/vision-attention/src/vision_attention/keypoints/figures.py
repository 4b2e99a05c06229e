"""The KeypointNet study's figure: learned keypoints on held-out views (drawn on `core.new_figure`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from core.plots import new_figure, save_figure

__all__ = ["plot_keypoints"]


def plot_keypoints(
    views: Mapping[str, tuple[torch.Tensor, torch.Tensor]], path: Path, *, title: str, columns: int = 4
) -> Path:
    """One row per entry of `views`: ``(images (n, 3, S, S), uv (n, N, 2))``, the first `columns` images with
    their keypoints (one colour per keypoint index, so the same head is the same colour in every view)."""
    rows = len(views)
    figure = new_figure(2.0 * columns, 2.1 * rows)
    figure.suptitle(title)
    for r, (name, (images, uv)) in enumerate(views.items()):
        for c in range(min(columns, len(images))):
            axes = figure.add_subplot(rows, columns, r * columns + c + 1)
            axes.imshow(images[c].permute(1, 2, 0).numpy(), extent=(-1, 1, 1, -1))
            points = uv[c].numpy()
            axes.scatter(
                points[:, 0],
                points[:, 1],
                s=14,
                c=np.arange(len(points)),
                cmap="tab10",
                edgecolors="white",
                linewidths=0.5,
            )
            axes.set_xticks([])
            axes.set_yticks([])
            if c == 0:
                axes.set_ylabel(name, fontsize=8)
    return save_figure(figure, path)
