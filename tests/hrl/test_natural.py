"""Natural-signal tasks (`hrl.envs.natural`): API checks, compositing, determinism, a tiny crawl run."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from core.errors import InputError
from hrl.envs.natural import (
    ImageCrawl,
    ImageLocalise,
    NaturalBackground,
    make_natural_atari,
)


@pytest.mark.parametrize("make", [ImageCrawl, ImageLocalise, lambda: ImageLocalise(target=None)])
def test_image_tasks_pass_check_env(make):
    check_env(make(), skip_render_check=True)


def test_video_atari_passes_check_env():
    check_env(make_natural_atari(background="video", noop_max=2), skip_render_check=True)


def test_compositing_changes_only_background_pixels():
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    clean = gym.make("ALE/Breakout-v5", frameskip=1, obs_type="rgb")
    video = NaturalBackground(gym.make("ALE/Breakout-v5", frameskip=1, obs_type="rgb"), "video")
    frame, _ = clean.reset(seed=3)
    composited, _ = video.reset(seed=3)
    assert tuple(video.colour) == (0, 0, 0)  # Breakout's background is black
    actions = np.random.default_rng(0).integers(4, size=40)
    changed = 0
    for t, action in enumerate(actions):
        if t:
            frame = clean.step(action)[0]
            composited = video.step(action)[0]
        background = np.all(frame == video.colour, axis=-1)
        moved = np.any(frame != composited, axis=-1)
        assert not np.any(moved & ~background)  # game pixels untouched
        np.testing.assert_array_equal(composited[background], video.background()[background])
        changed += int(moved.sum())
    assert changed > 0.5 * frame.shape[0] * frame.shape[1] * len(actions)
    assert not np.array_equal(video.background(1), video.background(2))  # the video moves


def test_same_seed_same_episode():
    for make in (ImageCrawl, ImageLocalise, lambda: make_natural_atari(background="video")):
        runs = []
        for _ in range(2):
            env = make()
            obs, _ = env.reset(seed=7)
            seen = [np.asarray(obs)]
            for action in [0, 3, 1, 2, 3, 0]:
                seen.append(np.asarray(env.step(action)[0]))
            runs.append(np.stack(seen))
        np.testing.assert_array_equal(runs[0], runs[1])


def test_crawl_rewards_and_bad_inputs():
    env = ImageCrawl(patch=4, max_steps=3)
    obs, info = env.reset(seed=0)
    assert obs[64:128].sum() == 16  # one 4 x 4 patch revealed
    answer = 4 + env.classes.index(info["label"])
    assert env.step(answer)[1] == 1.0
    env.reset(seed=0)
    assert env.step(0)[1] == pytest.approx(-0.01)
    with pytest.raises(InputError, match="patch"):
        ImageCrawl(patch=3)
    with pytest.raises(InputError, match="background"):
        make_natural_atari(background="sky")
    with pytest.raises(InputError, match="target"):
        ImageLocalise(target=11)


def test_tiny_ppo_crawl_beats_chance():
    from hrl.agents.ppo import PPO
    from hrl.config import PPOConfig
    from hrl.evaluation import evaluate_policy

    classes = (0, 1, 7)

    def make(split: str = "train") -> ImageCrawl:
        return ImageCrawl(split=split, patch=4, classes=classes)

    config = PPOConfig(
        n_envs=4,
        n_steps=64,
        batch_size=128,
        n_epochs=4,
        learning_rate=1e-3,
        ent_coef=0.01,
        total_timesteps=6_000,
    )
    agent = PPO(make, config).learn()
    accuracy = (evaluate_policy(agent, make("test"), 60, seed=1000) > 0.5).mean()
    assert accuracy > 1 / len(classes) + 0.25  # chance 0.33
