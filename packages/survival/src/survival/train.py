"""Fitting MTLR: the linear model by batched L-BFGS along a warm-started C1 path
(`survival.train_lbfgs`), the neural one (or ``optimizer="adam"``) by Adam (`survival.train_adam`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.device import pick_device
from core.errors import InputError
from survival.mtlr import MTLRConfig, MTLRNet, _target_mask, interval_index
from survival.train_adam import Callback, mean_loglik, train_adam
from survival.train_lbfgs import LinearMTLRProblem, c1_path

__all__ = ["FitResult", "fit_mtlr"]


@dataclass
class FitResult:
    """A fitted network plus what the fit found: the C1 used, CV scores, iterations, convergence."""

    net: MTLRNet
    c1: float
    cv_scores: dict[float, float] = field(default_factory=dict)
    n_iter: int = 0
    converged: bool = True
    history: list[dict[str, float]] = field(default_factory=list)


def _folds(event: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds for the internal C1 search (fewer when a class is smaller than `n_folds`).

    Raises:
        InputError: fewer than two events or two censored rows (when any are censored).
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    smallest = min(int(event.sum()), int((~event).sum())) if (~event).any() else event.size
    n_folds = min(n_folds, smallest)
    if n_folds < 2:
        raise InputError(
            "too few rows to choose C1 by internal cross-validation",
            item=f"{event.size} rows, {int(event.sum())} events",
            expected="at least 2 events and 2 censored rows, or a fixed c1",
        )
    if (~event).any():
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(event.size), event))


def fit_mtlr(
    features: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    grid: np.ndarray,
    config: MTLRConfig,
    *,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 10,
    callback: Callback | None = None,
) -> FitResult:
    """Fit MTLR on (n, d) features with the time points `grid`, choosing C1 by CV if not given."""
    bins = interval_index(time, grid, event)
    if config.c1 is not None and config.c1 < 0:
        raise InputError("C1 must be non-negative", item=config.c1)
    if config.optimizer == "lbfgs" and not config.hidden:
        return _fit_linear(features, bins, event, grid.size, config)
    if config.c1 is None:
        scores = {}
        for c1 in config.c1_grid:
            held_out = []
            for train_rows, held in _folds(event, config.cv_folds, config.seed):
                net, _, _ = train_adam(
                    features[train_rows], bins[train_rows], event[train_rows], grid.size, config, c1
                )
                held_out.append(mean_loglik(net, features[held], bins[held], event[held], grid.size))
            scores[float(c1)] = float(np.mean(held_out))
        c1 = max(scores, key=scores.__getitem__)
    else:
        c1, scores = float(config.c1), {}
    net, epochs, history = train_adam(
        features,
        bins,
        event,
        grid.size,
        config,
        c1,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        callback=callback,
    )
    return FitResult(net.cpu(), c1, scores, epochs, True, history)


def _fit_linear(
    features: np.ndarray, bins: np.ndarray, event: np.ndarray, n_times: int, config: MTLRConfig
) -> FitResult:
    device = pick_device(config.device)
    x = torch.as_tensor(features, dtype=torch.float64, device=device)
    mask = _target_mask(
        torch.as_tensor(bins, device=device), torch.as_tensor(event, device=device), n_times + 1
    )
    problem = LinearMTLRProblem(x, mask)
    full = torch.ones(1, event.size, dtype=torch.float64, device=device)
    scores: dict[float, float] = {}
    converged = True
    if config.c1 is None:
        grid = [float(c) for c in config.c1_grid]
        scores, solutions, converged = c1_path(
            problem,
            _folds(event, config.cv_folds, config.seed),
            grid,
            max_iter=config.max_iter,
            tol=config.tol,
        )
        c1 = max(scores, key=scores.__getitem__)
        start = solutions[grid.index(c1)].mean(dim=0, keepdim=True)
    else:
        c1 = float(config.c1)
        start = problem.start(full)
    result = problem.solve(
        start,
        full,
        torch.tensor([c1], dtype=torch.float64, device=device),
        max_iter=config.max_iter,
        tol=config.tol,
    )
    return FitResult(
        problem.net(result.x[0]), c1, scores, result.n_iter, converged and bool(result.converged.all())
    )
