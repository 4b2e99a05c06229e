"""PlaNet on DeepMind Control: the dm-control / mujoco 4 field-table fix, the pixel task wrapper, the conv RSSM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from genmodels.config import PLANET_TASKS, PlaNetConfig, RSSMConfig
from genmodels.planet import RSSM, rssm_loss
from genmodels.planet.conv import ConvDecoder, ConvEncoder
from genmodels.planet.dmc import TASKS, DMCTask, patch_dm_control_sizes
from genmodels.planet.loop import model_input


def test_the_fix_removes_exactly_the_fields_mujoco_lacks_and_every_task_loads():
    import mujoco
    from dm_control.mujoco.wrapper.mjbindings import sizes

    removed = patch_dm_control_sizes()
    model = mujoco.MjModel.from_xml_string("<mujoco><worldbody/></mujoco>")
    structs = {"mjmodel": model, "mjdata": mujoco.MjData(model)}
    for entry in removed:  # each removed field is absent from the installed mujoco...
        name, field = entry.split(".")
        assert not hasattr(structs[name], field)
    for name, struct in structs.items():  # ...and every field left in the table is present
        assert all(hasattr(struct, field) for field in sizes.array_sizes[name])
    if int(mujoco.__version__.split(".")[0]) >= 4:
        assert "mjmodel.flex_vertedge" in removed
    assert patch_dm_control_sizes() == removed  # idempotent


def test_task_rewards_equal_dm_control_stepped_by_hand_with_the_action_repeat():
    from dm_control import suite

    task = DMCTask("cartpole-swingup", max_steps=24)
    frame = task.reset(5)
    assert frame.shape == (3 * 64 * 64,) and frame.dtype == np.uint8 and frame.std() > 0
    reference = suite.load("cartpole", "swingup", task_kwargs={"random": 5})
    reference.reset()
    actions = np.random.default_rng(0).uniform(-1, 1, (3, 1))
    for action in actions:
        expected = sum(reference.step(action).reward for _ in range(8))
        _, reward, done = task.step(action)
        assert reward == pytest.approx(expected, abs=1e-12)
    assert done and task.steps == 24
    assert np.array_equal(
        task.render(),
        np.ascontiguousarray(reference.physics.render(64, 64, camera_id=0).transpose(2, 0, 1)).reshape(-1),
    )


def test_task_is_deterministic_given_a_seed_and_refuses_bad_input():
    task = DMCTask("cartpole-swingup", max_steps=16)
    runs = []
    for seed in (3, 3, 4):
        frames = [task.reset(seed)]
        frames += [task.step(np.array([0.5]))[0] for _ in range(2)]
        runs.append(np.stack(frames))
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    with pytest.raises(InputError, match="actions"):
        task.step(np.zeros(2))
    with pytest.raises(InputError, match="unknown DeepMind Control task"):
        DMCTask("cartpole-balance-sparse")
    with pytest.raises(InputError, match="unknown PlaNet task"):
        PlaNetConfig(env="cartpole-balance")
    assert set(TASKS) <= set(PLANET_TASKS)


def test_conv_rssm_reads_frames_and_its_objective_is_finite_and_trains():
    with pytest.raises(InputError, match="64 x 64 RGB"):
        RSSMConfig(obs_dim=256, encoder="conv", conv_depth=2, embedding=64)
    config = RSSMConfig(
        obs_dim=3 * 64 * 64,
        action_dim=1,
        deterministic=8,
        stochastic=4,
        hidden=8,
        embedding=64,
        encoder="conv",
        conv_depth=2,
        overshooting=2,
    )
    encoder, decoder = ConvEncoder(2), ConvDecoder(12, 2)
    frames = torch.rand(2, 3, 3 * 64 * 64)
    assert encoder(frames).shape == (2, 3, 64) and decoder(torch.rand(2, 3, 12)).shape == (2, 3, 3 * 64 * 64)
    assert torch.equal(model_input(torch.full((2,), 255, dtype=torch.uint8)), torch.full((2,), 0.5))
    torch.manual_seed(0)
    model = RSSM(config)
    generator = torch.Generator().manual_seed(0)
    observations = model_input(
        torch.randint(0, 256, (2, 5, 3 * 64 * 64), generator=generator, dtype=torch.uint8)
    )
    actions, rewards = torch.rand(2, 5, 1, generator=generator), torch.rand(2, 5, generator=generator)
    losses = []
    for _ in range(4):  # plain gradient descent (no torch.optim: its first import costs seconds here)
        terms = rssm_loss(model, observations, actions, rewards, torch.Generator().manual_seed(1))
        model.zero_grad()
        terms.loss.backward()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter -= 1e-5 * parameter.grad
        losses.append(float(terms.loss.detach()))
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
