"""Are adversarial examples inevitable? (Shafahi et al. 2019): concentration bounds, evaluated exactly.

On the unit sphere ``S^{n-1}`` (uniform measure ``mu``, geodesic distance) Levy's isoperimetric
inequality says spherical caps have the smallest eps-expansion among sets of the same measure. A
classifier's region for class ``c`` has measure ``f``; the points of it that are robust (no point
within geodesic ``eps`` gets another label) are the complement of the eps-expansion of the other
classes' region, so their measure is at most the measure of a cap of geodesic radius
``theta(f) - eps`` where ``cap(theta(f)) = f``. With class density at most ``U`` times the uniform
one, ``P(x correct and eps-robust | c) <= U * cap(theta(f) - eps)`` (`sphere_robust_bound`). The
cap measure is exact through the regularized incomplete beta function
(``mu{x_1 >= h} = I_{1-h^2}((n-1)/2, 1/2) / 2`` for ``h >= 0``). The paper's closed-form
upper bound for ``f = 1/2`` is ``U sqrt(pi/8) exp(-(n-1) eps^2 / 2)`` (`sphere_closed_form`).

On the unit cube ``[0, 1]^n`` with L2 distance the Gaussian isoperimetric inequality pushed through
the coordinate-wise normal CDF (Lipschitz ``1/sqrt(2 pi)``) gives robust mass at most
``U * Phi(Phi^{-1}(f) - sqrt(2 pi) eps)`` (`cube_robust_bound`), whose Mills-ratio upper bound for
``f = 1/2`` is the paper's ``U exp(-pi eps^2) / (2 pi eps)``; neither depends on ``n``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "cap_angle",
    "cap_measure",
    "cube_closed_form",
    "cube_robust_bound",
    "linear_sphere_robustness",
    "sample_sphere",
    "sphere_closed_form",
    "sphere_robust_bound",
]


def cap_measure(theta: np.ndarray | float, n: int) -> np.ndarray:
    """Normalised measure of a geodesic cap of radius ``theta`` (radians, any shape) on ``S^{n-1}`` in R^n.

    ``theta <= 0`` gives 0, ``theta >= pi`` gives 1. Exact: ``I_{sin^2 theta}((n-1)/2, 1/2) / 2`` for
    ``theta <= pi/2`` and one minus the complementary cap above.
    """
    from scipy.special import betainc

    if n < 2:
        raise ValueError(f"sphere dimension n must be >= 2, got {n}")
    t = np.clip(np.asarray(theta, dtype=float), 0.0, math.pi)
    small = 0.5 * betainc((n - 1) / 2, 0.5, np.sin(np.minimum(t, math.pi - t)) ** 2)
    return np.where(t <= math.pi / 2, small, 1.0 - small)


def cap_angle(f: float, n: int) -> float:
    """Geodesic radius ``theta`` (radians) of the cap of normalised measure ``f`` in [0, 1] on ``S^{n-1}``."""
    from scipy.optimize import brentq

    if not 0.0 <= f <= 1.0:
        raise ValueError(f"measure f must be in [0, 1], got {f}")
    if f in (0.0, 1.0):
        return math.pi * f
    return float(brentq(lambda t: float(cap_measure(t, n)) - f, 0.0, math.pi, xtol=1e-14))


def sphere_robust_bound(n: int, eps: np.ndarray | float, f: float = 0.5, u: float = 1.0) -> np.ndarray:
    """Upper bound on ``P(correct and eps-robust | class)``: ``min(1, u * cap(theta(f) - eps))``.

    ``n``: ambient dimension (sphere ``S^{n-1}``); ``eps``: geodesic radius (radians); ``f``: measure of
    the class's region; ``u``: sup of the class density relative to the uniform one.
    """
    return np.minimum(1.0, u * cap_measure(cap_angle(f, n) - np.asarray(eps, dtype=float), n))


def sphere_closed_form(n: int, eps: np.ndarray | float, u: float = 1.0) -> np.ndarray:
    """The paper's closed form for ``f = 1/2``: ``min(1, u sqrt(pi/8) exp(-(n-1) eps^2 / 2))``."""
    e = np.asarray(eps, dtype=float)
    return np.minimum(1.0, u * math.sqrt(math.pi / 8) * np.exp(-(n - 1) * e**2 / 2))


def cube_robust_bound(eps: np.ndarray | float, f: float = 0.5, u: float = 1.0) -> np.ndarray:
    """Bound on the unit cube under L2 ``eps``: ``min(1, u * Phi(Phi^{-1}(f) - sqrt(2 pi) eps))`` (any n)."""
    from scipy.stats import norm

    return np.minimum(1.0, u * norm.cdf(norm.ppf(f) - math.sqrt(2 * math.pi) * np.asarray(eps, dtype=float)))


def cube_closed_form(eps: np.ndarray | float, u: float = 1.0) -> np.ndarray:
    """The paper's cube bound for ``f = 1/2``: ``min(1, u exp(-pi eps^2) / (2 pi eps))`` (``eps > 0``)."""
    e = np.asarray(eps, dtype=float)
    return np.minimum(1.0, u * np.exp(-math.pi * e**2) / (2 * math.pi * e))


def sample_sphere(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(m, n)`` points uniform on ``S^{n-1}`` (normalised Gaussians)."""
    x = rng.standard_normal((m, n))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def linear_sphere_robustness(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, eps: np.ndarray
) -> np.ndarray:
    """Exact fraction of points correct and eps-robust (geodesic) under ``sign(w . x + b)`` on the sphere.

    ``x (m, n)`` unit vectors, ``y (m,)`` in {-1, +1}, ``eps (k,)`` radians -> ``(k,)``. The decision
    boundary on the sphere is the circle ``u . x = t`` (``u = w/|w|``, ``t = -b/|w|``), whose geodesic
    distance from ``x`` is ``|arcsin(u . x) - arcsin(t)|``; for ``|t| >= 1`` nothing is near it.
    """
    norm = float(np.linalg.norm(w))
    score = x @ (w / norm)
    t = -b / norm
    correct = np.sign(score - t) == y
    if abs(t) >= 1:
        distance = np.full(len(x), np.inf)
    else:
        distance = np.abs(np.arcsin(np.clip(score, -1, 1)) - math.asin(t))
    return np.array([float(np.mean(correct & (distance > e))) for e in np.asarray(eps, dtype=float)])
