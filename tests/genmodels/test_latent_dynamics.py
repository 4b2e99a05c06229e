"""TD-VAE and PlaNet parts against independent references: closed forms, hand-written objectives, a quadratic."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from genmodels.config import (
    CEMConfig,
    PlaNetConfig,
    RSSMConfig,
    RSSMRunConfig,
    TDVAEConfig,
    TDVAERunConfig,
    TrainConfig,
)
from genmodels.distributions import gaussian_kl_between, gaussian_log_density
from genmodels.planet import RSSM, State, Transitions, cem, fit_rssm, plan, rssm_loss
from genmodels.planet.loop import run_planet
from genmodels.planet.pointmass import PointMass, render
from genmodels.sequences import harmonic_oscillator, moving_digits
from genmodels.tdvae import TDVAE, fit_tdvae, jump_schedule, predict, tdvae_loss


class _Crash(Exception):
    pass


def _assert_resumes_exactly(train, path, stop_at, callback="on_epoch"):
    """`train(**kwargs) -> (model, history)`: crash at `stop_at`, resume from `path`, compare with a clean run."""
    reference, reference_history = train()

    def crash(index, row):
        if index == stop_at:
            raise _Crash

    with pytest.raises(_Crash):
        train(checkpoint=path, **{callback: crash})
    resumed, history = train(checkpoint=path)
    assert history == reference_history
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    return history


def _rssm(**overrides):
    config = RSSMConfig(
        obs_dim=3, action_dim=2, deterministic=8, stochastic=4, hidden=8, embedding=6, **overrides
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return RSSM(config).double()


def _episode(batch=2, time=6):
    generator = torch.Generator().manual_seed(1)
    observations = torch.randn(batch, time, 3, generator=generator, dtype=torch.float64)
    actions = torch.rand(batch, time, 2, generator=generator, dtype=torch.float64) * 2 - 1
    rewards = torch.randn(batch, time, generator=generator, dtype=torch.float64)
    return observations, actions, rewards


def test_gaussian_kl_between_matches_torch_distributions():
    generator = torch.Generator().manual_seed(0)
    m1, v1, m2, v2 = (torch.randn(5, 3, generator=generator, dtype=torch.float64) for _ in range(4))
    normal = torch.distributions.Normal
    expected = torch.distributions.kl_divergence(normal(m1, (0.5 * v1).exp()), normal(m2, (0.5 * v2).exp()))
    assert torch.allclose(gaussian_kl_between(m1, v1, m2, v2), expected.sum(-1))
    z = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    assert torch.allclose(gaussian_log_density(z, m1, v1), normal(m1, (0.5 * v1).exp()).log_prob(z).sum(-1))


def test_rssm_kl_is_zero_when_posterior_equals_prior():
    model = _rssm(free_nats=0.0)
    det = model.config.deterministic
    with torch.no_grad():  # the posterior reads [h, e]: give it the prior's weights on h and none on e
        model.posterior.net[0].weight.zero_()
        model.posterior.net[0].weight[:, :det] = model.prior.net[0].weight
        model.posterior.net[0].bias.copy_(model.prior.net[0].bias)
        model.posterior.net[2].load_state_dict(model.prior.net[2].state_dict())
    data = _episode()
    for distance in (1, 3):
        terms = rssm_loss(model, *data, torch.Generator().manual_seed(0), overshooting=distance)
        kl = float(terms.kl.detach())
        assert abs(kl) < 1e-12 if distance == 1 else kl > 0
    with torch.no_grad():
        model.posterior.net[0].weight[:, det:] = 0.3
    assert float(rssm_loss(model, *data, torch.Generator().manual_seed(0), overshooting=1).kl.detach()) > 1e-3


def test_overshooting_distance_one_is_the_standard_one_step_objective():
    model = _rssm(free_nats=0.5, obs_sigma=0.7)
    observations, actions, rewards = _episode()
    ours = rssm_loss(model, observations, actions, rewards, torch.Generator().manual_seed(3), overshooting=1)
    # Written out independently: filter step by step, then the one-step ELBO per sequence.
    generator = torch.Generator().manual_seed(3)
    state = model.initial(2, observations)
    previous = torch.zeros(2, 2, dtype=torch.float64)
    total = torch.zeros(2, dtype=torch.float64)
    for t in range(observations.shape[1]):
        h = model.gru(model.before_gru(torch.cat([state.s, previous], -1)), state.h)
        prior = model.prior(h)
        post = model.posterior(torch.cat([h, model.embed(observations[:, t])], -1))
        s = post[0] + (0.5 * post[1]).exp() * torch.randn(
            post[0].shape, generator=generator, dtype=torch.float64
        )
        features = torch.cat([h, s], -1)
        obs_mean = model.observation(features)
        log_obs = (
            -0.5 * ((observations[:, t] - obs_mean) / 0.7) ** 2 - math.log(0.7 * math.sqrt(2 * math.pi))
        ).sum(-1)
        log_reward = -0.5 * (rewards[:, t] - model.reward(features).squeeze(-1)) ** 2 - 0.5 * math.log(
            2 * math.pi
        )
        kl = gaussian_kl_between(post[0], post[1], prior[0], prior[1]).clamp(min=0.5)
        total = total - log_obs - log_reward + kl
        state, previous = State(h, s), actions[:, t]
    assert torch.allclose(ours.loss, total.mean(), rtol=1e-10)
    longer = rssm_loss(
        model, observations, actions, rewards, torch.Generator().manual_seed(3), overshooting=4
    )
    assert torch.isfinite(longer.loss) and not torch.allclose(longer.kl, ours.kl)


def test_overshooting_distance_two_matches_a_rollout_from_every_start():
    model = _rssm(free_nats=0.0)
    observations, actions, rewards = _episode(batch=2, time=5)
    one = rssm_loss(model, observations, actions, rewards, torch.Generator().manual_seed(0), overshooting=1)
    two = rssm_loss(model, observations, actions, rewards, torch.Generator().manual_seed(0), overshooting=2)
    # By hand, one start at a time, replaying the generator's draws in the same order.
    generator = torch.Generator().manual_seed(0)
    post = model.observe(observations, actions, generator)
    noise = torch.randn((2 * 5, 4), generator=generator, dtype=torch.float64).reshape(2, 5, 4)
    expected = torch.zeros(2, dtype=torch.float64)
    for b in range(2):
        for t0 in range(5 - 2):
            h0, s0 = post["h"][b : b + 1, t0], post["s"][b : b + 1, t0]
            h1 = model.gru(model.before_gru(torch.cat([s0, actions[b : b + 1, t0]], -1)), h0)
            m1, v1 = model.prior(h1)
            s1 = m1 + (0.5 * v1).exp() * noise[b, t0]
            h2 = model.gru(model.before_gru(torch.cat([s1, actions[b : b + 1, t0 + 1]], -1)), h1)
            m2, v2 = model.prior(h2)
            q = post["post_mean"][b : b + 1, t0 + 2], post["post_log_var"][b : b + 1, t0 + 2]
            expected[b] += gaussian_kl_between(*q, m2, v2)[0]
    assert torch.allclose(2 * two.kl - one.kl, expected.mean(), rtol=1e-9)
    assert torch.allclose(two.observation_log_likelihood, one.observation_log_likelihood)


def test_rssm_refuses_badly_shaped_input():
    model = _rssm()
    observations, actions, rewards = _episode()
    with pytest.raises(InputError, match="actions must be"):
        rssm_loss(model, observations, actions[:, :-1], rewards, None)
    with pytest.raises(InputError, match="observations must be"):
        rssm_loss(model, observations[..., :2], actions, rewards, None)
    with pytest.raises(InputError, match="top <= candidates"):
        CEMConfig(candidates=10, top=20)


def test_cem_finds_the_optimum_of_a_quadratic_reward():
    target = torch.tensor([[0.5, -0.3], [-0.8, 0.1], [0.2, 0.9]])
    best = cem(
        lambda a: -((a - target) ** 2).sum((1, 2)),
        action_dim=2,
        config=CEMConfig(horizon=3, candidates=300, iterations=10, top=30),
        generator=torch.Generator().manual_seed(0),
    )
    assert (best - target).abs().max() < 0.05


def test_planner_prefers_the_action_the_reward_model_pays_for():
    model = _rssm()
    with torch.no_grad():  # the reward model pays for the first action dimension fed to the GRU ...
        for parameter in model.parameters():
            parameter.zero_()
    model = model.float()
    # ... made explicit: reward = h[0], and h is driven by a[0] through the GRU's candidate path.
    with torch.no_grad():
        model.before_gru[0].weight[0, model.config.stochastic] = 3.0
        model.gru.weight_ih[2 * 8, 0] = 3.0  # new-gate input of unit 0 reads the first hidden feature
        model.reward[0].weight[0, 0] = 1.0
        model.reward[2].weight[0, 0] = 1.0
    state = State(torch.zeros(1, 8), torch.zeros(1, 4))
    action = plan(
        model,
        state,
        CEMConfig(horizon=4, candidates=200, iterations=5, top=20),
        torch.Generator().manual_seed(0),
    )
    assert action.shape == (2,) and float(action[0]) > 0.8


def test_tdvae_loss_on_a_linear_gaussian_system_is_finite_and_decreases():
    generator = torch.Generator().manual_seed(0)
    x = [torch.randn(64, 1, generator=generator)]
    for _ in range(15):  # x_t = 0.9 x_{t-1} + N(0, 0.3^2): a linear-Gaussian state-space model
        x.append(0.9 * x[-1] + 0.3 * torch.randn(64, 1, generator=generator))
    sequences = torch.stack(x, 1)
    config = TDVAERunConfig(
        TDVAEConfig(obs_dim=1, belief_dim=16, latent_dim=2, hidden=16, max_jump=3, sigma=0.3),
        TrainConfig(epochs=15, batch_size=16, learning_rate=3e-3),
        pairs=2,
    )
    _, history = fit_tdvae(sequences, config)
    losses = [row["loss"] for row in history]
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-3:]) < losses[0] - 1.0


def _oscillator_config(epochs):
    return TDVAERunConfig(
        TDVAEConfig(obs_dim=1, belief_dim=8, latent_dim=2, hidden=8, max_jump=3),
        TrainConfig(epochs=epochs, batch_size=8, learning_rate=1e-3),
        pairs=1,
    )


def test_a_killed_tdvae_run_resumes_exactly(tmp_path):
    data = torch.from_numpy(harmonic_oscillator(16, 10, seed=0).observations)
    path = tmp_path / "tdvae.safetensors"
    _assert_resumes_exactly(lambda **kw: fit_tdvae(data, _oscillator_config(4), **kw), path, 2)
    changed = TDVAERunConfig(
        TDVAEConfig(obs_dim=1, belief_dim=8, latent_dim=2, hidden=8, max_jump=4),
        _oscillator_config(4).train,
        1,
    )
    with pytest.raises(CheckpointMismatchError, match="max_jump"):
        fit_tdvae(data, changed, checkpoint=path)


def test_jumps_predictions_and_bad_input():
    assert jump_schedule(7, 3) == [3, 3, 1] and jump_schedule(6, 3) == [3, 3] and jump_schedule(2, 5) == [2]
    model = TDVAE(TDVAEConfig(obs_dim=2, belief_dim=4, latent_dim=2, hidden=4))
    context = torch.zeros(3, 5, 2)
    assert predict(model, context, [1, 2], samples=4, generator=torch.Generator().manual_seed(0)).shape == (
        3,
        2,
    )
    with pytest.raises(InputError, match=r"shape \(3, 5\)"):
        model.beliefs(torch.zeros(3, 5))
    with pytest.raises(InputError, match="too short"):
        tdvae_loss(model, torch.zeros(3, 1, 2), None)
    with pytest.raises(InputError, match="max_jump must be >= min_jump"):
        TDVAEConfig(min_jump=3, max_jump=2)
    with pytest.raises(InputError, match=r"\(n, time, 1\)"):
        fit_tdvae(context, _oscillator_config(1))


def test_oscillator_without_noise_is_the_closed_form_cosine():
    data = harmonic_oscillator(3, 30, period=12.0, process_noise=0.0, observation_noise=0.0, seed=4)
    t = np.arange(30)
    for row in data.positions:
        amplitude = np.hypot(row[0], (row[0] * np.cos(2 * np.pi / 12) - row[1]) / np.sin(2 * np.pi / 12))
        phase = np.arctan2((row[0] * np.cos(2 * np.pi / 12) - row[1]) / np.sin(2 * np.pi / 12), row[0])
        assert np.allclose(row, amplitude * np.cos(2 * np.pi * t / 12 + phase), atol=1e-5)
    again = harmonic_oscillator(3, 30, seed=4)
    assert np.array_equal(again.observations, harmonic_oscillator(3, 30, seed=4).observations)
    with pytest.raises(InputError, match="oscillator"):
        harmonic_oscillator(0, 30)


def _transitions(n=12, time=8):
    """o_t = position of a point pushed by the actions (o_t = o_{t-1} + a_{t-1}), reward = -|o_t|^2."""
    generator = torch.Generator().manual_seed(0)
    actions = torch.rand(n, time, 2, generator=generator) * 2 - 1
    position = torch.randn(n, 2, generator=generator)
    observations, rewards = [], []
    for t in range(time):
        observations.append(torch.cat([position, position[:, :1] * 0], -1))
        rewards.append(-(position**2).sum(-1))
        position = position + 0.3 * actions[:, t]
    return Transitions(torch.stack(observations, 1), actions, torch.stack(rewards, 1))


def _rssm_run(epochs, overshooting=3):
    model = RSSMConfig(
        obs_dim=3,
        action_dim=2,
        deterministic=16,
        stochastic=4,
        hidden=16,
        embedding=8,
        overshooting=overshooting,
        obs_sigma=0.3,
        free_nats=0.0,
    )
    return RSSMRunConfig(model, TrainConfig(epochs=epochs, batch_size=4, learning_rate=3e-3))


def test_rssm_learns_a_pushed_point_and_resumes_exactly(tmp_path):
    data, path = _transitions(), tmp_path / "rssm.safetensors"
    _, history = fit_rssm(data, _rssm_run(12))
    assert history[-1]["observation_log_likelihood"] > history[0]["observation_log_likelihood"] + 5.0
    _assert_resumes_exactly(lambda **kw: fit_rssm(data, _rssm_run(3), **kw), path, 2)
    with pytest.raises(CheckpointMismatchError, match="overshooting"):
        fit_rssm(data, _rssm_run(3, overshooting=2), checkpoint=path)
    with pytest.raises(InputError, match="do not fit the RSSM"):
        fit_rssm(Transitions(data.observations, data.actions[..., :1], data.rewards), _rssm_run(1))


def _planet(episodes):
    return PlaNetConfig(
        model=RSSMConfig(
            obs_dim=256, action_dim=2, deterministic=8, stochastic=3, hidden=8, embedding=8, overshooting=2
        ),
        planner=CEMConfig(horizon=3, candidates=8, iterations=2, top=2),
        seed_episodes=2,
        episodes=episodes,
        train_steps=2,
        batch_size=2,
        chunk=4,
        max_steps=6,
        action_repeat=2,
    )


def test_point_mass_is_deterministic_given_a_seed_and_draws_what_it_says():
    first, second = PointMass(max_steps=10), PointMass(max_steps=10)
    frames = [first.reset(3)], [second.reset(3)]
    for action in ([1.0, 0.0], [0.3, -0.7], [-1.0, 1.0]):
        frames[0].append(first.step(np.array(action))[0])
        frames[1].append(second.step(np.array(action))[0])
    assert all(np.array_equal(a, b) for a, b in zip(*frames))
    assert not np.array_equal(PointMass().reset(3), PointMass().reset(4))
    frame = render(np.array([-1.0, -1.0]), np.array([1.0, 1.0])).reshape(16, 16)
    assert frame[0, 0] == 1.0 and frame[15, 15] == 0.5 and frame.sum() == 4 * 1.0 + 4 * 0.5
    with pytest.raises(InputError, match="2 finite numbers"):
        first.step(np.array([np.nan, 0.0]))


def test_point_mass_with_a_fixed_target_keeps_it_at_the_centre_and_pays_for_reaching_it():
    env = PointMass(max_steps=4, action_repeat=1, fixed_target=True)
    for seed in (0, 1, 2):
        frame = env.reset(seed).reshape(16, 16)
        assert np.array_equal(env.target, np.zeros(2))
        assert (frame[7:10, 7:10] > 0).all()  # the dim target (or the mass over it) sits at the centre
    env.position, env.velocity = np.zeros(2), np.zeros(2)
    _, reward, _ = env.step(np.zeros(2))
    assert reward == 1.0
    assert PointMass(fixed_target=True).reset(3).tolist() != PointMass(fixed_target=True).reset(4).tolist()


def test_a_killed_planet_run_resumes_exactly(tmp_path):
    path = tmp_path / "planet.safetensors"
    history = _assert_resumes_exactly(lambda **kw: run_planet(_planet(3), **kw), path, 4, "on_episode")
    assert [r["kind"] for r in history] == ["random"] * 2 + ["planner"] * 3
    with pytest.raises(CheckpointMismatchError, match="train_steps"):
        run_planet(replace(_planet(3), train_steps=3), checkpoint=path)
    with pytest.raises(InputError, match="does not fit the task"):
        run_planet(replace(_planet(1), model=RSSMConfig(obs_dim=5, action_dim=2)))


def test_moving_digits_shift_one_pixel_per_step_and_refuse_other_sizes():
    images = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    data = moving_digits(images, 4, 6, seed=1)
    assert data.frames.shape == (4, 6, 14, 28) and data.flat().shape == (4, 6, 392)
    for frames, direction in zip(data.frames, data.directions):
        for t in range(5):
            assert np.array_equal(frames[t + 1], np.roll(frames[t], int(direction), axis=1))
    small = images[data.labels[0], 0].reshape(14, 2, 14, 2).mean(axis=(1, 3))
    assert np.isclose(data.frames[0, 0].sum(), small.sum(), rtol=1e-5)
    with pytest.raises(InputError, match=r"\(m, 1, 28, 28\)"):
        moving_digits(images[:, :, :14], 2, 3)
