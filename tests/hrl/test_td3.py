"""TD3: the update against a hand computation (clipped double-Q target, target smoothing, delayed
actor), Stable-Baselines3's predict shape, save/load, kill-and-resume bit-identical, bad configs."""

from __future__ import annotations

import copy
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from hrl.agents.td3 import TD3, TD3Learner
from hrl.config import TD3Config
from hrl.evaluation import evaluate_policy

LOW, HIGH = np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32)
TINY = TD3Config(hidden=(16, 16), batch_size=32, learning_starts=100, total_timesteps=300, seed=3)


def _batch(n: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "obs": torch.randn(n, 3, generator=g),
        "action": torch.rand(n, 2, generator=g) * torch.tensor([4.0, 1.0]) - torch.tensor([2.0, 0.0]),
        "reward": torch.randn(n, generator=g),
        "next_obs": torch.randn(n, 3, generator=g),
        "terminated": (torch.rand(n, generator=g) < 0.5).float(),
    }


def _pendulum(steps: int = 50) -> gym.Env:
    return gym.make("Pendulum-v1", max_episode_steps=steps)


def _q(critic, member: int, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Critic `member` of a TwinQNetwork, by hand: relu(x W + b) layer by layer on [s, a]."""
    x = torch.cat([obs, action], dim=-1)
    layers = list(zip(critic.net.weights, critic.net.biases))
    for i, (weight, bias) in enumerate(layers):
        x = x @ weight[member] + bias[member, 0]
        x = torch.relu(x) if i < len(layers) - 1 else x
    return x.squeeze(-1)


def test_critic_loss_is_the_clipped_double_q_target_with_smoothed_target_actions():
    config = TD3Config(hidden=(8,), policy_noise=0.2, noise_clip=0.5, gamma=0.9)
    learner = TD3Learner(3, LOW, HIGH, config)
    batch = _batch()
    before = copy.deepcopy(learner)
    # the reference: the same noise draw, clipped by hand; the minimum of the two target critics
    noise = torch.randn(batch["action"].shape, generator=before.generator)
    half = torch.tensor([2.0, 0.5])
    noise = torch.clamp(noise * 0.2 * half, -0.5 * half, 0.5 * half)
    with torch.no_grad():
        next_action = torch.clamp(
            before.actor_target(batch["next_obs"]) + noise, torch.tensor(LOW), torch.tensor(HIGH)
        )
        q_next = torch.minimum(
            _q(before.critic_target, 0, batch["next_obs"], next_action),
            _q(before.critic_target, 1, batch["next_obs"], next_action),
        )
        target = batch["reward"] + 0.9 * (1 - batch["terminated"]) * q_next
        expected = ((_q(before.critic, 0, batch["obs"], batch["action"]) - target) ** 2).mean() + (
            (_q(before.critic, 1, batch["obs"], batch["action"]) - target) ** 2
        ).mean()
        torch.testing.assert_close(
            before.critic.q1(batch["obs"], batch["action"]),
            _q(before.critic, 0, batch["obs"], batch["action"]),
        )
    metrics = learner.update(batch)
    assert metrics["critic_loss"] == pytest.approx(float(expected), rel=1e-6)


def test_actor_and_targets_move_only_every_policy_delay_updates():
    config = TD3Config(hidden=(8,), policy_delay=3, tau=0.25)
    learner = TD3Learner(3, LOW, HIGH, config)
    actor0 = copy.deepcopy(learner.actor.state_dict())
    target0 = copy.deepcopy(learner.critic_target.state_dict())
    for step in range(1, 3):
        assert "actor_loss" not in learner.update(_batch(seed=step))
    for name, value in learner.actor.state_dict().items():
        assert torch.equal(value, actor0[name])
    for name, value in learner.critic_target.state_dict().items():
        assert torch.equal(value, target0[name])
    assert "actor_loss" in learner.update(_batch(seed=3))
    online = learner.critic.state_dict()
    for name, value in learner.critic_target.state_dict().items():  # Polyak: target + tau (online - target)
        torch.testing.assert_close(value, target0[name] + 0.25 * (online[name] - target0[name]))
    assert any(not torch.equal(v, actor0[k]) for k, v in learner.actor.state_dict().items())


def test_predict_has_the_stable_baselines3_shape_and_stays_in_bounds():
    agent = TD3(_pendulum(), TINY)
    action, state = agent.predict(np.zeros(3, np.float32))
    assert state is None and action.shape == (1,) and action.dtype == np.float32
    batch, _ = agent.predict(np.random.default_rng(0).normal(size=(5, 3)) * 100)
    assert batch.shape == (5, 1) and np.all(np.abs(batch) <= 2.0)
    with pytest.raises(InputError, match="observation has the wrong shape"):
        agent.predict(np.zeros(4))


def _same_agent(a: TD3, b: TD3) -> None:
    for name, net in a.learner.networks().items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, b.learner.networks()[name].state_dict()[key]), (name, key)
    assert a.history == b.history
    assert a.num_timesteps == b.num_timesteps and a.learner.updates == b.learner.updates
    np.testing.assert_array_equal(a.buffer.data["obs"], b.buffer.data["obs"])


@pytest.fixture(scope="module")
def reference_run() -> TD3:
    return TD3(_pendulum(), TINY).learn()


class _Crash(RuntimeError):
    pass


def _crash_at(step: int):
    def callback(agent: TD3) -> None:
        if agent.num_timesteps == step:
            raise _Crash

    return callback


def test_training_resumes_from_its_checkpoint_exactly(tmp_path, reference_run):
    path = tmp_path / "td3.safetensors"
    with pytest.raises(_Crash):  # dies at step 230; the checkpoint of the episode end at step 200 survives
        TD3(_pendulum(), TINY).learn(checkpoint=path, checkpoint_every=100, callback=_crash_at(230))
    resumed = TD3(_pendulum(), TINY).learn(checkpoint=path, checkpoint_every=100)
    _same_agent(resumed, reference_run)
    with pytest.raises(CheckpointMismatchError, match="tau"):
        TD3(_pendulum(), replace(TINY, tau=0.01)).learn(checkpoint=path)


def test_extending_a_finished_run_equals_the_longer_run(tmp_path, reference_run):
    path = tmp_path / "td3.safetensors"
    TD3(_pendulum(), replace(TINY, total_timesteps=200)).learn(checkpoint=path)
    _same_agent(TD3(_pendulum(), TINY).learn(checkpoint=path), reference_run)
    with pytest.raises(InputError, match="further along"):
        TD3(_pendulum(), replace(TINY, total_timesteps=100)).learn(checkpoint=path)


def test_save_load_round_trips_the_agent_and_its_replay_buffer(tmp_path, reference_run):
    path = reference_run.save(tmp_path / "agent.safetensors")
    loaded = TD3.load(path)  # no environment: prediction only
    obs = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs)[0], reference_run.predict(obs)[0])
    _same_agent(loaded, reference_run)
    assert loaded.config == TINY
    with pytest.raises(InputError, match="no environment"):
        loaded.learn(400)
    with pytest.raises(InputError, match="spaces differ"):
        TD3.load(path, gym.make("MountainCarContinuous-v0"))
    light = TD3.load(reference_run.save(tmp_path / "light.safetensors", include_buffer=False))
    assert len(light.buffer) == 0


def test_training_leaves_the_global_rngs_untouched():
    torch_before, numpy_before = torch.random.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    TD3(_pendulum(), replace(TINY, learning_starts=10, total_timesteps=20)).learn()
    assert torch.equal(torch.random.get_rng_state(), torch_before)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)  # noqa: NPY002


def test_bad_configs_and_environments_are_refused_naming_the_field():
    for field, value in [
        ("hidden", ()),
        ("hidden", (0,)),
        ("batch_size", 0),
        ("policy_delay", 0),
        ("total_timesteps", 0),
        ("learning_starts", -1),
        ("gamma", 1.5),
        ("tau", 0.0),
        ("actor_lr", -1e-3),
        ("policy_noise", float("nan")),
        ("seed", -1),
    ]:
        with pytest.raises(InputError, match=f"TD3Config.{field}"):
            TD3Config(**{field: value})
    with pytest.raises(InputError, match="1-D gymnasium Box"):
        TD3(gym.make("CartPole-v1"), TINY)
    with pytest.raises(InputError, match="total_timesteps"):
        TD3(_pendulum(), TINY).learn(0)


@pytest.mark.slow
def test_a_short_run_on_pendulum_clearly_improves_the_return():
    # 8000 steps (1000 random); measured: deterministic return -1296 before, -260 after on seed 0 (-1367 ->
    # -184 on seed 1), 5 evaluation episodes. Required: at least 500 better and above -700 (random play:
    # about -1200). Fewer updates did not clear the bar (measured: 4000 or 6000 steps, or 8000 steps with
    # an update every 2 steps on batches of 200, ended between -890 and -1180), so the run is made cheaper
    # per update instead (twin critics in one batched network, fused Adam).
    config = TD3Config(hidden=(64, 64), learning_starts=1000, total_timesteps=8000, gamma=0.98, seed=0)
    agent = TD3(gym.make("Pendulum-v1"), config)
    before = evaluate_policy(agent, gym.make("Pendulum-v1"), 5, seed=100).mean()
    agent.learn()
    after = evaluate_policy(agent, gym.make("Pendulum-v1"), 5, seed=100).mean()
    assert after > before + 500 and after > -700, (before, after)
