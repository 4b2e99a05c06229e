"""The human-priors platformer (Dubey et al. 2018), its renderings, the count-based agent, play and replay."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from core.errors import InputError
from hrl.envs.priors import ACTIONS, RENDERINGS, PriorsPlatformer, shortest_solution
from hrl.envs.priors import SMALL_LAYOUT as SMALL
from hrl.human.config import CountQConfig
from hrl.human.count_q import CountQ
from hrl.human.play import load_trajectory, play, replay, save_trajectory, summarize


def _random_actions(n: int, seed: int = 0) -> list[int]:
    return [int(a) for a in np.random.default_rng(seed).integers(len(ACTIONS), size=n)]


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_check_env_every_rendering(rendering):
    env = PriorsPlatformer(rendering)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset()
    assert obs.shape == (3, 40, 64) and obs.dtype == np.uint8
    assert PriorsPlatformer(rendering, render_mode="rgb_array").render().shape == (160, 256, 3)
    assert len(PriorsPlatformer(rendering, render_mode="ansi").render()) > 0


def test_renderings_change_pixels_never_dynamics():
    """Same actions -> same states and rewards in every rendering; the pictures differ but are one-to-one
    relabellings of each other (two steps look alike in one rendering iff they do in every other)."""
    actions = [*_random_actions(1500, seed=1), -1, *shortest_solution(PriorsPlatformer())]  # -1: reset
    runs = {}
    for rendering in RENDERINGS:
        env = PriorsPlatformer(rendering)
        obs, _ = env.reset()
        states, rewards, frames = [env.state_dict()], [], [obs.tobytes()]
        for a in actions:
            reward, terminated, truncated = 0.0, a < 0, False
            if a >= 0:
                obs, reward, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                obs, _ = env.reset()
            states.append(env.state_dict())
            rewards.append(reward)
            frames.append(obs.tobytes())
        runs[rendering] = (states, rewards, frames)
    states0, rewards0, frames0 = runs["original"]
    assert sum(rewards0) >= 1  # the run includes a solve
    labels0 = {f: i for i, f in enumerate(dict.fromkeys(frames0))}
    for rendering, (states, rewards, frames) in runs.items():
        assert states == states0 and rewards == rewards0, rendering
        if rendering != "original":
            assert frames[0] != frames0[0], rendering
        labels = {f: i for i, f in enumerate(dict.fromkeys(frames))}
        assert [labels[f] for f in frames] == [labels0[f] for f in frames0], rendering


def test_shortest_solution_solves_and_hazards_kill():
    env = PriorsPlatformer()
    solution = shortest_solution(env)
    assert solution is not None and len(solution) == 33
    env.reset()
    for i, a in enumerate(solution):
        _, reward, terminated, _, info = env.step(a)
        assert terminated == (i == len(solution) - 1)
    assert reward == 1.0 and info["state"]["outcome"] == "solved"
    env.reset()  # walking right from the start runs into the spikes at column 6
    for _ in range(5):
        _, reward, terminated, _, info = env.step(ACTIONS.index("right"))
    assert terminated and reward == 0.0 and info["state"]["outcome"] == "died"
    with pytest.raises(InputError, match="call reset"):
        env.step(0)


def test_bad_names_and_layouts_raise_clear_errors():
    with pytest.raises(InputError, match=r"unknown priors rendering.*'mask'"):
        PriorsPlatformer("mask")
    with pytest.raises(InputError, match=r"unknown character.*row 1, column 2"):
        PriorsPlatformer(layout=("#####", "#SxKD", "#####"))
    with pytest.raises(InputError, match="exactly one key"):
        PriorsPlatformer(layout=("#####", "#S.D#", "#####"))
    with pytest.raises(InputError, match="tile"):
        PriorsPlatformer(tile=2)
    with pytest.raises(InputError, match=r"CountQConfig\.bonus"):
        CountQConfig(bonus=0.0)


def test_recorded_play_replays_exactly(tmp_path):
    """A scripted 'person': dies on the spikes, then solves; the file replays state for state."""
    solution = shortest_solution(PriorsPlatformer(layout=SMALL))
    keys = {ACTIONS.index(name): k for k, name in (("a", "left"), ("d", "right"), ("w", "up"))}
    keys.update({ACTIONS.index("jump-left"): "q", ACTIONS.index("jump-right"): "e", 0: "."})
    lines = ["zd", "ddd", "dd", "", "".join(keys[a] for a in solution) + "ddd"]  # z: not a key
    ticks = iter(range(10_000))
    record = play(
        PriorsPlatformer("masked", layout=SMALL), lines, io.StringIO(), color=False, clock=lambda: next(ticks)
    )
    assert record.solved and [a["outcome"] for a in record.attempts] == ["died", "solved"]
    assert record.steps == 5 + 1 + len(solution)  # what followed the solve was not played
    path = save_trajectory(record, tmp_path / "session.json")
    again = load_trajectory(path)
    assert replay(again) == len(record.events)
    assert summarize([again])[0]["deaths before solving"] == 1
    data = json.loads(path.read_text())
    data["states"][4]["agent"] = [1, 1]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"diverges.*event 4"):
        replay(load_trajectory(path))
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(InputError, match="not a priors trajectory"):
        load_trajectory(tmp_path / "other.json")


def test_count_q_beats_random_and_is_indifferent_to_renderings(tmp_path):
    """Count-based Q solves the small level in < 4000 steps (3 seeds), where a uniform random policy
    has not solved it after 10 000 steps (seeds 0, 2); its run is the same under every rendering."""
    solved = {}
    for rendering in ("original", "all"):
        for seed in range(3):
            env = PriorsPlatformer(rendering, layout=SMALL, max_steps=100)
            agent = CountQ(env, CountQConfig(seed=seed, total_timesteps=20_000)).learn()
            solved[(rendering, seed)] = agent.solved_at
    assert all(s is not None and s < 4000 for s in solved.values()), solved
    assert all(solved[("original", s)] == solved[("all", s)] for s in range(3))
    for seed in (0, 2):
        env, rng = PriorsPlatformer(layout=SMALL, max_steps=100), np.random.default_rng(seed)
        env.reset()
        for _ in range(10_000):
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(len(ACTIONS))))
            assert reward == 0.0
            if terminated or truncated:
                env.reset()


def test_count_q_resume_and_save_load(tmp_path):
    def make():
        return PriorsPlatformer(layout=SMALL, max_steps=100)

    config = CountQConfig(seed=1, total_timesteps=1500, stop_when_solved=False)
    whole = CountQ(make(), config).learn()
    path = tmp_path / "q.safetensors"
    CountQ(make(), CountQConfig(seed=1, total_timesteps=700, stop_when_solved=False)).learn(checkpoint=path)
    resumed = CountQ(make(), config).learn(checkpoint=path)
    assert resumed.history == whole.history and np.array_equal(
        resumed.q[: whole.n_states], whole.q[: whole.n_states]
    )
    loaded = CountQ.load(path, make())
    obs, _ = make().reset()
    assert loaded.predict(obs)[0] == whole.predict(obs)[0]
    with pytest.raises(InputError, match="bonus"):
        CountQ(make(), CountQConfig(seed=1, bonus=0.5, total_timesteps=1500, stop_when_solved=False)).learn(
            checkpoint=path
        )


def test_pixel_counts_bonus():
    """PPO's bonus is 1/sqrt(n+1) by exact pixels (hand counts); compute leaves the counts alone."""
    import torch

    from hrl.human.pixel_counts import PixelCounts

    frames = torch.tensor([[1, 2, 3], [1, 2, 3], [4, 5, 6]], dtype=torch.float32)
    bonus = PixelCounts()
    assert torch.allclose(bonus.compute({"next_obs": frames}), torch.ones(3))
    bonus.update({"next_obs": frames})
    expected = torch.tensor([1 / 3**0.5, 1 / 3**0.5, 1 / 2**0.5])
    assert torch.allclose(bonus.compute({"next_obs": frames}), expected)
    assert len(bonus.counts) == 2


def test_play_and_replay_commands(tmp_path, monkeypatch, capsys):
    """``play priors`` records a typed session from stdin; ``replay`` checks it (the commands that
    `hrl.cli` adds with `add_play_commands`)."""
    import argparse

    from hrl.human.play import add_play_commands

    parser = argparse.ArgumentParser(prog="hrl")
    add_play_commands(parser.add_subparsers(dest="command", required=True))
    monkeypatch.setattr("sys.stdin", io.StringIO("ddd\nzdd\n\nx\n"))
    args = parser.parse_args(
        ["play", "priors", "--rendering", "masked", "--no-color", "--out", str(tmp_path)]
    )
    assert args.handler(args) == 0
    assert "not solved: 6 steps, 1 deaths" in capsys.readouterr().out
    (path,) = tmp_path.glob("priors-masked-*.json")
    args = parser.parse_args(["replay", str(path)])
    assert args.handler(args) == 0
    assert "every state equals the recorded one" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["play", "priors", "--rendering", "mask"])
    assert "invalid choice: 'mask'" in capsys.readouterr().err


def test_simhash_keys():
    """hash_bits > 0 keys rows by sign(A x), A drawn from the seed (a hand computation);
    bad widths are refused."""
    from hrl.agents.common import substream

    env = PriorsPlatformer(layout=SMALL)
    agent = CountQ(env, CountQConfig(hash_bits=16, seed=3))
    obs, _ = env.reset()
    a = substream(3, 0x51).standard_normal((16, obs.size)).astype(np.float32)
    expected = np.packbits(a @ obs.reshape(-1).astype(np.float32) > 0).tobytes().ljust(16, b"\0")
    assert agent._key(obs) == expected
    with pytest.raises(InputError, match="hash_bits"):
        CountQConfig(hash_bits=-1)
