"""Sequence data for the latent-dynamics models, generated here from a seed.

- `harmonic_oscillator`: TD-VAE's noisy harmonic oscillator (Gregor et al. 2019, sec. 5.2 in
  kind): a unit-frequency oscillator integrated exactly step by step, with Gaussian noise on the
  velocity at every step (so the future is uncertain and grows more so with the horizon) and on
  the observed position. Only the position is observed, so the velocity must be inferred from
  the history (what the belief network does).
- `moving_digits`: TD-VAE's moving MNIST in kind: an MNIST digit (area-downsampled to 14 x 14)
  on a 14 x 28 canvas, moving one pixel per step left or right (the direction drawn per
  sequence) and wrapping around the canvas edge. One frame says where the digit is, two say
  where it goes: predicting h steps ahead means shifting it by h pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError

__all__ = ["MovingDigits", "OscillatorData", "harmonic_oscillator", "moving_digits"]


@dataclass(frozen=True)
class OscillatorData:
    """Observed positions ``observations (n, time, 1)`` and the noise-free-observation positions ``positions (n, time)``."""

    observations: np.ndarray
    positions: np.ndarray
    period: float
    process_noise: float
    observation_noise: float

    @property
    def source(self) -> str:
        return (
            f"noisy harmonic oscillator generated here (period {self.period:g} steps, velocity noise "
            f"{self.process_noise:g}, observation noise {self.observation_noise:g}; {len(self.positions)} sequences "
            f"of {self.positions.shape[1]} steps)"
        )


def harmonic_oscillator(
    n: int,
    length: int,
    *,
    period: float = 20.0,
    process_noise: float = 0.02,
    observation_noise: float = 0.05,
    seed: int = 0,
) -> OscillatorData:
    """`n` sequences of `length` steps of a noisy oscillator with amplitude in [0.5, 1] and random phase.

    Per step the state ``(position, velocity / omega)`` rotates by ``omega = 2 pi / period`` (the
    exact solution of x'' = -omega^2 x over one step), then the scaled velocity receives
    ``N(0, process_noise^2)``; the observation is the position plus ``N(0, observation_noise^2)``.

    Raises:
        InputError: non-positive sizes, period or negative noise levels.
    """
    if n < 1 or length < 2 or not period > 0 or min(process_noise, observation_noise) < 0:
        raise InputError(
            "oscillator needs n >= 1, length >= 2, period > 0 and noise >= 0",
            item=(n, length, period, process_noise, observation_noise),
        )
    rng = np.random.default_rng(seed)
    omega = 2 * np.pi / period
    rotation = np.array([[np.cos(omega), np.sin(omega)], [-np.sin(omega), np.cos(omega)]])
    amplitude = rng.uniform(0.5, 1.0, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    state = np.stack([amplitude * np.cos(phase), -amplitude * np.sin(phase)], -1)
    positions = np.empty((n, length))
    for t in range(length):
        positions[:, t] = state[:, 0]
        state = state @ rotation.T
        state[:, 1] += rng.normal(0.0, process_noise, n)
    observations = positions + rng.normal(0.0, observation_noise, positions.shape)
    return OscillatorData(
        observations[..., None].astype(np.float32),
        positions.astype(np.float32),
        period,
        process_noise,
        observation_noise,
    )


@dataclass(frozen=True)
class MovingDigits:
    """Frames ``frames (n, time, 14, 28)`` float32 in [0, 1], the digit of each sequence and its direction (+1 right)."""

    frames: np.ndarray
    labels: np.ndarray
    directions: np.ndarray
    source: str

    def flat(self) -> np.ndarray:
        """Frames flattened for the vector models: ``(n, time, 14 * 28)``."""
        return self.frames.reshape(*self.frames.shape[:2], -1)


def moving_digits(
    images: np.ndarray, n: int, length: int, *, seed: int = 0, source: str = "images"
) -> MovingDigits:
    """`n` sequences of `length` frames, each a random digit of ``images (m, 1, 28, 28)`` moving sideways.

    Raises:
        InputError: images that are not ``(m, 1, 28, 28)``, or non-positive sizes.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise InputError("moving digits need MNIST-sized images (m, 1, 28, 28)", item=f"shape {images.shape}")
    if n < 1 or length < 2:
        raise InputError("moving digits need n >= 1 and length >= 2", item=(n, length))
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, len(images), n)
    small = images[chosen, 0].reshape(n, 14, 2, 14, 2).mean(axis=(2, 4))
    canvas = np.zeros((n, 14, 28), np.float32)
    start = rng.integers(0, 28, n)
    directions = rng.choice(np.array([-1, 1]), n)
    canvas[:, :, :14] = small
    frames = np.empty((n, length, 14, 28), np.float32)
    for i in range(n):
        for t in range(length):
            frames[i, t] = np.roll(canvas[i], int(start[i] + directions[i] * t), axis=1)
    return MovingDigits(
        frames,
        chosen,
        directions,
        f"moving digits built here from {source} ({n} sequences of {length} frames, 14 x 28, 1 pixel per step)",
    )
