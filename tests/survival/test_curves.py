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
