"""EWC, online EWC and GEM baselines of `hrl.continual`, and resuming a stream run: the empirical Fisher
against the closed form of a logistic model, the EWC penalty at its anchor, online EWC's running
Fisher, GEM's projection against a direct solve of its primal QP, kill-and-resume of `train_stream`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

import hrl.continual.learners as learners
from core.errors import CheckpointMismatchError, InputError
from hrl.continual import (
    ContinualConfig,
    EWCPenalty,
    _forward,
    diagonal_fisher,
    gem_project,
    train_stream,
)


def test_empirical_fisher_of_a_logistic_model_matches_the_closed_form():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 3, generator=gen), torch.randint(0, 2, (40,), generator=gen)
    weight, bias = torch.randn(2, 3, generator=gen), torch.randn(2, generator=gen)
    fisher_w, fisher_b = diagonal_fisher([weight, bias], x, y, _forward)
    # d log softmax_y / d w_k = (1[k = y] - p_k) x, so F_wk = mean (1[k = y] - p_k)^2 x^2
    residual = torch.nn.functional.one_hot(y, 2).float() - torch.softmax(x @ weight.T + bias, 1)
    torch.testing.assert_close(fisher_w, (residual[:, :, None] ** 2 * x[:, None, :] ** 2).mean(0))
    torch.testing.assert_close(fisher_b, (residual**2).mean(0))


def test_ewc_penalty_is_zero_at_its_anchor_and_online_ewc_keeps_one_decayed_fisher():
    anchor = [torch.randn(3, 2), torch.randn(3)]
    fisher = [torch.rand(3, 2), torch.rand(3)]
    penalty = EWCPenalty(strength=4.0, online=True, gamma=0.5)
    penalty.consolidate(anchor, fisher)
    live = [p.clone().requires_grad_(True) for p in anchor]
    value = penalty(live)
    assert float(value.detach()) == 0.0
    assert all(float(g.abs().max()) == 0.0 for g in torch.autograd.grad(value, live))
    moved = [p + 1.0 for p in anchor]
    expected = 0.5 * 4.0 * sum(float(f.sum()) for f in fisher)
    assert float(penalty(moved)) == pytest.approx(expected)
    second = [torch.rand(3, 2), torch.rand(3)]
    penalty.consolidate(moved, second)
    assert len(penalty.fishers) == 1 and len(penalty.anchors) == 1
    torch.testing.assert_close(penalty.fishers[0][0], 0.5 * fisher[0] + second[0])
    assert float(penalty(moved)) == 0.0
    per_task = EWCPenalty(strength=4.0, online=False)
    per_task.consolidate(anchor, fisher)
    per_task.consolidate(moved, second)
    assert len(per_task.fishers) == 2 and float(per_task(moved)) == pytest.approx(expected)


def test_gem_projection_solves_its_primal_qp_and_leaves_an_agreeing_gradient_alone():
    rng = np.random.default_rng(0)
    for _ in range(5):
        g, memories = rng.normal(size=6), rng.normal(size=(3, 6))
        projected = gem_project(g, memories, margin=0.0)
        primal = minimize(
            lambda z, g=g: 0.5 * np.sum((z - g) ** 2),
            g,
            jac=lambda z, g=g: z - g,
            constraints=[
                {"type": "ineq", "fun": lambda z, m=memories: m @ z, "jac": lambda z, m=memories: m}
            ],
            method="SLSQP",
            options={"ftol": 1e-12, "maxiter": 500},
        )
        assert np.all(memories @ projected >= -1e-9)
        np.testing.assert_allclose(projected, primal.x, atol=1e-5)
    agreeing = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(gem_project(np.array([1.0, 1.0]), agreeing, margin=0.5), [1.0, 1.0])


def _stream():
    gen = torch.Generator().manual_seed(1)
    return [
        (
            torch.randn(12, 5, generator=gen),
            torch.randint(0, 3, (12,), generator=gen),
            torch.randn(8, 5, generator=gen),
            torch.randint(0, 3, (8,), generator=gen),
        )
        for _ in range(3)
    ]


@pytest.mark.parametrize("method", ["er", "ewc", "gem"])
def test_a_killed_stream_run_resumes_from_its_checkpoint_exactly(tmp_path, monkeypatch, method):
    stream = _stream()
    config = ContinualConfig(method=method, hidden=(8,), memory=6, batches=2, batch_size=3, lr=0.1)
    reference = train_stream(stream, config, checkpoint=tmp_path / "whole.safetensors")
    path = tmp_path / "run.safetensors"
    real, calls = learners.StreamLearner.learn, {"n": 0}

    def dying(self, x, y):
        calls["n"] += 1
        if calls["n"] == 30:  # during task 2 (12 examples a task); task 1's checkpoint survives
            raise KeyboardInterrupt
        return real(self, x, y)

    monkeypatch.setattr(learners.StreamLearner, "learn", dying)
    with pytest.raises(KeyboardInterrupt):
        train_stream(stream, config, checkpoint=path)
    monkeypatch.setattr(learners.StreamLearner, "learn", real)
    resumed = train_stream(stream, config, checkpoint=path)
    np.testing.assert_array_equal(resumed, reference)
    from core.checkpoint import load_checkpoint

    ours, theirs = (load_checkpoint(p, ContinualConfig) for p in (path, tmp_path / "whole.safetensors"))
    for a, b in zip(ours.state["params"], theirs.state["params"], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert ours.extra == theirs.extra
    with pytest.raises(CheckpointMismatchError, match="lr"):
        train_stream(stream, replace(config, lr=0.2), checkpoint=path)
    with pytest.raises(InputError, match="different stream"):
        train_stream(stream[:2], config, checkpoint=path)
