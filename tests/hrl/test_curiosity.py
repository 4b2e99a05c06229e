"""Burda et al.'s curiosity in four feature spaces, the MiniGrid pixel maze and its noisy TV."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from hrl.curiosity.config import FEATURE_SPACES, CuriosityConfig, EpisodicConfig
from hrl.curiosity.envs import LUMA, make_minigrid
from hrl.curiosity.features import FeatureCuriosity, small_convnet

SHAPE = (1, 46, 38)  # FourRooms at 2 pixels a cell (38 x 38) and an 8-row TV screen


def _batch(n: int, seed: int = 0, n_actions: int = 4) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    dim = SHAPE[0] * SHAPE[1] * SHAPE[2]
    return {
        "obs": torch.randint(0, 256, (n, dim), generator=g).float(),
        "action": torch.nn.functional.one_hot(
            torch.randint(0, n_actions, (n,), generator=g), n_actions
        ).float(),
        "next_obs": torch.randint(0, 256, (n, dim), generator=g).float(),
    }


def _small(features: str, **kw) -> FeatureCuriosity:
    return FeatureCuriosity(
        SHAPE, 4, CuriosityConfig(features=features, feature_dim=32, hidden=32, seed=0, **kw)
    )


@pytest.mark.parametrize("features", FEATURE_SPACES)
def test_feature_shapes_and_reward_shape(features):
    module = _small(features)
    batch = _batch(5)
    phi = module.features(batch["obs"])
    width = SHAPE[1] * SHAPE[2] if features == "pixels" else 32
    assert phi.shape == (5, width) and module.feature_dim == width
    reward = module.compute(batch)
    assert reward.shape == (5,) and torch.all(reward >= 0)
    # compute has no side effects: the same batch gives the same rewards
    assert torch.equal(reward, module.compute(batch))


@pytest.mark.parametrize("features", ["idf", "vae"])
def test_forward_loss_never_changes_the_features(features):
    """The stop-gradient: a step on the forward loss alone moves the forward model, not phi."""
    module = _small(features)
    before = {name: p.detach().clone() for name, p in module.encoder.named_parameters()}
    forward_before = [p.detach().clone() for p in module.forward_model.parameters()]
    module.optimizer.zero_grad(set_to_none=True)
    module.prediction_errors(_batch(8)).mean().backward()
    assert all(p.grad is None for p in module.encoder.parameters())
    module.optimizer.step()
    assert all(torch.equal(before[name], p) for name, p in module.encoder.named_parameters())
    assert any(not torch.equal(a, b) for a, b in zip(forward_before, module.forward_model.parameters()))
    # while its own loss (inverse dynamics / ELBO) does train phi
    module.update(_batch(16, seed=1))
    assert any(not torch.equal(before[name], p) for name, p in module.encoder.named_parameters())


def test_random_features_stay_frozen_under_update():
    module = _small("random")
    before = [p.detach().clone() for p in module.encoder.parameters()]
    module.update(_batch(16))
    assert all(torch.equal(a, b) for a, b in zip(before, module.encoder.parameters()))


def test_observation_stats_are_the_papers():
    """Per-pixel mean, one scalar sd: the mean over pixels of the per-pixel sd."""
    module = _small("random")
    obs = _batch(50)["obs"]
    module.fit_observation_stats(obs)
    assert torch.allclose(module.obs_mean, obs.mean(0))
    assert torch.isclose(module.obs_scale, torch.from_numpy(obs.numpy().std(0)).mean().float())
    assert torch.allclose(module.normalise(obs[:2]), (obs[:2] - obs.mean(0)) / module.obs_scale)


def _walk(env, seed: int, steps: int, n_actions: int = 3):
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    rows = []
    for _ in range(steps):
        action = int(rng.integers(n_actions))
        next_obs, *_ = env.step(action)
        rows.append((obs.reshape(-1), action, next_obs.reshape(-1)))
        obs = next_obs
    return {
        "obs": torch.tensor(np.stack([r[0] for r in rows]), dtype=torch.float32),
        "action": torch.nn.functional.one_hot(torch.tensor([r[1] for r in rows]), 3).float(),
        "next_obs": torch.tensor(np.stack([r[2] for r in rows]), dtype=torch.float32),
    }


def test_curiosity_is_higher_on_novel_than_on_repeated_transitions():
    """After training on one stretch of the maze, the bonus there is well below the bonus elsewhere."""
    seen = _walk(make_minigrid(layout_seed=6, max_steps=1000), 0, 128)
    novel = _walk(make_minigrid(layout_seed=3, max_steps=1000), 1, 128)  # another maze, start and goal
    module = FeatureCuriosity(
        (1, 38, 38), 3, CuriosityConfig(feature_dim=32, hidden=64, lr=1e-3, minibatches=2)
    )
    module.fit_observation_stats(seen["obs"])
    for _ in range(30):
        module.update(seen)
    repeated, fresh = module.compute(seen).mean().item(), module.compute(novel).mean().item()
    assert fresh > 3 * repeated, (fresh, repeated)


def test_top_down_frame_equals_minigrids_own_render():
    env = make_minigrid(layout_seed=6, max_steps=50)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(120):
        reference = np.rint(env.unwrapped.get_frame(highlight=False, tile_size=2).astype(np.float64) @ LUMA)
        assert np.array_equal(obs[0], reference.astype(np.uint8))
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
        if terminated or truncated:
            obs, _ = env.reset()


def test_noisy_tv_changes_only_the_screen_and_only_on_the_remote_with_the_tv_on():
    on, off, plain = (make_minigrid(layout_seed=6, noisy_tv=tv) for tv in (True, False, None))
    assert on.observation_space.shape == (1, 46, 38) and plain.observation_space.shape == (1, 38, 38)
    assert on.action_space.n == 4 and plain.action_space.n == 3
    frame_on, frame_off, frame_plain = (env.reset(seed=5)[0] for env in (on, off, plain))
    assert np.array_equal(frame_on[:, :38], frame_plain) and not frame_on[:, 38:].any()
    rng = np.random.default_rng(1)
    for _ in range(80):
        action = int(rng.integers(4))
        last_on, last_off = frame_on, frame_off
        frame_on, frame_off = on.step(action)[0], off.step(action)[0]
        if action == 3:  # the remote: the maze as it was; the screen new (TV on) or black (TV off)
            assert np.array_equal(frame_on[:, :38], last_on[:, :38])
            assert not np.array_equal(frame_on[:, 38:], last_on[:, 38:])
            assert np.array_equal(frame_off, last_off)
        else:  # a move: the screen as it was, the maze as without any TV
            frame_plain = plain.step(action)[0]
            assert np.array_equal(frame_on[:, 38:], last_on[:, 38:])
            assert np.array_equal(frame_on[:, :38], frame_plain) and np.array_equal(
                frame_off[:, :38], frame_plain
            )
        assert not frame_off[:, 38:].any()
    assert on.remote_presses == off.remote_presses > 0


def test_minigrid_wrappers_pass_check_env():
    from gymnasium.utils.env_checker import check_env

    for tv in (None, True):  # layout_seed=None: a fixed layout deliberately ignores the reset seed
        check_env(make_minigrid(noisy_tv=tv), skip_render_check=True)


def test_visit_counter_counts_cells_and_presses():
    env = make_minigrid(layout_seed=6, noisy_tv=True)
    env.reset(seed=0)
    start = tuple(int(v) for v in env.unwrapped.agent_pos)
    assert env.visited == {start}
    for action in (3, 3, 0):
        env.step(action)
    assert env.remote_presses == 2 and env.steps == 3 and env.visited == {start}


def test_bad_configs_and_inputs_raise_clear_errors():
    with pytest.raises(InputError, match="features"):
        CuriosityConfig(features="rgb")
    with pytest.raises(InputError, match="feature_dim"):
        CuriosityConfig(feature_dim=0)
    with pytest.raises(InputError, match="lr"):
        CuriosityConfig(lr=0.0)
    with pytest.raises(InputError, match="gamma"):
        EpisodicConfig(gamma=1)
    with pytest.raises(InputError, match="percentile"):
        EpisodicConfig(percentile=0.0)
    with pytest.raises(InputError, match="36 x 36"):
        small_convnet((1, 20, 20), 8)
    with pytest.raises(InputError, match="CuriosityConfig"):
        FeatureCuriosity(SHAPE, 4, {"features": "random"})
    with pytest.raises(InputError, match="one-hot"):
        _small("random").compute({**_batch(2), "action": torch.zeros(2, 3)})
    with pytest.raises(InputError, match="unknown MiniGrid env"):
        make_minigrid("CartPole-v1")
    with pytest.raises(InputError, match="tile_size"):
        make_minigrid(tile_size=0)
    with pytest.raises(InputError, match="noisy_tv"):
        make_minigrid(noisy_tv="on")
    from hrl.experiments.curiosity import CuriosityStudy

    with pytest.raises(InputError, match="feature space"):
        CuriosityStudy(features=("depth",))
    with pytest.raises(InputError, match="steps"):
        CuriosityStudy(steps=0)
