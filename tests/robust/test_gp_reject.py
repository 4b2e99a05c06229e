"""Gaussian-process rejection: the exact GP against scikit-learn, the clean rejection rate at the
configured FPR, the GP-aware attack, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.errors import InputError
from robust.defenses.gp_reject import ExactGP, GPAwarePGD, GPDetector, conformal_threshold

CALIBRATION = 180
"""The first test digits calibrate the threshold; the other 180 are held out."""


@pytest.fixture(scope="module")
def detector(digits_mlp, digits):
    return GPDetector(
        digits_mlp,
        digits.x_train,
        digits.y_train,
        digits.x_test[:CALIBRATION],
        points=200,
        fpr=0.1,
        fit_steps=30,
    )


def test_posterior_equals_scikit_learn():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    rng = np.random.default_rng(0)
    x, y, x_new = rng.normal(size=(40, 3)), rng.normal(size=(40, 2)), rng.normal(size=(15, 3))
    lengthscale, signal, noise = 1.3, 0.7, 0.05
    gp = ExactGP(
        torch.from_numpy(x), torch.from_numpy(y), lengthscale=lengthscale, signal=signal, noise=noise
    )
    mean, variance = gp.posterior(torch.from_numpy(x_new))
    kernel = ConstantKernel(signal, "fixed") * RBF(lengthscale, "fixed")
    reference = GaussianProcessRegressor(kernel, alpha=noise, optimizer=None).fit(x, y)
    ref_mean, ref_std = reference.predict(x_new, return_std=True)
    np.testing.assert_allclose(mean.numpy(), ref_mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(variance.numpy(), ref_std[:, 0] ** 2, rtol=1e-6, atol=1e-10)
    assert math.isclose(gp.log_marginal_likelihood(), reference.log_marginal_likelihood_value_, rel_tol=1e-8)


def test_hyperparameter_fit_raises_the_marginal_likelihood():
    x = torch.linspace(0, 6, 50, dtype=torch.float64)[:, None]
    y = torch.sin(x) + 0.05 * torch.randn(
        50, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    gp = ExactGP(x, y, lengthscale=0.05, signal=1.0, noise=0.5)
    before = gp.log_marginal_likelihood()
    gp.fit_hyperparameters(steps=150)
    assert gp.log_marginal_likelihood() > before + 20
    assert 0.3 < gp.lengthscale < 3


def test_conformal_threshold():
    scores = torch.arange(1.0, 100.0)  # 99 scores
    assert conformal_threshold(scores, 0.1) == 90.0  # ceil(100 * 0.9) = 90th smallest
    assert conformal_threshold(scores[:5], 0.1) == float("inf")


def test_clean_rejection_rate_is_near_the_configured_fpr(detector, digits):
    held_out = digits.x_test[CALIBRATION:]
    rate = float(detector.reject(held_out).float().mean())
    standard_error = math.sqrt(0.1 * 0.9 / len(held_out))
    assert abs(rate - 0.1) < 3 * standard_error, rate
    accuracy = float((detector(held_out).argmax(1) == digits.y_test[CALIBRATION:]).float().mean())
    assert accuracy > 0.85


def test_gp_aware_attack_is_accepted_more_than_oblivious_pgd(detector, digits):
    from robust.attacks import PGD

    x, y = digits.x_test[CALIBRATION:], digits.y_test[CALIBRATION:]
    budget = {"eps": 0.1, "alpha": 0.025, "steps": 10}
    results = {}
    for name, attack in (
        ("oblivious", PGD(detector, **budget)),
        ("aware", GPAwarePGD(detector, **budget, reference="threshold")),
    ):
        x_adv = attack(x, y)
        with torch.no_grad():
            fooled = detector(x_adv).argmax(1) != y
            rejected = detector.reject(x_adv)
        results[name] = (float(rejected.float().mean()), float((fooled & ~rejected).float().mean()))
    assert results["aware"][0] < results["oblivious"][0]  # rejected less often
    assert results["aware"][1] >= results["oblivious"][1]  # and fools the detector at least as often


def test_bad_input_raises_clear_errors(digits_mlp, digits):
    x, y = digits.x_train, digits.y_train
    with pytest.raises(InputError, match="false-positive rate"):
        GPDetector(digits_mlp, x, y, digits.x_test, points=20, fpr=1.5, fit_steps=0)
    with pytest.raises(InputError, match="points must be <="):
        GPDetector(digits_mlp, x[:10], y[:10], digits.x_test, points=20)
    with pytest.raises(InputError, match="feature_layer"):
        GPDetector(digits_mlp, x, y, digits.x_test, feature_layer=99)
    with pytest.raises(InputError, match="calibration"):
        GPDetector(digits_mlp, x, y, digits.x_test[:0], points=20)
    with pytest.raises(InputError, match="GP inputs"):
        ExactGP(torch.zeros(3, 2), torch.zeros(3)).posterior(torch.zeros(2, 5))
    with pytest.raises(InputError, match="GPAwarePGD"):
        GPAwarePGD(digits_mlp, eps=0.1)
