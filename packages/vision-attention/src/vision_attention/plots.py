"""Figures of the experiments, drawn on `core.new_figure` (no pyplot) and saved with `core.save_figure`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from core.plots import new_figure, save_figure

__all__ = ["plot_attention", "plot_bars", "plot_map_grid", "plot_similarity_curves"]


def plot_bars(values: Mapping[str, Mapping[str, float]], path: Path, *, ylabel: str, title: str) -> Path:
    """Grouped bars: ``values[group][series]`` (e.g. group = "classification/uniform", series = model)."""
    groups = list(values)
    series = sorted({name for group in values.values() for name in group})
    figure = new_figure(max(6.0, 1.2 * len(groups)), 3.6)
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    for k, name in enumerate(series):
        heights = [values[group].get(name, np.nan) for group in groups]
        axes.bar(np.arange(len(groups)) + k * width, heights, width, label=name)
    axes.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups, rotation=20, ha="right")
    axes.set_ylabel(ylabel)
    axes.set_ylim(0, 1.05)
    axes.set_title(title)
    axes.legend()
    return save_figure(figure, path)


def plot_map_grid(
    image: np.ndarray,
    maps: Mapping[str, Sequence[np.ndarray]],
    columns: Sequence[str],
    path: Path,
    *,
    title: str,
) -> Path:
    """Rows = methods, columns = models (trained, then each randomisation step); maps shown as |map| scaled."""
    rows = list(maps)
    figure = new_figure(1.3 * (len(columns) + 1), 1.3 * len(rows) + 0.6)
    for r, method in enumerate(rows):
        axes = figure.add_subplot(len(rows), len(columns) + 1, r * (len(columns) + 1) + 1)
        axes.imshow(image, cmap="gray")
        axes.set_ylabel(method, fontsize=7)
        axes.set_xticks([]), axes.set_yticks([])
        if r == 0:
            axes.set_title("input", fontsize=7)
        for c, saliency in enumerate(maps[method]):
            axes = figure.add_subplot(len(rows), len(columns) + 1, r * (len(columns) + 1) + c + 2)
            magnitude = np.abs(saliency)
            axes.imshow(magnitude / (magnitude.max() or 1.0), cmap="gray", vmin=0, vmax=1)
            axes.set_xticks([]), axes.set_yticks([])
            if r == 0:
                axes.set_title(columns[c], fontsize=7)
    figure.suptitle(title, fontsize=9)
    return save_figure(figure, path)


def plot_similarity_curves(
    curves: Mapping[str, Sequence[float | None]], steps: Sequence[str], path: Path, *, ylabel: str, title: str
) -> Path:
    """One line per method: a similarity against the randomisation step."""
    figure = new_figure(6.4, 3.8)
    axes = figure.add_subplot()
    for method, values in curves.items():
        axes.plot(range(len(steps)), [np.nan if v is None else v for v in values], marker="o", label=method)
    axes.set_xticks(range(len(steps)), steps)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.axhline(0, color="grey", lw=0.5)
    axes.legend(fontsize=7)
    return save_figure(figure, path)


def plot_attention(
    image: np.ndarray, boxes: np.ndarray, weights: np.ndarray, path: Path, *, title: str
) -> Path:
    """An image with each region box drawn with opacity and width proportional to its attention weight.

    Args:
        image: ``(h, w, 3)`` in [0, 1]; boxes: ``(k, 4)`` (x0, y0, x1, y1) pixels; weights: ``(k,)`` summing to 1.
    """
    from matplotlib.patches import Rectangle

    figure = new_figure(3.2, 3.4)
    axes = figure.add_subplot()
    axes.imshow(image)
    top = float(weights.max()) or 1.0
    for (x0, y0, x1, y1), weight in zip(boxes, weights, strict=True):
        share = float(weight) / top
        axes.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                fill=False,
                color="red",
                alpha=0.2 + 0.8 * share,
                lw=0.5 + 2.5 * share,
            )
        )
        axes.text(x0, y0, f"{weight:.2f}", color="yellow", fontsize=6)
    axes.set_xticks([]), axes.set_yticks([])
    axes.set_title(title, fontsize=8)
    return save_figure(figure, path)
