"""Named 2-D toy densities for the CNF (the FFJORD paper's kind), sampled from a seed and standardised.

``moons`` and ``circles`` are scikit-learn's (noise 0.05); ``eight-gaussians`` is eight Gaussians
(sd 0.1 before scaling) on a circle of radius 2; ``checkerboard`` is uniform on the black squares
of a 4 x 4 board on [-2, 2]^2. Numpy (and scikit-learn) only.
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError

__all__ = ["DENSITIES", "sample_density"]

DENSITIES = ("moons", "circles", "eight-gaussians", "checkerboard")
"""The names `sample_density` (and ``genmodels fit-cnf --data``) take."""


def _raw(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if name in ("moons", "circles"):
        from sklearn.datasets import make_circles, make_moons

        maker = make_moons if name == "moons" else make_circles
        extra = {} if name == "moons" else {"factor": 0.5}
        return maker(n, noise=0.05, random_state=int(rng.integers(2**31)), **extra)[0]
    if name == "eight-gaussians":
        angles = rng.integers(8, size=n) * (np.pi / 4)
        centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], 1)
        return centres + rng.normal(0.0, 0.1, (n, 2))
    x = rng.uniform(-2, 2, n)
    return np.stack([x, _checker_y(x, rng)], 1)


def _checker_y(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """y uniform on the squares ``floor(x) + floor(y)`` even, within [-2, 2]."""
    row = 2 * rng.integers(2, size=len(x)) + (np.floor(x).astype(int) % 2)  # 0..3: squares of matching parity
    return -2 + row + rng.uniform(0, 1, len(x))


def sample_density(name: str, n: int, seed: int = 0) -> np.ndarray:
    """``(n, 2)`` float32 points of the named density, standardised to mean 0 and sd 1 per coordinate.

    Raises:
        InputError: unknown name or n < 2.
    """
    if name not in DENSITIES:
        raise InputError("unknown 2-D density", item=name, expected=", ".join(DENSITIES))
    if n < 2:
        raise InputError("need at least 2 points", item=n)
    points = _raw(name, n, np.random.default_rng(seed))
    return ((points - points.mean(0)) / points.std(0)).astype(np.float32)
