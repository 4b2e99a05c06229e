"""Analyses: Shafahi et al.'s concentration bounds and Tsipras et al.'s trade-off, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robust.analyses import inevitable as iv
from robust.analyses import tradeoff as to


def test_cap_measure_matches_archimedes_on_the_2_sphere():
    """On S^2 the cap {x_1 >= cos theta} has measure (1 - cos theta) / 2 (Archimedes)."""
    theta = np.linspace(0, math.pi, 13)
    np.testing.assert_allclose(iv.cap_measure(theta, 3), (1 - np.cos(theta)) / 2, atol=1e-12)


@pytest.mark.parametrize("n", [5, 50, 400])
def test_cap_measure_matches_monte_carlo_on_the_sphere(n):
    rng = np.random.default_rng(n)
    x = iv.sample_sphere(40000, n, rng)
    for theta in (0.3 * math.pi / 2, math.pi / 2 - 0.05, math.pi / 2 + 0.1, 2.5):
        exact = float(iv.cap_measure(theta, n))
        hits = float(np.mean(x[:, 0] >= math.cos(theta)))
        assert abs(hits - exact) < 4 * math.sqrt(exact * (1 - exact) / len(x)) + 1e-3, (n, theta)


def test_sphere_bound_is_the_hemisphere_classifier_robustness_and_below_the_closed_form():
    """Caps are extremal: the hemisphere classifier attains the bound, which the paper's form upper-bounds."""
    n, eps = 30, np.array([0.0, 0.05, 0.2, 0.6])
    rng = np.random.default_rng(1)
    x = iv.sample_sphere(40000, n, rng)
    measured = iv.linear_sphere_robustness(x, np.sign(x[:, 0]), np.eye(n)[0], 0.0, eps)
    bound = iv.sphere_robust_bound(n, eps, f=0.5, u=2.0)
    np.testing.assert_allclose(measured, bound, atol=0.015)
    assert bound[0] == pytest.approx(1.0)
    for m in (3, 10, 100, 1000):
        grid = np.linspace(0.01, 1.0, 40)
        assert np.all(iv.sphere_robust_bound(m, grid) <= iv.sphere_closed_form(m, grid) + 1e-12)


def test_cap_angle_inverts_cap_measure_and_refuses_bad_measure():
    for f in (0.01, 0.3, 0.5, 0.9):
        assert float(iv.cap_measure(iv.cap_angle(f, 20), 20)) == pytest.approx(f, abs=1e-10)
    with pytest.raises(ValueError, match="measure f"):
        iv.cap_angle(1.5, 20)


def test_cube_bound_holds_for_the_coordinate_classifier_and_under_the_closed_form():
    eps = np.linspace(0.01, 0.45, 20)
    exact = 1 - 2 * eps  # fraction of [0, 1]^n farther than eps from x_1 = 1/2
    bound = iv.cube_robust_bound(eps, u=2.0)
    assert np.all(exact <= bound + 1e-12)
    assert np.all(bound <= iv.cube_closed_form(eps, u=2.0) + 1e-12)
    assert iv.cube_robust_bound(0.0) == pytest.approx(0.5)


def test_tradeoff_closed_form_matches_simulation():
    dist = to.Distribution(d=50, p=0.8, eta=to.paper_eta(50))
    rng = np.random.default_rng(2)
    x, y = to.sample(dist, 100000, rng)
    w = rng.standard_normal(51)
    for weights, bias in (
        (w, 0.3),
        (to.averaging_classifier(dist), 0.0),
        (to.robust_feature_classifier(dist), 0.0),
    ):
        for eps in (0.0, dist.eta, 2 * dist.eta):
            exact = to.linear_accuracy(dist, weights, bias, eps)
            assert to.simulated_accuracy(x, y, weights, bias, eps) == pytest.approx(exact, abs=0.006)


def test_tradeoff_paper_classifiers_have_the_papers_accuracies():
    dist = to.Distribution(d=400, p=0.9, eta=to.paper_eta(400))
    average = to.averaging_classifier(dist)
    assert to.linear_accuracy(dist, average) > 0.99
    assert to.linear_accuracy(dist, average, eps=2 * dist.eta) < 0.01
    robust = to.robust_feature_classifier(dist)
    assert to.linear_accuracy(dist, robust) == pytest.approx(0.9)
    assert to.linear_accuracy(dist, robust, eps=2 * dist.eta) == pytest.approx(0.9)
    assert to.robust_accuracy_cap(dist, to.linear_accuracy(dist, average)) < 0.02


def test_adversarial_training_trades_accuracy_for_robustness():
    """Standard training: high accuracy, robust ~0; adversarial training: relies on x_1, accuracy ~p."""
    dist = to.Distribution(d=100, p=0.9, eta=to.paper_eta(100))
    x, y = to.sample(dist, 4000, np.random.default_rng(3))
    eps = 2 * dist.eta
    w_std, b_std = to.fit_linear(x, y, 0.0, steps=500)
    w_adv, b_adv = to.fit_linear(x, y, eps, steps=500)
    assert to.linear_accuracy(dist, w_std, b_std) > 0.97
    assert to.linear_accuracy(dist, w_std, b_std, eps) < 0.05
    assert to.linear_accuracy(dist, w_adv, b_adv) == pytest.approx(dist.p, abs=0.03)
    assert to.linear_accuracy(dist, w_adv, b_adv, eps) == pytest.approx(dist.p, abs=0.03)
    assert abs(w_adv[0]) / np.abs(w_adv).sum() > 0.5 > abs(w_std[0]) / np.abs(w_std).sum()


def test_tradeoff_refuses_bad_input():
    with pytest.raises(ValueError, match="p in"):
        to.Distribution(d=10, p=0.3, eta=0.1)
    with pytest.raises(ValueError, match="shape"):
        to.linear_accuracy(to.Distribution(10, 0.9, 0.1), np.ones(3))


def test_reproduce_registers_the_analyses(tmp_path):
    from robust.reproduce import EXPERIMENTS

    assert {"inevitable", "tradeoff"} <= set(EXPERIMENTS)


def test_sub_experiments_publish_tables_and_figures(tmp_path, monkeypatch):
    """Both sub-experiments on a tiny budget: tables published with their data, figures written."""
    from core.cli import RunOptions
    from robust.experiments import analyses

    monkeypatch.setitem(
        analyses.INEVITABLE, "smoke", {"dims": (3, 20), "eps": (0.05, 0.2), "train": 200, "test": 400}
    )
    monkeypatch.setitem(
        analyses.TRADEOFF, "smoke", {"dims": (100,), "p": 0.9, "train": 2000, "test": 2000, "steps": 300}
    )
    options = RunOptions(scale="smoke", out=tmp_path, package="robust")
    sphere, cube = analyses.inevitable(options)
    (tradeoff,) = analyses.tradeoff(options)
    assert len(sphere.rows) == 4 and len(cube.rows) == 4 and len(tradeoff.rows) == 4
    assert all("simulated" in table.data for table in (sphere, cube, tradeoff))
    for name in (
        "inevitable_sphere.json",
        "inevitable_cube.json",
        "tradeoff.json",
        "inevitable.png",
        "tradeoff.png",
    ):
        assert any(tmp_path.rglob(name)), name
    standard = next(row for row in tradeoff.rows if row["model"] == "logistic, standard training")
    assert standard["exact_standard"] > 0.95 > 0.1 > standard["exact_robust"]
