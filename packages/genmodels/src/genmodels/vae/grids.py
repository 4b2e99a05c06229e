"""Image grids of samples and reconstructions, drawn on `core.new_figure` figures (no pyplot)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["image_grid", "save_image_grid"]


def image_grid(images: np.ndarray, columns: int = 8, pad: int = 1) -> np.ndarray:
    """Tile ``(n, c, h, w)`` images in [0, 1] into one ``(H, W)`` (grey) or ``(H, W, 3)`` array."""
    images = np.asarray(images, dtype=np.float32)
    n, channels, height, width = images.shape
    rows = -(-n // columns)
    grid = np.ones((channels, rows * (height + pad) + pad, columns * (width + pad) + pad), np.float32)
    for index in range(n):
        r, c = divmod(index, columns)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        grid[:, top : top + height, left : left + width] = images[index]
    grid = np.clip(grid, 0.0, 1.0)
    return grid[0] if channels == 1 else np.moveaxis(grid[:3], 0, -1)


def save_image_grid(
    path: str | os.PathLike[str], panels: dict[str, np.ndarray], columns: int = 8, title: str = ""
) -> Path:
    """Save one figure with a grid per panel (e.g. ``{"data": x, "reconstruction": r, "samples": s}``)."""
    from core.plots import new_figure, save_figure

    figure = new_figure(3.2 * len(panels), 3.4)
    for index, (name, images) in enumerate(panels.items()):
        axis = figure.add_subplot(1, len(panels), index + 1)
        grid = image_grid(images, columns)
        axis.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0)
        axis.set_title(name)
        axis.axis("off")
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)
