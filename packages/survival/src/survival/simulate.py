"""Simulated survival data with known true curves (for tests and examples)."""

from __future__ import annotations

import numpy as np

from survival.target import make_target

__all__ = ["simulate_exponential"]


def simulate_exponential(
    n: int,
    n_features: int = 3,
    *,
    censoring_rate: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exponential proportional-hazards data with known true survival curves.

    ``T | x ~ Exponential(rate = exp(x @ beta))``, ``x ~ N(0, I)``, ``beta = (1, -0.5, 0.25, ...)``
    (alternating, halving); independent censoring ``C ~ Exponential(censoring_rate)``; the observed
    time is ``min(T, C)``. The true curve of patient i is ``S_i(t) = exp(-t * exp(x_i @ beta))``.

    Returns:
        ``(X (n, d), y structured (n,), rates (n,), beta (d,))``; rates are the true hazards.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    beta = np.array([(-0.5) ** k for k in range(n_features)])
    rates = np.exp(X @ beta)
    t_event = rng.exponential(1.0 / rates)
    t_cens = rng.exponential(1.0 / censoring_rate, size=n) if censoring_rate > 0 else np.full(n, np.inf)
    time = np.minimum(t_event, t_cens)
    event = t_event <= t_cens
    return X, make_target(event, time), rates, beta
