"""Metrics against independent references: scikit-survival, lifelines, SurvivalEVAL, closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import SurvivalEVAL as survival_eval
from lifelines import KaplanMeierFitter
from lifelines.utils import concordance_index as lifelines_concordance
from sksurv.metrics import brier_score as sksurv_brier
from sksurv.metrics import concordance_index_censored, concordance_index_ipcw
from sksurv.metrics import integrated_brier_score as sksurv_ibs
from sksurv.util import Surv

from core.errors import InputError
from survival import metrics
from survival.curves import SurvivalCurves
from survival.simulate import simulate_exponential

warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="module")
def sample():
    """400 exponential patients, times rounded up to 0.1 so that ties occur, true curves on a grid."""
    X, y, rates, beta = simulate_exponential(400, seed=1)
    event = y["event"]
    time = np.ceil(y["time"] * 10) / 10
    risk = X @ beta + np.random.default_rng(0).normal(0.0, 0.5, size=400)
    grid = np.linspace(0.05, 6.0, 240)
    curves = SurvivalCurves.from_arrays(grid, np.exp(-grid[None, :] * rates[:, None]))
    assert len(np.unique(time)) < 400  # ties present
    return event, time, risk, curves


def test_harrell_matches_sksurv_and_lifelines_with_ties(sample):
    event, time, risk, _ = sample
    ours = metrics.concordance_harrell(event, time, risk)
    assert ours == pytest.approx(concordance_index_censored(event, time, risk)[0], abs=1e-12)
    assert ours == pytest.approx(lifelines_concordance(time, -risk, event), abs=1e-12)
    # tied risks count one half: a constant score gives exactly 0.5
    assert metrics.concordance_harrell(event, time, np.zeros(400)) == 0.5


def test_uno_matches_sksurv_ipcw(sample):
    event, time, risk, _ = sample
    train, test = slice(0, 200), slice(200, 400)
    tau = float(np.quantile(time[train], 0.8))
    ours = metrics.concordance_uno(event[test], time[test], risk[test], event[train], time[train], tau=tau)
    ref = concordance_index_ipcw(
        Surv.from_arrays(event[train], time[train]),
        Surv.from_arrays(event[test], time[test]),
        risk[test],
        tau=tau,
    )[0]
    assert ours == pytest.approx(ref, abs=1e-12)


def test_kaplan_meier_matches_lifelines(sample):
    event, time, _, _ = sample
    times, surv = metrics.kaplan_meier(time, event)
    ref = KaplanMeierFitter().fit(time, event).survival_function_at_times(times).to_numpy()
    np.testing.assert_allclose(surv, ref, atol=1e-12)


def test_brier_and_integrated_brier_match_sksurv(sample):
    event, time, _, curves = sample
    train, test = slice(0, 200), slice(200, 400)
    y_train, y_test = Surv.from_arrays(event[train], time[train]), Surv.from_arrays(event[test], time[test])
    grid = np.linspace(*np.quantile(time[test], [0.1, 0.8]), 30)
    predicted = curves[test].survival_at(grid)
    ours = metrics.brier_score(curves[test], event[test], time[test], grid, event[train], time[train])
    np.testing.assert_allclose(ours, sksurv_brier(y_train, y_test, predicted, grid)[1], atol=1e-12)
    ibs = metrics.integrated_brier_score(
        curves[test], event[test], time[test], event[train], time[train], times=grid
    )
    assert ibs == pytest.approx(sksurv_ibs(y_train, y_test, predicted, grid), abs=1e-12)


def test_d_calibration_matches_survivaleval(sample):
    event, time, _, curves = sample
    ours = metrics.d_calibration(curves, event, time)
    stat, p, hist = survival_eval.d_calibration(curves.survival_at_own_times(time), event.astype(int), 10)
    assert ours.statistic == pytest.approx(stat, rel=1e-10)
    assert ours.p_value == pytest.approx(p, rel=1e-8)
    np.testing.assert_allclose(ours.histogram, hist[::-1], atol=1e-9)  # theirs runs from S = 1 down
    assert ours.histogram.sum() == pytest.approx(400)


def test_d_calibration_brute_force_one_censored_patient():
    """A patient censored at S = 0.35 with 10 bins: 0.05/0.35 in bin 3, 0.1/0.35 in bins 0-2."""
    curves = SurvivalCurves.from_arrays(np.array([1.0, 2.0]), np.array([[0.7, 0.0]]))
    result = metrics.d_calibration(curves, np.array([False]), np.array([1.5]))
    expected = np.zeros(10)
    expected[3] = 0.05 / 0.35
    expected[:3] = 0.1 / 0.35
    np.testing.assert_allclose(result.histogram, expected, atol=1e-12)


def test_l1_hinge_and_margin_match_survivaleval(sample):
    event, time, _, curves = sample
    median = curves.median_survival_time()
    hinge = metrics.l1_loss(curves, event, time, method="hinge")
    assert hinge == pytest.approx(
        survival_eval.mean_error(median, time, event, method="Hinge", weighted=False), rel=1e-12
    )
    # margin: best guesses from the Kaplan-Meier curve of the same rows (censoring times are its knots)
    margin = metrics.l1_loss(median, event, time, method="margin", train_event=event, train_time=time)
    ref = survival_eval.mean_error(median, time, event, time, event, method="Margin")
    assert margin == pytest.approx(ref, rel=1e-9)
    uncensored = metrics.l1_loss(median, event, time, method="uncensored")
    assert uncensored == pytest.approx(np.mean(np.abs(time[event] - median[event])))


def test_one_calibration_matches_survivaleval_dn(sample):
    event, time, _, curves = sample
    t_star = float(np.median(time[event]))
    ours = metrics.one_calibration(curves, event, time, t_star)
    p_event = 1.0 - curves.survival_at([t_star])[:, 0]
    ref = survival_eval.one_calibration(
        p_event, time, event, t_star, num_bins=10, method="DN", adjust_variance=False
    )
    assert ours.p_value == pytest.approx(ref[0], rel=1e-9)
    assert ours.statistic == pytest.approx(ref[1], rel=1e-9)


def test_true_model_is_d_calibrated_and_a_miscalibrated_one_is_not():
    _, y, rates, _ = simulate_exponential(2000, seed=3)
    event, time = y["event"], y["time"]
    grid = np.linspace(0.01, 8.0, 400)
    true = SurvivalCurves.from_arrays(grid, np.exp(-grid[None, :] * rates[:, None]))
    too_pessimistic = SurvivalCurves.from_arrays(grid, np.exp(-grid[None, :] * 3.0 * rates[:, None]))
    assert metrics.d_calibration(true, event, time).passed
    assert not metrics.d_calibration(too_pessimistic, event, time).passed
    assert metrics.d_calibration(too_pessimistic, event, time).p_value < 1e-6


def test_metric_errors_name_the_problem(sample):
    event, time, risk, curves = sample
    with pytest.raises(InputError, match="one risk score per patient"):
        metrics.concordance_harrell(event, time, risk[:10])
    bad = time.copy()
    bad[7] = -1.0
    with pytest.raises(InputError, match="row 7"):
        metrics.concordance_harrell(event, bad, risk)
    with pytest.raises(InputError, match="unknown L1 method"):
        metrics.l1_loss(curves, event, time, method="absolute")
    with pytest.raises(InputError, match="training rows"):
        metrics.l1_loss(curves, event, time, method="margin")
    with pytest.raises(InputError, match="no comparable pairs"):
        metrics.concordance_harrell(np.zeros(3, bool), np.array([1.0, 2, 3]), np.array([1.0, 2, 3]))


def test_one_calibration_greenwood_variance_matches_survivaleval_adjusted(sample):
    event, time, _, curves = sample
    t_star = float(np.median(time[event]))
    ours = metrics.one_calibration(curves, event, time, t_star, variance="greenwood")
    p_event = 1.0 - curves.survival_at([t_star])[:, 0]
    ref = survival_eval.one_calibration(
        p_event, time, event, t_star, num_bins=10, method="DN", adjust_variance=True
    )
    assert ours.p_value == pytest.approx(ref[0], rel=1e-9)
    assert ours.statistic == pytest.approx(ref[1], rel=1e-9)
