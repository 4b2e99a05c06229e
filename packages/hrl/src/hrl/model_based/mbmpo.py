"""MB-MPO: Model-Based Meta-Policy Optimisation (Clavera, Rothfuss, Schulman, Fujita, Asfour and
Abbeel, "Model-Based Reinforcement Learning via Meta-Policy Optimization", CoRL 2018), with a PPO
outer step in place of TRPO.

One iteration (the paper's Algorithm 1), read top to bottom in `MBMPO.learn`:

1. real data: ``episodes_per_iter`` episodes in the environment, episode j acted by the meta-policy
   adapted to model j mod K (the unadapted policy before the first fit);
2. model fitting: the K-member `DynamicsEnsemble` on all real transitions, each member on its own
   bootstrap resample;
3. meta-policy optimisation, ``meta_steps`` times (`MBMPO.meta_step`): for every model k, imagined
   trajectories T_k from pi_theta in model k, the inner step theta'_k = theta + alpha grad J_k(theta)
   (vanilla policy gradient on T_k, `hrl.model_based.maml.adapt`), trajectories T'_k from
   pi_theta'_k, then PPO-clip epochs on sum_k J_k(theta'_k(theta)) over T'_k, differentiated through
   the inner step (second order).

The reward is known (`hrl.model_based.rewards`), as the paper assumes; imagined trajectories start
from a pool of the environment's reset states (resets, not steps: no real transitions) and advantages
are GAE over a per-model linear feature baseline (rllab's ``LinearFeatureBaseline``), standardised per
model. ``inner_lr = 0`` turns the inner step off (ME-PPO over the ensemble; with ``members = 1`` the
single-model, model-exploiting baseline).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from core.errors import InputError
from hrl.agents.common import episode_seed
from hrl.model_based.config import MBMPOConfig
from hrl.model_based.ensemble import DynamicsEnsemble
from hrl.model_based.maml import adapt, gaussian_log_prob
from hrl.model_based.rewards import KnownTask, known_task

__all__ = ["MBMPO", "GaussianPolicy", "gae_returns", "linear_baseline"]


class GaussianPolicy:
    """pi(a | s) = N(mu_params(s), exp(log_std)^2): a tanh MLP mean written as a function of its
    parameter list (so MAML's adapted parameters can be plugged in) and a state-independent log std."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...], init_log_std: float, seed: int):
        widths = [obs_dim, *hidden, act_dim]
        self.params: list[torch.Tensor] = []
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
                linear = torch.nn.Linear(fan_in, fan_out, dtype=torch.float32)
                scale = 0.01 if layer == len(widths) - 2 else 1.0  # a small last layer: mean ~ 0 at start
                self.params.append((linear.weight.detach().T * scale).contiguous().requires_grad_(True))
                self.params.append((linear.bias.detach() * scale).requires_grad_(True))
        self.log_std = torch.full((act_dim,), float(init_log_std), requires_grad=True)

    @staticmethod
    def mean(params: list[torch.Tensor], obs: torch.Tensor) -> torch.Tensor:
        """mu(s): obs (B, obs_dim) -> (B, act_dim); or, for K stacked parameter sets (weights
        (K, in, out), biases (K, out); `stack`), obs (K, B, obs_dim) -> (K, B, act_dim)."""
        x = obs
        for layer in range(0, len(params), 2):
            weight, bias = params[layer], params[layer + 1]
            x = torch.baddbmm(bias[:, None, :], x, weight) if weight.dim() == 3 else x @ weight + bias
            if layer < len(params) - 2:
                x = torch.tanh(x)
        return x

    @staticmethod
    def stack(params: list[list[torch.Tensor]]) -> list[torch.Tensor]:
        """K parameter lists as one list of stacked tensors, for `mean` on (K, B, obs_dim)."""
        return [torch.stack(group) for group in zip(*params, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        return {"params": [p.detach().clone() for p in self.params], "log_std": self.log_std.detach().clone()}


def linear_baseline(obs: torch.Tensor, returns: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
    """rllab's ``LinearFeatureBaseline``: least squares of the returns on [s, s^2, t, t^2, t^3, 1]
    (s clipped to +-10, t = step / 100) over the live steps, ridge 1e-5 (raised until finite).

    Args:
        obs: (H, N, d) states; returns, alive: (H, N).

    Returns:
        (H, N) fitted values (0 on dead steps).
    """
    steps, n, _ = obs.shape
    clipped = obs.clamp(-10, 10).double()
    t = (torch.arange(steps, dtype=torch.float64) / 100.0)[:, None, None].expand(steps, n, 1)
    features = torch.cat([clipped, clipped**2, t, t**2, t**3, torch.ones_like(t)], dim=-1)
    mask = alive.bool()
    x, y = features[mask], returns.double()[mask]
    gram, rhs = x.T @ x, x.T @ y
    reg = 1e-5
    for _ in range(5):
        coef = torch.linalg.solve(gram + reg * torch.eye(len(gram), dtype=torch.float64), rhs)
        if bool(torch.isfinite(coef).all()):
            break
        reg *= 10
    return (features @ coef).to(returns.dtype) * alive


def gae_returns(
    rewards: torch.Tensor, values: torch.Tensor, alive: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Discounted returns and GAE advantages of fixed-horizon trajectories.

    Args:
        rewards, values, alive: (..., H, N): time on the second-to-last axis; ``alive`` is 1 until
            the step after a termination and 0 from then on (dead steps carry no reward or value).

    Returns:
        (returns, advantages), (..., H, N): R_t = sum_j gamma^(j-t) r_j and A_t = sum_j
        (gamma lam)^(j-t) delta_j with delta_j = r_j + gamma V_(j+1) - V_j, the value after the last
        step 0 (rllab's convention for imagined paths), both 0 on dead steps. Computed as products
        with (H, H) discount matrices (no Python loop over time).
    """
    steps = rewards.shape[-2]
    gap = torch.arange(steps)[None, :] - torch.arange(steps)[:, None]  # j - t
    upper = gap >= 0

    def discounted(x: torch.Tensor, rate: float) -> torch.Tensor:
        weights = torch.where(upper, torch.tensor(rate, dtype=x.dtype) ** gap.clamp_min(0), 0.0)
        return weights.to(x.dtype) @ x

    rewards, values = rewards * alive, values * alive
    next_values = torch.cat([values[..., 1:, :], torch.zeros_like(values[..., :1, :])], dim=-2)
    delta = (rewards + gamma * next_values - values) * alive
    return discounted(rewards, gamma) * alive, discounted(delta, gamma * lam) * alive


class MBMPO:
    """MB-MPO on a task with a known reward (`hrl.model_based.rewards.TASKS`).

    Follows the package's SB3 shape where it applies: ``MBMPO(env_id, config)``,
    ``learn(total_timesteps)`` (real environment steps; calling again with a larger total continues),
    ``predict(obs, deterministic=True) -> (action, None)`` (the pre-update meta-policy).

    Attributes:
        num_timesteps: real environment steps taken.
        history: one dict per iteration (real steps, model loss, mean return of the real episodes,
            the mean imagined return of the adapted policies, seconds).
    """

    def __init__(self, env_id: str, config: MBMPOConfig | None = None):
        self.config = config or MBMPOConfig()
        if not isinstance(self.config, MBMPOConfig):
            raise InputError("MBMPO config must be an MBMPOConfig", item=type(self.config).__name__)
        self.task: KnownTask = known_task(env_id)
        self.env = self.task.make_env()
        space = self.env.action_space
        if len(self.env.observation_space.shape) != 1 or len(space.shape) != 1:
            raise InputError("MBMPO needs flat Box observations and actions", item=env_id)
        self.obs_dim, self.act_dim = self.env.observation_space.shape[0], space.shape[0]
        self.low = torch.as_tensor(space.low, dtype=torch.float32)
        self.high = torch.as_tensor(space.high, dtype=torch.float32)
        cfg = self.config
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.models = DynamicsEnsemble(
            self.obs_dim, self.act_dim, cfg.members, cfg.model_hidden, seed=cfg.seed
        )
        self.policy = GaussianPolicy(
            self.obs_dim, self.act_dim, cfg.policy_hidden, cfg.init_log_std, cfg.seed + 1
        )
        self.optimiser = torch.optim.Adam([*self.policy.params, self.policy.log_std], lr=cfg.outer_lr)
        self.starts = self._start_pool(1000)
        self.data: dict[str, list[torch.Tensor]] = {"obs": [], "act": [], "next_obs": []}
        self.num_timesteps, self.episodes, self.iterations = 0, 0, 0
        self.obs_low = self.obs_high = None
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ imagination
    def _start_pool(self, size: int) -> torch.Tensor:
        """Reset states of the environment (resets only, no steps), seeded from the run's seed."""
        env = self.task.make_env()
        pool = [env.reset(seed=episode_seed(self.config.seed + 7919, i))[0] for i in range(size)]
        env.close()
        return torch.as_tensor(np.array(pool), dtype=torch.float32)

    def imagine(self, params: list[list[torch.Tensor]]) -> dict[str, torch.Tensor]:
        """``rollouts`` trajectories of ``horizon`` steps in every model k, acted by ``params[k]``.

        Returns:
            dict of (K, H, N, ...) tensors: obs, act (unclipped, as sampled), logp, reward, alive.
        """
        cfg, members = self.config, self.config.members
        n, horizon = cfg.rollouts, cfg.horizon
        rows = torch.randint(0, len(self.starts), (members, n), generator=self.generator)
        obs = self.starts[rows]
        alive = torch.ones(members, n)
        std = self.policy.log_std.detach().exp()
        stacked = GaussianPolicy.stack([[p.detach() for p in theta] for theta in params])
        out: dict[str, list[torch.Tensor]] = {key: [] for key in ("obs", "act", "logp", "reward", "alive")}
        with torch.no_grad():
            for _ in range(horizon):
                mean = GaussianPolicy.mean(stacked, obs)
                act = mean + std * torch.randn(mean.shape, generator=self.generator)
                clipped = torch.maximum(torch.minimum(act, self.high), self.low)
                next_obs = self.models.predict(obs, clipped)
                next_obs = torch.maximum(torch.minimum(next_obs, self.obs_high), self.obs_low)
                reward = self.task.reward(obs, clipped, next_obs) * alive
                out["obs"].append(obs)
                out["act"].append(act)
                out["logp"].append(gaussian_log_prob(mean, self.policy.log_std.detach(), act))
                out["reward"].append(reward)
                out["alive"].append(alive)
                alive = alive * (~self.task.done(next_obs)).float()
                obs = next_obs
        return {key: torch.stack(value, dim=1) for key, value in out.items()}

    def _batches(self, paths: dict[str, torch.Tensor]) -> tuple[list[dict[str, torch.Tensor]], torch.Tensor]:
        """Per model: the live steps as a flat batch {obs, act, adv (standardised), logp}; and the mean
        undiscounted imagined return per model (K,)."""
        cfg = self.config
        reward, alive = paths["reward"], paths["alive"]
        returns, _ = gae_returns(reward, torch.zeros_like(reward), alive, cfg.gamma, 1.0)
        values = torch.stack(
            [linear_baseline(paths["obs"][k], returns[k], alive[k]) for k in range(cfg.members)]
        )
        _, adv = gae_returns(reward, values, alive, cfg.gamma, cfg.gae_lambda)
        batches = []
        for k in range(cfg.members):
            mask = alive[k].bool()
            flat = adv[k][mask]
            flat = (flat - flat.mean()) / (flat.std() + 1e-8)
            batches.append(
                {
                    "obs": paths["obs"][k][mask],
                    "act": paths["act"][k][mask],
                    "adv": flat,
                    "logp": paths["logp"][k][mask],
                }
            )
        return batches, reward.sum(dim=1).mean(dim=-1)

    def _adapted(
        self, batches: list[dict[str, torch.Tensor]], create_graph: bool
    ) -> list[list[torch.Tensor]]:
        """theta'_k for every model (theta itself when inner_lr = 0)."""
        params = self.policy.params
        if self.config.inner_lr == 0:
            return [params] * self.config.members
        adapted = [
            adapt(params, batch, self.config.inner_lr, GaussianPolicy.mean, self.policy.log_std)
            for batch in batches
        ]
        if create_graph:
            return adapted
        return [[p.detach() for p in theta] for theta in adapted]

    def outer_loss(
        self, pre: list[dict[str, torch.Tensor]], post: list[dict[str, torch.Tensor]]
    ) -> torch.Tensor:
        """The PPO-clip loss -1/K sum_k mean min(r A, clip(r) A) over the adapted policies' batches
        ``post[k]``, r = pi_theta'_k(a | s) / pi_old(a | s) with theta'_k = adapt(theta, pre[k]),
        differentiable in theta through the inner step."""
        cfg = self.config
        loss = torch.zeros(())
        for theta, batch in zip(self._adapted(pre, create_graph=True), post, strict=True):
            logp = gaussian_log_prob(
                GaussianPolicy.mean(theta, batch["obs"]), self.policy.log_std, batch["act"]
            )
            ratio = (logp - batch["logp"]).exp()
            clipped = ratio.clamp(1 - cfg.clip_range, 1 + cfg.clip_range)
            loss = loss - torch.minimum(ratio * batch["adv"], clipped * batch["adv"]).mean()
        return loss / cfg.members

    def meta_step(self) -> dict[str, float]:
        """One meta-policy step over all models (step 3 of the iteration); its statistics."""
        cfg = self.config
        pre, _ = self._batches(self.imagine([self.policy.params] * cfg.members))
        post, post_return = self._batches(self.imagine(self._adapted(pre, create_graph=False)))
        for _ in range(cfg.outer_epochs):
            loss = self.outer_loss(pre, post)
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()
        return {"imagined_return": float(post_return.mean()), "loss": float(loss.detach())}

    # ------------------------------------------------------------------ the real world
    def _act(
        self, params: list[torch.Tensor], obs: np.ndarray, deterministic: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            mean = GaussianPolicy.mean(params, torch.as_tensor(obs, dtype=torch.float32))
            act = (
                mean
                if deterministic
                else mean + self.policy.log_std.exp() * torch.randn(mean.shape, generator=self.generator)
            )
            clipped = torch.maximum(torch.minimum(act, self.high), self.low)
        return act.numpy(), clipped.numpy()

    def _collect(self, params: list[list[torch.Tensor]], budget: int) -> list[float]:
        """``episodes_per_iter`` real episodes (at most `budget` steps in all), episode j acted by
        ``params[j mod K]``; transitions appended to the data; the episodes' returns."""
        returns = []
        for j in range(self.config.episodes_per_iter):
            if budget <= 0:
                break
            obs, _ = self.env.reset(seed=episode_seed(self.config.seed, self.episodes))
            total, done = 0.0, False
            while not done and budget > 0:
                _, action = self._act(params[j % len(params)], obs, deterministic=False)
                next_obs, reward, terminated, truncated, _ = self.env.step(action)
                for key, value in (("obs", obs), ("act", action), ("next_obs", next_obs)):
                    self.data[key].append(torch.as_tensor(np.asarray(value), dtype=torch.float32))
                total += float(reward)
                obs, done = next_obs, terminated or truncated
                self.num_timesteps += 1
                budget -= 1
            self.episodes += 1
            returns.append(total)
        return returns

    def _fit_models(self) -> float:
        obs, act, next_obs = (torch.stack(self.data[key]) for key in ("obs", "act", "next_obs"))
        seen = torch.cat([obs, next_obs])
        span = (seen.max(0).values - seen.min(0).values).clamp_min(1e-3)
        self.obs_low, self.obs_high = seen.min(0).values - 0.1 * span, seen.max(0).values + 0.1 * span
        cfg = self.config
        return self.models.fit(obs, act, next_obs, cfg.model_epochs, cfg.model_lr, cfg.model_batch)

    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        callback: Callable[[MBMPO], None] | None = None,
        progress_bar: bool = False,
    ) -> MBMPO:
        """Iterate (collect, fit, meta-optimise) until ``num_timesteps`` real steps reach the total.

        Args:
            total_timesteps: real environment steps in all (default: the config's).
            callback: called with the agent after every iteration.
        """
        total = self.config.total_timesteps if total_timesteps is None else total_timesteps
        if not isinstance(total, int) or isinstance(total, bool) or total < self.num_timesteps:
            raise InputError("MBMPO.learn total_timesteps must be an integer >= the steps taken", item=total)

        def until_total() -> Any:
            while self.num_timesteps < total:
                yield self.num_timesteps

        loop: Any = until_total()
        if progress_bar:
            from core.progress import progress

            estimate = max(0, math.ceil((total - self.num_timesteps) / self._steps_per_iter()))
            loop = progress(loop, desc="mb-mpo iterations", total=estimate)
        for _ in loop:
            start = time.perf_counter()
            if self.iterations == 0:
                behaviour = [self.policy.params]
            else:
                pre, _ = self._batches(self.imagine([self.policy.params] * self.config.members))
                behaviour = self._adapted(pre, create_graph=False)
            real = self._collect(behaviour, total - self.num_timesteps)
            model_loss = self._fit_models()
            stats = [self.meta_step() for _ in range(self.config.meta_steps)]
            self.iterations += 1
            self.history.append(
                {
                    "real_steps": self.num_timesteps,
                    "model_loss": model_loss,
                    "real_return": float(np.mean(real)),
                    "imagined_return": stats[-1]["imagined_return"],
                    "seconds": time.perf_counter() - start,
                }
            )
            if callback is not None:
                callback(self)
        return self

    def _steps_per_iter(self) -> int:
        limit = self.env.spec.max_episode_steps if self.env.spec is not None else None
        return self.config.episodes_per_iter * (limit or 1000)

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, None]:
        """The pre-update meta-policy's action (its mean when deterministic), clipped to the box."""
        _, action = self._act(self.policy.params, np.asarray(observation, dtype=np.float32), deterministic)
        return action, None
