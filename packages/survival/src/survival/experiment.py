"""Cross-validated comparison of survival models on one dataset (Haider et al. 2020, Section 5).

Each fold fits the preprocessing and every model on the training rows and evaluates on the held-out
rows. Concordance, IBS and the L1 losses are computed per fold; D-calibration and 1-calibration
use every patient's out-of-fold prediction pooled over the folds (the statistics only need each
patient's own predicted probabilities, so pooling gives each test its full sample).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from core.errors import InputError
from core.progress import progress
from core.timing import Timer
from survival.curves import SurvivalCurves
from survival.datasets import SurvivalDataset
from survival.metrics import (
    CONVENTIONS,
    FOLD_METRICS,
    Conventions,
    d_calibration,
    fold_metrics,
    one_calibration,
)
from survival.models import make_model
from survival.preprocess import Preprocessor
from survival.target import event_time

__all__ = ["FOLD_METRICS", "CVResult", "cross_validate"]


@dataclass
class CVResult:
    """Results of one dataset.

    Attributes:
        fold_metrics: model -> metric -> (folds,) values (NaN where a metric is undefined).
        d_calibration: model -> pooled `DCalibration`; one_calibration: model -> pooled result at
            the median event time of the dataset.
        fit_seconds: model -> (folds,) wall seconds of ``fit``.
        oof_probability: model -> (n,) each patient's out-of-fold ``S_i(t_i)``.
        example_curves: model -> curves of the first test fold's first patients (for plots).
    """

    dataset: str
    n_rows: int
    n_events: int
    fold_metrics: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    d_calibration: dict[str, Any] = field(default_factory=dict)
    one_calibration: dict[str, Any] = field(default_factory=dict)
    fit_seconds: dict[str, list[float]] = field(default_factory=dict)
    oof_probability: dict[str, np.ndarray] = field(default_factory=dict)
    example_curves: dict[str, SurvivalCurves] = field(default_factory=dict)


def cross_validate(
    data: SurvivalDataset,
    models: Mapping[str, Mapping[str, Any]],
    *,
    folds: int = 5,
    seed: int = 0,
    max_rows: int | None = None,
    n_examples: int = 4,
    conventions: Conventions = CONVENTIONS,
) -> CVResult:
    """K-fold cross-validation of several models on one dataset.

    Args:
        data: a `SurvivalDataset` (raw features; preprocessing is fitted per training fold).
        models: model name (see `survival.models.MODELS`) -> hyper-parameters.
        folds: number of folds, stratified on the event indicator.
        max_rows: subsample this many rows first (stratified; None = all rows).
        n_examples: patients of the first test fold whose curves are kept for plotting.
        conventions: the evaluation conventions (`survival.metrics.CONVENTIONS`, the package's one set).

    Returns:
        a `CVResult`.
    """
    event, time = event_time(data.y)
    rows = np.arange(event.size)
    if max_rows is not None and event.size > max_rows:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(event.size, size=max_rows, replace=False))
    X_all = data.X.iloc[rows].reset_index(drop=True)
    ev, tm = event[rows], time[rows]
    y = data.y[rows]
    result = CVResult(dataset=data.name, n_rows=int(ev.size), n_events=int(ev.sum()))
    oof: dict[str, np.ndarray] = {name: np.full(ev.size, np.nan) for name in models}
    oof_event_prob: dict[str, np.ndarray] = {name: np.full(ev.size, np.nan) for name in models}
    t_star = conventions.one_cal_time(ev, tm)  # pooled predictions: all rows are the reference
    smallest = min(int(ev.sum()), int((~ev).sum())) if (~ev).any() else ev.size
    if folds < 2 or smallest < folds:
        raise InputError(
            f"too few rows for {folds}-fold cross-validation",
            item=f"{ev.size} rows, {int(ev.sum())} events, {int((~ev).sum())} censored",
            expected=f"at least {max(folds, 2)} events and {max(folds, 2)} censored rows (or fewer folds, >= 2)",
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(progress(list(splitter.split(rows, ev)), desc=f"{data.name} folds")):
        pre = Preprocessor().fit(X_all.iloc[train])
        X_train, X_test = pre.transform(X_all.iloc[train]), pre.transform(X_all.iloc[test])
        for name, params in models.items():
            model = make_model(name, **params)
            with Timer(cuda_sync=False) as timer:
                model.fit(X_train, y[train])
            curves = model.predict_curves(X_test)
            metrics = fold_metrics(
                curves,
                ev[test],
                tm[test],
                ev[train],
                tm[train],
                risk=model.predict(X_test),
                conventions=conventions,
            )
            per_model = result.fold_metrics.setdefault(name, {m: [] for m in FOLD_METRICS})
            for key, value in metrics.items():
                per_model[key].append(value)
            result.fit_seconds.setdefault(name, []).append(timer.seconds)
            oof[name][test] = curves.survival_at_own_times(tm[test])
            oof_event_prob[name][test] = 1.0 - curves.survival_at(np.array([t_star]))[:, 0]
            if fold == 0:
                result.example_curves[name] = curves[np.arange(min(n_examples, len(test)))]
    for name in models:
        result.oof_probability[name] = oof[name]
        result.d_calibration[name] = d_calibration(oof[name], ev, tm, n_bins=conventions.d_cal_bins)
        result.one_calibration[name] = one_calibration(
            1.0 - oof_event_prob[name],
            ev,
            tm,
            t_star,
            n_bins=conventions.one_cal_bins,
            variance=conventions.one_cal_variance,
        )
    return result
