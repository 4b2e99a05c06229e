"""PPO (Schulman et al. 2017): clipped surrogate, GAE, batched rollouts from a gymnasium vector env.

CleanRL-style and readable in one file, with Stable-Baselines3's shape and defaults:
``PPO(env, config)``, ``learn``, ``predict``, ``save``/``load``. The loss follows SB3's PPO:

- policy: ``-mean(min(A r, A clip(r, 1 - eps, 1 + eps)))`` with ``r = exp(log pi - log pi_old)``
  and A standardised per minibatch;
- value: ``mean((R - V_clipped)^2)`` with ``V_clipped = V_old + clip(V - V_old, -eps_vf, eps_vf)``
  when ``clip_range_vf > 0`` (SB3's form), else plain ``mean((R - V)^2)``;
- total: policy + vf_coef * value - ent_coef * entropy; gradients clipped to ``max_grad_norm``.

A time-limit truncation is bootstrapped as SB3 does: gamma * V(final observation) is added to the
step's reward, and the episode then counts as ended for GAE.

Exact resumption. Sub-environments reset only when their own episode ends (autoreset disabled,
``reset_mask``), each episode seeded from the run's seed and its global index. A checkpoint, written
between rollouts, keeps each sub-env's episode seed and the actions taken in its unfinished episode;
loading replays them, so for a deterministic environment a resumed run is bit-identical to an
uninterrupted one.

An intrinsic reward module (`hrl.intrinsic.IntrinsicReward`) may be given: the reward optimised is
``extrinsic_coef * r_env + intrinsic_coef * r_int(s, a, s')``, and the module takes one ``update``
per rollout on the rollout's transitions. Burda et al.'s curiosity setting: ``extrinsic_coef=0``,
``normalize_intrinsic`` (the bonus divided by the running sd of its discounted return per env) and
``infinite_horizon`` (no end-of-episode signal).

Policies. A 1-D Box observation gets SB3's MlpPolicy (`ActorCritic`); an image observation, a 3-D Box
laid out channels first (C, H, W) as gymnasium's ``AtariPreprocessing`` + ``FrameStackObservation``
give (4, 84, 84), gets SB3's CnnPolicy (`CnnActorCritic`): the Nature-DQN torso (Mnih et al. 2015)
shared by a linear policy head and a linear value head, pixels divided by 255. Rollout buffers keep
observations flattened to C*H*W; the CNN unflattens them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from hrl.agents.common import (
    check_run_length,
    episode_seed,
    flat_box_dim,
    observation_batch,
    start_learning,
)
from hrl.config import PPOConfig

__all__ = ["PPO", "ActorCritic", "CnnActorCritic", "NatureCNN", "clipped_losses", "gae"]


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    ends: torch.Tensor,
    last_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates and returns of a rollout.

    Args:
        rewards, values: (T, N) reward of step t and V(s_t), per environment.
        ends: (T, N) 1.0 where step t ended its episode (the next state is a fresh episode's).
        last_values: (N,) V of the state after the last step.

    Returns:
        (advantages, returns), both (T, N); returns = advantages + values.
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_values)
    for t in reversed(range(steps)):
        next_values = last_values if t == steps - 1 else values[t + 1]
        alive = 1.0 - ends[t]
        delta = rewards[t] + gamma * next_values * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
    return advantages, advantages + values


def clipped_losses(
    log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    clip_range: float,
    clip_range_vf: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped policy loss and (optionally clipped) value loss over a minibatch of (B,) tensors.

    Returns:
        (policy_loss, value_loss) scalars; advantages are used as given (normalise before).
    """
    ratio = torch.exp(log_prob - old_log_prob)
    surrogate = torch.minimum(advantages * ratio, advantages * ratio.clamp(1 - clip_range, 1 + clip_range))
    if clip_range_vf > 0:
        values = old_values + (values - old_values).clamp(-clip_range_vf, clip_range_vf)
    return -surrogate.mean(), ((returns - values) ** 2).mean()


def _layer(in_dim: int, out_dim: int, gain: float) -> nn.Linear:
    layer = nn.Linear(in_dim, out_dim)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _tanh_mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, out_gain: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [_layer(in_dim, width, math.sqrt(2)), nn.Tanh()]
        in_dim = width
    return nn.Sequential(*layers, _layer(in_dim, out_dim, out_gain))


class ActorCritic(nn.Module):
    """SB3's MlpPolicy: separate tanh MLPs for the policy and the value, orthogonal initialisation.

    A ``Discrete(n)`` action space gets a categorical policy (n logits); a 1-D ``Box`` a diagonal
    Gaussian with a state-independent log-sd (actions clipped to the bounds only when stepping).
    """

    def __init__(self, obs_dim: int, hidden: tuple[int, ...], n_actions: int, discrete: bool) -> None:
        super().__init__()
        self.discrete = discrete
        self.policy = _tanh_mlp(obs_dim, hidden, n_actions, 0.01)
        self.value = _tanh_mlp(obs_dim, hidden, 1, 1.0)
        self.log_std = nn.Parameter(torch.zeros(n_actions), requires_grad=not discrete)

    def evaluate(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(log pi(action | obs), entropy), each (B,): obs (B, obs_dim), action (B,) or (B, action_dim)."""
        out = self.policy(obs)
        if self.discrete:
            log_p = torch.log_softmax(out, -1)
            return log_p.gather(-1, action.long().unsqueeze(-1)).squeeze(-1), -(log_p.exp() * log_p).sum(-1)
        log_std = self.log_std.expand_as(out)
        z = (action - out) / log_std.exp()
        log_prob = (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        return log_prob, (0.5 + 0.5 * math.log(2 * math.pi) + log_std).sum(-1)

    def act(self, obs: torch.Tensor, generator: torch.Generator | None, deterministic: bool) -> torch.Tensor:
        """Actions for (B, obs_dim): sampled with `generator`, or the mode when deterministic."""
        out = self.policy(obs)
        if self.discrete:
            if deterministic:
                return out.argmax(-1)
            return torch.multinomial(torch.softmax(out, -1), 1, generator=generator).squeeze(-1)
        if deterministic:
            return out
        noise = torch.randn(out.shape, generator=generator, dtype=out.dtype)
        return out + self.log_std.exp() * noise


class NatureCNN(nn.Module):
    """Mnih et al. (2015)'s torso as SB3's ``NatureCNN``: conv 32 8x8/4, 64 4x4/2, 64 3x3/1 (ReLU),
    flatten, linear to `features` (ReLU). Input (B, C*H*W) flattened pixels in [0, 255]; output
    (B, features)."""

    def __init__(self, obs_shape: tuple[int, int, int], features: int = 512) -> None:
        super().__init__()
        channels, height, width = obs_shape
        convs = [
            nn.Conv2d(channels, 32, 8, stride=4),
            nn.Conv2d(32, 64, 4, stride=2),
            nn.Conv2d(64, 64, 3, stride=1),
        ]
        for conv in convs:
            nn.init.orthogonal_(conv.weight, math.sqrt(2))
            nn.init.zeros_(conv.bias)
        self.unflatten = nn.Unflatten(1, obs_shape)
        self.convs = nn.Sequential(
            convs[0], nn.ReLU(), convs[1], nn.ReLU(), convs[2], nn.ReLU(), nn.Flatten()
        )
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, channels, height, width)).shape[1]
        self.linear = nn.Sequential(_layer(flat, features, math.sqrt(2)), nn.ReLU())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(self.unflatten(obs) / 255.0))


class CnnActorCritic(ActorCritic):
    """SB3's CnnPolicy: one `NatureCNN` shared by a linear policy head (gain 0.01) and a linear value
    head (gain 1); the same `evaluate` / `act` as `ActorCritic` on (B, C*H*W) observations."""

    def __init__(self, obs_shape: tuple[int, int, int], n_actions: int, discrete: bool) -> None:
        nn.Module.__init__(self)
        self.discrete = discrete
        self.features = NatureCNN(obs_shape)
        self.policy = nn.Sequential(self.features, _layer(512, n_actions, 0.01))
        self.value = nn.Sequential(self.features, _layer(512, 1, 1.0))
        self.log_std = nn.Parameter(torch.zeros(n_actions), requires_grad=not discrete)


def _observation_shape(space: Any) -> tuple[int, ...]:
    """(obs_dim,) of a 1-D Box, or (C, H, W) of a channels-first image Box.

    Raises:
        InputError: any other observation space.
    """
    from gymnasium import spaces

    if isinstance(space, spaces.Box) and len(space.shape) == 3:
        return tuple(int(d) for d in space.shape)
    return (flat_box_dim(space, "observation (a 1-D Box or a (C, H, W) image Box)"),)


def _make_vector_env(env: Any, n_envs: int):
    """A ``SyncVectorEnv`` without autoreset from an env id, a zero-argument factory or one env."""
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    if isinstance(env, gym.vector.VectorEnv):
        raise InputError("pass an env id or a factory, not a vector env (PPO builds its own)", item=env)
    if isinstance(env, str):
        env_id = env

        def factory():
            return gym.make(env_id)

        fns = [factory] * n_envs
    elif isinstance(env, gym.Env):
        if n_envs != 1:
            raise InputError(
                "one environment instance cannot be copied for n_envs > 1",
                item=f"n_envs={n_envs}",
                expected="an env id or a factory",
            )
        fns = [lambda: env]
    elif callable(env):
        fns = [env] * n_envs
    else:
        raise InputError("PPO needs an env id, a factory or a gymnasium Env", item=env)
    return SyncVectorEnv(fns, autoreset_mode=AutoresetMode.DISABLED)


def _action_shape(space: Any) -> tuple[bool, int, np.ndarray | None, np.ndarray | None]:
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        return True, int(space.n), None, None
    flat_box_dim(space, "action")
    return False, int(space.shape[0]), np.asarray(space.low, np.float32), np.asarray(space.high, np.float32)


class PPO:
    """PPO on environments with a 1-D Box or (C, H, W) image observation and a Discrete or 1-D Box action.

    Args:
        env: a gymnasium env id, a zero-argument factory of envs, or (n_envs = 1) one env.
        config: `PPOConfig` (default: SB3's defaults).
        intrinsic: optional `hrl.intrinsic.IntrinsicReward` added to the reward (see the module doc);
            its batch gets one-hot actions for a Discrete space.

    Attributes:
        num_timesteps: environment steps so far, all envs together.
        history: one row per finished episode: ``step``, ``return`` (extrinsic), ``length``.
    """

    name = "ppo"
    config_type = PPOConfig

    def __init__(
        self, env: Any, config: PPOConfig | None = None, *, intrinsic: Any = None, device: Any = "cpu"
    ):
        config = config if config is not None else PPOConfig()
        if not isinstance(config, PPOConfig):
            raise InputError("PPO needs a PPOConfig", item=type(config).__name__)
        self.config = config
        self.env = _make_vector_env(env, config.n_envs)
        obs_shape = _observation_shape(self.env.single_observation_space)
        self._build(obs_shape, _action_shape(self.env.single_action_space), intrinsic, device)

    def _build(self, obs_shape: tuple[int, ...], action: tuple, intrinsic: Any, device: Any) -> None:
        config = self.config
        self.discrete, self.n_actions, self.action_low, self.action_high = action
        self.obs_shape, self.obs_dim = tuple(obs_shape), math.prod(obs_shape)
        self.device, self.intrinsic = torch.device(device), intrinsic
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            if len(self.obs_shape) == 3:
                policy = CnnActorCritic(self.obs_shape, self.n_actions, self.discrete)
            else:
                policy = ActorCritic(self.obs_dim, config.hidden, self.n_actions, self.discrete)
            self.policy = policy.to(self.device)
        self.optimizer = torch.optim.Adam(
            [p for p in self.policy.parameters() if p.requires_grad], lr=config.learning_rate, eps=1e-5
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.num_timesteps, self.iterations, self.episodes_started = 0, 0, 0
        self.history: list[dict[str, float]] = []
        self._obs: np.ndarray | None = None
        # running count, mean and sum of squared deviations of the discounted intrinsic return, and
        # that return per env (Burda et al.'s reward normalisation; exact parallel-Welford merges)
        self._intrinsic_stats = {"count": 0, "mean": 0.0, "m2": 0.0, "returns": [0.0] * config.n_envs}

    @property
    def num_episodes(self) -> int:
        """Episodes finished so far, all envs together."""
        return len(self.history)

    # -------------------------------------------------------------- environments
    def _reset(self, mask: np.ndarray) -> np.ndarray:
        """Reset the sub-envs in `mask` with the next episode seeds; returns the observations."""
        seeds: list[int | None] = [None] * self.config.n_envs
        for i in np.flatnonzero(mask):
            seeds[i] = episode_seed(self.config.seed, self.episodes_started)
            self._seeds[i] = seeds[i]
            self._actions[i] = []
            self._returns[i], self._lengths[i] = 0.0, 0
            self.episodes_started += 1
        obs, _ = self.env.reset(seed=seeds, options={"reset_mask": np.asarray(mask, bool)})
        return np.asarray(obs, np.float32).reshape(self.config.n_envs, self.obs_dim)

    def _start(self, replay: dict[str, Any] | None = None) -> None:
        n = self.config.n_envs
        self._seeds: list[int | None] = [None] * n
        self._actions: list[list] = [[] for _ in range(n)]
        self._returns, self._lengths = [0.0] * n, [0] * n
        if replay is None:
            self._obs = self._reset(np.ones(n, bool))
            return
        obs, _ = self.env.reset(seed=list(replay["seeds"]))
        self._seeds = list(replay["seeds"])
        self._returns, self._lengths = list(replay["returns"]), list(replay["lengths"])
        obs = np.asarray(obs, np.float32).reshape(n, self.obs_dim)
        longest = max(len(a) for a in replay["actions"])
        for t in range(longest):  # replay the unfinished episodes, each sub-env stopping at its own end
            live = np.array([t < len(a) for a in replay["actions"]])
            for i in np.flatnonzero(live):
                sub = self.env.envs[i]
                result = sub.step(np.asarray(replay["actions"][i][t], dtype=sub.action_space.dtype))
                obs[i] = np.asarray(result[0], np.float32).reshape(-1)
        self._actions = [list(a) for a in replay["actions"]]
        self._obs = obs

    # ------------------------------------------------------------------ rollout
    def _collect(self) -> dict[str, torch.Tensor]:
        config, n, steps = self.config, self.config.n_envs, self.config.n_steps
        obs_buf = torch.zeros(steps, n, self.obs_dim)
        action_buf = torch.zeros((steps, n) if self.discrete else (steps, n, self.n_actions))
        log_prob_buf, value_buf, reward_buf, end_buf = (torch.zeros(steps, n) for _ in range(4))
        next_obs_buf = torch.zeros(steps, n, self.obs_dim)
        for t in range(steps):
            obs = torch.as_tensor(self._obs)
            with torch.no_grad():
                action = self.policy.act(obs, self.generator, deterministic=False)
                log_prob, _ = self.policy.evaluate(obs, action)
                value = self.policy.value(obs).squeeze(-1)
            env_action = action.numpy()
            if not self.discrete:
                env_action = np.clip(env_action, self.action_low, self.action_high)
            next_obs, reward, terminated, truncated, _ = self.env.step(env_action)
            next_obs = np.asarray(next_obs, np.float32).reshape(n, self.obs_dim)
            reward = np.asarray(reward, np.float64)
            ended = np.logical_or(terminated, truncated)
            for i in range(n):
                self._actions[i].append(env_action[i].tolist())
                self._returns[i] += float(reward[i])
                self._lengths[i] += 1
            obs_buf[t], action_buf[t], log_prob_buf[t], value_buf[t] = obs, action, log_prob, value
            next_obs_buf[t] = torch.as_tensor(next_obs)
            reward_buf[t] = torch.as_tensor(reward, dtype=torch.float32)
            end_buf[t] = torch.as_tensor(ended, dtype=torch.float32)
            if not config.infinite_horizon and truncated.any() and not terminated[truncated].all():
                bootstrap = np.logical_and(truncated, ~terminated)
                with torch.no_grad():
                    final = self.policy.value(torch.as_tensor(next_obs[bootstrap])).squeeze(-1)
                reward_buf[t, torch.as_tensor(bootstrap)] += config.gamma * final
            self.num_timesteps += n
            for i in np.flatnonzero(ended):
                self.history.append(
                    {"step": self.num_timesteps, "return": self._returns[i], "length": self._lengths[i]}
                )
            self._obs = self._reset(ended) if ended.any() else next_obs
        rollout = {
            "obs": obs_buf,
            "action": action_buf,
            "log_prob": log_prob_buf,
            "value": value_buf,
            "reward": reward_buf,
            "end": end_buf,
            "next_obs": next_obs_buf,
        }
        if self.intrinsic is not None:
            self._add_intrinsic(rollout)
        return rollout

    def _add_intrinsic(self, rollout: dict[str, torch.Tensor]) -> None:
        config = self.config
        action = rollout["action"].flatten(0, 1)
        if self.discrete:
            action = nn.functional.one_hot(action.long(), self.n_actions).float()
        batch = {
            "obs": rollout["obs"].flatten(0, 1),
            "action": action,
            "next_obs": rollout["next_obs"].flatten(0, 1),
        }
        bonus = self.intrinsic.compute(batch).reshape(rollout["reward"].shape)
        rollout["intrinsic"] = bonus
        if config.normalize_intrinsic:
            bonus = bonus / self._intrinsic_scale(bonus)
        rollout["reward"] = config.extrinsic_coef * rollout["reward"] + config.intrinsic_coef * bonus
        self.intrinsic.update(batch)

    def _intrinsic_scale(self, bonus: torch.Tensor) -> float:
        """The running sd of the discounted intrinsic return, updated with this rollout's (T, N) bonus."""
        stats = self._intrinsic_stats
        running = np.asarray(stats["returns"], dtype=np.float64)
        values = np.empty(bonus.shape, dtype=np.float64)
        for t, row in enumerate(bonus.double().numpy()):
            running = self.config.gamma * running + row
            values[t] = running
        count, mean = values.size, float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        total = stats["count"] + count
        delta = mean - stats["mean"]
        stats["m2"] = stats["m2"] + m2 + delta**2 * stats["count"] * count / total
        stats["mean"] = stats["mean"] + delta * count / total
        stats["count"], stats["returns"] = total, running.tolist()
        variance = stats["m2"] / total
        return math.sqrt(variance) if variance > 0 else 1.0

    # ------------------------------------------------------------------- update
    def _extra_loss(self) -> Any:
        """A term added to every minibatch's loss: 0 here (a continual learner adds EWC's penalty,
        `hrl.continual.minigrid_sequence`)."""
        return 0.0

    def _update(self, rollout: dict[str, torch.Tensor]) -> dict[str, float]:
        config = self.config
        with torch.no_grad():
            last_values = self.policy.value(torch.as_tensor(self._obs)).squeeze(-1)
        ends = torch.zeros_like(rollout["end"]) if config.infinite_horizon else rollout["end"]
        advantages, returns = gae(
            rollout["reward"], rollout["value"], ends, last_values, config.gamma, config.gae_lambda
        )
        flat = {
            "obs": rollout["obs"].flatten(0, 1),
            "action": rollout["action"].flatten(0, 1),
            "log_prob": rollout["log_prob"].flatten(),
            "value": rollout["value"].flatten(),
            "advantage": advantages.flatten(),
            "return": returns.flatten(),
        }
        size = flat["log_prob"].shape[0]
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0}
        for _ in range(config.n_epochs):
            order = torch.randperm(size, generator=self.generator)
            for start in range(0, size, config.batch_size):
                index = order[start : start + config.batch_size]
                advantage = flat["advantage"][index]
                if config.normalize_advantage and len(index) > 1:
                    advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
                log_prob, entropy = self.policy.evaluate(flat["obs"][index], flat["action"][index])
                values = self.policy.value(flat["obs"][index]).squeeze(-1)
                policy_loss, value_loss = clipped_losses(
                    log_prob,
                    flat["log_prob"][index],
                    advantage,
                    values,
                    flat["value"][index],
                    flat["return"][index],
                    config.clip_range,
                    config.clip_range_vf,
                )
                loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy.mean()
                loss = loss + self._extra_loss()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
                self.optimizer.step()
                stats = {
                    "policy_loss": float(policy_loss.detach()),
                    "value_loss": float(value_loss.detach()),
                    "entropy": float(entropy.mean().detach()),
                }
        return stats

    def learn(
        self,
        total_timesteps: int | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 10_000,
        callback: Callable[[Any], None] | None = None,
        progress_bar: bool = False,
    ) -> PPO:
        """Collect rollouts and update until `num_timesteps` reaches `total_timesteps`.

        Like SB3, the last rollout is completed, so the run may pass the total by less than one
        rollout. With `checkpoint`, an existing file is resumed first (its config must equal this
        one except ``total_timesteps``), and the run is saved after the first rollout following every
        `checkpoint_every` steps and at the end.

        Args:
            callback: called with the agent after every rollout's update (raise to stop).

        Raises:
            InputError: no environment, a bad total, a damaged checkpoint or one further along.
            CheckpointMismatchError: the checkpoint's config differs in another field.
        """
        path = start_learning(self, total_timesteps, checkpoint, checkpoint_every)
        total = self.config.total_timesteps
        if path is not None and path.exists() and self.num_timesteps == 0:
            saved = load_checkpoint(path, PPOConfig, resume=self.config)
            self._apply(saved.state, saved.extra, path)
        check_run_length(self.num_timesteps, total)
        if self._obs is None:
            self._start()
        last_saved = self.num_timesteps
        per_rollout = self.config.n_envs * self.config.n_steps
        rollouts = range(max(0, -(-(total - self.num_timesteps) // per_rollout)))
        if progress_bar:
            from core.progress import progress

            rollouts = progress(rollouts, desc=self.name)
        for _ in rollouts:
            self.last_stats = self._update(self._collect())
            self.iterations += 1
            if path is not None and self.num_timesteps - last_saved >= checkpoint_every:
                self.save(path)
                last_saved = self.num_timesteps
            if callback is not None:
                callback(self)
        if path is not None:
            self.save(path)
        return self

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, None]:
        """SB3's ``predict``: actions for (obs_dim,) or (n, obs_dim) observations (images: (C, H, W)
        or (n, C, H, W)), and no state.

        Raises:
            InputError: the observation's shape is not the space's.
        """
        if len(self.obs_shape) == 3:
            image = np.asarray(observation, dtype=np.float32)
            if image.shape[-3:] != self.obs_shape or image.ndim not in (3, 4):
                raise InputError(
                    "observation has the wrong shape",
                    item=image.shape,
                    expected=f"{self.obs_shape} or (n, ...)",
                )
            observation = image.reshape(-1, self.obs_dim) if image.ndim == 4 else image.reshape(self.obs_dim)
        obs, single = observation_batch(observation, self.obs_dim)
        with torch.no_grad():
            action = self.policy.act(torch.as_tensor(obs), self.generator, deterministic).numpy()
        if not self.discrete:
            action = np.clip(action, self.action_low, self.action_high)
        return (action[0] if single else action), None

    # -------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the agent atomically: networks, optimiser, generator, counters, history, and the
        sub-envs' episode seeds and unfinished-episode actions (replayed on resume)."""
        state: dict[str, Any] = {
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
        }
        if self.intrinsic is not None:
            state["intrinsic"] = self.intrinsic.state_dict()
            state["intrinsic_optimizer"] = self.intrinsic.optimizer.state_dict()
        extra = {
            "num_timesteps": self.num_timesteps,
            "iterations": self.iterations,
            "episodes_started": self.episodes_started,
            "history": self.history,
            "intrinsic_stats": self._intrinsic_stats,
            "obs_dim": self.obs_dim,
            "obs_shape": list(self.obs_shape),
            "discrete": self.discrete,
            "n_actions": self.n_actions,
            "low": None if self.discrete else self.action_low.tolist(),
            "high": None if self.discrete else self.action_high.tolist(),
            "replay": None
            if self._obs is None
            else {
                "seeds": self._seeds,
                "actions": self._actions,
                "returns": self._returns,
                "lengths": self._lengths,
            },
        }
        return save_checkpoint(path, state, self.config, extra=extra)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], env: Any = None, *, intrinsic: Any = None, device: Any = "cpu"
    ) -> PPO:
        """An agent restored from `save`; pass `env` (as for the constructor) to go on learning.

        Raises:
            InputError: the file is missing or damaged, or `env`'s spaces differ from the saved ones.
        """
        saved = load_checkpoint(path, PPOConfig)
        agent = cls.__new__(cls)
        agent.config, agent.env = saved.config, None
        extra = saved.extra
        low = None if extra["low"] is None else np.asarray(extra["low"], np.float32)
        high = None if extra["high"] is None else np.asarray(extra["high"], np.float32)
        action = (bool(extra["discrete"]), int(extra["n_actions"]), low, high)
        obs_shape = tuple(int(d) for d in extra.get("obs_shape", [extra["obs_dim"]]))  # older files: flat
        if env is not None:
            agent.env = _make_vector_env(env, saved.config.n_envs)
            found = _observation_shape(agent.env.single_observation_space)
            mine = _action_shape(agent.env.single_action_space)
            if found != obs_shape or mine[:2] != action[:2]:
                raise InputError(
                    "the environment's spaces differ from the saved agent's",
                    item=f"{path}: observation width {extra['obs_dim']}, {extra['n_actions']} actions",
                )
        agent._build(obs_shape, action, intrinsic, device)
        agent._apply(saved.state, extra, path)
        return agent

    def _apply(self, state: dict[str, Any], extra: dict[str, Any], source: object) -> None:
        load_state_into(self.policy, state["policy"], source=source)
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"].to(torch.uint8).cpu())
        if self.intrinsic is not None:
            if "intrinsic" not in state:
                raise InputError("the checkpoint has no intrinsic-reward state", item=source)
            load_state_into(self.intrinsic, state["intrinsic"], source=source)
            self.intrinsic.optimizer.load_state_dict(state["intrinsic_optimizer"])
        self.num_timesteps = int(extra["num_timesteps"])
        self.iterations = int(extra["iterations"])
        self.episodes_started = int(extra["episodes_started"])
        self.history = list(extra["history"])
        self._intrinsic_stats = dict(extra["intrinsic_stats"])
        self._obs = None
        if self.env is not None and extra["replay"] is not None:
            self._start(extra["replay"])
