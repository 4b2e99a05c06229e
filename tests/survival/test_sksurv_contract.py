"""scikit-survival's contract exactly: its metric and plotting recipes run unchanged on our models."""

from __future__ import annotations

import numpy as np
import pytest
from sksurv.metrics import integrated_brier_score as sksurv_ibs

from survival import MTLR, CoxKP, SurvivalCurves, SurvivalFunction
from survival.metrics import integrated_brier_score


@pytest.fixture(scope="module")
def fitted(whas500_split):
    X_train, y_train, X_test, y_test = whas500_split
    return MTLR(c1=10.0).fit(X_train, y_train), X_train, y_train, X_test, y_test


def test_predict_survival_function_is_an_array_of_callables_as_in_sksurv(fitted):
    model, _, y_train, X_test, y_test = fitted
    surv_fns = model.predict_survival_function(X_test)
    assert isinstance(surv_fns, np.ndarray) and surv_fns.shape == (len(X_test),)
    assert all(isinstance(fn, SurvivalFunction) for fn in surv_fns)
    # the scikit-survival user guide's IBS recipe, unchanged
    times = np.percentile(y_test["time"], np.linspace(10, 80, 15))
    preds = np.asarray([[fn(t) for t in times] for fn in surv_fns])
    assert np.asarray([fn(times) for fn in surv_fns]).shape == (len(X_test), times.size)
    ours = integrated_brier_score(
        model.predict_curves(X_test),
        y_test["event"],
        y_test["time"],
        y_train["event"],
        y_train["time"],
        times=times,
    )
    assert sksurv_ibs(y_train, y_test, preds, times) == pytest.approx(ours, abs=1e-12)


@pytest.mark.parametrize("make", [lambda: MTLR(c1=10.0), CoxKP])
def test_return_array_is_aligned_with_unique_times(make, whas500_split):
    X_train, y_train, X_test, _ = whas500_split
    model = make().fit(X_train, y_train)
    array = model.predict_survival_function(X_test[:5], return_array=True)
    assert array.shape == (5, model.unique_times_.size)
    fns = model.predict_survival_function(X_test[:5])
    for i, fn in enumerate(fns):
        np.testing.assert_array_equal(fn.x, model.unique_times_)
        np.testing.assert_allclose(fn(model.unique_times_), array[i], atol=1e-15)
    assert isinstance(model.predict_curves(X_test[:5]), SurvivalCurves)


def test_models_and_curves_plot_themselves_with_labelled_axes(fitted):
    model, _, _, X_test, _ = fitted
    ax = model.plot_survival_function(X_test[:3], time_unit="days")
    assert len(ax.get_lines()) == 3 + 1  # three curves and the end-of-grid marker
    assert ax.get_xlabel() == "time (days)" and "S(t | x)" in ax.get_ylabel()
    # the scikit-survival plotting recipe: step plots of fn.x, fn(fn.x)
    for fn in model.predict_survival_function(X_test[:3]):
        ax.step(fn.x, fn(fn.x), where="post")
    curves_ax = model.predict_curves(X_test[:2]).plot(labels=["a", "b"])
    assert [t.get_text() for t in curves_ax.get_legend().get_texts()] == ["a", "b"]
