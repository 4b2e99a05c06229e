"""The Atari wrapper: gymnasium's check_env passes, observations are (4, 84, 84) uint8, PPO's CNN
policy runs and resumes on it, bad games are refused naming the item."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from core.errors import InputError
from hrl.agents.ppo import PPO
from hrl.config import PPOConfig
from hrl.envs.atari import make_atari


def test_the_preprocessed_game_passes_check_env_and_stacks_four_84x84_frames():
    # the wrapped env, as agents see it; the render check is skipped: it starts ALE's SDL display and
    # audio, after which importing triton (torch's optimisers do) segfaults in this process
    check_env(make_atari("ALE/Pong-v5", max_episode_steps=50), skip_render_check=True)
    env = make_atari("ALE/Pong-v5", max_episode_steps=50)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84)


def test_ppo_with_the_cnn_policy_steps_an_atari_game(tmp_path):
    config = PPOConfig(n_envs=1, n_steps=16, batch_size=16, n_epochs=1, seed=0)
    agent = PPO(lambda: make_atari("ALE/Pong-v5", max_episode_steps=20), config)
    agent.learn(total_timesteps=32)
    assert agent.num_timesteps == 32 and agent.num_episodes >= 1
    obs, _ = make_atari("ALE/Pong-v5").reset(seed=1)
    assert agent.predict(obs, deterministic=True)[0].shape == ()


def test_bad_games_and_sizes_are_refused():
    with pytest.raises(InputError, match="unknown Atari game"):
        make_atari("ALE/NoSuchGame-v5")
    with pytest.raises(InputError, match="stack"):
        make_atari(stack=0)
