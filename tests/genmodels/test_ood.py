"""OoD scores: AUROC/AUPR against scikit-learn, WAIC's identities, the second-order expansion on a Gaussian."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from core.errors import InputError
from genmodels.ood import aupr, auroc, second_order_difference, waic


@pytest.mark.parametrize("ties", [False, True])
def test_auroc_and_aupr_match_scikit_learn(ties):
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 300), rng.normal(0.7, 1.5, 200)
    if ties:
        a, b = np.round(a), np.round(b)
    labels = np.r_[np.zeros(300), np.ones(200)]
    scores = np.r_[a, b]
    assert auroc(a, b) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert aupr(a, b) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_waic_of_identical_members_is_their_log_likelihood_and_variance_lowers_it():
    log_lik = np.random.default_rng(1).normal(size=50)
    assert np.allclose(waic(np.stack([log_lik] * 4)), log_lik)
    members = np.stack([log_lik - 1, log_lik + 1])
    assert np.allclose(waic(members), log_lik - 1.0)
    with pytest.raises(InputError, match="members, n"):
        waic(log_lik)


def test_the_second_order_difference_is_exact_for_a_gaussian_model():
    # log p quadratic: the expansion is exact, E_q[log p] - E_p[log p] = 1/2 tr(H (Sigma_q - Sigma_p)).
    rng = np.random.default_rng(2)
    d = 5
    a = rng.normal(size=(d, d))
    precision = a @ a.T + d * np.eye(d)
    mean = rng.normal(size=d)
    cov_p, cov_q = np.linalg.inv(precision), np.diag(rng.uniform(0.01, 0.2, d))
    model = torch.distributions.MultivariateNormal(
        torch.tensor(mean), precision_matrix=torch.tensor(precision)
    )
    x0 = torch.tensor(mean)

    def expected_log_prob(cov):  # closed form E[log N(x; mean, P^-1)] under x ~ (mean, cov)
        return (
            0.5 * np.linalg.slogdet(precision)[1]
            - 0.5 * d * np.log(2 * np.pi)
            - 0.5 * np.trace(precision @ cov)
        )

    truth = expected_log_prob(cov_q) - expected_log_prob(cov_p)
    full, hessian_diagonal = second_order_difference(model.log_prob, x0, cov_p, cov_q, diagonal=False)
    assert full == pytest.approx(truth, rel=1e-9)
    assert np.allclose(hessian_diagonal, -np.diag(precision))
    diag, _ = second_order_difference(model.log_prob, x0, np.diag(cov_p), np.diag(cov_q))
    assert diag == pytest.approx(-0.5 * np.sum(np.diag(precision) * (np.diag(cov_q) - np.diag(cov_p))))
    with pytest.raises(InputError, match="expansion point"):
        second_order_difference(model.log_prob, x0, np.ones(3), np.ones(3))


def test_second_order_expansion_is_exact_for_a_gaussian_with_shifted_means():
    from genmodels.ood import second_order_expansion

    rng = np.random.default_rng(3)
    dims = 4
    a = rng.normal(size=(dims, dims))
    precision = torch.tensor(a @ a.T + dims * np.eye(dims), dtype=torch.float64)
    centre = torch.tensor(rng.normal(size=dims), dtype=torch.float64)

    def log_prob(x):
        r = x - centre
        return -0.5 * r @ precision @ r

    mean_p, mean_q = torch.tensor(rng.normal(size=dims)), torch.tensor(rng.normal(size=dims))
    var_p, var_q = rng.uniform(0.1, 1, dims), rng.uniform(0.1, 1, dims)

    def expected(mean, var):  # E[log p] under a diagonal Gaussian with this mean and variance
        r = mean - centre
        return float(-0.5 * (r @ precision @ r) - 0.5 * np.sum(np.diag(precision.numpy()) * var))

    terms = second_order_expansion(log_prob, mean_p, var_p, mean_q, var_q)
    assert terms["total"] == pytest.approx(expected(mean_q, var_q) - expected(mean_p, var_p), rel=1e-10)
    assert terms["variance"] == pytest.approx(-0.5 * np.sum(np.diag(precision.numpy()) * (var_q - var_p)))
    with pytest.raises(InputError, match="one shape"):
        second_order_expansion(log_prob, mean_p, var_p, mean_q[:2], var_q)
