"""Rao-Blackwellization: variances computed exactly by enumerating the draws, on random problems."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradest import (
    RaoBlackwellized,
    Reinforce,
    choose_k,
    exact_gradient,
    gradient_draws,
    make_estimator,
    top_k_split,
)

torch.set_default_dtype(torch.float32)


def _table(table):
    return lambda z: (z * table).sum(-1)


def _base_gradients(base, logits, objective):
    """g(j) for every category j, one row per category: (K, K)."""
    k = logits.shape[-1]
    leaf = logits.expand(k, k).clone().requires_grad_(True)
    terms = base.per_sample(leaf, objective, torch.arange(k).unsqueeze(0))
    terms.surrogate.sum().backward()
    return leaf.grad


def _rb_gradients(estimator, logits, objective, k):
    """The RB estimate for each possible single outside draw v, one row per v, and P(v)."""
    probs = torch.softmax(logits, -1)
    top, outside = top_k_split(probs.unsqueeze(0), k)
    rest = [j for j in range(logits.shape[-1]) if j not in set(top[0].tolist())]
    rows = len(rest)
    leaf = logits.expand(rows, logits.shape[-1]).clone().requires_grad_(True)
    drawn = torch.tensor(rest).unsqueeze(0)
    estimator.estimate_given(
        leaf, objective, top.expand(rows, k), outside.expand(rows), drawn
    ).loss.backward()
    return leaf.grad, probs[rest] / outside


def _variance(gradients, weights):
    mean = (weights.unsqueeze(-1) * gradients).sum(0)
    return float((weights * (gradients - mean).pow(2).sum(-1)).sum()), mean


problems = st.integers(min_value=3, max_value=9).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-4.0, 4.0), min_size=k, max_size=k),
        st.lists(st.floats(-3.0, 3.0), min_size=k, max_size=k),
        st.integers(min_value=1, max_value=k - 1),
        st.floats(-2.0, 2.0),
    )
)


@settings(max_examples=60, deadline=None)
@given(problems)
def test_rb_reinforce_variance_never_exceeds_the_base_and_meets_the_bound(problem):
    raw_logits, raw_table, k, baseline = problem
    logits = torch.tensor(raw_logits, dtype=torch.float64)
    table = torch.tensor(raw_table, dtype=torch.float64)
    objective = _table(table)
    probs = torch.softmax(logits, -1)
    for base_baseline in ("none", "moving-average"):
        base = Reinforce(base_baseline)
        base.baseline_value = baseline if base_baseline == "moving-average" else 0.0
        base_var, base_mean = _variance(_base_gradients(base, logits, objective), probs)
        rb_grads, rb_weights = _rb_gradients(RaoBlackwellized(base, k=k), logits, objective, k)
        rb_var, rb_mean = _variance(rb_grads, rb_weights)
        exact = exact_gradient(logits, objective).reshape(-1)
        # both are exactly unbiased (expectations computed by enumeration) ...
        assert torch.allclose(base_mean, exact, atol=1e-9)
        assert torch.allclose(rb_mean, exact, atol=1e-9)
        # ... and RB never has more variance, at most the paper's factor q(z not in C_k) of the base's
        _, outside = top_k_split(probs.unsqueeze(0), k)
        assert rb_var <= base_var + 1e-12
        assert rb_var <= float(outside) * base_var + 1e-12


@settings(max_examples=40, deadline=None)
@given(problems, st.integers(min_value=2, max_value=8))
def test_rb_with_the_papers_k_beats_averaging_at_equal_budget(problem, budget):
    raw_logits, raw_table, _, _ = problem
    logits = torch.tensor(raw_logits, dtype=torch.float64)
    objective = _table(torch.tensor(raw_table, dtype=torch.float64))
    probs = torch.softmax(logits, -1)
    k = choose_k(probs.unsqueeze(0), budget)
    single_var, _ = _variance(_base_gradients(Reinforce(), logits, objective), probs)
    averaged_var = single_var / budget  # N independent draws
    if k == logits.shape[-1]:
        return  # the budget covers every category: RB is the exact gradient
    grads, weights = _rb_gradients(RaoBlackwellized(Reinforce(), k=k), logits, objective, k)
    one_draw_var, _ = _variance(grads, weights)
    rb_var = one_draw_var / (budget - k)  # N - k independent outside draws
    assert rb_var <= averaged_var + 1e-12


def test_choose_k_matches_brute_force_minimisation():
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        probs = torch.softmax(3.0 * torch.randn(1, 10, generator=generator), -1)
        for budget in range(1, 9):
            brute = min(
                range(budget),
                key=lambda k: (
                    (1.0 - float(torch.sort(probs, descending=True).values[0, :k].sum())) / (budget - k)
                ),
            )
            expected_bound = (1.0 - float(torch.sort(probs, descending=True).values[0, :brute].sum())) / (
                budget - brute
            )
            chosen = choose_k(probs, budget)
            chosen_bound = (1.0 - float(torch.sort(probs, descending=True).values[0, :chosen].sum())) / (
                budget - chosen
            )
            assert math.isclose(chosen_bound, expected_bound, rel_tol=1e-5, abs_tol=1e-7)
    assert choose_k(torch.full((1, 10), 0.1), 4) == 0  # flat q: nothing to gain from summing
    assert choose_k(torch.tensor([[0.97, 0.01, 0.01, 0.01]]), 2) == 1  # concentrated q: sum the mode
    assert choose_k(torch.full((1, 3), 1 / 3), 5) == 3  # the budget covers every category


def test_rb_gumbel_variance_is_below_one_base_draw(concentrated_problem):
    # The Gumbel estimator's noise is continuous, so this is measured by sampling (40k draws each).
    logits, objective = concentrated_problem
    generator = torch.Generator().manual_seed(9)
    for name in ("gumbel-soft", "gumbel-st"):
        base = gradient_draws(
            make_estimator(name), logits, objective, 40000, num_samples=1, generator=generator
        )
        rb = gradient_draws(
            make_estimator(f"rb-{name}", k=1), logits, objective, 40000, num_samples=2, generator=generator
        )
        assert float(rb.var(0).sum()) < 0.8 * float(base.var(0).sum())
        assert torch.allclose(rb.mean(0), base.mean(0), atol=6 * float(rb.std(0).max()) / 200 + 1e-3)
