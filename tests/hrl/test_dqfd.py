"""DQfD (Hester et al. 2018) for the preferences study: margin loss by hand, n-step return by brute force,
learning from demonstrations on a toy corridor, bad configs."""

import numpy as np
import pytest
import torch

from core.errors import InputError
from hrl.agents.dqfd import DQfD, DQfDConfig, large_margin_loss, n_step_targets


def test_large_margin_loss_matches_a_hand_computation():
    q = torch.tensor([[1.0, 2.0, 0.5], [3.0, 0.0, 2.5], [0.0, 0.0, 0.0]])
    expert = torch.tensor([1, 0, 2])
    # row 1: max(1+.8, 2, .5+.8) - 2 = 0; row 2: max(3, .8, 3.3) - 3 = .3; row 3: .8 - 0
    expected = torch.tensor([0.0, 0.3, 0.8])
    assert torch.allclose(large_margin_loss(q, expert, 0.8), expected, atol=1e-6)


def _brute_force(rewards, terminal, last, gamma):
    out = []
    for r, te, la in zip(rewards, terminal, last, strict=True):
        total, k = 0.0, 0
        while True:
            total += gamma**k * r[k]
            if la[k] or k == len(r) - 1:
                break
            k += 1
        out.append((total, 0.0 if te[k] else gamma ** (k + 1), k))
    return out


def test_n_step_return_matches_brute_force():
    rng = np.random.default_rng(0)
    b, n, gamma = 200, 5, 0.9
    rewards = rng.normal(size=(b, n))
    last = rng.random((b, n)) < 0.2
    terminal = last & (rng.random((b, n)) < 0.5)
    returns, discount, offset = n_step_targets(rewards, terminal, last, gamma)
    for i, (g, d, k) in enumerate(_brute_force(rewards, terminal, last, gamma)):
        assert returns[i] == pytest.approx(g, abs=1e-12)
        assert discount[i] == pytest.approx(d, abs=1e-12)
        assert offset[i] == k


class Corridor:
    """States 0..L-1 one-hot, start 0; action 1 moves right, 0 and 2 left (clipped); +1 and end at L-1."""

    def __init__(self, length=8, horizon=20, seed=0):
        self.length, self.horizon = length, horizon
        self.rng = np.random.default_rng(seed)

    def _obs(self):
        o = np.zeros(self.length, np.float32)
        o[self.s] = 1.0
        return o

    def reset(self, seed=None):
        self.s, self.t = 0, 0
        return self._obs(), {}

    def step(self, a):
        self.s = min(self.s + 1, self.length - 1) if a == 1 else max(self.s - 1, 0)
        self.t += 1
        done = self.s == self.length - 1
        return self._obs(), float(done), done, self.t >= self.horizon and not done, {}


def _success(policy, episodes=50, seed=0):
    env, wins = Corridor(seed=seed), 0
    for _ in range(episodes):
        obs, _ = env.reset()
        while True:
            obs, r, term, trunc, _ = env.step(policy(obs))
            if term or trunc:
                wins += r > 0
                break
    return wins / episodes


def test_dqfd_learns_from_demonstrations_above_random():
    env = Corridor()
    demos = []
    for _ in range(3):  # the demonstrator walks right
        obs, _ = env.reset()
        frames, actions, rewards = [obs], [], []
        while True:
            obs, r, term, trunc, _ = env.step(1)
            frames.append(obs)
            actions.append(1)
            rewards.append(r)
            if term or trunc:
                break
        demos.append({"obs": np.stack(frames), "actions": actions, "rewards": rewards, "terminated": term})
    cfg = DQfDConfig(n_step=3, hidden=32, lr=1e-3, buffer_size=64, pretrain_steps=150, learning_starts=10)
    agent = DQfD((8,), 3, cfg, reward_fn=lambda obs: torch.zeros(len(obs)), demonstrations=demos)
    agent.pretrain()
    agent.learn(Corridor(seed=1), total_timesteps=200)  # the circular part wraps (64 rows)
    rng = np.random.default_rng(0)
    random_rate = _success(lambda o: int(rng.integers(3)))
    learned = _success(agent.predict)
    assert random_rate < 0.2
    assert learned >= random_rate + 0.6


def test_bad_configs_raise_clear_errors():
    with pytest.raises(InputError, match="n_step"):
        DQfDConfig(n_step=0)
    with pytest.raises(InputError, match="gamma"):
        DQfDConfig(gamma=1.5)
    from hrl.experiments.preferences import PreferenceStudy

    with pytest.raises(InputError, match="setting"):
        PreferenceStudy(settings=("bogus",))
    with pytest.raises(InputError, match="freeze_at"):
        PreferenceStudy(freeze_at=1.0)
    with pytest.raises(InputError, match="demonstration"):
        DQfD((8,), 3, demonstrations=[{"obs": np.zeros((2, 8)), "actions": [1, 1], "rewards": [0, 0]}])


def test_preferences_study_publishes_its_table_and_figure(tmp_path):
    import types
    from dataclasses import replace

    from hrl.experiments.preferences import SMOKE, run_preferences_study
    from hrl.reproduce import EXPERIMENTS

    assert "preferences" in EXPERIMENTS
    study = replace(
        SMOKE,
        settings=("random", "demos+prefs", "prefs, frozen"),
        total_steps=60,
        max_episode_steps=20,
        pref_every=10,
        clip_len=5,
        demo_episodes=1,
        labels_per_round=8,
        agent=replace(SMOKE.agent, pretrain_steps=3, learning_starts=10, n_step=3),
    )
    tables = []
    options = types.SimpleNamespace(out=str(tmp_path), seed=0, publish=tables.append)
    run_preferences_study(options, study)
    rows = {r["setting"]: r for r in tables[0].rows}
    assert (
        rows["demos+prefs"]["labels"] == 48 and rows["prefs, frozen"]["labels"] == 8
    )  # frozen after 1 round
    assert rows["random"]["episodes"] == 3
    assert (tmp_path / "preferences_atari.png").exists()
