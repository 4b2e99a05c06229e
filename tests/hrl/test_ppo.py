"""PPO: GAE against a brute-force sum on a tiny trajectory, the clipped losses against numbers worked
by hand, CartPole learning beats the random policy, kill-and-resume bit-identical, save/load, the
intrinsic reward is added as configured, bad input refused naming the item."""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from hrl.agents.ppo import PPO, clipped_losses, gae
from hrl.config import PPOConfig
from hrl.evaluation import evaluate_policy
from hrl.intrinsic import ForwardModelCuriosity

TINY = PPOConfig(n_envs=2, n_steps=16, batch_size=16, n_epochs=2, hidden=(8,), total_timesteps=96)


def _brute_force_gae(rewards, values, ends, last_values, gamma, lam):
    """A_t = sum_l (gamma lam)^l delta_{t+l}, the sum stopping at the end of t's episode."""
    steps, n = rewards.shape
    advantages = np.zeros((steps, n))
    for i in range(n):
        for t in range(steps):
            total, weight = 0.0, 1.0
            for k in range(t, steps):
                nxt = last_values[i] if k == steps - 1 else values[k + 1, i]
                nxt = 0.0 if ends[k, i] else nxt
                total += weight * (rewards[k, i] + gamma * nxt - values[k, i])
                if ends[k, i]:
                    break
                weight *= gamma * lam
            advantages[t, i] = total
    return advantages


def test_gae_equals_the_brute_force_sum_on_a_tiny_trajectory():
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    ends = np.array([[0, 0], [1, 0], [0, 0], [0, 1], [0, 0]], dtype=float)
    last = rng.normal(size=2)
    expected = _brute_force_gae(rewards, values, ends, last, 0.9, 0.8)
    t = [torch.as_tensor(x, dtype=torch.float64) for x in (rewards, values, ends, last)]
    advantages, returns = gae(*t, gamma=0.9, lam=0.8)
    np.testing.assert_allclose(advantages.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(returns.numpy(), expected + values, rtol=1e-12)
    # lambda = 1, no ends: the discounted return-to-go bootstrapped at the end, minus V
    flat, _ = gae(t[0][:, :1], t[1][:, :1], torch.zeros(5, 1, dtype=torch.float64), t[3][:1], 0.9, 1.0)
    togo = sum(0.9**k * rewards[k, 0] for k in range(5)) + 0.9**5 * last[0]
    assert float(flat[0, 0]) == pytest.approx(togo - values[0, 0], rel=1e-12)


def test_clipped_losses_equal_a_hand_computation():
    # ratios e^0.5 = 1.6487 (clipped to 1.2), e^-0.5 = 0.6065 (clipped to 0.8), 1
    log_prob = torch.tensor([0.5, -0.5, 0.0])
    old = torch.zeros(3)
    adv = torch.tensor([1.0, 1.0, -2.0])
    # min(1.6487, 1.2) = 1.2; min(0.6065, 0.8) = 0.6065; min(-2, -2) = -2
    expected_policy = -(1.2 + np.exp(-0.5) - 2.0) / 3
    values, old_values, returns = torch.tensor([1.0, 0.0, 3.0]), torch.tensor([0.0, 0.0, 2.0]), torch.ones(3)
    policy, value = clipped_losses(log_prob, old, adv, values, old_values, returns, 0.2, 0.0)
    assert float(policy) == pytest.approx(expected_policy, rel=1e-6)
    assert float(value) == pytest.approx((0 + 1 + 4) / 3, rel=1e-6)
    # value clipping at 0.5 (SB3's form): predictions become 0.5, 0, 2.5
    _, clipped = clipped_losses(log_prob, old, adv, values, old_values, returns, 0.2, 0.5)
    assert float(clipped) == pytest.approx((0.25 + 1 + 2.25) / 3, rel=1e-6)


def test_ppo_on_cartpole_clearly_beats_the_random_policy():
    torch.set_num_threads(1)
    config = PPOConfig(
        n_envs=4, n_steps=128, batch_size=128, n_epochs=4, learning_rate=2.5e-3, total_timesteps=6144
    )
    agent = PPO("CartPole-v1", config).learn()
    env = gym.make("CartPole-v1")
    learned = evaluate_policy(agent, env, 10, seed=100).mean()
    rng = np.random.default_rng(0)
    random_returns = []
    for episode in range(10):
        env.reset(seed=100 + episode)
        done, total = False, 0.0
        while not done:
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(2)))
            total, done = total + reward, terminated or truncated
        random_returns.append(total)
    assert np.mean(random_returns) < 40
    assert learned > 3 * np.mean(random_returns), (learned, np.mean(random_returns))


def test_a_killed_run_resumes_bit_identically_and_a_changed_field_is_refused(tmp_path):
    reference = PPO("CartPole-v1", TINY).learn()
    path = tmp_path / "ppo.safetensors"

    def crash(agent):
        if agent.iterations == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        PPO("CartPole-v1", TINY).learn(checkpoint=path, checkpoint_every=1, callback=crash)
    resumed = PPO("CartPole-v1", TINY).learn(checkpoint=path)
    assert resumed.num_timesteps == reference.num_timesteps == 96
    assert resumed.history == reference.history
    for key, value in reference.policy.state_dict().items():
        assert torch.equal(value, resumed.policy.state_dict()[key]), key
    longer = PPO("CartPole-v1", replace(TINY, total_timesteps=128)).learn(checkpoint=path)
    assert longer.num_timesteps == 128
    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        PPO("CartPole-v1", replace(TINY, learning_rate=1e-3, total_timesteps=160)).learn(checkpoint=path)


def test_a_loaded_agent_predicts_like_the_saved_one(tmp_path):
    agent = PPO("Pendulum-v1", replace(TINY, total_timesteps=32)).learn()
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    loaded = PPO.load(agent.save(tmp_path / "p.safetensors"))
    np.testing.assert_array_equal(
        loaded.predict(obs, deterministic=True)[0], agent.predict(obs, deterministic=True)[0]
    )
    assert np.all(np.abs(agent.predict(obs)[0]) <= 2.0)  # Pendulum's bounds
    with pytest.raises(InputError, match="spaces differ"):
        PPO.load(tmp_path / "p.safetensors", "CartPole-v1")


def test_the_reward_is_extrinsic_plus_coef_times_intrinsic():
    module = ForwardModelCuriosity(4, 2, features="random", hidden=(8,), feature_dim=4)
    agent = PPO("CartPole-v1", replace(TINY, intrinsic_coef=0.5, extrinsic_coef=2.0), intrinsic=module)
    state = {k: v.clone() for k, v in module.state_dict().items()}
    captured = {}
    original = module.compute

    def spy(batch):
        captured["batch"] = batch
        return original(batch)

    module.compute = spy
    agent._start()
    rollout = agent._collect()
    batch = captured["batch"]
    assert torch.equal(batch["action"].argmax(-1), rollout["action"].flatten().long())
    fresh = ForwardModelCuriosity(4, 2, features="random", hidden=(8,), feature_dim=4)
    fresh.load_state_dict(state)
    bonus = fresh.compute(batch).reshape(16, 2)
    assert bonus.abs().sum() > 0
    # CartPole pays 1 per step; no truncation within 16 steps, so no bootstrap term
    torch.testing.assert_close(rollout["reward"], 2.0 * torch.ones(16, 2) + 0.5 * bonus)
    assert not torch.equal(module.state_dict()["forward_model.0.weight"], state["forward_model.0.weight"])


def test_bad_input_is_refused_naming_the_item():
    for field, value in [
        ("clip_range", 0.0),
        ("n_steps", 0),
        ("gae_lambda", 1.5),
        ("normalize_advantage", 1),
    ]:
        with pytest.raises(InputError, match=field):
            PPOConfig(**{field: value})
    with pytest.raises(InputError, match="n_envs"):
        PPO(gym.make("CartPole-v1"), TINY)
    with pytest.raises(InputError, match="observation"):
        PPO("CartPole-v1", TINY).predict(np.zeros(3))


def test_hrl_train_ppo_runs_resumes_and_evaluates(tmp_path, capsys):
    from core.testing import exit_code, one_line_error
    from hrl.cli import main

    out = tmp_path / "run"
    argv = ["train", "ppo", "--n-envs", "2", "--n-steps", "16", "--batch-size", "16", "--hidden", "8"]
    assert main([*argv, "--total-timesteps", "32", "--eval-episodes", "1", "--out", str(out)]) == 0
    assert main([*argv, "--total-timesteps", "64", "--eval-episodes", "1", "--out", str(out)]) == 0
    assert "CartPole-v1: 64 steps" in capsys.readouterr().out
    assert (
        main(
            [
                "evaluate",
                str(out / "ppo.safetensors"),
                "--algorithm",
                "ppo",
                "--env",
                "CartPole-v1",
                "--episodes",
                "1",
            ]
        )
        == 0
    )
    assert "return over 1 episodes" in capsys.readouterr().out
    assert exit_code(main, [*argv, "--clip-range", "0", "--out", str(out)]) == 2
    one_line_error(capsys, "clip_range")


def _curious(config: PPOConfig) -> PPO:
    module = ForwardModelCuriosity(4, 2, features="random", hidden=(8,), feature_dim=4)
    return PPO("CartPole-v1", config, intrinsic=module)


CURIOUS = replace(TINY, extrinsic_coef=0.0, normalize_intrinsic=True, infinite_horizon=True)


def test_the_intrinsic_reward_is_normalised_by_the_sd_of_its_discounted_return():
    agent = _curious(CURIOUS)
    agent._start()
    rollout = agent._collect()
    bonus = rollout["intrinsic"].double().numpy()
    running, returns = np.zeros(2), []
    for row in bonus:
        running = CURIOUS.gamma * running + row
        returns.append(running)
    expected = bonus / np.sqrt(np.var(np.array(returns)))
    np.testing.assert_allclose(rollout["reward"].double().numpy(), expected, rtol=1e-5)


def test_infinite_horizon_hands_gae_no_episode_ends(monkeypatch):
    import hrl.agents.ppo as ppo

    seen = []

    def spy(rewards, values, ends, last_values, gamma, lam):
        seen.append(ends.clone())
        return gae(rewards, values, ends, last_values, gamma, lam)

    monkeypatch.setattr(ppo, "gae", spy)
    agent = _curious(replace(CURIOUS, n_steps=64, batch_size=64, total_timesteps=128, n_epochs=1))
    agent.learn()
    assert agent.num_episodes > 0 and len(seen) == 1 and not seen[0].any()


def test_a_curious_run_resumes_bit_identically(tmp_path):
    reference = _curious(CURIOUS).learn()
    path = tmp_path / "curious.safetensors"

    def crash(agent):
        if agent.iterations == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        _curious(CURIOUS).learn(checkpoint=path, checkpoint_every=1, callback=crash)
    resumed = _curious(CURIOUS).learn(checkpoint=path)
    assert resumed.history == reference.history
    assert resumed._intrinsic_stats == reference._intrinsic_stats
    for mine, theirs in ((resumed.policy, reference.policy), (resumed.intrinsic, reference.intrinsic)):
        for key, value in theirs.state_dict().items():
            assert torch.equal(value, mine.state_dict()[key]), key
