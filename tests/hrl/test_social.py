"""Harvest/Cleanup pass PettingZoo's parallel API test; the influence reward against brute force."""

import numpy as np
import pytest
import torch
from pettingzoo.test import parallel_api_test
from scipy.stats import entropy

from core.errors import InputError
from hrl.envs.ssd import equality, make_ssd
from hrl.multiagent.config import SocialConfig
from hrl.multiagent.influence import ModelOfOtherAgents, influence_from_conditionals


@pytest.mark.parametrize("game", ["harvest", "cleanup"])
def test_ssd_passes_parallel_api_test(game):
    parallel_api_test(make_ssd(game, n_agents=3, max_cycles=40), num_cycles=50)


def test_influence_equals_brute_force_kl():
    rng = np.random.default_rng(0)
    cond = rng.dirichlet(np.ones(4), size=(3, 2))  # (A_k=3, J=2, A_j=4)
    pi = rng.dirichlet(np.ones(3))
    for a in range(3):
        expected = sum(entropy(cond[a, j], (pi[:, None] * cond[:, j]).sum(0)) for j in range(2))
        got = influence_from_conditionals(torch.tensor(cond[None]), torch.tensor(pi[None]), torch.tensor([a]))
        assert got.item() == pytest.approx(expected, rel=1e-9)


def test_influence_is_zero_when_the_other_agent_ignores_me():
    torch.manual_seed(0)
    moa = ModelOfOtherAgents(n_agents=2, n_actions=3, obs_dim=5, hidden=(8,))
    with torch.no_grad():  # agent 0's MOA ignores agent 0's own action (input columns 5..7)
        moa.net.weights[0][0, 5:8] = 0.0
    obs = torch.randn(2, 4, 5)
    actions = torch.randint(0, 3, (4, 2))
    policies = torch.softmax(torch.randn(2, 4, 3), -1)
    c = moa.influence(obs, actions, policies, torch.ones(4, 2))
    assert torch.allclose(c[0], torch.zeros(4), atol=1e-6)
    assert (c[1] > 0).all()


def test_equality_and_bad_configs():
    assert equality(np.array([1.0, 1.0, 1.0])) == 1.0
    assert equality(np.array([3.0, 0.0])) == pytest.approx(0.5)  # 1 - 6 / (2*2*3)
    with pytest.raises(InputError, match="n_steps"):
        SocialConfig(max_cycles=100, n_steps=30)
    with pytest.raises(InputError, match="social dilemma"):
        make_ssd("prisoners")
