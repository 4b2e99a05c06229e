"""Robustness may be at odds with accuracy (Tsipras et al. 2019): the paper's synthetic distribution.

``y`` uniform in {-1, +1}; ``x_1 = y`` with probability ``p`` else ``-y`` (robust, weakly correlated);
``x_2 .. x_{d+1} ~ N(eta y, 1)`` independently (non-robust, each weakly correlated, together
predictive). The adversary moves every coordinate by at most ``eps`` (L-inf). For a linear
classifier ``sign(w . x + b)`` the worst perturbation is ``-eps y sign(w)``, so
``y (w . x + b) - eps |w|_1`` decides robust correctness and, given ``y`` and ``x_1``, it is Gaussian
with mean ``w_1 y x_1 + eta sum(w_rest) + y b - eps |w|_1`` and sd ``|w_rest|_2``
(`linear_accuracy`, exact). The paper's examples: the averaging classifier ``w = (0, 1/d, ..., 1/d)``
has standard accuracy ``Phi(eta sqrt d)`` (> 99% for ``eta >= 3/sqrt d``) and robust accuracy
``Phi(-eta sqrt d)`` at ``eps = 2 eta``; ``sign(x_1)`` has accuracy ``p`` with or without the
adversary (``eps < 1``). Theorem 2.1: standard accuracy ``1 - delta`` allows robust accuracy at
most ``p delta / (1 - p)`` at ``eps >= 2 eta`` (`robust_accuracy_cap`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Distribution",
    "averaging_classifier",
    "fit_linear",
    "linear_accuracy",
    "paper_eta",
    "robust_accuracy_cap",
    "robust_feature_classifier",
    "sample",
    "simulated_accuracy",
]


@dataclass(frozen=True)
class Distribution:
    """Tsipras et al.'s distribution: ``d`` non-robust features of mean ``eta y``, robust ``x_1`` right w.p. ``p``."""

    d: int
    p: float
    eta: float

    def __post_init__(self) -> None:
        if self.d < 1 or not 0.5 <= self.p <= 1.0 or self.eta <= 0:
            raise ValueError(f"need d >= 1, p in [0.5, 1], eta > 0; got {self}")


def sample(dist: Distribution, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``x (m, d+1)`` and ``y (m,)`` in {-1, +1} drawn from ``dist``."""
    y = rng.choice(np.array([-1.0, 1.0]), size=m)
    flip = np.where(rng.random(m) < dist.p, 1.0, -1.0)
    x = np.empty((m, dist.d + 1))
    x[:, 0] = y * flip
    x[:, 1:] = dist.eta * y[:, None] + rng.standard_normal((m, dist.d))
    return x, y


def linear_accuracy(dist: Distribution, w: np.ndarray, b: float = 0.0, eps: float = 0.0) -> float:
    """Exact accuracy of ``sign(w . x + b)`` (``w (d+1,)``) under an L-inf adversary of radius ``eps``.

    Ties (score exactly 0) count as errors.
    """
    from scipy.stats import norm

    w = np.asarray(w, dtype=float)
    if w.shape != (dist.d + 1,):
        raise ValueError(f"w must have shape ({dist.d + 1},), got {w.shape}")
    rest = w[1:]
    sd = float(np.linalg.norm(rest))
    l1 = float(np.abs(w).sum())
    total = 0.0
    for y in (-1.0, 1.0):
        for agree, prob in ((1.0, dist.p), (-1.0, 1.0 - dist.p)):
            mean = w[0] * agree + dist.eta * rest.sum() + y * b - eps * l1
            hit = float(norm.cdf(mean / sd)) if sd > 0 else float(mean > 0)
            total += 0.5 * prob * hit
    return total


def simulated_accuracy(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float = 0.0, eps: float = 0.0
) -> float:
    """Accuracy of ``sign(w . x + b)`` on samples after the worst L-inf step ``x - eps y sign(w)``."""
    x_adv = x - eps * y[:, None] * np.sign(w)[None, :]
    return float(np.mean(y * (x_adv @ w + b) > 0))


def robust_accuracy_cap(dist: Distribution, standard_accuracy: float) -> float:
    """Theorem 2.1's cap ``min(1, p delta / (1 - p))`` on robust accuracy at ``eps >= 2 eta``."""
    if dist.p >= 1.0:
        return 1.0
    return min(1.0, dist.p * (1.0 - standard_accuracy) / (1.0 - dist.p))


def fit_linear(
    x: np.ndarray,
    y: np.ndarray,
    eps: float = 0.0,
    *,
    steps: int = 500,
    lr: float = 0.05,
    weight_decay: float = 0.0,
) -> tuple[np.ndarray, float]:
    """Logistic regression, standard (``eps = 0``) or adversarially trained against L-inf ``eps``.

    The inner maximisation is exact for a linear model: the loss is
    ``softplus(-(y (w . x + b) - eps |w|_1))``. Full-batch Adam from zero weights (deterministic).
    Returns ``(w (d+1,), b)``.
    """
    import torch

    xt = torch.as_tensor(x, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([w, b], lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        margin = yt * (xt @ w + b) - eps * w.abs().sum()
        loss = torch.nn.functional.softplus(-margin).mean()
        loss.backward()
        optimizer.step()
    return w.detach().numpy().copy(), float(b.detach())


def averaging_classifier(dist: Distribution) -> np.ndarray:
    """The paper's ``w = (0, 1/d, ..., 1/d)``."""
    return np.concatenate([[0.0], np.full(dist.d, 1.0 / dist.d)])


def robust_feature_classifier(dist: Distribution) -> np.ndarray:
    """The paper's robust classifier ``sign(x_1)``: ``w = (1, 0, ..., 0)``."""
    return np.concatenate([[1.0], np.zeros(dist.d)])


def paper_eta(d: int) -> float:
    """``eta = 3 / sqrt(d)``: the paper's example making the averaging classifier > 99% accurate."""
    return 3.0 / math.sqrt(d)
