"""ISD baselines: the Kalbfleisch-Prentice baseline against closed forms and Kaplan-Meier, and every
model producing valid curves on real data."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from sksurv.linear_model import CoxPHSurvivalAnalysis

from core.errors import InputError
from survival.baselines import CoxKP, kalbfleisch_prentice_baseline
from survival.metrics import concordance_harrell, kaplan_meier
from survival.models import MODELS, make_model


def test_kalbfleisch_prentice_with_unit_risks_is_kaplan_meier_even_with_ties():
    rng = np.random.default_rng(0)
    time = rng.integers(1, 20, size=300).astype(float)  # many ties
    event = rng.random(300) < 0.7
    times, surv = kalbfleisch_prentice_baseline(time, event, np.ones(300))
    ref = KaplanMeierFitter().fit(time, event).survival_function_at_times(times).to_numpy()
    np.testing.assert_allclose(surv, ref, atol=1e-12)


def test_kalbfleisch_prentice_single_death_closed_form_and_tie_equation():
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    event = np.array([True, True, True, False, True])
    risk = np.array([2.0, 0.5, 1.5, 1.0, 3.0])
    times, surv = kalbfleisch_prentice_baseline(time, event, risk)
    np.testing.assert_allclose(times, [1.0, 2.0, 4.0])
    alpha1 = (1 - 2.0 / 8.0) ** (1 / 2.0)  # single death at t=1, risk set sum 8
    assert surv[0] == pytest.approx(alpha1, rel=1e-12)
    alpha2 = surv[1] / surv[0]  # two deaths at t=2 solve r1/(1-a^r1) + r2/(1-a^r2) = 6
    assert 0.5 / (1 - alpha2**0.5) + 1.5 / (1 - alpha2**1.5) == pytest.approx(6.0, rel=1e-9)
    assert surv[2] == pytest.approx(0.0)  # everyone at risk at t=4 dies


def test_coxkp_coefficients_match_sksurv_and_curves_agree_with_breslow_early_on(whas500_split):
    X_train, y_train, X_test, _ = whas500_split
    ours = CoxKP().fit(X_train, y_train)
    ref = CoxPHSurvivalAnalysis(alpha=1e-4, ties="efron").fit(X_train, y_train)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    early = ref.unique_times_[ref.unique_times_ <= np.median(y_train["time"])]
    breslow = ref.predict_survival_function(X_test, return_array=True)[:, : early.size]
    assert np.abs(ours.predict_curves(X_test).survival_at(early) - breslow).max() < 0.02


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_gives_valid_curves_and_beats_chance(name, whas500_split):
    X_train, y_train, X_test, y_test = whas500_split
    fast = {
        "mtlr": dict(c1_grid=(1.0, 10.0, 100.0), cv_folds=3),
        "rsf-km": dict(n_estimators=30),
        "coxen-kp": dict(cv_folds=3),
        "neural-mtlr": dict(max_iter=40, patience=5),
    }
    model = make_model(name, **fast.get(name, {})).fit(X_train, y_train)
    curves = model.predict_curves(X_test)
    assert len(curves) == len(y_test)
    assert np.all(np.diff(curves.probs, axis=1) <= 1e-12) and np.all(curves.probs[:, 0] == 1.0)
    array = model.predict_survival_function(X_test, return_array=True)
    assert array.shape == (len(y_test), len(model.unique_times_))
    c = concordance_harrell(y_test["event"], y_test["time"], model.predict(X_test))
    if name == "km":
        assert c == 0.5
    else:
        assert c > 0.65, f"{name}: C = {c:.3f}"
    assert model.score(X_test, y_test) == pytest.approx(c)


def test_models_refuse_bad_input():
    with pytest.raises(InputError, match="unknown model"):
        make_model("deepsurv")
    with pytest.raises(InputError, match="bad hyper-parameter"):
        make_model("coxkp", trees=3)
    X = np.ones((4, 2))
    y = np.array([(True, 1.0), (False, 2.0), (True, 3.0), (True, 4.0)], dtype=[("e", bool), ("t", float)])
    with pytest.raises(InputError, match="different numbers of rows"):
        make_model("coxkp").fit(X[:3], y)
    assert kaplan_meier(y["t"], y["e"])[1][-1] == 0.0


def test_models_work_inside_sklearn_pipelines_and_grid_search():
    """The scikit-survival contract: clone, Pipeline (with predict_survival_function), GridSearchCV."""
    import sksurv  # noqa: F401  (adds predict_survival_function to sklearn's Pipeline)
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from survival import MTLR, Preprocessor, SurvivalFunction, load_dataset

    data = load_dataset("veterans")
    assert clone(MTLR(c1=2.0, hidden=(8,))).get_params()["hidden"] == (8,)
    pipe = make_pipeline(Preprocessor(), MTLR(c1=1.0)).fit(data.X, data.y)
    functions = pipe.predict_survival_function(data.X)
    assert functions.shape == (len(data.X),) and isinstance(functions[0], SurvivalFunction)
    assert pipe.score(data.X, data.y) > 0.65
    search = GridSearchCV(make_pipeline(Preprocessor(), CoxKP()), {"coxkp__alpha": [1e-4, 10.0]}, cv=3)
    assert search.fit(data.X, data.y).best_score_ > 0.6
