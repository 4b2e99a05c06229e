"""Headline experiment: ``uv run reproduce survival`` (Haider et al. 2020, Section 5 and Table 3).

5-fold cross-validation of every model on at least six real datasets, every metric; one table per
metric (mean ± sd over folds), pooled D-calibration and 1-calibration p-values with the pass count
per model (p > 0.05), fit times, and figures (D-calibration histograms, example curves).

``--scale smoke``: six datasets subsampled to at most 400 rows, lighter model budgets (a few
minutes on 2 CPU cores). ``--scale full``: all nine datasets at full size, the paper's budgets.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np

from core.cli import RunOptions
from core.results import ResultTable, mean_sd
from survival.config import C1_GRID
from survival.metrics.evaluation import FOLD_METRICS

if TYPE_CHECKING:
    from survival.experiment import CVResult

__all__ = ["SETTINGS", "reproduce"]

SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {
        "datasets": ("whas500", "gbsg2", "veterans", "rossi", "lung", "breast_cancer"),
        "max_rows": 400,
        "folds": 5,
        "models": {
            "km": {},
            "coxkp": {},
            "coxen-kp": {"cv_folds": 3, "n_alphas": 20},
            "aft": {},
            "rsf-km": {"n_estimators": 50},
            "mtlr": {"c1_grid": (0.1, 1.0, 10.0, 100.0, 1000.0), "cv_folds": 3},
            "neural-mtlr": {},
        },
    },
    "full": {
        "datasets": (
            "whas500",
            "gbsg2",
            "veterans",
            "rossi",
            "lung",
            "breast_cancer",
            "aids",
            "actg175",
            "flchain",
        ),
        "max_rows": None,
        "folds": 5,
        "models": {
            "km": {},
            "coxkp": {},
            "coxen-kp": {"cv_folds": 5},
            "aft": {},
            "rsf-km": {"n_estimators": 500},
            "mtlr": {"c1_grid": C1_GRID, "cv_folds": 5},
            "neural-mtlr": {},
        },
    },
}

_SEEDED = {"coxen-kp", "rsf-km", "mtlr", "neural-mtlr"}
_ON_DEVICE = {"mtlr", "neural-mtlr"}

_METRIC_TITLES = {
    "c_harrell": ("concordance", "Harrell's concordance (higher is better)"),
    "c_uno": (
        "uno_concordance",
        "Uno's IPCW concordance, truncated at the 90th percentile of training times (higher is better)",
    ),
    "ibs": (
        "integrated_brier",
        "Integrated Brier score with IPCW, 10th-90th percentile of test times (lower is better)",
    ),
    "l1_hinge": (
        "l1_hinge",
        "L1-hinge loss of the median survival time, in the dataset's time unit (lower is better)",
    ),
    "l1_margin": (
        "l1_margin",
        "L1-margin loss of the median survival time, in the dataset's time unit (lower is better)",
    ),
}


def reproduce(options: RunOptions) -> list[ResultTable]:
    """Run the cross-validated comparison at `options.scale`; write figures to `options.out`.

    Every table is published (`options.publish`) after each dataset with the datasets done so
    far, so a run that dies keeps the tables of every dataset it finished; the last publication
    holds them all.
    """
    from core.device import torch_threads
    from core.progress import progress
    from survival.datasets import load_dataset
    from survival.experiment import cross_validate
    from survival.plots import plot_d_calibration, plot_example_curves

    setting = SETTINGS[options.scale]
    protocol = (
        f"{setting['folds']}-fold stratified CV, seed {options.seed}, scale {options.scale}"
        + (f", datasets subsampled to at most {setting['max_rows']} rows" if setting["max_rows"] else "")
        + "; conventions: survival.metrics.CONVENTIONS."
    )
    # many small fits: one thread avoids oversubscribing small CPUs, unless --threads says otherwise
    threads = torch_threads(1) if options.threads is None else nullcontext()
    results: list[CVResult] = []
    sources: dict[str, str] = {}
    tables: list[ResultTable] = []
    with threads:
        for name in progress(setting["datasets"], desc="survival datasets"):
            models = {
                model: {
                    **params,
                    **({"seed": options.seed} if model in _SEEDED else {}),
                    **({"device": options.device} if model in _ON_DEVICE else {}),
                }
                for model, params in setting["models"].items()
            }
            data = load_dataset(name)
            sources[name] = data.source
            results.append(
                cross_validate(
                    data, models, folds=setting["folds"], seed=options.seed, max_rows=setting["max_rows"]
                )
            )
            last = len(results) == len(setting["datasets"])
            tables = [
                *_metric_tables(results, protocol),
                *_calibration_tables(results, protocol),
                _fit_time_table(results, protocol),
            ]
            for table in tables:
                table.data = dict(sources)
                options.publish(table, quiet=not last)
    plot_d_calibration(results, options.out / "d_calibration.png")
    plot_example_curves(results[0], options.out / f"curves_{results[0].dataset}.png")
    return tables


def _metric_tables(results: list[CVResult], protocol: str) -> list[ResultTable]:
    tables = []
    for metric in FOLD_METRICS:
        name, title = _METRIC_TITLES[metric]
        table = ResultTable(name=name, title=title, notes=f"mean ± sd over folds. {protocol}")
        for result in results:
            row: dict[str, Any] = {"dataset": result.dataset, "n": result.n_rows, "events": result.n_events}
            for model, values in result.fold_metrics.items():
                row[model] = mean_sd(
                    values[metric], digits=3 if metric in ("c_harrell", "c_uno", "ibs") else 1
                )
            table.add(**row)
        tables.append(table)
    return tables


def _calibration_tables(results: list[CVResult], protocol: str) -> list[ResultTable]:
    tables = []
    for key, name, title in (
        (
            "d_calibration",
            "d_calibration",
            "D-calibration p-value (out-of-fold predictions pooled; pass: p > 0.05)",
        ),
        (
            "one_calibration",
            "one_calibration",
            "1-calibration (Hosmer-Lemeshow at the median event time) p-value; pass: p > 0.05",
        ),
    ):
        table = ResultTable(name=name, title=title, notes=protocol)
        models = list(getattr(results[0], key))
        passed = dict.fromkeys(models, 0)
        for result in results:
            row: dict[str, Any] = {"dataset": result.dataset}
            for model in models:
                p = getattr(result, key)[model].p_value
                passed[model] += int(math.isfinite(p) and p > 0.05)
                row[model] = p
            table.add(**row)
        table.add(dataset="passed", **{model: f"{count}/{len(results)}" for model, count in passed.items()})
        tables.append(table)
    return tables


def _fit_time_table(results: list[CVResult], protocol: str) -> ResultTable:
    table = ResultTable(
        name="fit_seconds",
        title="Mean fit time per fold (seconds, wall clock, one torch thread; includes internal CV)",
        notes=protocol,
    )
    for result in results:
        table.add(dataset=result.dataset, **{m: float(np.mean(s)) for m, s in result.fit_seconds.items()})
    return table
