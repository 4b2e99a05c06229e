"""Categorical building blocks: Gumbel noise, conditional Gumbels, top-k splits, Bernoulli logits."""

from __future__ import annotations

import math

import torch

from gradest import bernoulli_logits, conditional_gumbel, top_k_split
from gradest.categorical import gumbel_noise, sample_outside

EULER_GAMMA = 0.5772156649


def test_gumbel_noise_has_the_gumbel_mean_and_variance():
    noise = gumbel_noise((200000,), torch.zeros(1), torch.Generator().manual_seed(0))
    assert abs(float(noise.mean()) - EULER_GAMMA) < 0.01
    assert abs(float(noise.var()) - math.pi**2 / 6) < 0.03


def test_conditional_gumbel_respects_the_condition_and_mixes_to_the_unconditional_law():
    # Drawing b ~ q and then x | argmax x = b must give x = log q + G with G i.i.d. Gumbel(0, 1).
    generator = torch.Generator().manual_seed(1)
    log_probs = torch.log_softmax(torch.tensor([[2.0, 0.0, -1.0, 0.5]]), -1)
    draws = 100000
    categories = torch.multinomial(log_probs.exp()[0], draws, replacement=True, generator=generator)
    perturbed = conditional_gumbel(log_probs, categories.unsqueeze(1), generator)[:, 0]
    assert torch.equal(perturbed.argmax(-1), categories)
    noise = perturbed - log_probs
    stderr = math.sqrt(math.pi**2 / 6 / draws)
    assert float((noise.mean(0) - EULER_GAMMA).abs().max()) < 5 * stderr
    # the maximum of log q + G is Gumbel(logsumexp log q = 0): mean gamma
    assert abs(float(perturbed.max(-1).values.mean()) - EULER_GAMMA) < 5 * stderr


def test_top_k_split_and_outside_draws():
    probs = torch.tensor([[0.1, 0.5, 0.15, 0.25]])
    top, outside = top_k_split(probs, 2)
    assert sorted(top[0].tolist()) == [1, 3]
    assert math.isclose(float(outside), 0.25, rel_tol=1e-6)
    drawn = sample_outside(probs.log(), top, 50000, torch.Generator().manual_seed(2))[:, 0]
    assert set(drawn.unique().tolist()) == {0, 2}
    # conditional law q(j) / q(not in C_k): 0.4 and 0.6
    assert abs(float((drawn == 2).float().mean()) - 0.6) < 0.01


def test_bernoulli_logits_give_the_bernoulli_probability():
    logit = torch.tensor([0.3, -2.0])
    probs = torch.softmax(bernoulli_logits(logit), -1)
    assert torch.allclose(probs[:, 1], torch.sigmoid(logit))
