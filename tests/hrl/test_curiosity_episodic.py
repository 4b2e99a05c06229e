"""Episodic curiosity through reachability: pairs, the bonus, the memory, the R-network's fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from hrl.curiosity.config import EpisodicConfig
from hrl.curiosity.envs import make_minigrid
from hrl.curiosity.episodic import EpisodicCuriosity, reachability_pairs

SHAPE = (1, 38, 38)


def _distance_comparator(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """A stand-in R: 1 for identical embeddings, about 0 for distant ones."""
    return torch.exp(-((first - second) ** 2).sum(-1))


def test_pairs_are_within_k_or_at_least_gamma_k_apart_in_one_trajectory():
    lengths = [40, 7, 60]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    first, second, label = reachability_pairs(lengths, 5, 5, 400, np.random.default_rng(0))
    episode = np.searchsorted(starts, first, side="right") - 1
    assert np.array_equal(episode, np.searchsorted(starts, second, side="right") - 1)  # same trajectory
    gap = np.abs(first - second)
    assert np.all(gap[label == 1] <= 5) and np.all(gap[label == 0] >= 25)
    assert label.mean() == 0.5


def test_bonus_is_zero_in_memory_and_positive_far_away():
    """With beta = 1 (DMLab's) and the max over the memory, an observation already stored earns
    alpha (1 - 1) = 0, a far one alpha (1 - ~0) > 0."""
    module = EpisodicCuriosity(SHAPE, 1, EpisodicConfig(beta=1.0, percentile=100.0, novelty_threshold=0.5))
    module.network.compare = _distance_comparator
    memory = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    in_memory, stored = module.bonus(memory, 3, torch.tensor([3.0, 0.0]))
    far, novel = module.bonus(memory, 3, torch.tensor([10.0, 10.0]))
    assert in_memory == pytest.approx(0.0, abs=1e-6) and not stored
    assert far == pytest.approx(1.0, abs=1e-6) and novel
    # the paper's aggregate: the 90th percentile of the similarities, bonus alpha (beta - F)
    paper = EpisodicCuriosity(SHAPE, 1, EpisodicConfig(alpha=2.0, beta=0.5))
    paper.network.compare = _distance_comparator
    similarity = _distance_comparator(memory, torch.tensor([0.5, 0.0]).expand(3, -1))
    value, _ = paper.bonus(memory, 3, torch.tensor([0.5, 0.0]))
    assert value == pytest.approx(2.0 * (0.5 - float(np.percentile(similarity.numpy(), 90))), abs=1e-6)


def _frames(values: list[float]) -> torch.Tensor:
    """Observations whose pixels all equal each value (an identity-like embedding tells them apart)."""
    return (
        torch.tensor(values, dtype=torch.float32)
        .repeat_interleave(SHAPE[1] * SHAPE[2])
        .reshape(len(values), -1)
    )


def test_memory_is_episodic_and_compute_has_no_side_effects():
    module = EpisodicCuriosity(SHAPE, 2, EpisodicConfig(beta=1.0, percentile=100.0))
    module.network.compare = _distance_comparator
    module.embed = lambda obs: obs[:, :1]  # embedding = the pixel value
    # env 0 walks 0 -> 10 -> 20 -> 10 (a return: no bonus); env 1 walks 0 -> 50 -> 60, then a new
    # episode starts at 0 (obs[2] differs from the 60 it reached) and steps to 10
    obs = torch.stack([_frames([0, 0]), _frames([10, 50]), _frames([20, 0])], 0).reshape(
        -1, SHAPE[1] * SHAPE[2]
    )
    next_obs = torch.stack([_frames([10, 50]), _frames([20, 60]), _frames([10, 10])], 0).reshape(
        -1, SHAPE[1] * SHAPE[2]
    )
    batch = {"obs": obs, "next_obs": next_obs}
    first = module.compute(batch)
    assert torch.equal(first, module.compute(batch)) and module.filled.sum() == 0  # nothing changed
    rewards = first.reshape(3, 2)
    assert rewards[0, 0] == pytest.approx(1.0) and rewards[1, 0] == pytest.approx(1.0)
    assert rewards[2, 0] == pytest.approx(0.0, abs=1e-6)  # 10 is in env 0's memory
    assert rewards[2, 1] == pytest.approx(1.0)  # the memory was reset to {0}, and 10 is far from 0
    module.update(batch)
    assert list(module.filled) == [3, 2]  # env 0: 0, 10, 20; env 1 after its reset: 0, 10


def test_reachability_network_learns_steps_apart_on_a_random_walk():
    env = make_minigrid(layout_seed=6, max_steps=60)
    rng, trajectories = np.random.default_rng(0), []
    for episode in range(6):
        obs, _ = env.reset(seed=episode)
        steps, done = [obs.reshape(-1)], False
        while not done:
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
            steps.append(obs.reshape(-1))
            done = terminated or truncated
        trajectories.append(torch.tensor(np.stack(steps), dtype=torch.float32))
    module = EpisodicCuriosity(SHAPE, 1, EpisodicConfig(lr=1e-3, epochs=3, minibatches=16))
    fit = module.fit_reachability(trajectories, pairs=1024)
    assert fit["accuracy"] > 0.7, fit  # chance 0.5


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(InputError, match="EpisodicConfig"):
        EpisodicCuriosity(SHAPE, 1, {"k": 5})
    with pytest.raises(InputError, match="n_envs"):
        EpisodicCuriosity(SHAPE, 0)
    module = EpisodicCuriosity(SHAPE, 2)
    with pytest.raises(InputError, match="whole rollout steps"):
        module.compute({"obs": torch.zeros(3, 38 * 38), "next_obs": torch.zeros(3, 38 * 38)})
    with pytest.raises(InputError, match="gamma \\* k"):
        module.fit_reachability([torch.zeros(10, 38 * 38)])
    with pytest.raises(InputError, match="novelty_threshold"):
        EpisodicConfig(novelty_threshold=1.5)
    from hrl.experiments.curiosity import CuriosityStudy

    with pytest.raises(InputError, match="ecr_pairs"):
        CuriosityStudy(ecr_pairs=0)


def test_online_variant_trains_r_on_the_agents_own_episodes():
    module = EpisodicCuriosity(SHAPE, 1, EpisodicConfig(online_pairs=32, minibatches=2))
    before = [p.detach().clone() for p in module.network.parameters()]
    frames = torch.rand(31, SHAPE[1] * SHAPE[2]) * 255  # one 30-step episode, longer than gamma * k
    stats = module.update({"obs": frames[:-1], "next_obs": frames[1:]})
    assert len(module.current[0]) == 30 and "reachability_loss" in stats
    assert any(not torch.equal(a, b) for a, b in zip(before, module.network.parameters(), strict=True))
    frozen = EpisodicCuriosity(SHAPE, 1)
    assert "reachability_loss" not in frozen.update({"obs": frames[:-1], "next_obs": frames[1:]})
