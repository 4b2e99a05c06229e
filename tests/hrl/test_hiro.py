"""HIRO's agent: what the two levels store (c-step sequences, scaled high-level reward, low-level
rewards and goals through h), stateful predict, kill-and-resume bit-identical, and bad configs."""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from core.errors import CheckpointMismatchError, InputError
from hrl.agents.hiro import HIRO
from hrl.config import HIROConfig
from hrl.evaluation import evaluate_policy


class PointPlane(gym.Env):
    """A point in the plane: obs (x, y, speed), action (dx, dy) in [-1, 1]^2, reward -distance to (3, 4)."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.log: list[tuple[np.ndarray, np.ndarray, float]] = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = self.np_random.uniform(-1, 1, size=2).astype(np.float32)
        return self._obs(0.0), {}

    def _obs(self, speed: float) -> np.ndarray:
        return np.array([*self.position, speed], dtype=np.float32)

    def step(self, action):
        obs = self._obs(0.0)
        self.position = (self.position + np.asarray(action, np.float32)).astype(np.float32)
        reward = -float(np.linalg.norm(self.position - np.array([3.0, 4.0])))
        self.log.append((obs, np.asarray(action, np.float32).copy(), reward))
        return self._obs(float(np.linalg.norm(action))), reward, False, False, {}


def _env(steps: int = 20):
    return gym.wrappers.TimeLimit(PointPlane(), max_episode_steps=steps)


TINY = HIROConfig(
    c=5,
    goal_low=(-3.0, -2.0),
    goal_high=(3.0, 2.0),
    hidden=(8,),
    batch_size=16,
    learning_starts=20,
    total_timesteps=120,
    seed=4,
)


def test_levels_store_c_step_sequences_scaled_rewards_and_goals_through_h():
    env = _env()
    agent = HIRO(env, replace(TINY, learning_starts=1000, total_timesteps=40)).learn()
    log = env.unwrapped.log
    assert len(agent.high_buffer) == 8 and len(agent.low_buffer) == 40
    high = agent.high_buffer.data
    for k in range(8):
        rows = log[5 * k : 5 * k + 5]
        np.testing.assert_array_equal(high["actions"][k], np.stack([a for _, a, _ in rows]))
        np.testing.assert_array_equal(high["states"][k, :5, :2], np.stack([o[:2] for o, _, _ in rows]))
        np.testing.assert_array_equal(high["obs"][k], high["states"][k, 0])
        np.testing.assert_array_equal(high["next_obs"][k], high["states"][k, 5])
        assert high["reward"][k] == pytest.approx(0.1 * sum(r for _, _, r in rows), rel=1e-6)
        assert np.all(high["action"][k] >= [-3, -2]) and np.all(high["action"][k] <= [3, 2])
    low = agent.low_buffer.data  # obs = [s, g], next_obs = [s', h(s, g, s')]
    s, g = low["obs"][:, :3], low["obs"][:, 3:]
    s_next, g_next = low["next_obs"][:, :3], low["next_obs"][:, 3:]
    np.testing.assert_allclose(g_next, s[:, :2] + g - s_next[:, :2], atol=1e-5)
    np.testing.assert_allclose(
        low["reward"], -np.linalg.norm(s[:, :2] + g - s_next[:, :2], axis=1), atol=1e-5
    )
    for k in range(8):  # inside a segment the goal is h of the previous one; a new goal starts each segment
        np.testing.assert_array_equal(low["obs"][5 * k, 3:], high["action"][k])
        np.testing.assert_allclose(
            low["obs"][5 * k + 1 : 5 * k + 5, 3:], g_next[5 * k : 5 * k + 4], atol=1e-6
        )


def test_predict_keeps_the_absolute_target_between_high_level_decisions():
    agent = HIRO(_env(), TINY)
    env = _env()
    obs, _ = env.reset(seed=0)
    action, state = agent.predict(obs, episode_start=np.array([True]))
    target = obs[:2] + state[0]
    for _ in range(1, 5):
        obs, *_ = env.step(action)
        action, state = agent.predict(obs, state=state)
        np.testing.assert_allclose(obs[:2] + state[0], target, atol=1e-5)
    obs, *_ = env.step(action)
    _, state = agent.predict(obs, state=state)  # step c: a fresh goal from the high level
    np.testing.assert_allclose(state[0], agent.high.act(torch.as_tensor(obs[None]))[0].numpy())
    assert evaluate_policy(agent, _env(), 2).shape == (2,)


def _same(a: HIRO, b: HIRO) -> None:
    for level in ("high", "low"):
        for name, net in getattr(a, level).networks().items():
            for key, value in net.state_dict().items():
                assert torch.equal(value, getattr(b, level).networks()[name].state_dict()[key]), (
                    level,
                    name,
                    key,
                )
    assert a.history == b.history and a.num_timesteps == b.num_timesteps
    np.testing.assert_array_equal(a.high_buffer.data["states"], b.high_buffer.data["states"])


class _Crash(RuntimeError):
    pass


def test_training_resumes_from_its_checkpoint_exactly(tmp_path):
    reference = HIRO(_env(), TINY).learn()
    assert reference.high.updates > 0 and reference.low.updates == 100
    path = tmp_path / "hiro.safetensors"

    def crash(agent: HIRO) -> None:
        if agent.num_timesteps == 90:
            raise _Crash

    with pytest.raises(_Crash):  # the checkpoint of the episode end at step 80 survives
        HIRO(_env(), TINY).learn(checkpoint=path, checkpoint_every=20, callback=crash)
    _same(HIRO(_env(), TINY).learn(checkpoint=path, checkpoint_every=20), reference)
    with pytest.raises(CheckpointMismatchError, match="correction"):
        HIRO(_env(), replace(TINY, correction=False)).learn(checkpoint=path)
    loaded = HIRO.load(path)
    _same(loaded, reference)


def test_bad_configs_are_refused_naming_the_problem():
    with pytest.raises(InputError, match=r"HIROConfig\.c "):
        HIROConfig(c=0)
    with pytest.raises(InputError, match="min >= max"):
        HIROConfig(goal_low=(-1.0, 5.0), goal_high=(1.0, 4.0))
    with pytest.raises(InputError, match="one bound per goal dimension"):
        HIROConfig(goal_indices=(0, 1, 2))
    with pytest.raises(InputError, match="repeat"):
        HIROConfig(goal_indices=(1, 1))
    with pytest.raises(InputError, match=r"high level.*actor_lr"):
        HIROConfig(high_actor_lr=0.0)
    with pytest.raises(InputError, match="outside the observation"):
        HIRO(_env(), replace(TINY, goal_indices=(0, 3)))


def test_low_level_relabelling_adds_each_segment_again_under_its_achieved_goal():
    agent = HIRO(_env(), replace(TINY, low_relabel=True, learning_starts=1000, total_timesteps=20)).learn()
    assert len(agent.low_buffer) == 40  # 20 steps as taken + 4 segments x 5 relabelled
    low, high = agent.low_buffer.data, agent.high_buffer.data
    relabelled = [i for i in range(40) if i % 10 >= 5]  # each segment's copies follow its 5 steps
    s, g, s_next = low["obs"][relabelled, :3], low["obs"][relabelled, 3:], low["next_obs"][relabelled, :3]
    np.testing.assert_allclose(low["next_obs"][relabelled, 3:], s[:, :2] + g - s_next[:, :2], atol=1e-5)
    for k in range(4):  # the first relabelled goal is s_{t+c} - s_t; the last step reaches it exactly
        np.testing.assert_allclose(g[5 * k], high["states"][k, 5, :2] - high["states"][k, 0, :2], atol=1e-6)
        assert abs(low["reward"][relabelled[5 * k + 4]]) < 1e-5
        np.testing.assert_array_equal(low["action"][relabelled[5 * k : 5 * k + 5]], high["actions"][k])


def test_low_level_pretraining_keeps_the_high_level_random_and_still():
    config = replace(TINY, pretrain_low_steps=60, total_timesteps=60)
    agent = HIRO(_env(), config).learn()
    assert agent.low.updates == 40 and agent.high.updates == 0  # low learns from step 20, high not at all
    goals = agent.high_buffer.data["action"][: len(agent.high_buffer)]
    draws = np.random.default_rng(np.random.SeedSequence([4, 1]))  # the agent's substream 1, replayed
    first = draws.uniform(config.goal_low, config.goal_high)
    np.testing.assert_allclose(goals[0], first, rtol=1e-6)
    agent.learn(80)  # past pretraining: one high-level update per completed segment
    assert agent.high.updates == 4
    with pytest.raises(InputError, match="pretrain_low_steps"):
        HIROConfig(pretrain_low_steps=-1)
