"""The MTLR configuration, importable without torch (the CLI reads its defaults for ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.resume import extendable

__all__ = ["C1_GRID", "MTLRConfig"]

C1_GRID: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)


@dataclass(frozen=True)
class MTLRConfig:
    """Hyper-parameters of MTLR; defaults follow Haider et al. (2020) and the MTLR R package.

    Attributes:
        n_bins: number of time points K; None = ceil(sqrt(number of events)).
        c1: L2 weight C1 on the MTLR weights; None = chosen from `c1_grid` by `cv_folds`-fold CV
            of the held-out log-likelihood.
        optimizer: "lbfgs" (full batch, run to convergence; the objective is convex for the
            linear model) or "adam" (early stopping on a validation split).
        max_iter: L-BFGS iterations or Adam epochs; the run-length field a checkpointed Adam
            run may extend on resume (`core.resume.extendable`).
        tol: L-BFGS converges when the max-norm of the gradient of the per-patient objective
            falls to `tol` (a `ConvergenceWarning` when `max_iter` comes first).
        lr, batch_size, patience, validation_fraction: Adam's step size, batch (None = full
            batch), early-stopping patience (epochs) and validation share.
        hidden: hidden layer widths of the MLP in front of the MTLR layer (empty = linear MTLR).
        grid_end: "last_event" (the paper: the last time point is the largest event time) or
            "max_time" (one more point at the largest observed time, censored ones included).
        tail: the curves past the last time point: "linear" (the paper's line from (0, 1)) or
            "exponential" (the hazard of the last interval; `survival.curves`).
    """

    n_bins: int | None = None
    c1: float | None = None
    c1_grid: tuple[float, ...] = C1_GRID
    cv_folds: int = 5
    optimizer: str = "lbfgs"
    max_iter: int = extendable(500)
    tol: float = 1e-5
    lr: float = 0.01
    batch_size: int | None = None
    patience: int = 20
    validation_fraction: float = 0.2
    hidden: tuple[int, ...] = ()
    dropout: float = 0.0
    grid_end: str = "last_event"
    tail: str = "linear"
    seed: int = 0
    device: str = "cpu"
