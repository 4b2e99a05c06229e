"""MTLR: the optimiser, the likelihood, learning a known curve, beating Kaplan-Meier, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from survival.baselines import KaplanMeier
from survival.metrics import concordance_harrell
from survival.mtlr import (
    MTLR,
    NeuralMTLR,
    _target_mask,
    interval_index,
    mtlr_log_likelihood,
    mtlr_time_grid,
)
from survival.optim import batched_lbfgs
from survival.simulate import simulate_exponential


def test_batched_lbfgs_solves_quadratics_of_very_different_conditioning():
    """Minimise 0.5 x'A_m x - b_m'x for 3 problems with condition numbers 1, 1e2, 1e4: x* = A^-1 b."""
    rng = np.random.default_rng(0)
    mats, rhs = [], []
    for cond in (1.0, 1e2, 1e4):
        q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
        mats.append(q @ np.diag(np.geomspace(1.0, cond, 6)) @ q.T)
        rhs.append(rng.standard_normal(6))
    A = torch.tensor(np.stack(mats))
    b = torch.tensor(np.stack(rhs))

    def objective(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return 0.5 * torch.einsum("mi,mij,mj->m", x, A[rows], x) - (b[rows] * x).sum(dim=1)

    result = batched_lbfgs(objective, torch.zeros(3, 6, dtype=torch.float64), max_iter=500, gtol=1e-6)
    np.testing.assert_allclose(
        result.x.numpy(),
        np.linalg.solve(np.stack(mats), np.stack(rhs)[..., None])[..., 0],
        rtol=1e-5,
        atol=1e-7,
    )
    # converged on the gradient test: the true gradient A x - b at the returned point is below tolerance
    gradient = torch.einsum("mij,mj->mi", A, result.x) - b
    assert bool(result.converged.all()) and float(gradient.abs().max()) <= 1e-6


def test_likelihood_matches_brute_force_enumeration():
    """P(interval j) from the definition: exp(sum_{k>=j} f_k) over all K+1 sequences."""
    logits = torch.tensor([[0.3, -1.2, 0.7]], dtype=torch.float64)
    scores = np.array([logits[0, j:].sum().item() for j in range(4)])
    probs = np.exp(scores) / np.exp(scores).sum()
    for interval in range(4):
        for event in (True, False):
            mask = _target_mask(torch.tensor([interval]), torch.tensor([event]), 4)
            expected = probs[interval] if event else probs[interval:].sum()
            got = mtlr_log_likelihood(logits, mask).exp().item()
            assert got == pytest.approx(expected, rel=1e-12)


def test_time_grid_uses_event_time_quantiles_and_sqrt_rule():
    time = np.arange(1.0, 101.0)
    event = np.ones(100, dtype=bool)
    grid = mtlr_time_grid(time, event)
    assert grid.size == 10  # ceil(sqrt(100 events))
    np.testing.assert_allclose(grid, np.quantile(time, np.linspace(0.1, 1.0, 10)))


def test_mtlr_recovers_known_exponential_curves_under_censoring():
    X, y, rates, _ = simulate_exponential(1500, n_features=2, censoring_rate=0.5, seed=4)
    model = MTLR(c1=1.0).fit(X[:1200], y[:1200])
    curves = model.predict_curves(X[1200:])
    grid = curves.times[curves.times <= np.quantile(y["time"][y["event"]], 0.9)]
    truth = np.exp(-grid[None, :] * rates[1200:, None])
    mtlr_error = np.abs(curves.survival_at(grid) - truth).mean()
    km_error = np.abs(
        KaplanMeier().fit(X[:1200], y[:1200]).predict_curves(X[1200:]).survival_at(grid) - truth
    ).mean()
    assert mtlr_error < 0.05  # measured 0.035 (Cox, the true model class, reaches 0.010; KM 0.21)
    assert mtlr_error < 0.25 * km_error


def test_cross_validated_c1_equals_a_separate_fit_with_that_c1():
    X, y, _, _ = simulate_exponential(300, seed=5)
    cv = MTLR(c1_grid=(0.1, 10.0, 1000.0), cv_folds=3).fit(X, y)
    assert set(cv.cv_scores_) <= {0.1, 10.0, 1000.0} and 1000.0 in cv.cv_scores_  # path from the largest C1
    assert cv.c1_ == max(cv.cv_scores_, key=cv.cv_scores_.__getitem__)
    alone = MTLR(c1=cv.c1_).fit(X, y)
    # warm-started from its folds or started cold, the full-data fit reaches the same curves, to the
    # accuracy the gradient tolerance (1e-5) allows (the bias of the last time point is nearly flat in
    # the objective, so logits are not compared)
    assert alone.converged_
    np.testing.assert_allclose(
        cv.predict_survival_function(X, return_array=True),
        alone.predict_survival_function(X, return_array=True),
        atol=1e-3,
    )


def test_mtlr_beats_kaplan_meier_concordance_on_whas500(whas500_split):
    X_train, y_train, X_test, y_test = whas500_split
    mtlr = MTLR(c1_grid=(1.0, 10.0, 100.0), cv_folds=3).fit(X_train, y_train)
    c_mtlr = concordance_harrell(y_test["event"], y_test["time"], mtlr.predict(X_test))
    c_km = concordance_harrell(
        y_test["event"], y_test["time"], KaplanMeier().fit(X_train, y_train).predict(X_test)
    )
    assert c_km == 0.5
    assert c_mtlr > c_km + 0.15


class _Crash(RuntimeError):
    pass


def test_neural_mtlr_learns_and_resumes_from_its_checkpoint_exactly(tmp_path):
    """Kill-and-resume: a run that dies at epoch 13 resumes from its epoch-10 checkpoint and ends
    bit-identical (weights and history) to an uninterrupted run; only max_iter may change."""
    X, y, _, _ = simulate_exponential(300, seed=6)
    params = dict(max_iter=20, patience=1000, lr=0.01, hidden=(8,), dropout=0.2, batch_size=64)
    reference = NeuralMTLR(**params).fit(X[:250], y[:250])
    assert concordance_harrell(y["event"][250:], y["time"][250:], reference.predict(X[250:])) > 0.7

    def crash(epoch, record):
        if epoch == 13:
            raise _Crash

    path = tmp_path / "run.safetensors"
    with pytest.raises(_Crash):
        NeuralMTLR(**params).fit(X[:250], y[:250], checkpoint=path, checkpoint_every=5, callback=crash)
    resumed = NeuralMTLR(**params).fit(X[:250], y[:250], checkpoint=path, checkpoint_every=5)
    assert resumed.n_iter_ == 10  # epochs 11..20
    for a, b in zip(reference.net_.state_dict().values(), resumed.net_.state_dict().values()):
        assert torch.equal(a, b)
    assert resumed.history_ == reference.history_
    longer = NeuralMTLR(**{**params, "max_iter": 25}).fit(
        X[:250], y[:250], checkpoint=path, checkpoint_every=5
    )
    assert longer.n_iter_ == 5 and len(longer.history_) == 25  # max_iter is extendable
    with pytest.raises(CheckpointMismatchError, match="'lr'"):
        NeuralMTLR(**{**params, "lr": 0.5}).fit(X[:250], y[:250], checkpoint=path)


def test_neural_mtlr_chooses_c1_by_cross_validation_when_not_given():
    X, y, _, _ = simulate_exponential(200, seed=1)
    model = NeuralMTLR(c1=None, c1_grid=(0.1, 100.0), cv_folds=2, max_iter=30).fit(X, y)
    assert set(model.cv_scores_) == {0.1, 100.0}
    assert model.c1_ == max(model.cv_scores_, key=model.cv_scores_.__getitem__)


def test_save_and_load_round_trip(tmp_path):
    X, y, _, _ = simulate_exponential(200, seed=7)
    model = MTLR(c1=1.0).fit(X, y)
    path = model.save(tmp_path / "mtlr.safetensors")
    again = MTLR.load(path)
    np.testing.assert_array_equal(
        again.predict_survival_function(X, return_array=True),
        model.predict_survival_function(X, return_array=True),
    )
    assert again.c1_ == 1.0


def test_mtlr_rejects_bad_input():
    X, y, _, _ = simulate_exponential(50, seed=8)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="row 3, column 1"):
        MTLR(c1=1.0).fit(bad, y)
    with pytest.raises(InputError, match="different numbers of rows"):
        MTLR(c1=1.0).fit(X[:40], y)
    with pytest.raises(InputError, match="unknown optimizer"):
        MTLR(c1=1.0, optimizer="sgd").fit(X, y)
    with pytest.raises(InputError, match="not fitted"):
        MTLR().predict(X)
    with pytest.raises(InputError, match="wrong number of feature columns"):
        MTLR(c1=1.0).fit(X, y).predict(X[:, :2])
    with pytest.raises(InputError, match="structured array"):
        MTLR(c1=1.0).fit(X, y["time"])


def test_censoring_at_a_grid_time_rules_out_the_interval_it_closes():
    grid = np.array([1.0, 2.0, 3.0])
    time = np.array([2.0, 2.0, 2.5, 3.0])
    event = np.array([True, False, False, False])
    # event at 2 lies in (1, 2]; censored at 2 means T > 2: first possible interval is (2, 3]
    np.testing.assert_array_equal(interval_index(time, grid, event), [1, 2, 2, 3])


def test_mtlr_is_d_calibrated_on_rossi_where_everyone_is_censored_at_the_last_grid_time():
    """Every censored rossi patient is censored at week 52, the last event time (a regression
    test: counting them as possibly dying before week 52 made the curves collapse there)."""
    from survival import Preprocessor, load_dataset
    from survival.metrics import d_calibration

    data = load_dataset("rossi")
    features = Preprocessor().fit_transform(data.X)
    model = MTLR(c1=10.0).fit(features, data.y)
    assert model.time_grid_[-1] == data.y["time"][~data.y["event"]].min() == 52.0
    assert d_calibration(model.predict_curves(features), data.y["event"], data.y["time"]).p_value > 0.05
