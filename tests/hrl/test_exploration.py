"""Intrinsic rewards and MAX: the JSD against SciPy and its definition, zero for identical members;
the forward-model bonus is zero for a perfectly predicted transition; the planner against brute
force; the randomised chain's layout and gymnasium's checker; MAX explores a chain better than
random actions; kill-and-resume is bit-identical; bad configs are refused naming the field."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from scipy.spatial.distance import jensenshannon

from core.cli import RunOptions
from core.errors import CheckpointMismatchError, InputError
from hrl.agents.max import MAXExplorer, plan_exploration
from hrl.config import MAXConfig
from hrl.envs.chain import LEFT, RIGHT, STAY, RandomChain, one_hot
from hrl.intrinsic import EnsembleDisagreement, ForwardModelCuriosity, categorical_jsd


def _probs(*rows: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack(rows)).to(torch.float64)


def test_jsd_of_two_members_equals_scipys_and_identical_members_give_zero():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(6), size=2)
    ours = float(categorical_jsd(_probs(p, q)[:, None])[0])
    assert ours == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-9)  # SciPy's is the square root, in nats
    members = torch.from_numpy(rng.dirichlet(np.ones(5), size=4))  # K = 4: H(mean) - mean H by hand
    entropy = lambda v: -(v * np.log(v)).sum()  # noqa: E731
    mean = members.numpy().mean(0)
    expected = entropy(mean) - np.mean([entropy(m) for m in members.numpy()])
    assert float(categorical_jsd(members[:, None])[0]) == pytest.approx(expected, rel=1e-9)
    same = members[:1].expand(3, 5)[:, None]
    assert float(categorical_jsd(same)[0]) == pytest.approx(0.0, abs=1e-12)


def test_the_forward_model_bonus_is_zero_for_a_perfectly_predicted_transition():
    curiosity = ForwardModelCuriosity(3, 2, features="raw", seed=0)
    generator = torch.Generator().manual_seed(0)
    obs, action = torch.randn(8, 3, generator=generator), torch.randn(8, 2, generator=generator)
    with torch.no_grad():
        predicted = curiosity.predict_features(obs, action)
    assert torch.all(curiosity.compute({"obs": obs, "action": action, "next_obs": predicted}) == 0)
    other = predicted + 1.0
    bonus = curiosity.compute({"obs": obs, "action": action, "next_obs": other})
    torch.testing.assert_close(bonus, torch.full((8,), 1.5))  # 0.5 x ||(1, 1, 1)||^2
    random_features = ForwardModelCuriosity(3, 2, features="random", lr=1e-2, seed=0)
    batch = {"obs": obs, "action": action, "next_obs": 2 * obs}  # a fixed deterministic transition
    before = random_features.compute(batch).mean()
    for _ in range(100):
        random_features.update(batch)
    assert random_features.compute(batch).mean() < 0.1 * before  # learnt where it has been
    with pytest.raises(InputError, match="features"):
        ForwardModelCuriosity(3, 2, features="vae")
    with pytest.raises(InputError, match="lacks fields"):
        curiosity.compute({"obs": obs})


def test_ensemble_disagreement_falls_on_seen_transitions_and_stays_on_unseen_ones():
    models = EnsembleDisagreement(4, 2, members=3, lr=1e-2, seed=0)
    seen = {
        "obs": torch.from_numpy(one_hot(np.array([0, 1]), 4)),
        "action": torch.from_numpy(one_hot(np.array([0, 0]), 2)),
    }
    batch = {**seen, "next_obs": torch.from_numpy(one_hot(np.array([1, 2]), 4))}
    for _ in range(100):  # measured: seen pairs 4e-5 and 1e-4 nats, the unseen one 0.037
        models.update(batch)
    unseen = {
        "obs": torch.from_numpy(one_hot(np.array([3]), 4)),
        "action": torch.from_numpy(one_hot(np.array([1]), 2)),
    }
    assert models.compute(seen).max() < 0.05 * models.compute(unseen)[0]


def test_the_planner_equals_brute_force_over_action_sequences():
    rng = np.random.default_rng(1)
    states, actions, horizon = 3, 2, 4
    nexts = rng.integers(states, size=(states, actions))  # a deterministic MDP
    transition = np.zeros((states, actions, states))
    transition[np.arange(states)[:, None], np.arange(actions), nexts] = 1.0
    utility = rng.random((states, actions))
    q = plan_exploration(utility, transition, horizon)
    for start in range(states):
        best = 0.0
        for sequence in itertools.product(range(actions), repeat=horizon):
            s, total = start, 0.0
            for a in sequence:
                total, s = total + utility[s, a], nexts[s, a]
            best = max(best, total)
        assert q[0, start].max() == pytest.approx(best)


def test_the_chain_has_one_left_stay_and_right_action_per_state_and_passes_the_checker():
    chain = RandomChain(12, layout_seed=3)
    check_env(chain, skip_render_check=True)
    assert all(sorted(row) == [LEFT, STAY, RIGHT] for row in chain.moves.tolist())
    assert len({tuple(row) for row in chain.moves.tolist()}) > 1  # the roles differ between states
    state, _ = chain.reset(seed=0)
    assert state == 1
    right = int(np.flatnonzero(chain.moves[1] == RIGHT)[0])
    assert chain.step(right)[0] == 2
    steps, done = 1, False
    while not done:
        *_, truncated, _ = chain.step(0)
        steps, done = steps + 1, truncated
    assert steps == 12 + 9
    chain.reset(seed=0)
    left = int(np.flatnonzero(chain.moves[1] == LEFT)[0])
    assert chain.step(left)[1] == 0.001  # the left end's small reward
    with pytest.raises(InputError, match="length"):
        RandomChain(2)


CHAIN, EPISODES = 10, 4


def _explore(method: str, seed: int, **fields) -> MAXExplorer:
    config = MAXConfig(method=method, total_timesteps=EPISODES * (CHAIN + 9), seed=seed, **fields)
    return MAXExplorer(RandomChain(CHAIN), config)


def test_max_tries_more_state_action_pairs_than_random_actions():
    # measured (seeds 0, 1; 4 episodes of a 10-chain, 30 pairs): MAX 24 and 28 pairs, random 17 and 20
    ours = np.mean([_explore("max", seed).learn().history[-1]["pairs_visited"] for seed in (0, 1)])
    random = np.mean([_explore("random", seed).learn().history[-1]["pairs_visited"] for seed in (0, 1)])
    assert ours >= random + 5, (ours, random)


class _Crash(RuntimeError):
    pass


def test_exploration_resumes_from_its_checkpoint_exactly(tmp_path):
    reference = _explore("reactive", 0).learn()
    path = tmp_path / "max.safetensors"

    def crash(agent: MAXExplorer) -> None:
        if agent.num_episodes == 2:
            raise _Crash

    with pytest.raises(_Crash):
        _explore("reactive", 0).learn(checkpoint=path, callback=crash)
    resumed = _explore("reactive", 0).learn(checkpoint=path)
    assert resumed.history == reference.history
    np.testing.assert_array_equal(resumed.q, reference.q)
    np.testing.assert_array_equal(resumed.visit_counts, reference.visit_counts)
    for key, value in reference.models.models.state_dict().items():
        assert torch.equal(value, resumed.models.models.state_dict()[key]), key
    with pytest.raises(CheckpointMismatchError, match="epsilon"):
        _explore("reactive", 0, epsilon=0.2).learn(checkpoint=path)


def test_bad_exploration_configs_and_spaces_are_refused_naming_the_field():
    for field, value in [
        ("method", "icm"),
        ("ensemble_size", 1),
        ("hidden", ()),
        ("model_steps", 0),
        ("epsilon", 2.0),
    ]:
        with pytest.raises(InputError, match=f"MAXConfig.{field}"):
            MAXConfig(**{field: value})
    import gymnasium as gym

    with pytest.raises(InputError, match="Discrete"):
        MAXExplorer(gym.make("Pendulum-v1"))


def test_a_tiny_chain_study_publishes_its_tables_and_figure(tmp_path):
    from hrl.experiments.exploration import SMOKE, run_chain_study

    study = replace(SMOKE, length=6, episodes=2, seeds=1, report_every=1)
    tables = run_chain_study(RunOptions(out=tmp_path, seed=0), study)
    assert [t.name for t in tables] == ["exploration_chain_coverage", "exploration_chain_final"]
    final = json.loads((tmp_path / "exploration_chain_final.json").read_text())
    assert [row["method"] for row in final["rows"]] == ["max", "reactive", "random"]
    assert "order of magnitude" in final["notes"] and "RandomChain" in final["data"]
    assert (tmp_path / "exploration_chain_coverage.png").stat().st_size > 0
