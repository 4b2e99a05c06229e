"""Neural ODEs: the solver against a linear ODE's closed form, adjoint vs direct gradients, Hutchinson's
trace estimator unbiased, the CNF's log-density against the change of variables of a linear flow."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm
from scipy.stats import multivariate_normal

from core.errors import InputError
from genmodels.node import CNF, ODENet, ResNet, hutchinson_trace, solve


class _Linear(torch.nn.Module):
    def __init__(self, matrix: torch.Tensor) -> None:
        super().__init__()
        self.matrix = torch.nn.Parameter(matrix.clone())

    def forward(self, t, y):
        return y @ self.matrix.T


def _matrix(seed: int, dims: int = 3) -> torch.Tensor:
    return torch.tensor(np.random.default_rng(seed).normal(0, 0.5, (dims, dims)), dtype=torch.float64)


def test_solver_matches_the_closed_form_of_a_linear_ode():
    a = _matrix(0)
    y0 = torch.tensor([[1.0, -0.5, 2.0]], dtype=torch.float64)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    path, nfe = solve(lambda t, y: y @ a.T, y0, t, rtol=1e-9, atol=1e-9)
    for i, time in enumerate(t.tolist()):
        assert np.allclose(path[i, 0].numpy(), expm(a.numpy() * time) @ y0[0].numpy(), atol=1e-7)
    _, loose = solve(lambda t, y: y @ a.T, y0, t, rtol=1e-3, atol=1e-3)
    assert nfe > loose > 0
    with pytest.raises(InputError, match="at least 2 times"):
        solve(lambda t, y: y, y0, torch.tensor([0.0]))


def test_adjoint_gradients_equal_direct_backpropagation():
    y0 = torch.tensor([[0.3, 1.0, -1.0]], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    grads = []
    for adjoint in (False, True):
        f = _Linear(_matrix(1))
        path, _ = solve(f, y0, t, rtol=1e-7, atol=1e-7, adjoint=adjoint)
        path[-1].pow(2).sum().backward()
        grads.append(f.matrix.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_hutchinson_trace_is_unbiased():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 5)).double()
    point = torch.randn(1, 5, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda z: net(z)[0], point)[:, 0, :]
    exact = float(torch.trace(jacobian))
    z = point.repeat(20000, 1).requires_grad_(True)
    eps = torch.randn(z.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    estimates = hutchinson_trace(net(z), z, eps).detach()
    standard_error = float(estimates.std()) / math.sqrt(len(estimates))
    assert abs(float(estimates.mean()) - exact) < 4 * standard_error
    assert float(estimates.std()) > 0.01  # one draw is noisy: the mean is what is unbiased


def test_cnf_log_density_of_a_linear_flow_is_the_change_of_variables():
    a = _matrix(2, dims=2)
    cnf = CNF(dims=2, dynamics=_Linear(a))
    x = torch.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=torch.float64)
    z0 = x.numpy() @ expm(-a.numpy()).T  # x = expm(A) z0
    expected = multivariate_normal(np.zeros(2), np.eye(2)).logpdf(z0) - float(torch.trace(a))
    exact = cnf.log_prob(x, estimator="exact", tolerance=1e-9).detach().numpy()
    assert np.allclose(exact, expected, atol=1e-6)
    many = x[:1].repeat(4000, 1)
    hutchinson = cnf.log_prob(many, generator=torch.Generator().manual_seed(0), tolerance=1e-7).detach()
    assert abs(float(hutchinson.mean()) - expected[0]) < 4 * float(hutchinson.std()) / math.sqrt(4000)
    with pytest.raises(InputError, match="CNF takes"):
        cnf.log_prob(torch.zeros(3, 5, dtype=torch.float64))


def test_odenet_counts_evaluations_and_resnet_has_depth_times_the_block():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 8, 8)
    net = ODENet(1, 10, channels=8, tolerance=1e-2)
    assert net(x).shape == (4, 10) and net.last_nfe >= 6  # dopri5: at least one step of 6 evaluations
    resnet = ResNet(1, 10, channels=8, depth=6)
    block = sum(p.numel() for p in net.dynamics.parameters())
    rest = sum(p.numel() for p in net.parameters()) - block
    assert sum(p.numel() for p in resnet.parameters()) == rest + 6 * block


def test_fit_ode_net_command_reports_held_out_accuracy(tmp_path, capsys):
    from genmodels.cli import main

    argv = [
        "fit-ode-net",
        "--data",
        "digits",
        "--model",
        "resnet",
        "--depth",
        "1",
        "--channels",
        "2",
        "--epochs",
        "1",
    ]
    assert main([*argv, "--batch-size", "512", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "ode_net.safetensors").is_file() and "held-out accuracy" in capsys.readouterr().out
