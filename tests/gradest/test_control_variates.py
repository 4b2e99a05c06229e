"""REBAR / RELAX: tuning the control variate lowers the variance and keeps the estimator unbiased."""

from __future__ import annotations

import math

import pytest
import torch

from gradest import exact_gradient, gradient_draws, make_estimator
from gradest.toy import toy_problem


@pytest.mark.parametrize("name", ["rebar", "relax"])
def test_tuned_control_variate_cuts_the_variance_and_stays_unbiased(name):
    logits, objective = toy_problem()
    exact = exact_gradient(logits, objective).reshape(-1)
    tuned, untuned = make_estimator(name), make_estimator(name, tune=False)
    generator = torch.Generator().manual_seed(0)
    rows = logits.expand(64, -1).clone().requires_grad_(True)
    for _ in range(100):  # online tuning on E ||g||^2 at fixed logits
        tuned(rows, objective, num_samples=1, generator=generator)
    tuned.tune = False
    draws = {
        label: gradient_draws(estimator, logits, objective, 20000, generator=torch.Generator().manual_seed(1))
        for label, estimator in (("tuned", tuned), ("untuned", untuned))
    }
    variance = {label: float(d.var(0).sum()) for label, d in draws.items()}
    assert variance["tuned"] < 0.5 * variance["untuned"]
    mean, stderr = draws["tuned"].mean(0), draws["tuned"].std(0) / math.sqrt(20000)
    assert float(((mean - exact).abs() / (stderr + 1e-9)).max()) < 4.5


def test_control_variate_state_round_trips():
    logits, objective = toy_problem()
    source = make_estimator("rb-relax", k=1)
    rows = logits.expand(16, -1).clone().requires_grad_(True)
    for _ in range(5):
        source(rows, objective, num_samples=2, generator=torch.Generator().manual_seed(2))
    copy = make_estimator("rb-relax", k=1)
    copy.load_state_dict(source.state_dict())
    source.base.tune = copy.base.tune = False
    a = gradient_draws(
        source, logits, objective, 100, num_samples=2, generator=torch.Generator().manual_seed(3)
    )
    b = gradient_draws(
        copy, logits, objective, 100, num_samples=2, generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(a, b)
