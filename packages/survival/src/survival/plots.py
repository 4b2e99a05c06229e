"""Figures of the headline experiment: D-calibration histograms and example predicted curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from core.checkpoint import atomic_write
from survival.experiment import CVResult

__all__ = ["plot_d_calibration", "plot_example_curves"]


def _save(fig: plt.Figure, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=110))
    plt.close(fig)
    return path


def plot_d_calibration(results: Sequence[CVResult], path: str | Path) -> Path:
    """One histogram per (dataset, model): the share of patients per survival-probability decile,
    against the uniform 10 % a D-calibrated model gives (Haider et al. 2020, Figure 6)."""
    models = list(results[0].d_calibration)
    fig, axes = plt.subplots(
        len(results), len(models), figsize=(1.9 * len(models), 1.5 * len(results)), squeeze=False, sharex=True
    )
    for r, result in enumerate(results):
        for c, name in enumerate(models):
            ax = axes[r, c]
            d_cal = result.d_calibration[name]
            share = d_cal.histogram / d_cal.histogram.sum()
            centres = (np.arange(share.size) + 0.5) / share.size
            ax.bar(
                centres,
                share,
                width=1.0 / share.size,
                color="tab:green" if d_cal.passed else "tab:red",
                alpha=0.8,
            )
            ax.axhline(1.0 / share.size, color="black", linestyle="--", linewidth=0.8)
            ax.set_ylim(0, max(0.3, float(share.max()) * 1.1))
            ax.set_title(f"p={d_cal.p_value:.2g}", fontsize=7)
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.annotate(
                    name, (0.5, 1.35), xycoords="axes fraction", ha="center", fontsize=8, weight="bold"
                )
            if c == 0:
                ax.set_ylabel(result.dataset, fontsize=8)
    fig.suptitle("D-calibration: share of patients per decile of S_i(t_i) (green: p > 0.05)", fontsize=9)
    fig.tight_layout()
    return _save(fig, Path(path))


def plot_example_curves(result: CVResult, path: str | Path) -> Path:
    """Predicted survival curves of the same few test patients under every model."""
    models = list(result.example_curves)
    ncols = min(4, len(models))
    nrows = -(-len(models) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.3 * nrows), squeeze=False, sharey=True)
    horizon = max(float(curves.times[-1]) for curves in result.example_curves.values())
    grid = np.linspace(0.0, horizon, 200)
    for ax, name in zip(axes.flat, models):
        curves = result.example_curves[name]
        for i, values in enumerate(curves.survival_at(grid)):
            ax.plot(grid, values, linewidth=1.2, label=f"patient {i + 1}")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("time", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(models) :]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("S(t | x)", fontsize=8)
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"{result.dataset}: individual survival distributions of four test patients", fontsize=9)
    fig.tight_layout()
    return _save(fig, Path(path))
