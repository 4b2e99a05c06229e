"""Preference reward model (Ibarz et al. 2018): Bradley-Terry loss by hand, labeller accuracy, a fit."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from core.errors import InputError
from hrl.preferences.reward_model import (
    RewardModel,
    SyntheticLabeller,
    bradley_terry_loss,
    fit_reward_model,
)


def test_bradley_terry_loss_matches_a_hand_computation():
    r1 = torch.tensor([[0.5, 1.0], [0.0, -1.0]], dtype=torch.float64)
    r2 = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    mu = torch.tensor([1.0, 0.5], dtype=torch.float64)
    p1 = math.exp(1.5) / (math.exp(1.5) + math.exp(0.0))  # pair 1: sums 1.5 vs 0
    p2 = math.exp(-1.0) / (math.exp(-1.0) + math.exp(2.0))  # pair 2: sums -1 vs 2
    expected = (-math.log(p1) - 0.5 * math.log(p2) - 0.5 * math.log(1 - p2)) / 2
    assert bradley_terry_loss(r1, r2, mu).item() == pytest.approx(expected, rel=1e-12)
    eps = 0.1
    q1, q2 = 0.9 * p1 + 0.05, 0.9 * p2 + 0.05
    expected = (-math.log(q1) - 0.5 * math.log(q2) - 0.5 * math.log(1 - q2)) / 2
    assert bradley_terry_loss(r1, r2, mu, epsilon=eps).item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InputError, match="labels"):
        bradley_terry_loss(r1, r2, mu[:1])


@pytest.mark.parametrize("accuracy", [1.0, 0.9, 0.7])
def test_labeller_agreement_equals_its_accuracy(accuracy):
    rng = np.random.default_rng(0)
    r1, r2 = rng.normal(size=40_000), rng.normal(size=40_000)
    labels = SyntheticLabeller(accuracy, seed=1).label(r1, r2)
    agree = (labels == (r1 > r2)).mean()
    assert agree == pytest.approx(accuracy, abs=0.006)  # 3 sd of a 40 000-draw binomial at 0.7
    assert SyntheticLabeller(seed=0).label(np.array([1.0]), np.array([1.0])).tolist() == [0.5]
    with pytest.raises(InputError, match="accuracy"):
        SyntheticLabeller(0.3)


def test_reward_model_recovers_the_true_reward_ordering_from_noisy_preferences():
    torch.manual_seed(0)
    w = torch.tensor([1.0, -2.0, 0.5])
    clips_1, clips_2 = torch.randn(200, 5, 3), torch.randn(200, 5, 3)
    returns = lambda c: (c @ w).sum(1).numpy()  # noqa: E731
    labels = torch.tensor(
        SyntheticLabeller(0.9, seed=0).label(returns(clips_1), returns(clips_2)), dtype=torch.float32
    )
    model = RewardModel(3, (16,))
    fit_reward_model(model, clips_1, clips_2, labels, epochs=15, lr=1e-2)
    test = torch.randn(500, 3)
    with torch.no_grad():
        rho = spearmanr(model(test.unsqueeze(0))[0].numpy(), (test @ w).numpy()).statistic
    assert rho > 0.9, rho
