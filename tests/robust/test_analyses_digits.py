"""Analyses on trained digit models (Novak, Morcos, Demontis, Tsipras maps), against independent answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from robust.analyses import gradient_maps as gm
from robust.analyses import sensitivity as sn
from robust.analyses import single_directions as sd
from robust.analyses import transfer_alignment as ta


def test_softmax_jacobian_norm_matches_central_finite_differences():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4)).double()
    x = torch.randn(3, 1, 2, 3, dtype=torch.float64)
    norms = sn.softmax_jacobian_norm(model, x)
    h = 1e-6
    with torch.no_grad():
        finite = [_finite_jacobian(model, x[i], h) for i in range(len(x))]
    for i in range(len(x)):
        assert float(norms[i]) == pytest.approx(float(finite[i].norm()), rel=1e-6)


def _finite_jacobian(model, x, h):
    """``(6, classes)`` central differences of softmax(model) at one ``(1, 2, 3)`` input."""
    columns = []
    for j in range(6):
        step = torch.zeros(6, dtype=torch.float64)
        step[j] = h
        up = torch.softmax(model((x.flatten() + step).view(1, 1, 2, 3)), 1)
        down = torch.softmax(model((x.flatten() - step).view(1, 1, 2, 3)), 1)
        columns.append((up - down)[0] / (2 * h))
    return torch.stack(columns)


def test_region_transitions_count_the_known_breakpoints_of_a_1d_relu_net():
    """Unit i of relu(w_i t + b_i) switches at t = -b_i / w_i; a segment crosses exactly those inside it."""
    breakpoints = torch.tensor([-1.5, -0.2, 0.3, 0.31, 2.0, 4.0], dtype=torch.float64)
    slopes = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0, 1.0], dtype=torch.float64)
    hidden = nn.Linear(1, 6).double()
    with torch.no_grad():
        hidden.weight.copy_(slopes[:, None])
        hidden.bias.copy_(-slopes * breakpoints)
    model = nn.Sequential(hidden, nn.ReLU(), nn.Linear(6, 2).double())
    for lo, hi in [(-3.0, 3.0), (0.0, 1.0), (-1.0, 0.305), (2.5, 3.5)]:
        path = torch.linspace(lo, hi, 4001, dtype=torch.float64)[:, None]
        expected = int(((breakpoints > lo) & (breakpoints < hi)).sum())
        assert sn.region_transitions(model, path, closed=False) == expected, (lo, hi)


def test_ellipse_passes_through_its_three_points_and_closes():
    a, b, c = torch.randn(3, 1, 4, 4).unbind(0)
    path = sn.ellipse(a, b, c, points=8)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[2], c)
    torch.testing.assert_close(path[4], b)


def test_ablation_curve_of_a_hand_built_net_is_known_and_random_directions_end_equal():
    """Hidden unit j carries class j alone; with all units off, the bias picks class 0."""
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(4))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.eye(4))
        model[2].bias.copy_(torch.tensor([-0.01, -0.02, -0.03, -0.04]))
    x, y = torch.eye(4), torch.arange(4)
    curve = sd.ablation_curve(model, 0, x, y, torch.tensor([3, 2, 1, 0]))
    np.testing.assert_allclose(curve, [1.0, 0.75, 0.5, 0.25, 0.25])
    rand = sd.ablation_curve(model, 0, x, y, torch.arange(4), random=True)
    assert rand[0] == 1.0 and rand[-1] == curve[-1]  # all directions removed = all units removed


def test_class_selectivity_closed_form():
    activations = torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    selectivity = sd.class_selectivity(activations, torch.tensor([0, 1, 2]), 3)
    np.testing.assert_allclose(selectivity, [1.0, 0.0, 0.0])  # fires for one class / all alike / never


def test_input_gradient_and_alignment_match_the_linear_closed_form():
    """For logits W x + b, grad_x CE = W^T (softmax - onehot)."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    x, y = torch.rand(5, 1, 2, 3), torch.tensor([0, 1, 2, 0, 1])
    p = torch.softmax(model(x), 1)
    expected = (p - nn.functional.one_hot(y, 3)) @ model[1].weight
    torch.testing.assert_close(ta.input_gradient(model, x, y).flatten(1), expected)
    torch.testing.assert_close(ta.gradient_alignment(model, model, x, y), torch.ones(5))


def test_template_alignment_of_a_nearest_mean_linear_model_is_high():
    """A linear model with class-mean weights has -grad = sum_k (onehot - p)_k mu_k, close to mu_y - mu_j."""
    means = torch.eye(3).view(3, 1, 1, 3) * 4
    model = nn.Sequential(nn.Flatten(), nn.Linear(3, 3, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(means.flatten(1))
    x, y = means[[0, 1, 2]] / 8 + 0.1, torch.tensor([0, 1, 2])
    assert float(gm.template_alignment(model, x, y, means).min()) > 0.8


def test_analyses_runs_every_study_once_per_output(monkeypatch, tmp_path):
    from core.cli import RunOptions
    from robust.experiments import analyses
    from robust.reproduce import EXPERIMENTS

    calls = []
    studies = {name: (lambda options, name=name: calls.append(name) or []) for name in analyses.STUDIES}
    monkeypatch.setattr(analyses, "STUDIES", studies)
    monkeypatch.setattr(analyses, "_DONE", {})
    options = RunOptions(scale="smoke", out=tmp_path, package="robust")
    EXPERIMENTS["sensitivity"](options)
    EXPERIMENTS["analyses"](options)
    assert sorted(calls) == sorted(studies) and set(studies) <= set(EXPERIMENTS)
