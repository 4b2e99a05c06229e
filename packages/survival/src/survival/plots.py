"""Figures of the headline experiment: D-calibration histograms and example predicted curves.

Figures are `matplotlib.figure.Figure` objects from `core.new_figure` (no pyplot, no backend
change) saved with `core.save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.plots import new_figure, save_figure
from survival.experiment import CVResult

__all__ = ["plot_d_calibration", "plot_example_curves"]


def plot_d_calibration(results: Sequence[CVResult], path: str | Path) -> Path:
    """One histogram per (dataset, model): the share of patients per survival-probability decile,
    against the uniform 10 % a D-calibrated model gives (Haider et al. 2020, Figure 6)."""
    models = list(results[0].d_calibration)
    fig = new_figure(1.9 * len(models), 1.5 * len(results))
    axes = fig.subplots(len(results), len(models), squeeze=False, sharex=True)
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
            if r == len(results) - 1:
                ax.set_xlabel("S_i(t_i)", fontsize=7)
    fig.suptitle("D-calibration: share of patients per decile of S_i(t_i) (green: p > 0.05)", fontsize=9)
    return save_figure(fig, Path(path), dpi=110)


def plot_example_curves(
    result: CVResult, path: str | Path, time_unit: str = "time units of the data"
) -> Path:
    """Predicted survival curves of the same few test patients under every model."""
    models = list(result.example_curves)
    ncols = min(4, len(models))
    nrows = -(-len(models) // ncols)
    fig = new_figure(2.6 * ncols, 2.3 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax, name in zip(axes.flat, models):
        result.example_curves[name].plot(ax=ax, time_unit=time_unit)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_fontsize(7)
        ax.yaxis.label.set_fontsize(7)
        if ax is not axes.flat[0] and ax.get_legend() is not None:
            ax.get_legend().remove()
    for ax in list(axes.flat)[len(models) :]:
        ax.axis("off")
    fig.suptitle(f"{result.dataset}: individual survival distributions of four test patients", fontsize=9)
    return save_figure(fig, Path(path), dpi=110)
