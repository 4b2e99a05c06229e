"""Estimators against the exact gradient by enumeration (and the exact gradient against a closed form)."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from gradest import ESTIMATORS, Exact, estimate, exact_gradient, gradient_draws, make_estimator

UNBIASED = [
    "reinforce",
    "reinforce-ma",
    "reinforce-loo",
    "rebar",
    "relax",
    "rb-reinforce",
    "rb-reinforce-ma",
    "rb-rebar",
    "rb-relax",
]


def test_exact_gradient_matches_the_softmax_closed_form(table_objective):
    # d/d logits of sum_k q_k c_k = q * (c - <q, c>)
    logits = torch.tensor([[0.3, -1.2, 2.0, 0.1], [1.0, 1.0, -0.5, 0.0]])
    table = torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.0, 4.0, -1.0, 2.0]])
    q = torch.softmax(logits, -1)
    closed_form = q * (table - (q * table).sum(-1, keepdim=True))
    assert torch.allclose(exact_gradient(logits, table_objective(table)), closed_form, atol=1e-6)


def test_exact_value_is_the_expectation(table_objective):
    logits = torch.tensor([0.5, -0.5, 1.5])
    table = torch.tensor([2.0, -1.0, 4.0])
    result = estimate(logits, table_objective(table), "exact")
    assert result.value.item() == pytest.approx(float((torch.softmax(logits, -1) * table).sum()), rel=1e-6)
    assert result.evaluations == 3


@pytest.mark.parametrize("name", UNBIASED)
def test_unbiased_estimators_average_to_the_exact_gradient(name, concentrated_problem):
    logits, objective = concentrated_problem
    exact = exact_gradient(logits, objective).reshape(-1)
    generator = torch.Generator().manual_seed(11)
    options = {"tune": False} if name.endswith(("rebar", "relax")) else {}
    if name in ("rb-rebar", "rb-relax"):
        options["k"] = 1  # k="auto" is refused for bases with Gumbel noise
    estimator = make_estimator(name, **options)
    if name.endswith("-ma"):  # a non-zero baseline from earlier calls
        estimator(logits, objective, num_samples=4, generator=generator)
        (estimator.base if hasattr(estimator, "base") else estimator).baseline_value = 0.8
    draws = gradient_draws(estimator, logits, objective, 20000, num_samples=4, generator=generator)
    mean = draws.mean(0)
    stderr = draws.std(0) / math.sqrt(draws.shape[0])
    z_scores = (mean - exact).abs() / (stderr + 1e-9)
    # six coordinates; 4.5 standard errors is a family-wise false alarm rate below 1e-4
    assert float(z_scores.max()) < 4.5, (name, mean, exact)


def test_objective_parameters_get_unbiased_pathwise_gradients():
    # f_theta(z) = (<z, theta> - 1)^2 with theta per row: d/dtheta E f = 2 q (q.theta... ) checked by exact
    logits = torch.tensor([1.0, 0.0, -1.0, 0.5])
    rows = 20000
    theta_exact = torch.tensor([0.5, -1.0, 2.0, 0.0]).requires_grad_(True)
    result = estimate(logits, lambda z: ((z * theta_exact).sum(-1) - 1.0) ** 2, "exact")
    result.loss.backward()
    theta = theta_exact.detach().expand(rows, 4).clone().requires_grad_(True)
    leaf = logits.expand(rows, 4).clone().requires_grad_(True)
    generator = torch.Generator().manual_seed(3)
    estimate(
        leaf, lambda z: ((z * theta).sum(-1) - 1.0) ** 2, "rb-reinforce", num_samples=2, generator=generator
    ).loss.backward()
    mean = theta.grad.mean(0)
    stderr = theta.grad.std(0) / math.sqrt(rows)
    assert float(((mean - theta_exact.grad).abs() / (stderr + 1e-9)).max()) < 4.5


def test_loss_value_is_the_objective_estimate(table_objective):
    logits = torch.tensor([2.0, 0.0, -1.0])
    table = torch.tensor([1.0, 5.0, -3.0])
    generator = torch.Generator().manual_seed(0)
    result = estimate(logits, table_objective(table), "reinforce", num_samples=1, generator=generator)
    assert result.loss.item() == pytest.approx(result.value.item())
    assert result.value.item() in {1.0, 5.0, -3.0}


def test_rb_with_k_equal_to_k_categories_is_exact(concentrated_problem):
    logits, objective = concentrated_problem
    leaf = logits.clone().requires_grad_(True)
    estimate(leaf, objective, "rb-reinforce", num_samples=6, k=6).loss.backward()
    assert torch.allclose(leaf.grad, exact_gradient(logits, objective).reshape(-1), atol=1e-6)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_estimator_runs_on_a_batch_and_backpropagates(name, quadratic_objective):
    logits = torch.randn(5, 7, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    target = torch.rand(7, generator=torch.Generator().manual_seed(2))
    options = {"k": 1} if name.startswith("rb-") and "reinforce" not in name else {}
    result = estimate(logits, quadratic_objective(target), name, num_samples=3, **options)
    result.loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0
    assert result.evaluations >= 3


@pytest.mark.parametrize("name", ["gumbel-soft", "gumbel-st"])
def test_gumbel_bias_shrinks_with_temperature(name, concentrated_problem):
    # Below tau ~ 1 the relaxation's bias falls towards 0 as tau -> 0 while its variance grows.
    logits, objective = concentrated_problem
    exact = exact_gradient(logits, objective).reshape(-1)
    biases, variances = [], []
    for temperature in (1.0, 0.3, 0.1):
        draws = gradient_draws(
            make_estimator(name, temperature=temperature),
            logits,
            objective,
            40000,
            generator=torch.Generator().manual_seed(5),
        )
        biases.append(float((draws.mean(0) - exact).norm()))
        variances.append(float(draws.var(0).sum()))
    assert biases[0] > biases[1] > biases[2]
    assert biases[2] < 0.4 * biases[0]
    assert variances[0] < variances[1] < variances[2]


def test_nan_logits_are_rejected_with_their_position(table_objective):
    logits = torch.tensor([[0.0, 1.0], [float("nan"), 0.0]])
    with pytest.raises(InputError, match="row 1, category 0"):
        estimate(logits, table_objective(torch.ones(2)), "reinforce")


def test_k_larger_than_the_number_of_categories_is_rejected(table_objective):
    with pytest.raises(InputError, match="k is larger than the number of categories"):
        estimate(torch.zeros(3), table_objective(torch.ones(3)), "rb-reinforce", num_samples=5, k=4)


def test_budget_must_exceed_k(table_objective):
    with pytest.raises(InputError, match="num_samples >= 3"):
        estimate(torch.zeros(5), table_objective(torch.ones(5)), "rb-reinforce", num_samples=2, k=2)


def test_non_scalar_objective_is_rejected():
    with pytest.raises(InputError, match="one scalar per draw and row"):
        estimate(torch.zeros(2, 4), lambda z: z, "reinforce", num_samples=2)


def test_non_finite_objective_is_rejected():
    with pytest.raises(InputError, match="non-finite"):
        estimate(torch.zeros(4), lambda z: z.sum(-1) / 0.0, "reinforce")


def test_leave_one_out_says_it_needs_two_samples(table_objective):
    with pytest.raises(InputError, match=r"reinforce-loo needs at least 2 draws.*num_samples = 1"):
        estimate(torch.zeros(4), table_objective(torch.ones(4)), "reinforce-loo", num_samples=1)
    with pytest.raises(InputError, match="must be an integer"):
        estimate(torch.zeros(4), table_objective(torch.ones(4)), "reinforce", num_samples=2.0)


@pytest.mark.parametrize(
    ("name", "option", "accepted"),
    [
        ("gumbel-soft", "temprature", "temperature"),
        ("reinforce-ma", "decy", "decay"),
        ("reinforce", "decay", "no options"),
        ("rb-reinforce", "temperature", "k"),
        ("rebar", "eta0", "learning_rate"),
        ("exact", "k", "no options"),
    ],
)
def test_unknown_options_are_named_with_what_is_accepted(name, option, accepted):
    with pytest.raises(InputError) as error:
        make_estimator(name, **{option: 1})
    message = str(error.value)
    assert f"unknown option for estimator {name!r}" in message and option in message and accepted in message
    assert "lambda" not in message and "()" not in message


def test_unknown_estimator_and_bad_option_values_are_named():
    with pytest.raises(InputError, match="unknown estimator"):
        make_estimator("reinforced")
    with pytest.raises(InputError, match="temperature must be positive"):
        make_estimator("gumbel-st", temperature=0.0)


@pytest.mark.parametrize("name", ["rb-gumbel-soft", "rb-gumbel-st", "rb-rebar", "rb-relax"])
def test_auto_k_is_refused_for_bases_with_gumbel_noise_saying_why(name):
    with pytest.raises(InputError, match=r"k='auto' is not available.*function of the draw alone"):
        make_estimator(name)
    assert make_estimator(name, k=1).k == 1  # an explicit k is accepted


def test_auto_k_with_one_draw_names_the_budget_it_needs(table_objective):
    for name in ("rb-reinforce", "rb-reinforce-ma"):
        with pytest.raises(InputError, match=r"num_samples >= 2"):
            estimate(torch.zeros(4), table_objective(torch.ones(4)), name, num_samples=1)
    leaf = torch.zeros(4, requires_grad=True)  # k=0 asks for the base on purpose
    estimate(leaf, table_objective(torch.ones(4)), "rb-reinforce", num_samples=1, k=0).loss.backward()


def test_exact_gradient_of_2000_categories_in_o_k_b_memory(table_objective):
    # K = 2000 categories: a (K, B, K) one-hot block is 4 K^2 B bytes (8 GB at the B = 500; 256 MB
    # here, B = 16, to keep the K^2 B objective work small). The objective must only ever see blocks of at
    # most max(K * B, Exact().chunk_elements) entries, so memory grows as K B, not K^2 B.
    rows, categories = 16, 2000
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(rows, categories, generator=generator).requires_grad_(True)
    table = torch.randn(rows, categories, generator=generator)
    bound = max(rows * categories, Exact().chunk_elements)
    largest = []

    def objective(z):
        largest.append(z.numel())
        assert z.numel() <= bound, f"objective given {tuple(z.shape)}"
        return (z * table).sum(-1)

    result = estimate(logits, objective, "exact")
    result.loss.backward()
    assert max(largest) <= bound and result.evaluations == categories
    q = torch.softmax(logits.detach(), -1)
    expected = (q * table).sum()
    closed_form = q * (table - (q * table).sum(-1, keepdim=True))
    assert float(result.value) == pytest.approx(float(expected), rel=1e-5, abs=1e-3)
    assert torch.allclose(logits.grad, closed_form, atol=1e-6)


def test_wrong_logits_shape_and_dtype_are_rejected(table_objective):
    with pytest.raises(InputError, match="shape"):
        estimate(torch.zeros(2, 3, 4), table_objective(torch.ones(4)), "reinforce")
    with pytest.raises(InputError, match="floating"):
        estimate(torch.zeros(4, dtype=torch.long), table_objective(torch.ones(4)), "reinforce")
    with pytest.raises(InputError, match="at least 2 categories"):
        estimate(torch.zeros(3, 1), table_objective(torch.ones(1)), "reinforce")


def test_batch_gradient_draws_are_per_row_unbiased_estimates():
    from gradest.variance import batch_gradient_draws, batch_gradient_stats

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.5, 1.0]])
    tables = torch.tensor([[1.0, -1.0, 3.0], [2.0, 0.0, -2.0]])
    exact = exact_gradient(logits, lambda z: (z * tables).sum(-1))
    draws = batch_gradient_draws(
        make_estimator("rb-reinforce", k=1),
        logits,
        lambda r: lambda z: (z * tables.repeat(r, 1)).sum(-1),
        20000,
        num_samples=2,
        generator=torch.Generator().manual_seed(4),
    )
    assert draws.shape == (20000, 2, 3)
    stats = batch_gradient_stats(draws, exact)
    assert stats["relative_bias"] < 4.5 * stats["relative_bias_stderr"] + 1e-6
