"""The study's figure: test canvases (digit box drawn) and their FIDO maps for every objective and in-fill."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from core.plots import new_figure, save_figure

__all__ = ["plot_fido_maps"]


def plot_fido_maps(
    images: torch.Tensor, boxes: torch.Tensor, maps: Mapping[str, torch.Tensor], path: Path, *, title: str
) -> Path:
    """Rows = images ``(k, 1, S, S)`` with their ``boxes (k, 4)``; columns = the image, then each map of `maps`
    (name -> ``(k, 1, S, S)`` in [0, 1], shown on a fixed 0-1 scale with the box outlined)."""
    from matplotlib.patches import Rectangle

    names = list(maps)
    rows, columns = len(images), len(names) + 1
    figure = new_figure(1.2 * columns, 1.2 * rows + 0.5)
    for r in range(rows):
        top, left, bottom, right = boxes[r].tolist()
        panels = [("image", images[r, 0])] + [(name, maps[name][r, 0]) for name in names]
        for c, (name, picture) in enumerate(panels):
            axes = figure.add_subplot(rows, columns, r * columns + c + 1)
            axes.imshow(picture.numpy(), cmap="gray" if c == 0 else "magma", vmin=0, vmax=1)
            axes.add_patch(
                Rectangle(
                    (left - 0.5, top - 0.5), right - left, bottom - top, fill=False, color="cyan", lw=0.6
                )
            )
            axes.set_xticks([]), axes.set_yticks([])
            if r == 0:
                axes.set_title(name, fontsize=6)
    figure.suptitle(title, fontsize=8)
    return save_figure(figure, path)
