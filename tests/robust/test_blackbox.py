"""Black-box attacks: the NES estimate points along the true gradient; the DCT basis is orthonormal."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import NES
from robust.attacks.dct import dct2, dct_matrix, idct2, low_frequency_noise
from robust.attacks.nes import nes_gradient

from .conftest import linear_model


def test_dct_matrix_is_orthonormal_and_matches_scipy():
    for n in (1, 7, 8, 28):
        matrix = dct_matrix(n, dtype=torch.float64)
        assert torch.allclose(matrix @ matrix.T, torch.eye(n, dtype=torch.float64), atol=1e-12)
        assert np.allclose(matrix.numpy(), scipy.fft.dct(np.eye(n), norm="ortho", axis=0), atol=1e-12)
    image = torch.rand(2, 3, 9, 6, dtype=torch.float64)
    expected = scipy.fft.dctn(image.numpy(), norm="ortho", axes=(-2, -1))
    assert np.allclose(dct2(image).numpy(), expected, atol=1e-12)
    assert torch.allclose(idct2(dct2(image)), image, atol=1e-12)


def test_low_frequency_noise_lives_in_the_low_frequency_block():
    noise = low_frequency_noise((5, 1, 28, 28), 0.25, torch.Generator().manual_seed(0))
    coefficients = dct2(noise.double())
    assert (
        float(coefficients[..., 7:, :].abs().max()) < 1e-5
        and float(coefficients[..., :, 7:].abs().max()) < 1e-5
    )
    assert float(coefficients[..., :7, :7].abs().mean()) > 0.5  # standard normal coefficients there


def _smooth_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))


def test_nes_estimate_has_high_cosine_similarity_with_the_true_gradient():
    model = _smooth_model()
    x = torch.rand(4, 1, 8, 8, dtype=torch.float32)
    y = torch.tensor([1, 2, 3, 4])

    def score(points):
        labels = y.repeat(len(points) // len(y))
        return -torch.log_softmax(model(points), 1).gather(1, labels[:, None])[:, 0]

    point = x.clone().requires_grad_(True)
    (true,) = torch.autograd.grad(score(point).sum(), point)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        estimate = nes_gradient(score, x, 2000, 1e-3, lambda shape: torch.randn(*shape, generator=generator))
    cosine = nn.functional.cosine_similarity(estimate.flatten(1), true.flatten(1))
    # 2000 antithetic pairs in 64 dimensions: expected cosine about sqrt(2000 / 2064) = 0.98
    assert float(cosine.min()) > 0.9
    with torch.no_grad():
        low = nes_gradient(
            score, x, 2000, 1e-3, lambda shape: low_frequency_noise(shape, 0.5, generator)
        )  # 4x4 block
    block = dct2(true.double())
    block[..., 4:, :] = 0
    block[..., :, 4:] = 0
    projected = idct2(block).float()  # the true gradient projected onto the searched subspace
    assert float(nn.functional.cosine_similarity(low.flatten(1), projected.flatten(1)).min()) > 0.9


def test_nes_fools_a_trained_model_within_budget_and_counts_queries(digits_mlp, digits):
    x, y = digits.x_test[:20], digits.y_test[:20]
    attack = NES(digits_mlp, eps=0.2, alpha=0.05, samples=20, max_queries=600, seed=0)
    x_adv = attack(x, y)
    assert float((x_adv - x).abs().max()) <= 0.2 + 1e-6
    fooled = digits_mlp(x_adv).argmax(1) != y
    assert float(fooled.float().mean()) > 0.7
    assert int(attack.cost_.max()) <= 600 and attack.cost_unit == "queries"
    # an example that is fooled stopped early: its cost is one check plus whole steps of 21 queries
    assert all((int(c) - 1) % 21 == 0 for c in attack.cost_[fooled])


def test_nes_refuses_bad_budgets(digits_mlp):
    with pytest.raises(InputError, match="even number"):
        NES(digits_mlp, samples=3)
    with pytest.raises(InputError, match="frequency"):
        NES(digits_mlp, frequency="mid")
    with pytest.raises(InputError, match="ratio"):
        NES(digits_mlp, frequency="low", ratio=0.0)
    with pytest.raises(InputError, match="max_queries must be > 0"):
        NES(digits_mlp, max_queries=0)


def test_partial_information_estimate_aligns_with_the_true_gradient():
    model = _smooth_model()
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        target = model(x).topk(2, dim=1).indices[:, 1]  # second-ranked: shown in the top 2, not the top 1
    attack = NES(model, setting="partial", top_k=2, targeted=True)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        estimate = nes_gradient(
            lambda points: attack.score(points, target.repeat(4000)),
            x,
            2000,
            1e-3,
            lambda shape: torch.randn(*shape, generator=generator),
        )
    point = x.clone().requires_grad_(True)
    (true,) = torch.autograd.grad(torch.log_softmax(model(point), 1).gather(1, target[:, None]).sum(), point)
    cosine = nn.functional.cosine_similarity(estimate.flatten(1), true.flatten(1))
    assert float(cosine.min()) > 0.9  # the target stays in the top 2 under sigma = 1e-3 noise


def test_label_only_score_estimate_points_across_the_boundary_of_a_linear_model():
    weight = torch.randn(2, 16, generator=torch.Generator().manual_seed(4))
    direction = weight[1] - weight[0]
    x = (0.4 + 0.2 * torch.rand(1, 1, 4, 4, generator=torch.Generator().manual_seed(5))).expand(3, 1, 4, 4)
    margin = float(x[0].flatten() @ direction)  # logit 1 - logit 0 without bias
    model = linear_model(weight, torch.tensor([margin + 0.05, 0.0]))  # class 0 wins by 0.05
    target = torch.ones(3, dtype=torch.long)
    attack = NES(model, setting="label-only", top_k=1, label_samples=20, mu=0.05, targeted=True, seed=0)
    generator = torch.Generator().manual_seed(6)
    with torch.no_grad():
        estimate = nes_gradient(
            lambda points: attack.score(points, target.repeat(400)),
            x,
            200,
            0.05,
            lambda shape: torch.randn(*shape, generator=generator),
        )
    cosine = nn.functional.cosine_similarity(estimate.flatten(1), direction.expand(3, 16))
    assert float(cosine.min()) > 0.3  # only ranks are seen, yet the estimate points towards the target class


def test_partial_and_label_only_nes_fool_a_digits_model_and_count_queries(digits_mlp, digits):
    x, y = digits.x_test[:10], digits.y_test[:10]
    partial = NES(digits_mlp, eps=0.2, alpha=0.05, samples=20, max_queries=600, setting="partial", top_k=1)
    fooled = digits_mlp(partial(x, y)).argmax(1) != y
    assert float(fooled.float().mean()) >= 0.5
    label = NES(
        digits_mlp,
        eps=0.2,
        alpha=0.05,
        samples=4,
        max_queries=200,
        setting="label-only",
        label_samples=10,
        mu=0.1,
    )
    label(x, y)
    per_step = 4 * 10 + 1
    assert bool(((label.cost_ - 1) % per_step == 0).all()) and int(label.cost_.max()) <= 200
    with pytest.raises(InputError, match="unknown setting"):
        NES(digits_mlp, setting="top-k")
