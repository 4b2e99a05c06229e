"""The estimator interface every survival model of the package shares (scikit-survival style)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from core.errors import InputError
from survival.curves import SurvivalCurves

__all__ = ["SurvivalModel", "check_features_array"]


def check_features_array(X: object, n_features: int | None = None) -> np.ndarray:
    """(n, p) float matrix from `X`; refuses NaN/inf (naming row and column) and wrong widths."""
    array = np.asarray(X, dtype=float) if not hasattr(X, "to_numpy") else X.to_numpy(dtype=float)  # type: ignore[attr-defined]
    if array.ndim != 2:
        raise InputError("features must be a 2-d array", item=f"shape {array.shape}")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        row, col = bad[0]
        raise InputError(
            "missing or infinite feature value (preprocess with survival.Preprocessor)",
            item=f"row {row}, column {col}",
        )
    if n_features is not None and array.shape[1] != n_features:
        raise InputError(
            "wrong number of feature columns", item=array.shape[1], expected=f"{n_features} as in fit"
        )
    return array


class SurvivalModel(BaseEstimator):
    """Base class: subclasses implement ``fit(X, y)`` and ``_predict_curves(X)``.

    Every model returns individual survival curves the same way, so every metric in
    `survival.metrics` applies to every model.
    """

    @abstractmethod
    def _predict_curves(self, X: np.ndarray) -> SurvivalCurves:
        """Curves for the rows of a checked feature matrix."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise InputError(f"{type(self).__name__} is not fitted yet", item="call fit(X, y) first")

    def predict_curves(self, X: object) -> SurvivalCurves:
        """Individual survival curves for the rows of `X` ((n, p) numeric)."""
        self._check_fitted()
        return self._predict_curves(check_features_array(X, self.n_features_in_))

    @property
    def unique_times_(self) -> np.ndarray:
        """(m,) the time points of the predicted curves (scikit-survival's name)."""
        return self.times_

    def predict_survival_function(self, X: object, return_array: bool = False) -> np.ndarray:
        """Survival functions of the rows of `X`, as scikit-survival's estimators return them.

        Returns:
            an (n,) object array of `SurvivalFunction` (callable on times, with ``x`` and ``y`` as
            scikit-survival's `StepFunction`), or with ``return_array=True`` the (n, m) survival
            probabilities at ``unique_times_``. `predict_curves` gives the `SurvivalCurves`.
        """
        curves = self.predict_curves(X)
        if return_array:
            return curves.survival_at(self.unique_times_)
        return curves.functions(self.unique_times_)

    def plot_survival_function(
        self, X: object, *, ax: Any = None, labels: list[str] | None = None, time_unit: str = "time units"
    ) -> Any:
        """Plot the curves of the rows of `X` on `ax` (a new `core.new_figure` axis when None).

        Returns:
            the matplotlib ``Axes``.
        """
        return self.predict_curves(X).plot(ax=ax, labels=labels, time_unit=time_unit)

    def predict(self, X: object) -> np.ndarray:
        """(n,) risk score: minus the mean survival time of each curve (higher = earlier event)."""
        return -self.predict_curves(X).mean_survival_time()

    def predict_median(self, X: object) -> np.ndarray:
        """(n,) median survival time of each curve."""
        return self.predict_curves(X).median_survival_time()

    def score(self, X: object, y: np.ndarray) -> float:
        """Harrell's concordance of `predict(X)` with `y`, as scikit-survival estimators score."""
        from survival.metrics import concordance_harrell
        from survival.target import event_time

        event, time = event_time(y)
        return concordance_harrell(event, time, self.predict(X))
