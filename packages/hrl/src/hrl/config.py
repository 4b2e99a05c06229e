"""The agents' configs, kept free of torch so ``hrl --help`` can read their defaults.

Each config is a frozen dataclass whose defaults are the paper's hyper-parameters and whose
``__post_init__`` refuses bad values with a one-line `core.InputError` naming the field. The run
length (``total_timesteps``) is declared `core.extendable`: a checkpointed run may be resumed with a
larger value (the workspace's one resume rule), and nothing else may change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable

__all__ = [
    "EXPLORATION_METHODS",
    "DIAYNConfig",
    "HIROConfig",
    "MAXConfig",
    "PPOConfig",
    "SACConfig",
    "TD3Config",
]


def _positive_int(owner: str, name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{owner}.{name} must be a positive integer", item=value)


def _non_negative_int(owner: str, name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError(f"{owner}.{name} must be a non-negative integer", item=value)


def _number_in(owner: str, name: str, value: object, low: float, high: float, *, open_low: bool) -> None:
    """`value` must be a finite number in (low, high] (open_low) or [low, high]."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise InputError(f"{owner}.{name} must be a number in {bracket}{low}, {high}]", item=value)


def _widths(owner: str, hidden: object) -> None:
    if not isinstance(hidden, tuple) or not hidden:
        raise InputError(f"{owner}.hidden must be a non-empty tuple of widths", item=hidden)
    for width in hidden:
        _positive_int(owner, "hidden", width)


def _seed(owner: str, seed: object) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise InputError(f"{owner}.seed must be an integer in [0, 2**32)", item=seed)


@dataclass(frozen=True)
class TD3Config:
    """Twin Delayed DDPG (Fujimoto, van Hoof and Meger, ICML 2018), HIRO's base learner.

    Defaults are the TD3 paper's, except the hidden sizes: 300-300 for actor and critics as in
    HIRO's reference code (the TD3 paper used 400-300).

    Attributes:
        hidden: hidden layer widths of the actor and of each critic (ReLU).
        actor_lr: Adam step size of the actor.
        critic_lr: Adam step size of the twin critics.
        gamma: discount factor per environment step, in [0, 1].
        tau: Polyak rate of the target networks, in (0, 1].
        batch_size: transitions per gradient step.
        buffer_size: replay capacity in transitions (oldest overwritten first).
        learning_starts: steps of uniform random actions before learning begins.
        exploration_noise: sd of the Gaussian action noise, as a fraction of the action half-range.
        policy_noise: sd of the target-policy smoothing noise, as a fraction of the half-range.
        noise_clip: clip of the smoothing noise, as a fraction of the half-range.
        policy_delay: critic updates per actor (and target) update.
        train_freq: environment steps between rounds of updates (Stable-Baselines3's name).
        gradient_steps: updates per round (one update per environment step: both 1, the paper's).
        total_timesteps: environment steps of the whole run (extendable on resume).
        seed: seeds the initialisation, every random action and noise draw, every episode reset.
    """

    hidden: tuple[int, ...] = (300, 300)
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 100
    buffer_size: int = 1_000_000
    learning_starts: int = 10_000
    exploration_noise: float = 0.1
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    policy_delay: int = 2
    train_freq: int = 1
    gradient_steps: int = 1
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "TD3Config"
        _widths(owner, self.hidden)
        for name in (
            "batch_size",
            "buffer_size",
            "policy_delay",
            "train_freq",
            "gradient_steps",
            "total_timesteps",
        ):
            _positive_int(owner, name, getattr(self, name))
        _non_negative_int(owner, "learning_starts", self.learning_starts)
        for name in ("actor_lr", "critic_lr"):
            _number_in(owner, name, getattr(self, name), 0.0, math.inf, open_low=True)
        _number_in(owner, "gamma", self.gamma, 0.0, 1.0, open_low=False)
        _number_in(owner, "tau", self.tau, 0.0, 1.0, open_low=True)
        for name in ("exploration_noise", "policy_noise", "noise_clip"):
            _number_in(owner, name, getattr(self, name), 0.0, math.inf, open_low=False)
        _seed(owner, self.seed)


@dataclass(frozen=True)
class HIROConfig:
    """HIRO (Nachum, Gu, Lee and Levine, NeurIPS 2018): two TD3 levels with off-policy goal correction.

    The high level emits a goal every ``c`` steps: a desired change of the state dimensions
    ``goal_indices`` inside [goal_low, goal_high] (default: x, y within +-10, the reference code's
    range for the maze tasks). Both levels are TD3 with the shared fields below and their own
    learning rates and exploration noise (as fractions of their action half-ranges).

    Attributes:
        c: environment steps per high-level decision.
        goal_indices: state dimensions the goal lives in (x, y: ``(0, 1)``).
        goal_low, goal_high: the goal range, one bound per goal dimension.
        high_reward_scale: the high level's reward is this x the summed environment reward.
        correction: relabel sampled high-level goals with `hrl.goals.off_policy_goal_correction`
            (False: the "no correction" ablation).
        correction_samples: Gaussian candidates of the correction (besides the original goal and
            s_{t+c} - s_t).
        correction_scale: sd of those candidates, as a fraction of the goal half-range.
        low_relabel: the "HIRO with low-level relabelling" ablation: each completed segment's c
            low-level transitions are stored a second time with the goal the segment achieved
            (s_{t+c} - s_t, propagated by h) and their rewards recomputed (hindsight relabelling).
        pretrain_low_steps: the "HIRO with pretraining" ablation: for this many environment steps
            the high level emits uniform random goals and does not learn, while the low level
            learns to reach them (after ``learning_starts``); 0: no pretraining.
        hidden, gamma, tau, batch_size, buffer_size, policy_noise, noise_clip, policy_delay: TD3
            hyper-parameters of both levels (see `TD3Config`).
        high_actor_lr, high_critic_lr, low_actor_lr, low_critic_lr: Adam step sizes per level.
        high_exploration_noise, low_exploration_noise: Gaussian noise per level (fraction of range).
        learning_starts: environment steps with random goals and random actions before learning.
        total_timesteps: environment steps of the whole run (extendable on resume).
        seed: seeds everything.
    """

    c: int = 10
    goal_indices: tuple[int, ...] = (0, 1)
    goal_low: tuple[float, ...] = (-10.0, -10.0)
    goal_high: tuple[float, ...] = (10.0, 10.0)
    high_reward_scale: float = 0.1
    correction: bool = True
    correction_samples: int = 8
    correction_scale: float = 0.5
    low_relabel: bool = False
    pretrain_low_steps: int = 0
    hidden: tuple[int, ...] = (300, 300)
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 100
    buffer_size: int = 1_000_000
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    policy_delay: int = 2
    high_actor_lr: float = 1e-4
    high_critic_lr: float = 1e-3
    low_actor_lr: float = 1e-4
    low_critic_lr: float = 1e-3
    high_exploration_noise: float = 0.1
    low_exploration_noise: float = 0.1
    learning_starts: int = 10_000
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "HIROConfig"
        _positive_int(owner, "c", self.c)
        _non_negative_int(owner, "correction_samples", self.correction_samples)
        _non_negative_int(owner, "pretrain_low_steps", self.pretrain_low_steps)
        _number_in(owner, "correction_scale", self.correction_scale, 0.0, math.inf, open_low=False)
        _number_in(owner, "high_reward_scale", self.high_reward_scale, -math.inf, math.inf, open_low=True)
        if not isinstance(self.goal_indices, tuple) or not self.goal_indices:
            raise InputError(f"{owner}.goal_indices must be a non-empty tuple", item=self.goal_indices)
        for index in self.goal_indices:
            _non_negative_int(owner, "goal_indices", index)
        if len(set(self.goal_indices)) != len(self.goal_indices):
            raise InputError(f"{owner}.goal_indices repeat a dimension", item=self.goal_indices)
        for name in ("goal_low", "goal_high"):
            bounds = getattr(self, name)
            if not isinstance(bounds, tuple) or len(bounds) != len(self.goal_indices):
                raise InputError(
                    f"{owner}.{name} needs one bound per goal dimension",
                    item=bounds,
                    expected=f"{len(self.goal_indices)} numbers",
                )
        for i, (low, high) in enumerate(zip(self.goal_low, self.goal_high)):
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise InputError(
                    f"{owner}.goal range of dimension {self.goal_indices[i]} has min >= max (or is not finite)",
                    item=f"goal_low {low}, goal_high {high}",
                )
        for which in ("high", "low"):  # the shared and per-level TD3 fields are checked by TD3Config
            try:
                self.level(which)
            except InputError as exc:
                raise InputError(f"{owner} ({which} level, fields named as in TD3Config): {exc}") from None

    def level(self, which: str) -> TD3Config:
        """The `TD3Config` of the ``"high"`` or ``"low"`` level (its own seed stream is set by HIRO)."""
        return TD3Config(
            hidden=self.hidden,
            actor_lr=getattr(self, f"{which}_actor_lr"),
            critic_lr=getattr(self, f"{which}_critic_lr"),
            gamma=self.gamma,
            tau=self.tau,
            batch_size=self.batch_size,
            buffer_size=self.buffer_size,
            learning_starts=self.learning_starts,
            exploration_noise=getattr(self, f"{which}_exploration_noise"),
            policy_noise=self.policy_noise,
            noise_clip=self.noise_clip,
            policy_delay=self.policy_delay,
            total_timesteps=self.total_timesteps,
            seed=self.seed,
        )


EXPLORATION_METHODS = ("max", "reactive", "random")


@dataclass(frozen=True)
class MAXConfig:
    """Model-Based Active Exploration (Shyam, Jaskowski and Gomez, ICML 2019) on a discrete task.

    An ensemble of ``ensemble_size`` categorical forward models p_k(s' | s, a) (each trained on its own
    bootstrap resample of the transitions seen) scores every state-action pair by the Jensen-Shannon
    divergence among its members' predictions (`hrl.intrinsic.categorical_jsd`).

    Attributes:
        method: ``"max"`` plans, at every step, an exploration policy in the ensemble's mean model
            that maximises the summed divergence over the rest of the episode (active exploration);
            ``"reactive"`` is tabular Q-learning with the divergence of each observed transition as its
            reward (a bonus learned only where the agent has been: the paper's "reactive" baselines);
            ``"random"`` acts uniformly at random.
        ensemble_size: forward models in the ensemble (>= 2 for a divergence).
        hidden: hidden widths of each model.
        model_lr: Adam step size of the models.
        model_steps: gradient steps on the models after every environment step.
        batch_size: transitions per model step (per member, drawn with replacement).
        q_lr, gamma, epsilon: the reactive baseline's Q-learning step size, discount and
            epsilon-greedy rate.
        total_timesteps: environment steps of the run (extendable on resume).
        seed: seeds the models' initialisation, the resamples and every action.
    """

    method: str = "max"
    ensemble_size: int = 5
    hidden: tuple[int, ...] = (64,)
    model_lr: float = 1e-2
    model_steps: int = 5
    batch_size: int = 64
    q_lr: float = 0.5
    gamma: float = 0.99
    epsilon: float = 0.1
    total_timesteps: int = extendable(5_900)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "MAXConfig"
        if self.method not in EXPLORATION_METHODS:
            raise InputError(f"{owner}.method must be one of {EXPLORATION_METHODS}", item=self.method)
        if (
            not isinstance(self.ensemble_size, int)
            or isinstance(self.ensemble_size, bool)
            or self.ensemble_size < 2
        ):
            raise InputError(f"{owner}.ensemble_size must be an integer >= 2", item=self.ensemble_size)
        _widths(owner, self.hidden)
        for name in ("model_steps", "batch_size", "total_timesteps"):
            _positive_int(owner, name, getattr(self, name))
        _number_in(owner, "model_lr", self.model_lr, 0.0, math.inf, open_low=True)
        _number_in(owner, "q_lr", self.q_lr, 0.0, 1.0, open_low=True)
        _number_in(owner, "gamma", self.gamma, 0.0, 1.0, open_low=False)
        _number_in(owner, "epsilon", self.epsilon, 0.0, 1.0, open_low=False)
        _seed(owner, self.seed)


@dataclass(frozen=True)
class SACConfig:
    """Soft Actor-Critic (Haarnoja et al. 2018), with automatic entropy tuning by default.

    Attributes:
        hidden: hidden widths of the actor and of each critic (ReLU).
        actor_lr, critic_lr, alpha_lr: Adam step sizes.
        gamma: discount per step, in [0, 1].
        tau: Polyak rate of the target critics, in (0, 1].
        batch_size, buffer_size, learning_starts: as in `TD3Config`.
        alpha: the entropy coefficient; 0 or less: tuned automatically towards an entropy of
            ``-action_dim`` (the SAC paper's second version), starting at 1.
        train_freq, gradient_steps: updates per steps, as in `TD3Config`.
        total_timesteps: environment steps of the run (extendable on resume).
        seed: seeds everything.
    """

    hidden: tuple[int, ...] = (256, 256)
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    alpha_lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.005
    batch_size: int = 256
    buffer_size: int = 1_000_000
    learning_starts: int = 5_000
    alpha: float = 0.0
    train_freq: int = 1
    gradient_steps: int = 1
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "SACConfig"
        _widths(owner, self.hidden)
        for name in ("batch_size", "buffer_size", "train_freq", "gradient_steps", "total_timesteps"):
            _positive_int(owner, name, getattr(self, name))
        _non_negative_int(owner, "learning_starts", self.learning_starts)
        for name in ("actor_lr", "critic_lr", "alpha_lr"):
            _number_in(owner, name, getattr(self, name), 0.0, math.inf, open_low=True)
        _number_in(owner, "gamma", self.gamma, 0.0, 1.0, open_low=False)
        _number_in(owner, "tau", self.tau, 0.0, 1.0, open_low=True)
        _number_in(owner, "alpha", self.alpha, -math.inf, math.inf, open_low=True)
        _seed(owner, self.seed)


@dataclass(frozen=True)
class DIAYNConfig:
    """DIAYN (Eysenbach et al., ICLR 2019): skills without reward, SAC on log q(z | s') - log p(z).

    Attributes:
        skills: number of skills z (uniform prior p(z) = 1 / skills).
        discriminator_hidden, discriminator_lr: the discriminator q(z | s) (an MLP, Adam).
        discriminator_indices: the state dimensions q sees (empty: all; (0, 1): x, y, the paper's
            "x-y prior").
        alpha: SAC's entropy coefficient, fixed (the paper's 0.1).
        hidden, lr, gamma, tau, batch_size, buffer_size, learning_starts: SAC's (one lr for actor
            and critics).
        total_timesteps: environment steps of the run (extendable on resume).
        seed: seeds everything.
    """

    skills: int = 10
    discriminator_hidden: tuple[int, ...] = (300, 300)
    discriminator_lr: float = 3e-4
    discriminator_indices: tuple[int, ...] = ()
    alpha: float = 0.1
    hidden: tuple[int, ...] = (300, 300)
    lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.01
    batch_size: int = 128
    buffer_size: int = 1_000_000
    learning_starts: int = 1_000
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "DIAYNConfig"
        if not isinstance(self.skills, int) or isinstance(self.skills, bool) or self.skills < 2:
            raise InputError(f"{owner}.skills must be an integer >= 2", item=self.skills)
        _widths(owner, self.discriminator_hidden)
        _number_in(owner, "discriminator_lr", self.discriminator_lr, 0.0, math.inf, open_low=True)
        if not isinstance(self.discriminator_indices, tuple):
            raise InputError(
                f"{owner}.discriminator_indices must be a tuple", item=self.discriminator_indices
            )
        for index in self.discriminator_indices:
            _non_negative_int(owner, "discriminator_indices", index)
        _number_in(owner, "alpha", self.alpha, 0.0, math.inf, open_low=True)
        try:
            self.sac()
        except InputError as exc:
            raise InputError(f"{owner} (SAC fields, named as in SACConfig): {exc}") from None

    def sac(self) -> SACConfig:
        """The `SACConfig` of the skill-conditioned policy."""
        return SACConfig(
            hidden=self.hidden,
            actor_lr=self.lr,
            critic_lr=self.lr,
            gamma=self.gamma,
            tau=self.tau,
            batch_size=self.batch_size,
            buffer_size=self.buffer_size,
            learning_starts=self.learning_starts,
            alpha=self.alpha,
            total_timesteps=self.total_timesteps,
            seed=self.seed,
        )


@dataclass(frozen=True)
class PPOConfig:
    """Proximal Policy Optimization (Schulman et al. 2017), the clipped objective with GAE.

    Defaults are Stable-Baselines3's PPO defaults (themselves the paper's MuJoCo settings), except
    ``n_envs`` (SB3 takes whatever vector env it is given; here the agent builds it).

    Attributes:
        hidden: hidden widths of the policy and of the (separate) value network (tanh).
        n_envs: environments stepped together (a gymnasium ``SyncVectorEnv``).
        n_steps: steps per environment per rollout; a rollout is ``n_envs * n_steps`` transitions.
        batch_size: transitions per minibatch.
        n_epochs: passes over each rollout.
        learning_rate: Adam step size.
        gamma: discount per step, in [0, 1].
        gae_lambda: GAE's lambda, in [0, 1].
        clip_range: the policy ratio clip epsilon, in (0, 1].
        clip_range_vf: value clip around the rollout's values (SB3's ``clip_range_vf``); 0: no clipping.
        ent_coef: weight of the entropy bonus.
        vf_coef: weight of the value loss.
        max_grad_norm: gradient norm clip.
        normalize_advantage: standardise advantages per minibatch.
        intrinsic_coef: the reward is extrinsic + intrinsic_coef * intrinsic when an intrinsic
            reward module is given (`hrl.intrinsic`; ignored without one).
        extrinsic_coef: weight of the environment's reward (0: intrinsic reward only, Burda et al.).
        normalize_intrinsic: divide the intrinsic reward by the running sd of its discounted
            return per env (Burda et al.'s reward normalisation).
        infinite_horizon: no end-of-episode signal: GAE bootstraps across resets and truncations
            add no bootstrap term (Burda et al.'s curiosity-only setting; "dying" is not an end).
        total_timesteps: environment steps of the run, all envs together (extendable on resume).
        seed: seeds the initialisation, every action and minibatch draw, every episode reset.
    """

    hidden: tuple[int, ...] = (64, 64)
    n_envs: int = 4
    n_steps: int = 2048
    batch_size: int = 64
    n_epochs: int = 10
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    clip_range_vf: float = 0.0
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantage: bool = True
    intrinsic_coef: float = 1.0
    extrinsic_coef: float = 1.0
    normalize_intrinsic: bool = False
    infinite_horizon: bool = False
    total_timesteps: int = extendable(1_000_000)
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "PPOConfig"
        _widths(owner, self.hidden)
        for name in ("n_envs", "n_steps", "batch_size", "n_epochs", "total_timesteps"):
            _positive_int(owner, name, getattr(self, name))
        _number_in(owner, "learning_rate", self.learning_rate, 0.0, math.inf, open_low=True)
        _number_in(owner, "gamma", self.gamma, 0.0, 1.0, open_low=False)
        _number_in(owner, "gae_lambda", self.gae_lambda, 0.0, 1.0, open_low=False)
        _number_in(owner, "clip_range", self.clip_range, 0.0, 1.0, open_low=True)
        for name in ("clip_range_vf", "ent_coef", "vf_coef", "intrinsic_coef", "extrinsic_coef"):
            _number_in(owner, name, getattr(self, name), 0.0, math.inf, open_low=False)
        _number_in(owner, "max_grad_norm", self.max_grad_norm, 0.0, math.inf, open_low=True)
        for name in ("normalize_advantage", "normalize_intrinsic", "infinite_horizon"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"PPOConfig.{name} must be true or false", item=getattr(self, name))
        _seed(owner, self.seed)


ATARI_PPO = PPOConfig(
    n_envs=4,
    n_steps=128,
    batch_size=256,
    n_epochs=4,
    learning_rate=2.5e-4,
    clip_range=0.1,
    ent_coef=0.01,
    vf_coef=0.5,
)
"""SB3's Atari PPO settings (rl-zoo); each study sets its own `total_timesteps`."""
