"""Individual survival curves on a time grid: interpolation, median and mean survival time.

Every model of the package returns its predictions as a `SurvivalCurves`, so every metric applies
to every model. Following Haider et al. (JMLR 2020, Section 3), a curve is the piecewise-linear
interpolation of its grid points and, past the last grid point, continues along the straight line
from ``(0, 1)`` through ``(t_last, S(t_last))`` until it reaches zero (``tail="linear"``).

``tail="exponential"`` instead continues with the mean hazard of the last fifth of the grid,
``S(t) = S(t_last) exp(-lambda (t - t_last))``: the linear line is slow to fall when a curve is still
high at the end of the grid (a grid that ends at the last event time, most patients still alive),
and sends its medians far past any observed time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["SurvivalCurves", "SurvivalFunction"]

# Smallest drop ``1 - S(t_last)`` used when extrapolating: a curve that never leaves 1 has an
# infinite extrapolated median/mean; this floor keeps them finite (and very large).
_MIN_DROP = 1e-6
TAILS = ("linear", "exponential")


@dataclass(frozen=True)
class SurvivalCurves:
    """Survival probabilities of ``n`` patients on a shared grid of ``m`` time points.

    Attributes:
        times: (m,) float, strictly increasing, ``times[0] == 0`` (added on construction when absent).
        probs: (n, m) float in [0, 1], non-increasing along each row, ``probs[:, 0] == 1``.

    Construct with `SurvivalCurves.from_arrays`, which validates, prepends ``(0, 1)`` and
    enforces monotonicity (a running minimum) so that every curve is a proper survival function.
    """

    times: np.ndarray
    probs: np.ndarray
    tail: str = "linear"

    @classmethod
    def from_arrays(cls, times: np.ndarray, probs: np.ndarray, tail: str = "linear") -> SurvivalCurves:
        """Validate and normalise a grid and its probabilities.

        Args:
            times: (m,) non-negative, strictly increasing time points (units of the data).
            probs: (n, m) survival probabilities at `times` (a 1-d array is one patient).

        Raises:
            InputError: on shape mismatch, unsorted or negative times, NaN probabilities.
        """
        grid = np.asarray(times, dtype=float).reshape(-1)
        values = np.atleast_2d(np.asarray(probs, dtype=float))
        if values.shape[1] != grid.size:
            raise InputError(
                "survival probabilities do not match the time grid",
                item=f"probs shape {values.shape}, {grid.size} times",
                expected="probs of shape (n_patients, n_times)",
            )
        if grid.size == 0:
            raise InputError("empty time grid", item="times", expected="at least one time point")
        if not np.all(np.isfinite(grid)) or grid[0] < 0 or np.any(np.diff(grid) <= 0):
            raise InputError("time grid must be finite, non-negative and strictly increasing", item="times")
        if np.isnan(values).any():
            row = int(np.argwhere(np.isnan(values))[0, 0])
            raise InputError("survival probabilities contain NaN", item=f"patient row {row}")
        values = np.clip(values, 0.0, 1.0)
        if grid[0] > 0:
            grid = np.concatenate([[0.0], grid])
            values = np.concatenate([np.ones((values.shape[0], 1)), values], axis=1)
        else:
            values = values.copy()
            values[:, 0] = 1.0
        values = np.minimum.accumulate(values, axis=1)
        if tail not in TAILS:
            raise InputError("unknown tail", item=repr(tail), expected=f"one of {TAILS}")
        return cls(times=grid, probs=values, tail=tail)

    @property
    def n_patients(self) -> int:
        return int(self.probs.shape[0])

    def __len__(self) -> int:
        return self.n_patients

    def __getitem__(self, index: int | slice | np.ndarray) -> SurvivalCurves:
        """The curves of a subset of patients (same grid)."""
        return SurvivalCurves(times=self.times, probs=np.atleast_2d(self.probs[index]), tail=self.tail)

    def _tail_slope(self) -> np.ndarray:
        """(n,) slope of the extrapolation line through (0, 1) and (t_last, S_last), positive."""
        drop = np.maximum(1.0 - self.probs[:, -1], _MIN_DROP)
        return drop / max(self.times[-1], np.finfo(float).tiny)

    def _tail_hazard(self) -> np.ndarray:
        """(n,) hazard of the exponential tail: the mean hazard over the last fifth of the grid.

        ``lambda = log(S(t_a) / S(t_last)) / (t_last - t_a)`` with ``t_a`` the last grid time at or
        before ``0.8 t_last`` (0 if none): a span, not the last interval alone, which can be
        arbitrarily short (a grid point added at the largest censoring time). Floored so that
        every curve reaches 0.
        """
        last_t = self.times[-1]
        a = int(np.searchsorted(self.times, 0.8 * last_t, side="right") - 1)
        a = min(max(a, 0), self.times.size - 2) if self.times.size > 1 else 0
        width = max(last_t - self.times[a], np.finfo(float).tiny)
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = np.log(self.probs[:, a] / self.probs[:, -1]) / width
        hazard = np.nan_to_num(hazard, nan=0.0, posinf=1e300)
        return np.maximum(hazard, _MIN_DROP / max(last_t, 1e-300))

    def _beyond(self, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Survival past the grid of the patients `rows` at times `t` (broadcast together)."""
        if self.tail == "exponential":
            return self.probs[rows, -1] * np.exp(-self._tail_hazard()[rows] * (t - self.times[-1]))
        return np.clip(1.0 - self._tail_slope()[rows] * t, 0.0, None)

    def survival_at(self, t: np.ndarray | float) -> np.ndarray:
        """Survival probability of every patient at the common times `t`.

        Args:
            t: (k,) or scalar, times >= 0.

        Returns:
            (n, k) probabilities (linear interpolation, linear extrapolation past the grid).
        """
        query = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(query < 0) or np.isnan(query).any():
            raise InputError(
                "query times must be non-negative numbers", item=query[(query < 0) | np.isnan(query)][:3]
            )
        last = self.times[-1]
        inside = np.minimum(query, last)
        idx = np.clip(np.searchsorted(self.times, inside, side="right") - 1, 0, self.times.size - 2)
        if self.times.size == 1:
            values = np.repeat(self.probs[:, :1], query.size, axis=1)
        else:
            left_t, right_t = self.times[idx], self.times[idx + 1]
            frac = (inside - left_t) / (right_t - left_t)
            values = self.probs[:, idx] + (self.probs[:, idx + 1] - self.probs[:, idx]) * frac
        beyond = query > last
        if beyond.any():
            values[:, beyond] = self._beyond(np.arange(self.n_patients)[:, None], query[beyond][None, :])
        return values

    def survival_at_own_times(self, t: np.ndarray) -> np.ndarray:
        """Each patient's survival probability at their own time: ``S_i(t_i)``.

        Args:
            t: (n,) times >= 0, one per patient (e.g. event or censoring times).

        Returns:
            (n,) probabilities.
        """
        query = np.asarray(t, dtype=float).reshape(-1)
        if query.size != self.n_patients:
            raise InputError(
                "one time per patient expected", item=f"{query.size} times for {self.n_patients} curves"
            )
        rows = np.arange(self.n_patients)
        last = self.times[-1]
        inside = np.minimum(query, last)
        if self.times.size == 1:
            values = self.probs[:, 0].copy()
        else:
            idx = np.clip(np.searchsorted(self.times, inside, side="right") - 1, 0, self.times.size - 2)
            left_t, right_t = self.times[idx], self.times[idx + 1]
            frac = (inside - left_t) / (right_t - left_t)
            values = self.probs[rows, idx] + (self.probs[rows, idx + 1] - self.probs[rows, idx]) * frac
        beyond = query > last
        values[beyond] = self._beyond(rows[beyond], query[beyond])
        return values

    def quantile_time(self, level: float = 0.5) -> np.ndarray:
        """(n,) time at which each curve reaches survival probability `level` (0 < level < 1).

        Within the grid the crossing is found on the piecewise-linear curve; a curve that stays
        above `level` is extended along its extrapolation line (Haider et al. 2020, Section 3.1).
        """
        if not 0.0 < level < 1.0:
            raise InputError("quantile level must lie strictly between 0 and 1", item=level)
        below = self.probs <= level
        crosses = below.any(axis=1)
        first = np.argmax(below, axis=1)
        result = np.empty(self.n_patients)
        rows = np.flatnonzero(crosses)
        j = first[rows]
        # probs[:, 0] == 1 > level, so a crossing index is always >= 1
        s0, s1 = self.probs[rows, j - 1], self.probs[rows, j]
        t0, t1 = self.times[j - 1], self.times[j]
        result[rows] = t0 + (s0 - level) * (t1 - t0) / np.maximum(s0 - s1, np.finfo(float).tiny)
        rest = np.flatnonzero(~crosses)
        if self.tail == "exponential":
            result[rest] = self.times[-1] + np.log(self.probs[rest, -1] / level) / self._tail_hazard()[rest]
        else:
            result[rest] = (1.0 - level) / self._tail_slope()[rest]
        return result

    def median_survival_time(self) -> np.ndarray:
        """(n,) median survival time, the time where each curve crosses 0.5."""
        return self.quantile_time(0.5)

    def mean_survival_time(self) -> np.ndarray:
        """(n,) mean survival time: the area under each curve, extrapolation tail included.

        The area is exact for the piecewise-linear curve: trapezoids over the grid plus the
        triangle under the extrapolation line from ``t_last`` to where it reaches zero.
        """
        widths = np.diff(self.times)
        area = ((self.probs[:, 1:] + self.probs[:, :-1]) * 0.5 * widths).sum(axis=1)
        s_last = self.probs[:, -1]
        if self.tail == "exponential":
            return area + s_last / self._tail_hazard()
        zero_at = 1.0 / self._tail_slope()
        return area + 0.5 * s_last * np.maximum(zero_at - self.times[-1], 0.0)

    def functions(self, times: np.ndarray | None = None) -> np.ndarray:
        """(n,) object array of `SurvivalFunction`, one per patient, tabulated at `times`
        (default: the grid without its leading 0)."""
        points = self.times[1:] if times is None else np.asarray(times, dtype=float)
        values = self.survival_at(points)
        out = np.empty(self.n_patients, dtype=object)
        for i in range(self.n_patients):
            out[i] = SurvivalFunction(self[i], points, values[i])
        return out

    def plot(self, *, ax: Any = None, labels: list[str] | None = None, time_unit: str = "time units") -> Any:
        """Draw every curve (piecewise linear, extrapolation to 1.5x the last grid time).

        Args:
            ax: a matplotlib ``Axes``; None draws on a new `core.new_figure` (no pyplot state).
            labels: one legend label per curve (default: "patient i" for up to 10 curves).
            time_unit: the unit of the time axis, shown in its label.

        Returns:
            the ``Axes``.
        """
        if ax is None:
            from core.plots import new_figure

            ax = new_figure(5.0, 3.5).add_subplot()
        grid = np.linspace(0.0, 1.5 * self.times[-1], 300)
        names = labels or [f"patient {i + 1}" for i in range(self.n_patients)]
        for i, values in enumerate(self.survival_at(grid)):
            ax.plot(grid, values, linewidth=1.2, label=names[i] if i < len(names) else None)
        ax.axvline(self.times[-1], color="grey", linestyle=":", linewidth=0.8)
        ax.set_xlabel(f"time ({time_unit})")
        ax.set_ylabel("survival probability S(t | x)")
        ax.set_ylim(0.0, 1.02)
        if self.n_patients <= 10 or labels:
            ax.legend(fontsize=7)
        return ax


class SurvivalFunction:
    """One patient's survival function, used as scikit-survival's `StepFunction` is.

    ``fn(t)`` evaluates the curve (piecewise linear on the grid, the paper's extrapolation past
    it); ``x`` (m,) and ``y`` (m,) tabulate it at the model's ``unique_times_``, so recipes such as
    ``[fn(times) for fn in model.predict_survival_function(X)]`` and
    ``ax.step(fn.x, fn.y, where="post")`` work unchanged.
    """

    def __init__(self, curve: SurvivalCurves, x: np.ndarray, y: np.ndarray) -> None:
        self.curve = curve
        self.x = x
        self.y = y
        self.a, self.b = 1.0, 0.0
        self.domain = (0.0, float("inf"))

    def __call__(self, t: np.ndarray | float) -> np.ndarray:
        """Survival probability at `t` (scalar or (k,)): same shape as `t`."""
        values = self.curve.survival_at(t)[0]
        return values[0] if np.ndim(t) == 0 else values

    def __repr__(self) -> str:
        return f"SurvivalFunction(x={self.x!r}, y={self.y!r})"
