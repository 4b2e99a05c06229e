"""The latent ODE's irregularly sampled 2-D spirals (Chen et al. 2018, sec. 5.1), generated from a seed.

Each spiral follows the Archimedean arc ``r(theta) = b * theta`` from a random start angle
``theta0``: counter-clockwise spirals ``(centre, 0) + r (cos theta, sin theta)`` with
``theta = theta0 + t``, clockwise ones their mirror image about the y axis,
``(-centre, 0) + r (-cos theta, sin theta)``, so the two directions turn opposite ways with the
same growth. Times are a grid ``t_j = j * dt``, ``j < samples + extrapolate``; each spiral shows
`observed` of the first `samples` grid points (drawn without replacement, sorted), with Gaussian
noise. The unobserved points between the first and last observation are where interpolation is scored, the grid after it where
extrapolation is (against the noise-free positions). Sizes and constants: torchdiffeq's
`examples/latent_ode.py` (6 pi / 999 rad steps, b = 0.3, centres at x = +-5, noise 0.3); its
clockwise spiral is a different curve (``r = 15 / theta``), ours its counter-clockwise one mirrored.
Numpy only, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genmodels.config import SpiralConfig

__all__ = ["SpiralConfig", "Spirals", "make_spirals"]


@dataclass(frozen=True)
class Spirals:
    """Spirals on a shared time grid.

    Attributes:
        times: ``(samples + extrapolate,)`` float, the grid (t_0 = 0, step dt).
        truth: ``(n, samples + extrapolate, 2)`` noise-free positions.
        noisy: ``(n, samples + extrapolate, 2)`` positions plus noise (only the observed ones are seen).
        observed: ``(n, k)`` int, each spiral's observed grid indices, sorted, all < samples.
        clockwise: ``(n,)`` bool.
        start_angle: ``(n,)`` theta0, radians.
        config: the generating config.
    """

    times: np.ndarray
    truth: np.ndarray
    noisy: np.ndarray
    observed: np.ndarray
    clockwise: np.ndarray
    start_angle: np.ndarray
    config: SpiralConfig

    def __len__(self) -> int:
        return len(self.truth)

    def observations(self) -> tuple[np.ndarray, np.ndarray]:
        """``(values (n, k, 2) float32, times (n, k) float32)``: what a model is given."""
        rows = np.arange(len(self))[:, None]
        return (
            self.noisy[rows, self.observed].astype(np.float32),
            self.times[self.observed].astype(np.float32),
        )

    def unobserved_window(self) -> np.ndarray:
        """``(n, samples)`` bool: grid points of the window a spiral does not show (where interpolation is scored)."""
        mask = np.ones((len(self), self.config.samples), dtype=bool)
        np.put_along_axis(mask, self.observed, False, axis=1)
        return mask

    def between_observations(self) -> np.ndarray:
        """``(n, samples)`` bool: the unobserved window points between a spiral's first and last observation
        (where interpolation is scored: before the first one an RNN has nothing to go on)."""
        index = np.arange(self.config.samples)
        inside = (index > self.observed[:, :1]) & (index < self.observed[:, -1:])
        return self.unobserved_window() & inside

    def subset(self, index: np.ndarray) -> Spirals:
        """The spirals at `index` (same grid and config)."""
        return Spirals(
            self.times,
            self.truth[index],
            self.noisy[index],
            self.observed[index],
            self.clockwise[index],
            self.start_angle[index],
            self.config,
        )

    @property
    def source(self) -> str:
        c = self.config
        return (
            f"{len(self)} spirals generated here (Chen et al. 2018 sec. 5.1 in kind: half clockwise, "
            f"{c.observed} of {c.samples} grid points observed per spiral, noise {c.noise:g}, "
            f"{c.extrapolate} points extrapolated)"
        )


def spiral_positions(angle: np.ndarray, clockwise: np.ndarray, config: SpiralConfig) -> np.ndarray:
    """Noise-free positions ``(..., 2)`` at angles `angle` ``(...)``; `clockwise` broadcasts against it."""
    radius = config.b * angle
    sign = np.where(clockwise, -1.0, 1.0)
    x = sign * (config.centre + radius * np.cos(angle))
    return np.stack([x, radius * np.sin(angle)], -1)


def make_spirals(config: SpiralConfig | None = None, seed: int = 0) -> Spirals:
    """`config.spirals` spirals from `seed` (directions, start angles, observed points and noise all from it);
    `config` defaults to `SpiralConfig()` (the paper's 1,000 spirals, all 100 points observed).

    Raises:
        InputError: through `SpiralConfig` (sizes, a grid that does not fit).
    """
    config = SpiralConfig() if config is None else config
    rng = np.random.default_rng(seed)
    n, length = config.spirals, config.samples + config.extrapolate
    times = np.arange(length) * config.dt
    low = config.samples * config.dt
    high = config.max_angle - length * config.dt
    start = rng.uniform(low, high, n)
    clockwise = rng.random(n) < 0.5
    truth = spiral_positions(start[:, None] + times[None, :], clockwise[:, None], config)
    noisy = truth + rng.normal(0.0, config.noise, truth.shape)
    observed = np.sort(
        np.stack([rng.choice(config.samples, config.observed, replace=False) for _ in range(n)]), 1
    )
    return Spirals(times, truth, noisy, observed, clockwise, start, config)
