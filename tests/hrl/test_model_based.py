"""MB-MPO's building blocks (`hrl.model_based`): the MAML meta-gradient against central finite
differences of a NumPy closed form on a linear-Gaussian policy; an ensemble member fitted on
deterministic linear dynamics recovers them; bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from hrl.model_based import DynamicsEnsemble, meta_objective


def _closed_form_meta(w, inner, outer, alpha, sigma):
    """f(W) = outer surrogate at W' = W + alpha grad_W inner surrogate, for mu = W x (NumPy)."""

    def grad(w, b):
        return ((b["adv"][:, None] * (b["act"] - b["obs"] @ w.T))[:, :, None] * b["obs"][:, None, :]).mean(
            0
        ) / sigma**2

    def surrogate(w, b):
        logp = -((b["act"] - b["obs"] @ w.T) ** 2) / (2 * sigma**2) - np.log(sigma) - 0.5 * np.log(2 * np.pi)
        return float((logp.sum(1) * b["adv"]).mean())

    return surrogate(w + alpha * grad(w, inner), outer)


def test_maml_meta_gradient_matches_finite_differences_on_a_linear_gaussian_policy():
    rng = np.random.default_rng(0)

    def batch(n):
        return {"obs": rng.normal(size=(n, 3)), "act": rng.normal(size=(n, 2)), "adv": rng.normal(size=n)}

    inner, outer, alpha, sigma = batch(16), batch(12), 0.3, 0.7
    w = rng.normal(size=(2, 3))
    params = [torch.tensor(w, requires_grad=True)]
    log_std = torch.full((2,), float(np.log(sigma)), dtype=torch.float64)
    as_torch = {
        k: {n: torch.tensor(v) for n, v in b.items()} for k, b in (("inner", inner), ("outer", outer))
    }
    value = meta_objective(
        params, as_torch["inner"], as_torch["outer"], alpha, lambda p, x: x @ p[0].T, log_std
    )
    (meta_grad,) = torch.autograd.grad(value, params)
    assert float(value.detach()) == pytest.approx(_closed_form_meta(w, inner, outer, alpha, sigma), rel=1e-10)
    numeric = np.zeros_like(w)
    eps = 1e-6
    for idx in np.ndindex(*w.shape):
        step = np.zeros_like(w)
        step[idx] = eps
        numeric[idx] = (
            _closed_form_meta(w + step, inner, outer, alpha, sigma)
            - _closed_form_meta(w - step, inner, outer, alpha, sigma)
        ) / (2 * eps)
    np.testing.assert_allclose(meta_grad.numpy(), numeric, rtol=1e-5, atol=1e-8)
    # the first-order (no inner step) gradient differs: the second-order term matters here
    first_order = meta_objective(
        params, as_torch["inner"], as_torch["outer"], 0.0, lambda p, x: x @ p[0].T, log_std
    )
    (plain,) = torch.autograd.grad(first_order, params)
    assert float((plain - meta_grad).abs().max()) > 1e-3


def test_an_ensemble_member_fitted_on_deterministic_linear_dynamics_recovers_them():
    gen = torch.Generator().manual_seed(0)
    a_mat = torch.tensor([[0.9, 0.1], [-0.2, 0.8]])
    b_mat = torch.tensor([[0.5], [1.0]])
    obs, act = torch.randn(256, 2, generator=gen), torch.randn(256, 1, generator=gen)
    next_obs = obs @ a_mat.T + act @ b_mat.T
    ensemble = DynamicsEnsemble(2, 1, members=2, hidden=(), seed=0)
    loss = ensemble.fit(obs, act, next_obs, epochs=100, lr=0.05, batch_size=256)  # measured: max error 0.006
    weight = ensemble.net.weights[0].detach()  # (members, in = [s, a], out): s' - s = [A - I, B] [s; a]
    expected = torch.cat([a_mat - torch.eye(2), b_mat], dim=1).T
    for member in range(2):
        torch.testing.assert_close(weight[member], expected, atol=1e-2, rtol=0)
    assert loss < 1e-4
    test_obs, test_act = torch.randn(8, 2, generator=gen), torch.randn(8, 1, generator=gen)
    predicted = ensemble.predict(test_obs, test_act)
    assert predicted.shape == (2, 8, 2)
    torch.testing.assert_close(predicted[0], test_obs @ a_mat.T + test_act @ b_mat.T, atol=2e-2, rtol=0)


def test_bad_ensemble_inputs_are_refused():
    with pytest.raises(InputError, match="members"):
        DynamicsEnsemble(2, 1, members=0)
    ensemble = DynamicsEnsemble(2, 1, members=1, hidden=(4,))
    with pytest.raises(InputError, match="equally many"):
        ensemble.fit(torch.zeros(3, 2), torch.zeros(2, 1), torch.zeros(3, 2))
    with pytest.raises(InputError, match="epochs"):
        ensemble.fit(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3, 2), epochs=0)
