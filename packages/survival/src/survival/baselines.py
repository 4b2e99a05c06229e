"""The ISD baselines of Haider et al. (JMLR 2020, Section 3), wrapping scikit-survival and lifelines.

* `KaplanMeier`: the population curve, the same for every patient (Kaplan & Meier 1958).
* `CoxKP`: Cox proportional hazards (scikit-survival, Efron ties) with the Kalbfleisch-Prentice
  baseline survival (Kalbfleisch & Prentice 2002, Section 4.3).
* `CoxElasticNetKP`: elastic-net Cox (scikit-survival's coxnet path; the penalty strength picked by
  internal cross-validated concordance) with the Kalbfleisch-Prentice baseline.
* `WeibullAFT`: Weibull accelerated failure time model (lifelines).
* `RandomSurvivalForestKM`: random survival forest whose leaves hold Kaplan-Meier curves,
  averaged over trees (scikit-survival).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from core.errors import InputError
from survival.base import SurvivalModel, check_features_array
from survival.curves import SurvivalCurves
from survival.target import event_time

__all__ = [
    "CoxElasticNetKP",
    "CoxKP",
    "KaplanMeier",
    "RandomSurvivalForestKM",
    "WeibullAFT",
    "kalbfleisch_prentice_baseline",
]


def _fit_inputs(X: object, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    features = check_features_array(X)
    event, time = event_time(y)
    if features.shape[0] != event.size:
        raise InputError(
            "features and target have different numbers of rows", item=f"{features.shape[0]} vs {event.size}"
        )
    if event.size < 2:
        raise InputError("too few rows to fit a model", item=f"{event.size} row(s)", expected="at least 2")
    return features, event, time


def kalbfleisch_prentice_baseline(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, *, iterations: int = 80
) -> tuple[np.ndarray, np.ndarray]:
    """Kalbfleisch-Prentice baseline survival of a fitted Cox model.

    At each distinct event time ``t_j`` with deaths ``D_j`` and risk set ``R_j`` the conditional
    survival ``alpha_j`` solves ``sum_{i in D_j} r_i / (1 - alpha_j^{r_i}) = sum_{l in R_j} r_l``
    (the nonparametric maximum likelihood; closed form ``(1 - r_i / sum_R r)^(1/r_i)`` for a single
    death), and ``S_0(t) = prod_{t_j <= t} alpha_j``; a patient's curve is ``S_0(t)^{r(x)}``.

    Args:
        time, event: (n,) training outcomes; risk: (n,) relative risks ``r_i = exp(x_i . beta)``.

    Returns:
        ``(event_times (k,), baseline_survival (k,))``.
    """
    tm = np.asarray(time, dtype=float)
    ev = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    times = np.unique(tm[ev])
    # risk-set sums: sum of r over patients with time >= t_j
    order = np.argsort(tm)
    sorted_t, sorted_r = tm[order], r[order]
    suffix = np.concatenate([np.cumsum(sorted_r[::-1])[::-1], [0.0]])
    risk_sum = suffix[np.searchsorted(sorted_t, times, side="left")]
    group = np.searchsorted(times, tm[ev])
    r_dead = r[ev]
    lo = np.zeros(times.size)
    hi = np.ones(times.size)
    with np.errstate(over="ignore", divide="ignore"):  # huge r / tiny (1 - alpha^r) is +inf: fine
        # bisection, vectorised over event times; the left side increases in alpha
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            lhs = np.bincount(
                group, weights=r_dead / np.maximum(1.0 - mid[group] ** r_dead, 1e-300), minlength=times.size
            )
            too_big = lhs > risk_sum
            hi = np.where(too_big, mid, hi)
            lo = np.where(too_big, lo, mid)
    alpha = 0.5 * (lo + hi)
    single = np.bincount(group, minlength=times.size) == 1
    if single.any():  # exact closed form where one patient dies
        r_single = np.zeros(times.size)
        np.add.at(r_single, group, r_dead)
        ratio = np.clip(1.0 - r_single[single] / risk_sum[single], 0.0, 1.0)
        alpha[single] = ratio ** (1.0 / r_single[single])
    return times, np.cumprod(alpha)


class KaplanMeier(SurvivalModel):
    """The Kaplan-Meier curve of the training patients, predicted for everyone (scikit-survival)."""

    def fit(self, X: object, y: np.ndarray) -> KaplanMeier:
        from sksurv.nonparametric import kaplan_meier_estimator

        features, event, time = _fit_inputs(X, y)
        self.times_, self.survival_ = kaplan_meier_estimator(event, time)
        self.n_features_in_ = features.shape[1]
        return self

    def _predict_curves(self, X: np.ndarray) -> SurvivalCurves:
        return SurvivalCurves.from_arrays(
            self.times_, np.broadcast_to(self.survival_, (X.shape[0], self.survival_.size))
        )


class _CoxKPCurves(SurvivalModel):
    def _set_baseline(self, features: np.ndarray, event: np.ndarray, time: np.ndarray) -> None:
        eta = self._linear_predictor(features)
        self.eta_mean_ = float(eta.mean())
        self.times_, self.baseline_survival_ = kalbfleisch_prentice_baseline(
            time, event, np.exp(eta - self.eta_mean_)
        )
        self.n_features_in_ = features.shape[1]

    def _linear_predictor(self, features: np.ndarray) -> np.ndarray:
        return features @ self.coef_

    def _predict_curves(self, X: np.ndarray) -> SurvivalCurves:
        rel = np.exp(self._linear_predictor(X) - self.eta_mean_)
        base = np.clip(self.baseline_survival_, 0.0, 1.0)
        return SurvivalCurves.from_arrays(self.times_, base[None, :] ** rel[:, None])


class CoxKP(_CoxKPCurves):
    """Cox proportional hazards with the Kalbfleisch-Prentice baseline (``coxkp`` in the paper).

    Args:
        alpha: ridge penalty of scikit-survival's `CoxPHSurvivalAnalysis` (a small value keeps
            the fit stable on collinear one-hot columns).
        ties: "efron" or "breslow".
    """

    def __init__(self, alpha: float = 1e-4, ties: str = "efron") -> None:
        self.alpha = alpha
        self.ties = ties

    def fit(self, X: object, y: np.ndarray) -> CoxKP:
        from sksurv.linear_model import CoxPHSurvivalAnalysis

        features, event, time = _fit_inputs(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CoxPHSurvivalAnalysis(alpha=self.alpha, ties=self.ties, n_iter=200).fit(features, y)
        self.coef_ = np.asarray(model.coef_, dtype=float)
        self._set_baseline(features, event, time)
        return self


class CoxElasticNetKP(_CoxKPCurves):
    """Elastic-net Cox with the Kalbfleisch-Prentice baseline (``coxen-kp`` in the paper).

    The penalty strength is chosen from scikit-survival's coxnet path by `cv_folds`-fold internal
    cross-validation of Harrell's concordance (the largest strength within one standard error of
    the best is not used: the best mean wins).

    Args:
        l1_ratio: elastic-net mixing (1 = lasso); n_alphas: length of the path.
    """

    def __init__(self, l1_ratio: float = 0.5, n_alphas: int = 30, cv_folds: int = 5, seed: int = 0) -> None:
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.cv_folds = cv_folds
        self.seed = seed

    def fit(self, X: object, y: np.ndarray) -> CoxElasticNetKP:
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        from survival.metrics import concordance_harrell

        features, event, time = _fit_inputs(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = CoxnetSurvivalAnalysis(
                l1_ratio=self.l1_ratio, n_alphas=self.n_alphas, alpha_min_ratio=0.01
            ).fit(features, y)
            alphas = path.alphas_
            folds = StratifiedKFold(n_splits=self.cv_folds, shuffle=True, random_state=self.seed)
            scores = np.zeros((self.cv_folds, alphas.size))
            for f, (train, held) in enumerate(folds.split(features, event)):
                model = CoxnetSurvivalAnalysis(l1_ratio=self.l1_ratio, alphas=alphas).fit(
                    features[train], y[train]
                )
                for a, alpha in enumerate(model.alphas_):
                    risk = model.predict(features[held], alpha=alpha)
                    try:
                        scores[f, a] = concordance_harrell(event[held], time[held], risk)
                    except InputError:
                        scores[f, a] = 0.5
        mean = scores.mean(axis=0)
        best = int(np.argmax(mean))
        self.alpha_ = float(alphas[best])
        self.cv_scores_ = dict(zip(alphas.tolist(), mean.tolist()))
        self.coef_ = np.asarray(path.coef_[:, best], dtype=float)
        self._set_baseline(features, event, time)
        return self


class WeibullAFT(SurvivalModel):
    """Weibull accelerated failure time model (lifelines `WeibullAFTFitter`), ``aft`` in the paper.

    ``S(t | x) = exp(-(t / lambda(x))^rho)`` with ``log lambda(x) = beta . x + b``.

    Args:
        penalizer: lifelines' L2 penalty (a little keeps the fit stable on one-hot columns).
        n_times: points of the curve grid (up to the largest training time).
    """

    def __init__(self, penalizer: float = 0.01, n_times: int = 100) -> None:
        self.penalizer = penalizer
        self.n_times = n_times

    def fit(self, X: object, y: np.ndarray) -> WeibullAFT:
        """Fit on times divided by their median (AFT models are scale-equivariant, and unit-scale
        durations help lifelines' optimiser); if the fit does not converge (many features, few
        rows) the penalty is multiplied by 10, up to three times. ``penalizer_`` is the one used.

        Raises:
            InputError: when even the strongest penalty does not converge.
        """
        from lifelines import WeibullAFTFitter
        from lifelines.exceptions import ConvergenceError

        features, event, time = _fit_inputs(X, y)
        self.time_scale_ = float(np.median(time[time > 0])) if (time > 0).any() else 1.0
        frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(features.shape[1])])
        frame["T"] = (
            np.maximum(time, 1e-3 * max(time.max(), 1e-12)) / self.time_scale_
        )  # lifelines needs T > 0
        frame["E"] = event.astype(int)
        penalizer = self.penalizer
        for attempt in range(4):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.fitter_ = WeibullAFTFitter(penalizer=penalizer).fit(
                        frame, duration_col="T", event_col="E"
                    )
                break
            except ConvergenceError as exc:
                if attempt == 3:
                    raise InputError("Weibull AFT did not converge", item=f"penalizer {penalizer}") from exc
                penalizer = max(penalizer, 1e-3) * 10.0
        self.penalizer_ = penalizer
        self.times_ = np.linspace(0.0, float(time.max()), self.n_times + 1)[1:]
        self.n_features_in_ = features.shape[1]
        return self

    def _predict_curves(self, X: np.ndarray) -> SurvivalCurves:
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        scaled = self.times_ / self.time_scale_
        surv = self.fitter_.predict_survival_function(frame, times=scaled).to_numpy().T
        return SurvivalCurves.from_arrays(self.times_, surv)


class RandomSurvivalForestKM(SurvivalModel):
    """Random survival forest with Kaplan-Meier leaves (``rsf-km`` in the paper; scikit-survival).

    Args: as scikit-survival's `RandomSurvivalForest` (the paper used 1000 trees; fewer are fine
        for curves averaged this smoothly).
    """

    def __init__(
        self,
        n_estimators: int = 100,
        min_samples_leaf: int = 15,
        max_features: str | float = "sqrt",
        n_jobs: int | None = None,
        seed: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.seed = seed

    def fit(self, X: object, y: np.ndarray) -> RandomSurvivalForestKM:
        from sksurv.ensemble import RandomSurvivalForest

        features, _, _ = _fit_inputs(X, y)
        self.forest_ = RandomSurvivalForest(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=self.seed,
            low_memory=False,
        ).fit(features, y)
        self.times_ = self.forest_.unique_times_
        self.n_features_in_ = features.shape[1]
        return self

    def _predict_curves(self, X: np.ndarray) -> SurvivalCurves:
        surv = self.forest_.predict_survival_function(X, return_array=True)
        return SurvivalCurves.from_arrays(self.forest_.unique_times_, surv)
