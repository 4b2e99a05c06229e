"""MB-MPO's building blocks (`hrl.model_based`): the MAML meta-gradient against central finite
differences of a NumPy closed form on a linear-Gaussian policy; an ensemble member fitted on
deterministic linear dynamics recovers them; bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from hrl.model_based import DynamicsEnsemble, meta_objective


def _closed_form_meta(w, inner, outer, alpha, sigma):
    """f(W) = outer surrogate at W' = W + alpha grad_W inner surrogate, for mu = W x (NumPy)."""

    def grad(w, b):
        return ((b["adv"][:, None] * (b["act"] - b["obs"] @ w.T))[:, :, None] * b["obs"][:, None, :]).mean(
            0
        ) / sigma**2

    def surrogate(w, b):
        logp = -((b["act"] - b["obs"] @ w.T) ** 2) / (2 * sigma**2) - np.log(sigma) - 0.5 * np.log(2 * np.pi)
        return float((logp.sum(1) * b["adv"]).mean())

    return surrogate(w + alpha * grad(w, inner), outer)


def test_maml_meta_gradient_matches_finite_differences_on_a_linear_gaussian_policy():
    rng = np.random.default_rng(0)

    def batch(n):
        return {"obs": rng.normal(size=(n, 3)), "act": rng.normal(size=(n, 2)), "adv": rng.normal(size=n)}

    inner, outer, alpha, sigma = batch(16), batch(12), 0.3, 0.7
    w = rng.normal(size=(2, 3))
    params = [torch.tensor(w, requires_grad=True)]
    log_std = torch.full((2,), float(np.log(sigma)), dtype=torch.float64)
    as_torch = {
        k: {n: torch.tensor(v) for n, v in b.items()} for k, b in (("inner", inner), ("outer", outer))
    }
    value = meta_objective(
        params, as_torch["inner"], as_torch["outer"], alpha, lambda p, x: x @ p[0].T, log_std
    )
    (meta_grad,) = torch.autograd.grad(value, params)
    assert float(value.detach()) == pytest.approx(_closed_form_meta(w, inner, outer, alpha, sigma), rel=1e-10)
    numeric = np.zeros_like(w)
    eps = 1e-6
    for idx in np.ndindex(*w.shape):
        step = np.zeros_like(w)
        step[idx] = eps
        numeric[idx] = (
            _closed_form_meta(w + step, inner, outer, alpha, sigma)
            - _closed_form_meta(w - step, inner, outer, alpha, sigma)
        ) / (2 * eps)
    np.testing.assert_allclose(meta_grad.numpy(), numeric, rtol=1e-5, atol=1e-8)
    # the first-order (no inner step) gradient differs: the second-order term matters here
    first_order = meta_objective(
        params, as_torch["inner"], as_torch["outer"], 0.0, lambda p, x: x @ p[0].T, log_std
    )
    (plain,) = torch.autograd.grad(first_order, params)
    assert float((plain - meta_grad).abs().max()) > 1e-3


def test_an_ensemble_member_fitted_on_deterministic_linear_dynamics_recovers_them():
    gen = torch.Generator().manual_seed(0)
    a_mat = torch.tensor([[0.9, 0.1], [-0.2, 0.8]])
    b_mat = torch.tensor([[0.5], [1.0]])
    obs, act = torch.randn(256, 2, generator=gen), torch.randn(256, 1, generator=gen)
    next_obs = obs @ a_mat.T + act @ b_mat.T
    ensemble = DynamicsEnsemble(2, 1, members=2, hidden=(), seed=0, normalize=False)
    loss = ensemble.fit(obs, act, next_obs, epochs=100, lr=0.05, batch_size=256)  # measured: max error 0.006
    weight = ensemble.net.weights[0].detach()  # (members, in = [s, a], out): s' - s = [A - I, B] [s; a]
    expected = torch.cat([a_mat - torch.eye(2), b_mat], dim=1).T
    for member in range(2):
        torch.testing.assert_close(weight[member], expected, atol=1e-2, rtol=0)
    assert loss < 1e-4
    test_obs, test_act = torch.randn(8, 2, generator=gen), torch.randn(8, 1, generator=gen)
    predicted = ensemble.predict(test_obs, test_act)
    assert predicted.shape == (2, 8, 2)
    torch.testing.assert_close(predicted[0], test_obs @ a_mat.T + test_act @ b_mat.T, atol=2e-2, rtol=0)


def test_bad_ensemble_inputs_are_refused():
    with pytest.raises(InputError, match="members"):
        DynamicsEnsemble(2, 1, members=0)
    ensemble = DynamicsEnsemble(2, 1, members=1, hidden=(4,))
    with pytest.raises(InputError, match="equally many"):
        ensemble.fit(torch.zeros(3, 2), torch.zeros(2, 1), torch.zeros(3, 2))
    with pytest.raises(InputError, match="epochs"):
        ensemble.fit(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3, 2), epochs=0)


def test_known_rewards_and_terminations_match_the_environments():
    from hrl.model_based.rewards import TASKS

    for name, task in TASKS.items():
        env = task.make_env()
        rng = np.random.default_rng(0)
        checked, terminations, episode = 0, 0, 0
        while checked < 60:
            obs, _ = env.reset(seed=episode)
            episode += 1
            done = False
            while not done and checked < 60:
                act = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
                next_obs, reward, terminated, truncated, _ = env.step(act)
                as_t = [torch.as_tensor(np.asarray(x, dtype=np.float64))[None] for x in (obs, act, next_obs)]
                assert float(task.reward(*as_t)[0]) == pytest.approx(reward, rel=1e-5, abs=1e-5), name
                assert bool(task.done(as_t[2])[0]) == terminated, name
                terminations += terminated
                obs, done, checked = next_obs, terminated or truncated, checked + 1
        assert name != "Hopper-v5" or terminations > 0  # random Hopper falls within 60 steps
        env.close()


def test_gae_returns_match_a_backward_loop_and_the_baseline_fits_linear_returns():
    from hrl.model_based.mbmpo import gae_returns, linear_baseline

    gen = torch.Generator().manual_seed(1)
    steps, n, gamma, lam = 7, 3, 0.9, 0.8
    rewards, values = torch.randn(steps, n, generator=gen), torch.randn(steps, n, generator=gen)
    alive = torch.ones(steps, n)
    alive[4:, 1] = 0  # path 1 terminates at step 3
    returns, adv = gae_returns(rewards, values, alive, gamma, lam)
    for i in range(n):
        ret, a, next_v = 0.0, 0.0, 0.0
        for t in reversed(range(steps)):
            if alive[t, i] == 0:
                ret, a, next_v = 0.0, 0.0, 0.0
                assert returns[t, i] == 0 and adv[t, i] == 0
                continue
            ret = rewards[t, i] + gamma * ret
            a = rewards[t, i] + gamma * next_v - values[t, i] + gamma * lam * a
            next_v = values[t, i]
            assert float(returns[t, i]) == pytest.approx(float(ret), abs=1e-5)
            assert float(adv[t, i]) == pytest.approx(float(a), abs=1e-5)
    obs = torch.randn(steps, n, 2, generator=gen)
    t = torch.arange(steps, dtype=torch.float32)[:, None] / 100
    target = 2 * obs[..., 0] - obs[..., 1] ** 2 + 3 * t**3 + 0.5
    fitted = linear_baseline(obs, target * alive, alive)
    torch.testing.assert_close(fitted, target * alive, atol=1e-3, rtol=0)


def _tiny_mbmpo(**overrides):
    from hrl.model_based import MBMPO, MBMPOConfig

    options = dict(
        members=2,
        model_hidden=(16,),
        model_epochs=2,
        policy_hidden=(8,),
        meta_steps=1,
        rollouts=3,
        horizon=10,
        episodes_per_iter=1,
        inner_lr=0.5,
        seed=3,
    )
    options.update(overrides)
    return MBMPO("Pendulum-v1", MBMPOConfig(**options))


def test_the_first_outer_epoch_gradient_is_the_maml_meta_gradient():
    """At theta_old the PPO ratio is 1, so the outer loss's gradient is MAML's meta-gradient of the
    summed surrogates (hrl.model_based.maml.meta_objective, checked against finite differences)."""
    from hrl.model_based.mbmpo import GaussianPolicy

    agent = _tiny_mbmpo()
    agent.learn(200)
    pre, _ = agent._batches(agent.imagine([agent.policy.params] * 2))
    post, _ = agent._batches(agent.imagine(agent._adapted(pre, create_graph=False)))
    params = [*agent.policy.params, agent.policy.log_std]
    grads = torch.autograd.grad(agent.outer_loss(pre, post), params)
    objective = sum(
        meta_objective(agent.policy.params, p, q, 0.5, GaussianPolicy.mean, agent.policy.log_std)
        for p, q in zip(pre, post, strict=True)
    )
    expected = torch.autograd.grad(-objective / 2, params)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_mbmpo_learns_through_its_api_and_bad_configs_are_refused():
    from hrl.experiments.mbmpo import SMOKE, _learner_config
    from hrl.model_based import MBMPOConfig
    from hrl.model_based.rewards import known_task

    agent = _tiny_mbmpo(members=1, inner_lr=0.0)
    agent.learn(250)  # two iterations: 200 + 50 steps
    assert agent.num_timesteps == 250 and len(agent.history) == 2
    action, state = agent.predict(np.zeros(3, dtype=np.float32))
    assert action.shape == (1,) and state is None and -2 <= action[0] <= 2
    with pytest.raises(InputError, match="members"):
        MBMPOConfig(members=0)
    with pytest.raises(InputError, match="inner_lr"):
        MBMPOConfig(inner_lr=-0.1)
    with pytest.raises(InputError, match="horizon"):
        MBMPOConfig(horizon=0)
    with pytest.raises(InputError, match="CartPole-v1"):
        known_task("CartPole-v1")
    with pytest.raises(InputError, match="sarsa"):
        _learner_config(SMOKE, "sarsa", 0)
    with pytest.raises(InputError, match="total_timesteps"):
        agent.learn(100)


def test_the_study_runs_model_free_ppo_on_four_environments_and_td3():
    from dataclasses import replace

    from hrl.experiments.mbmpo import SMOKE, run_learner

    ppo = replace(SMOKE.ppo, n_envs=4, n_steps=16, batch_size=32, n_epochs=1, total_timesteps=64)
    curve = run_learner("Pendulum-v1", "ppo", ppo, eval_every=64, eval_episodes=1)["curve"]
    assert [steps for steps, _ in curve] == [0, 64]
    td3 = replace(SMOKE.td3, learning_starts=20, total_timesteps=40)
    curve = run_learner("Pendulum-v1", "td3", td3, eval_every=40, eval_episodes=1)["curve"]
    assert [steps for steps, _ in curve] == [0, 40]
