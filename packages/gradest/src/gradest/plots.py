"""Figures of the headline experiment: loss curves and gradient variances.

Each figure is a `matplotlib.figure.Figure` from `core.new_figure` saved with `core.save_figure`: no pyplot,
no global backend, no figure registry (matplotlib is imported only when a plot is drawn).
"""

from __future__ import annotations

from pathlib import Path

from core.plots import new_figure, save_figure

__all__ = ["plot_curves", "plot_variances"]


def _style(name: str) -> dict:
    return {"linestyle": "-" if name.startswith("rb-") or name == "exact" else "--", "linewidth": 1.4}


def plot_curves(
    curves: dict[str, tuple[list[float], list[float]]], xlabel: str, ylabel: str, title: str, path: Path
) -> Path:
    """One line per estimator: ``curves[name] = (x values, y values)``. RB variants solid, others dashed."""
    from matplotlib import colormaps

    fig = new_figure(7, 4.5)
    ax = fig.subplots()
    palette = colormaps["tab20"]
    for index, (name, (xs, ys)) in enumerate(curves.items()):
        ax.plot(xs, ys, label=name, color=palette(index % 20), **_style(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, dpi=120)


def plot_variances(variances: dict[str, float], title: str, path: Path) -> Path:
    """Horizontal bars of gradient variance per estimator, log scale."""
    names = list(variances)
    fig = new_figure(7, 0.35 * len(names) + 1.5)
    ax = fig.subplots()
    colours = ["tab:green" if name.startswith("rb-") else "tab:grey" for name in names]
    ax.barh(names, [max(variances[name], 1e-12) for name in names], color=colours)
    ax.set_xscale("log")
    ax.set_xlabel("gradient variance (trace of covariance)")
    ax.set_title(title)
    ax.invert_yaxis()
    return save_figure(fig, path, dpi=120)
