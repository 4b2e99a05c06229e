"""Survival-curve utilities against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from survival.curves import SurvivalCurves


def test_median_and_mean_of_exponential_curves_match_closed_forms():
    rates = np.array([0.5, 1.0, 2.0])
    grid = np.linspace(0.0, 30.0, 30001)
    curves = SurvivalCurves.from_arrays(grid, np.exp(-grid[None, :] * rates[:, None]))
    np.testing.assert_allclose(curves.median_survival_time(), np.log(2) / rates, rtol=1e-6)
    np.testing.assert_allclose(curves.mean_survival_time(), 1.0 / rates, rtol=1e-4)


def test_linear_interpolation_and_extrapolation_follow_the_paper():
    curves = SurvivalCurves.from_arrays(np.array([1.0, 2.0]), np.array([[0.8, 0.6]]))
    assert curves.times[0] == 0.0 and curves.probs[0, 0] == 1.0  # (0, 1) prepended
    np.testing.assert_allclose(curves.survival_at([0.5, 1.5, 2.0]), [[0.9, 0.7, 0.6]])
    # past t=2 the line through (0, 1) and (2, 0.6) continues: slope -0.2, zero at t = 5
    np.testing.assert_allclose(curves.survival_at([3.0, 5.0, 9.0]), [[0.4, 0.0, 0.0]], atol=1e-12)
    assert curves.median_survival_time()[0] == pytest.approx(2.5)
    # area: trapezoids 0.9 + 0.7, tail triangle 0.5 * 0.6 * 3
    assert curves.mean_survival_time()[0] == pytest.approx(0.9 + 0.7 + 0.9)
    np.testing.assert_allclose(curves.survival_at_own_times(np.array([3.0])), [0.4])


def test_curves_are_made_monotone_and_bad_grids_refused():
    curves = SurvivalCurves.from_arrays(np.array([0.0, 1.0, 2.0]), np.array([[1.0, 0.5, 0.7]]))
    np.testing.assert_allclose(curves.probs, [[1.0, 0.5, 0.5]])
    with pytest.raises(InputError, match="strictly increasing"):
        SurvivalCurves.from_arrays(np.array([0.0, 2.0, 1.0]), np.ones((1, 3)))
    with pytest.raises(InputError, match="do not match"):
        SurvivalCurves.from_arrays(np.array([0.0, 1.0]), np.ones((2, 3)))
    with pytest.raises(InputError, match="patient row 1"):
        SurvivalCurves.from_arrays(np.array([0.0, 1.0]), np.array([[1.0, 0.5], [1.0, np.nan]]))


def test_exponential_tail_continues_an_exponential_curve_exactly():
    rate, end = 0.5, 1.0  # the grid stops while S is still 0.61: the median lies past it
    grid = np.linspace(0.0, end, 101)
    curves = SurvivalCurves.from_arrays(grid, np.exp(-rate * grid)[None, :], tail="exponential")
    np.testing.assert_allclose(
        curves.survival_at([2.0, 5.0]), np.exp(-rate * np.array([[2.0, 5.0]])), rtol=1e-12
    )
    assert curves.median_survival_time()[0] == pytest.approx(np.log(2) / rate, rel=1e-12)
    assert curves.mean_survival_time()[0] == pytest.approx(1.0 / rate, rel=1e-4)  # trapezoids + exact tail
    linear = SurvivalCurves.from_arrays(grid, np.exp(-rate * grid)[None, :])
    assert abs(linear.median_survival_time()[0] - np.log(2) / rate) > 0.01  # the paper's line is off
    with pytest.raises(InputError, match="unknown tail"):
        SurvivalCurves.from_arrays(grid, np.ones((1, 101)), tail="weibull")


def test_exponential_tail_brings_mtlr_medians_closer_to_the_truth_past_the_follow_up():
    """Exponential data, follow-up ending at t = 0.6 while most true medians lie beyond it."""
    from survival import MTLR, make_target
    from survival.metrics import l1_loss
    from survival.simulate import simulate_exponential

    X, y, rates, _ = simulate_exponential(1500, n_features=2, censoring_rate=0.1, seed=11)
    event, time = y["event"] & (y["time"] <= 0.6), np.minimum(y["time"], 0.6)
    model = MTLR(c1=1.0).fit(X[:1000], make_target(event[:1000], time[:1000]))
    truth = np.log(2) / rates[1000:]
    assert np.mean(truth > 0.6) > 0.5
    linear = model.predict_curves(X[1000:])
    exponential = SurvivalCurves.from_arrays(linear.times, linear.probs, tail="exponential")
    errors = {
        name: l1_loss(curves.median_survival_time(), np.ones(500, bool), truth, method="uncensored")
        for name, curves in (("linear", linear), ("exponential", exponential))
    }
    # measured: linear 0.36, exponential 0.30 (true medians average 1.35)
    assert errors["exponential"] < 0.9 * errors["linear"]
    assert (
        MTLR(c1=1.0, tail="exponential")
        .fit(X[:1000], make_target(event[:1000], time[:1000]))
        .predict_curves(X[1000:])
        .tail
        == "exponential"
    )


def test_max_time_grid_ends_at_the_largest_observed_time():
    """grid_end="max_time": one more time point at the largest (censored) time; the curves stay
    non-increasing and agree with the paper's grid up to its last event time."""
    from survival import MTLR
    from survival.simulate import simulate_exponential

    X, y, _, _ = simulate_exponential(300, n_features=2, censoring_rate=0.5, seed=12)
    assert y["time"].max() > y["time"][y["event"]].max()  # the largest time is a censoring
    paper = MTLR(c1=10.0).fit(X, y)
    longer = MTLR(c1=10.0, grid_end="max_time").fit(X, y)
    assert longer.time_grid_[-1] == y["time"].max()
    np.testing.assert_array_equal(longer.time_grid_[:-1], paper.time_grid_)
    probs = longer.predict_survival_function(X, return_array=True)
    assert probs.shape == (300, paper.time_grid_.size + 1) and (np.diff(probs, axis=1) <= 1e-12).all()
    np.testing.assert_allclose(
        probs[:, :-1], paper.predict_survival_function(X, return_array=True), atol=0.05
    )
