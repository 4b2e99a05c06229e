"""The Flappy-Bird-like game (`hrl.envs.flappy`) and its RL stream: gymnasium's check_env, an episode
by hand, determinism given a seed, a short Q-learning run on one task beats a random policy, bad
configs are refused naming the field."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrl.envs  # noqa: F401 - registers hrl/Flappy-v0
from core.errors import InputError
from hrl.continual import ContinualConfig
from hrl.continual.rl_stream import RLStreamConfig, make_games, train_rl_stream
from hrl.envs.flappy import Flappy


@pytest.mark.parametrize("kwargs", [{}, {"gap": 2, "speed": 2, "width": 9}])
def test_flappy_passes_gymnasiums_check_env(kwargs):
    check_env(gym.make("hrl/Flappy-v0", **kwargs).unwrapped, skip_render_check=True)


def test_a_flappy_episode_by_hand():
    game = Flappy(width=5, height=5, gap=2, speed=1, pipes=2)
    obs = game.reset(bird=2, gaps=(3, 0))
    h, w = 5, 5
    assert obs.sum() == 4 and obs[3 - 2 + h - 1] == 1 and obs[2 * h - 1 + 2] == 1
    assert obs[3 * h - 1 + 2] == 1  # pipe at column 4: two columns between it and the bird
    assert obs[3 * h - 1 + w - 1 + 0] == 1  # no pipe move yet
    obs, reward, done = game.step(0)  # bird falls to row 3, pipe to column 3
    assert (game.bird, game.pipe, reward, done) == (3, 3, 0.0, False)
    assert obs[3 * h - 1 + w - 1 + 1] == 1  # the pipe moved one column
    game.step(1)  # bird 2, pipe 2
    obs, reward, done = game.step(0)  # bird 3, pipe 1: inside the gap (rows 3, 4): passed
    assert (game.passed, game.pipe, reward, done) == (1, 4, 0.5, False)
    assert obs[0 - 3 + h - 1] == 1  # the next gap's top (row 0) relative to the bird
    game.step(1)  # bird 2
    game.step(1)  # bird 1
    _, reward, done = game.step(0)  # bird 2, pipe 1: outside the gap (rows 0, 1): crash
    assert (reward, done) == (-1.0, True)
    game.reset(bird=0, gaps=(0, 0))
    assert game.step(1)[1:] == (-1.0, True)  # flying off the top


def test_flappy_is_deterministic_given_a_seed():
    def episode(seed):
        env = gym.make("hrl/Flappy-v0", gap=2)
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        trace, done = [obs], False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trace.append(np.append(obs, reward))
            done = terminated or truncated
        return np.concatenate(trace), env.unwrapped.game.gaps

    first, gaps = episode(3)
    again, gaps_again = episode(3)
    np.testing.assert_array_equal(first, again)
    assert gaps == gaps_again
    assert any(episode(s)[1] != gaps for s in (4, 5, 6))
    assert Flappy(7, 7, 3, 1).starts() == Flappy(7, 7, 3, 2).starts()  # speed variants: same episodes


def test_q_learning_on_one_flappy_task_beats_a_random_policy():
    stream = RLStreamConfig(game="flappy", gaps=(3,), speeds=(1,), steps_per_task=3000)
    (game,) = make_games(stream)
    rng = np.random.default_rng(0)
    total = 0.0
    for start in game.starts():
        game.reset(*start)
        done = False
        while not done:
            _, reward, done = game.step(int(rng.integers(2)))
            total += reward
    random_return = total / len(game.starts())
    learner = ContinualConfig(method="online", seed=0)
    learned = train_rl_stream(stream, learner).result[0, 0]
    assert learned > random_return + 1.0, (learned, random_return)
    untrained = train_rl_stream(
        RLStreamConfig(game="flappy", gaps=(3,), speeds=(1,), steps_per_task=1), learner
    )
    assert untrained.result[0, 0] < learned


@pytest.mark.parametrize(
    ("field", "value"),
    [("game", "pong"), ("gaps", ()), ("speeds", (1, 2)), ("pipes", 0)],
)
def test_bad_flappy_configs_are_refused_naming_the_field(field, value):
    with pytest.raises(InputError, match=field):
        RLStreamConfig(**{field: value})


def test_bad_flappy_games_are_refused_naming_the_item():
    with pytest.raises(InputError, match="gap"):
        Flappy(7, 7, gap=6, speed=1)
    with pytest.raises(InputError, match="speed"):
        Flappy(7, 7, gap=3, speed=6)
    with pytest.raises(InputError, match="action"):
        Flappy(7, 7, 3, 1).step(2)


def test_the_flappy_study_publishes_its_tables_and_figure(tmp_path):
    from dataclasses import replace

    from core.cli import RunOptions
    from hrl.experiments.continual import FLAPPY_METHODS, FLAPPY_SMOKE, run_rl_continual_study

    study = replace(
        FLAPPY_SMOKE,
        seeds=1,
        stream=replace(FLAPPY_SMOKE.stream, steps_per_task=30, gaps=(3, 2), speeds=(1, 2)),
    )
    summary, matrix = run_rl_continual_study(RunOptions(out=tmp_path, seed=0), study)
    assert (summary.name, matrix.name) == ("continual_rl_flappy", "continual_rl_flappy_per_task")
    assert len(summary.rows) == len(FLAPPY_METHODS) and len(matrix.rows) == 2 * len(FLAPPY_METHODS)
    assert "gap 2, speed 2" in summary.notes
    assert (tmp_path / "continual_rl_flappy.png").stat().st_size > 1000
