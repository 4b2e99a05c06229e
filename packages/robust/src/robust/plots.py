"""Figures of the attack experiments (``matplotlib.figure.Figure``, no pyplot)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from core.plots import new_figure, save_figure
from core.results import ResultTable

__all__ = ["save_accuracy_curves", "save_example_grid"]


def save_example_grid(
    x: Tensor, x_adv: Tensor, path: str | Path, *, title: str = "", labels: Sequence[str] = ()
) -> Path:
    """Rows: original, adversarial, perturbation (rescaled to [0, 1] around grey) for ``x (n, c, h, w)``."""
    n = len(x)
    figure = new_figure(1.2 * n, 3.8)
    delta = x_adv - x
    scale = float(delta.abs().max().clamp_min(1e-12))
    rows = [("original", x), ("adversarial", x_adv), ("perturbation", 0.5 + 0.5 * delta / scale)]
    for r, (name, images) in enumerate(rows):
        for i in range(n):
            axis = figure.add_subplot(3, n, r * n + i + 1)
            image = images[i].detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy()
            axis.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if i == 0:
                axis.set_ylabel(name, fontsize=7)
            if r == 1 and i < len(labels):
                axis.set_title(labels[i], fontsize=6)
    if title:
        figure.suptitle(title, fontsize=8)
    return save_figure(figure, path)


def save_accuracy_curves(table: ResultTable, path: str | Path, *, x: str = "eps", title: str = "") -> Path:
    """Robust accuracy against `x` (one line per attack and norm) from an `evaluate`-style table."""
    figure = new_figure(5.0, 3.4)
    axis = figure.add_subplot(1, 1, 1)
    groups: dict[str, list[tuple[float, float]]] = {}
    for row in table.rows:
        groups.setdefault(f"{row['attack']} ({row.get('norm', '')})", []).append(
            (row[x], row["robust_accuracy"])
        )
    for name, points in groups.items():
        points.sort()
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    axis.set_xlabel(x)
    axis.set_ylabel("robust accuracy")
    axis.set_ylim(-0.02, 1.02)
    axis.legend(fontsize=7)
    if title:
        axis.set_title(title, fontsize=9)
    return save_figure(figure, path)
