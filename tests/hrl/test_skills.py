"""SAC and DIAYN: the squashed-Gaussian log-density against torch.distributions, SAC's soft target by
hand with the same noise draw, DIAYN's pseudo-reward equals log q(z|s') - log p(z) on a fixed
discriminator, kill-and-resume bit-identical for both, bad configs refused naming the field."""

from __future__ import annotations

import json
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Normal, TransformedDistribution
from torch.distributions.transforms import AffineTransform, TanhTransform

from core.cli import RunOptions
from core.errors import CheckpointMismatchError, InputError
from hrl.agents.diayn import DIAYN
from hrl.agents.sac import SAC, SACLearner
from hrl.config import DIAYNConfig, SACConfig
from hrl.envs.point_maze import make_point_room
from hrl.networks import SquashedGaussianActor

LOW, HIGH = torch.tensor([-2.0, 0.0]), torch.tensor([2.0, 1.0])


def _reference(actor: SquashedGaussianActor, obs: torch.Tensor) -> TransformedDistribution:
    mean, log_std = actor.distribution(obs)
    scale = [TanhTransform(), AffineTransform((HIGH + LOW) / 2, (HIGH - LOW) / 2)]
    return TransformedDistribution(Normal(mean, log_std.exp()), scale)


def test_the_squashed_gaussian_log_density_equals_torch_distributions():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        actor = SquashedGaussianActor(3, (8,), LOW, HIGH)
    obs = torch.randn(6, 3, generator=torch.Generator().manual_seed(1))
    action, log_prob = actor.sample(obs, torch.Generator().manual_seed(2))
    assert torch.all(action >= LOW) and torch.all(action <= HIGH)
    torch.testing.assert_close(
        log_prob, _reference(actor, obs).log_prob(action).sum(-1), rtol=1e-4, atol=1e-4
    )


def test_the_soft_critic_target_by_hand_with_the_same_noise_draw():
    learner = SACLearner(3, LOW.numpy(), HIGH.numpy(), SACConfig(hidden=(8,), alpha=0.2, gamma=0.9))
    g = torch.Generator().manual_seed(0)
    batch = {
        "obs": torch.randn(5, 3, generator=g),
        "action": torch.rand(5, 2, generator=g),
        "reward": torch.randn(5, generator=g),
        "next_obs": torch.randn(5, 3, generator=g),
        "terminated": torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0]),
    }
    state = learner.generator.get_state()
    target = learner.critic_target_values(batch)
    noise = torch.randn((5, 2), generator=torch.Generator().set_state(state))
    with torch.no_grad():
        mean, log_std = learner.actor.distribution(batch["next_obs"])
        u = mean + log_std.exp() * noise
        action = (HIGH + LOW) / 2 + (HIGH - LOW) / 2 * torch.tanh(u)
        log_prob = _reference(learner.actor, batch["next_obs"]).log_prob(action).sum(-1)
        q = learner.critic_target(batch["next_obs"], action)
        expected = batch["reward"] + 0.9 * (1 - batch["terminated"]) * (
            torch.minimum(q[0], q[1]) - 0.2 * log_prob
        )
    torch.testing.assert_close(target, expected, rtol=1e-4, atol=1e-4)
    assert not learner.tune_alpha and learner.alpha == pytest.approx(0.2)
    assert SACLearner(3, LOW.numpy(), HIGH.numpy(), SACConfig(hidden=(8,))).tune_alpha  # alpha 0: tuned


def test_diayns_pseudo_reward_is_log_q_minus_log_p_on_a_fixed_discriminator():
    agent = DIAYN(make_point_room(), DIAYNConfig(skills=3, hidden=(8,), discriminator_hidden=(8,)))
    next_obs = torch.randn(7, 2, generator=torch.Generator().manual_seed(0)) * 10
    skills = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    with torch.no_grad():
        logits = agent.discriminator(next_obs).numpy().astype(np.float64)
    log_q = logits - np.log(np.exp(logits).sum(1, keepdims=True))  # log-softmax by hand
    expected = log_q[np.arange(7), skills.numpy()] - np.log(1 / 3)
    np.testing.assert_allclose(agent.pseudo_reward(next_obs, skills).numpy(), expected, rtol=1e-5)
    action, skill = agent.predict(np.zeros(2, np.float32), state=2)
    assert skill == 2 and action.shape == (2,)
    with pytest.raises(InputError, match="skill out of range"):
        agent.predict(np.zeros(2, np.float32), state=3)


class _Crash(RuntimeError):
    pass


def _crash_at(step: int):
    def callback(agent) -> None:
        if agent.num_timesteps == step:
            raise _Crash

    return callback


@pytest.mark.parametrize("kind", ["sac", "diayn"])
def test_sac_and_diayn_resume_from_their_checkpoints_exactly(tmp_path, kind):
    if kind == "sac":
        make, config = (
            (lambda: gym.make("Pendulum-v1", max_episode_steps=50)),
            SACConfig(hidden=(8,), batch_size=16, learning_starts=60, total_timesteps=200, seed=1),
        )
        agent_type, changed = SAC, {"tau": 0.01}
    else:
        make, config = (
            (lambda: make_point_room(50)),
            DIAYNConfig(
                skills=3,
                hidden=(8,),
                discriminator_hidden=(8,),
                batch_size=16,
                learning_starts=60,
                total_timesteps=200,
                seed=1,
            ),
        )
        agent_type, changed = DIAYN, {"skills": 4}
    reference = agent_type(make(), config).learn()
    path = tmp_path / f"{kind}.safetensors"
    with pytest.raises(_Crash):  # the checkpoint of the episode end at step 100 survives
        agent_type(make(), config).learn(checkpoint=path, checkpoint_every=100, callback=_crash_at(130))
    resumed = agent_type(make(), config).learn(checkpoint=path, checkpoint_every=100)
    assert resumed.history == reference.history and resumed.learner.updates == reference.learner.updates
    for key, value in reference.learner.actor.state_dict().items():
        assert torch.equal(value, resumed.learner.actor.state_dict()[key]), key
    np.testing.assert_array_equal(resumed.buffer.data["action"], reference.buffer.data["action"])
    with pytest.raises(CheckpointMismatchError, match=next(iter(changed))):
        agent_type(make(), replace(config, **changed)).learn(checkpoint=path)


def test_bad_sac_and_diayn_configs_are_refused_naming_the_field():
    for field, value in [("hidden", ()), ("batch_size", 0), ("gamma", 2.0), ("tau", 0.0), ("seed", -1)]:
        with pytest.raises(InputError, match=f"SACConfig.{field}"):
            SACConfig(**{field: value})
    for field, value in [("skills", 1), ("discriminator_lr", 0.0), ("discriminator_indices", [0])]:
        with pytest.raises(InputError, match=f"DIAYNConfig.{field}"):
            DIAYNConfig(**{field: value})
    with pytest.raises(InputError, match="SAC fields"):
        DIAYNConfig(lr=-1.0)
    with pytest.raises(InputError, match="discriminator_indices"):
        DIAYN(make_point_room(), DIAYNConfig(discriminator_indices=(5,)))


def test_a_tiny_diayn_study_publishes_its_table_and_figure(tmp_path):
    from hrl.experiments.exploration import DIAYN_SMOKE, run_diayn_study

    study = replace(
        DIAYN_SMOKE, skills=2, steps=60, seeds=1, episode_steps=20, hidden=(8,), learning_starts=30
    )
    tables = run_diayn_study(RunOptions(out=tmp_path, seed=0), study)
    saved = json.loads((tmp_path / "exploration_diayn_skills.json").read_text())
    assert [row["when"] for row in saved["rows"]] == ["before training", "after training"]
    assert all(
        0 <= row["discriminator_accuracy"]["mean"] <= 1 and row["chance"] == 0.5 for row in saved["rows"]
    )
    assert tables[0].name == "exploration_diayn_skills"
    assert (tmp_path / "exploration_diayn_skills.png").stat().st_size > 0
