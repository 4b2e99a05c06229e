"""Multi-task logistic regression (MTLR; Yu, Greiner, Lin & Baracos, NIPS 2011) and a neural variant.

MTLR splits time at ``K`` points ``tau_1 < ... < tau_K`` and models the sequence of "has the event
happened by tau_k" indicators jointly. With ``f_k(x) = theta_k . x + b_k`` the probability that the
event falls in interval ``j`` (``(tau_{j-1}, tau_j]``, ``j = 1..K+1``, ``tau_{K+1} = inf``) is

    P(j | x) = exp(sum_{k >= j} f_k(x)) / sum_{j'} exp(sum_{k >= j'} f_k(x))        (Yu et al., Eq. 3)

An uncensored patient contributes ``log P(j_i | x_i)``; a patient censored in interval ``j`` sums
the probabilities of every interval from ``j`` on (the event happens after censoring). The
objective is ``-sum_i loglik_i + C1/2 * ||Theta||^2`` (biases unpenalised); ``C1`` is chosen by
internal cross-validation when not given, as in Haider et al. (JMLR 2020, Section 3.6).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from survival.base import SurvivalModel, check_features_array
from survival.config import C1_GRID, MTLRConfig
from survival.curves import SurvivalCurves
from survival.target import event_time

__all__ = [
    "MTLR",
    "MTLRConfig",
    "MTLRNet",
    "NeuralMTLR",
    "interval_index",
    "mtlr_log_likelihood",
    "mtlr_time_grid",
]


def mtlr_time_grid(time: np.ndarray, event: np.ndarray, n_bins: int | None = None) -> np.ndarray:
    """The K time points: quantiles of the event times at levels 1/K, 2/K, ..., 1 (duplicates dropped).

    Args:
        time: (n,) observed times; event: (n,) bool.
        n_bins: K; None = ceil(sqrt(number of events)) (Haider et al. 2020).

    Returns:
        (K',) strictly increasing positive times, K' <= K.
    """
    event_times = np.asarray(time, dtype=float)[np.asarray(event, dtype=bool)]
    if event_times.size == 0:
        raise InputError("MTLR needs at least one event to place its time grid", item="event")
    k = int(np.ceil(np.sqrt(event_times.size))) if n_bins is None else int(n_bins)
    if k < 1:
        raise InputError("number of time bins must be positive", item=n_bins)
    grid = np.unique(np.quantile(event_times, np.linspace(0.0, 1.0, k + 1)[1:]))
    return grid[grid > 0] if (grid > 0).any() else np.array([event_times.max() or 1.0])


def interval_index(time: np.ndarray, grid: np.ndarray, event: np.ndarray) -> np.ndarray:
    """(n,) first interval each patient's event can lie in.

    An event at t lies in interval j with ``tau_j < t <= tau_{j+1}`` (0 for t <= tau_1, K past
    tau_K). A patient censored at c has ``T > c``: its first possible interval is the first whose
    upper end exceeds c, so censoring exactly at tau_j already rules out interval j-1.
    """
    t = np.asarray(time, dtype=float)
    left = np.searchsorted(grid, t, side="left")
    right = np.searchsorted(grid, t, side="right")
    return np.where(np.asarray(event, dtype=bool), left, right)


def _target_mask(bins: torch.Tensor, event: torch.Tensor, n_intervals: int) -> torch.Tensor:
    """(n, K+1) bool: the intervals consistent with each patient's observation."""
    cols = torch.arange(n_intervals, device=bins.device)[None, :]
    return torch.where(event[:, None], cols == bins[:, None], cols >= bins[:, None])


def _interval_scores(logits: torch.Tensor) -> torch.Tensor:
    """(..., K) per-time-point scores f_k -> (..., K+1) interval scores sum_{k >= j} f_k (last = 0).

    A reversed cumulative sum: O(K) per patient (a product with the (K, K+1) triangle of ones is
    O(K^2) and was most of the fitting time on data with many time points).
    """
    tail = torch.flip(torch.cumsum(torch.flip(logits, [-1]), -1), [-1])
    return torch.cat([tail, torch.zeros_like(logits[..., :1])], dim=-1)


def mtlr_log_likelihood(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-patient MTLR log-likelihood (Yu et al. 2011, Eq. 3; censored rows sum over later intervals).

    Args:
        logits: (..., n, K) scores f_k(x_i); mask: (n, K+1) from the patient's interval and event
            (bool, or its log: 0 where allowed and -inf elsewhere, which saves a step per call).

    Returns:
        (..., n) log-likelihoods.
    """
    scores = _interval_scores(logits)
    log_mask = mask if mask.dtype != torch.bool else _log_mask(mask, scores.dtype)
    return torch.logsumexp(scores + log_mask, dim=-1) - torch.logsumexp(scores, dim=-1)


def _log_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """0 where `mask` is True, -inf elsewhere."""
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, float("-inf"))


def _survival_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """(n, K) logits -> (n, K) survival probabilities S(tau_k) = P(interval > k)."""
    probs = torch.softmax(_interval_scores(logits), dim=-1)
    tail = torch.flip(torch.cumsum(torch.flip(probs, [-1]), -1), [-1])  # P(interval >= j)
    return tail[..., 1:]


def _init_linear(layer: nn.Linear, generator: torch.Generator | None) -> None:
    """torch's default `nn.Linear` initialisation, drawn from `generator` (no global RNG)."""
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
        layer.bias.uniform_(-bound, bound, generator=generator)


class MTLRNet(nn.Module):
    """An optional MLP followed by the MTLR layer: (n, d) features -> (n, K) logits f_k(x).

    Args:
        generator: draws the initial weights (torch's default scheme); None: a generator seeded 0.
    """

    def __init__(
        self,
        n_features: int,
        n_times: int,
        hidden: tuple[int, ...] = (),
        dropout: float = 0.0,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        widths = [n_features, *hidden]
        self.body = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.mtlr = nn.Linear(widths[-1], n_times)
        self.dropout = dropout
        for layer in [*self.body, self.mtlr]:
            _init_linear(layer, generator)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits; in training mode dropout masks are drawn from `generator` (CPU) when given."""
        for layer in self.body:
            x = torch.relu(layer(x))
            if self.training and self.dropout > 0:
                if generator is None:
                    x = nn.functional.dropout(x, self.dropout, training=True)
                else:
                    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= self.dropout
                    x = x * keep.to(x.device) / (1.0 - self.dropout)
        return self.mtlr(x)


class MTLR(SurvivalModel):
    """Linear MTLR as a scikit-survival estimator.

    Args: see `MTLRConfig` (same names and defaults); `hidden` non-empty gives the neural variant.

    Attributes (after fit):
        time_grid_: (K,) the time points tau_k.
        c1_: the L2 weight used (chosen by CV when ``c1=None``); cv_scores_: {C1: held-out mean
            log-likelihood} when CV ran.
        net_: the fitted `MTLRNet`; n_iter_: optimiser iterations/epochs of the final fit.

    Example:
        >>> model = MTLR().fit(X_train, y_train)
        >>> curves = model.predict_survival_function(X_test)   # SurvivalCurves
        >>> curves.median_survival_time()
    """

    def __init__(
        self,
        n_bins: int | None = None,
        c1: float | None = None,
        c1_grid: tuple[float, ...] = C1_GRID,
        cv_folds: int = 5,
        optimizer: str = "lbfgs",
        max_iter: int = 500,
        tol: float = 1e-5,
        lr: float = 0.01,
        batch_size: int | None = None,
        patience: int = 20,
        validation_fraction: float = 0.2,
        hidden: tuple[int, ...] = (),
        dropout: float = 0.0,
        grid_end: str = "last_event",
        tail: str = "linear",
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.n_bins = n_bins
        self.c1 = c1
        self.c1_grid = c1_grid
        self.cv_folds = cv_folds
        self.optimizer = optimizer
        self.max_iter = max_iter
        self.tol = tol
        self.lr = lr
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.hidden = hidden
        self.dropout = dropout
        self.grid_end = grid_end
        self.tail = tail
        self.seed = seed
        self.device = device

    @property
    def config(self) -> MTLRConfig:
        params = self.get_params()
        params["c1_grid"] = tuple(params["c1_grid"])
        params["hidden"] = tuple(params["hidden"])
        return MTLRConfig(**params)

    def fit(
        self,
        X: object,
        y: np.ndarray,
        *,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 10,
        callback: Any = None,
    ) -> MTLR:
        """Fit on (n, d) numeric features and a structured survival target.

        Args:
            checkpoint: Adam training only: a file to save progress to every `checkpoint_every`
                epochs and to resume from when it exists. Resuming follows the workspace's one
                rule: the configuration must equal the saved one except `max_iter`, which may grow.
            callback: Adam training only: ``callback(epoch, record)`` after every epoch (``record``:
                that epoch's entry of ``history_``).

        Raises:
            InputError: bad features or target, unknown optimiser, too few rows.
            CheckpointMismatchError: `checkpoint` was saved under another configuration.
        """
        from survival.train import fit_mtlr

        config = self.config
        if config.optimizer not in ("lbfgs", "adam"):
            raise InputError("unknown optimizer", item=repr(config.optimizer), expected="'lbfgs' or 'adam'")
        features = check_features_array(X)
        event, time = event_time(y)
        if features.shape[0] != event.size:
            raise InputError(
                "features and target have different numbers of rows",
                item=f"{features.shape[0]} vs {event.size}",
            )
        if config.grid_end not in ("last_event", "max_time"):
            raise InputError(
                "unknown grid_end", item=repr(config.grid_end), expected="'last_event' or 'max_time'"
            )
        if config.tail not in ("linear", "exponential"):
            raise InputError("unknown tail", item=repr(config.tail), expected="'linear' or 'exponential'")
        grid = mtlr_time_grid(time, event, config.n_bins)
        if config.grid_end == "max_time" and time.max() > grid[-1]:
            grid = np.append(grid, time.max())
        self.time_grid_ = grid
        result = fit_mtlr(
            features,
            time,
            event,
            self.time_grid_,
            config,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            callback=callback,
        )
        self.net_ = result.net
        self.c1_ = result.c1
        self.cv_scores_ = result.cv_scores
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.history_ = result.history
        self.n_features_in_ = features.shape[1]
        return self

    @property
    def unique_times_(self) -> np.ndarray:
        """(K,) the time points of the curves (scikit-survival's name): `time_grid_`."""
        return self.time_grid_

    def predict_logits(self, X: object) -> np.ndarray:
        """(n, K) MTLR scores f_k(x)."""
        self._check_fitted()
        features = check_features_array(X, self.n_features_in_)
        param = next(self.net_.parameters())
        self.net_.eval()
        with torch.no_grad():
            return self.net_(torch.as_tensor(features, dtype=param.dtype, device=param.device)).cpu().numpy()

    def _predict_curves(self, X: np.ndarray) -> SurvivalCurves:
        logits = torch.as_tensor(self.predict_logits(X), dtype=torch.float64)
        surv = _survival_from_logits(logits).numpy()
        return SurvivalCurves.from_arrays(
            np.concatenate([[0.0], self.time_grid_]),
            np.concatenate([np.ones((surv.shape[0], 1)), surv], axis=1),
            tail=self.tail,
        )

    def save(self, path: str | Path, *, preprocessor: Any = None) -> Path:
        """Write the fitted model (weights, time grid, C1, configuration) to a safetensors file.

        Args:
            preprocessor: a fitted `survival.Preprocessor` whose state is stored with the model,
                so that `load` gives back a model that predicts from raw tables (``preprocessor_``).
        """
        self._check_fitted()
        state = {"net": self.net_.state_dict(), "time_grid": torch.as_tensor(self.time_grid_)}
        extra = {"c1": self.c1_, "n_features": self.n_features_in_, "class": type(self).__name__}
        if preprocessor is not None:
            extra["preprocessor"] = preprocessor.state()
        return save_checkpoint(path, state, self.config, extra=extra)

    @classmethod
    def load(cls, path: str | Path) -> MTLR:
        """Read a model written by `save` (``preprocessor_`` is the stored `Preprocessor` or None).

        Raises:
            InputError: a missing, damaged or foreign file (named).
        """
        checkpoint = load_checkpoint(path, MTLRConfig)
        if "n_features" not in checkpoint.extra or "time_grid" not in checkpoint.state:
            raise InputError("not an MTLR model file", item=str(path))
        model = cls(**asdict(checkpoint.config))
        grid = checkpoint.state["time_grid"].numpy()
        net = MTLRNet(
            checkpoint.extra["n_features"], grid.size, checkpoint.config.hidden, checkpoint.config.dropout
        )
        net.to(next(iter(checkpoint.state["net"].values())).dtype)
        load_state_into(net, checkpoint.state["net"], source=path)
        model.net_, model.time_grid_ = net, grid
        model.c1_, model.n_features_in_ = checkpoint.extra["c1"], checkpoint.extra["n_features"]
        model.cv_scores_, model.n_iter_, model.converged_, model.history_ = {}, 0, True, []
        model.preprocessor_ = None
        if "preprocessor" in checkpoint.extra:
            from survival.preprocess import Preprocessor

            model.preprocessor_ = Preprocessor.from_state(checkpoint.extra["preprocessor"])
        return model


class NeuralMTLR(MTLR):
    """MTLR with an MLP in front of the MTLR layer, trained with Adam and early stopping.

    Defaults: one hidden layer of 64 ReLU units, dropout 0.1, C1 = 1 on the MTLR layer.
    """

    def __init__(
        self,
        n_bins: int | None = None,
        c1: float | None = 1.0,
        c1_grid: tuple[float, ...] = C1_GRID,
        cv_folds: int = 5,
        optimizer: str = "adam",
        max_iter: int = 500,
        tol: float = 1e-5,
        lr: float = 0.005,
        batch_size: int | None = None,
        patience: int = 20,
        validation_fraction: float = 0.2,
        hidden: tuple[int, ...] = (64,),
        dropout: float = 0.1,
        grid_end: str = "last_event",
        tail: str = "linear",
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(
            n_bins=n_bins,
            c1=c1,
            c1_grid=c1_grid,
            cv_folds=cv_folds,
            optimizer=optimizer,
            max_iter=max_iter,
            tol=tol,
            lr=lr,
            batch_size=batch_size,
            patience=patience,
            validation_fraction=validation_fraction,
            hidden=hidden,
            dropout=dropout,
            grid_end=grid_end,
            tail=tail,
            seed=seed,
            device=device,
        )
