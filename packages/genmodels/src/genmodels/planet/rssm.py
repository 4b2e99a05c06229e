"""PlaNet's recurrent state-space model and its variational objective with latent overshooting.

Hafner et al. 2019, sec. 3-4. The model state is ``(h_t, s_t)``:

    h_t = GRU(h_{t-1}, dense([s_{t-1}, a_{t-1}]))      deterministic path
    s_t ~ p(s_t | h_t)                                  prior (the transition)
    s_t ~ q(s_t | h_t, e_t)                             posterior, e_t = embed(o_t)
    o_t ~ N(dec([h_t, s_t]), obs_sigma^2),  r_t ~ N(rew([h_t, s_t]), 1)

Objective per sequence (to minimise), over steps t = 1..T:

    - sum_t [ log p(o_t | h_t, s_t) + log p(r_t | h_t, s_t) ]
    + (1 / D) sum_{d=1..D} sum_t max(free_nats, KL( q(s_t) || p_d(s_t | s_{t-d}) ))

where p_d is the prior rolled d steps from the posterior state at t - d (latent overshooting,
eq. 7 with beta_d = 1). As in the paper's code, the posterior inside the d > 1 terms is held
fixed (stop-gradient), so overshooting trains the multi-step prior towards the posterior and
not the reverse; with D = 1 the objective is exactly the standard one-step ELBO (tested).
Randomness comes from an explicit CPU `torch.Generator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.errors import InputError
from genmodels.config import RSSMConfig
from genmodels.distributions import GaussianHead, gaussian_kl_between, gaussian_log_density, reparameterise

__all__ = ["RSSM", "RSSMConfig", "RSSMTerms", "State", "rssm_loss"]


@dataclass
class State:
    """A batch of model states: ``h (batch, deterministic)``, ``s (batch, stochastic)``."""

    h: Tensor
    s: Tensor

    def features(self) -> Tensor:
        """``[h, s]``: what the decoders (and the planner's reward model) read; ``(batch, det + stoch)``."""
        return torch.cat([self.h, self.s], -1)


class RSSM(nn.Module):
    """Deterministic GRU path + stochastic state, with observation and reward decoders.

    The observation encoder and decoder are MLPs, or with ``config.encoder == "conv"`` the paper's
    convolutional networks for 64 x 64 RGB frames (`genmodels.planet.conv`), still on flat vectors.

    Observations are vectors ``(batch, time, obs_dim)``; actions ``(batch, time, action_dim)``, the
    action at index t being the one taken after observation t.
    """

    def __init__(self, config: RSSMConfig) -> None:
        super().__init__()
        self.config = c = config
        features = c.deterministic + c.stochastic
        conv = c.encoder == "conv"
        if conv:
            from genmodels.planet.conv import ConvDecoder, ConvEncoder
        # Modules are built in this order so that the MLP model's initial weights stay what they were.
        self.embed: nn.Module = (
            ConvEncoder(c.conv_depth)
            if conv
            else nn.Sequential(
                nn.Linear(c.obs_dim, c.hidden), nn.ReLU(), nn.Linear(c.hidden, c.embedding), nn.ReLU()
            )
        )
        self.before_gru = nn.Sequential(nn.Linear(c.stochastic + c.action_dim, c.hidden), nn.ReLU())
        self.gru = nn.GRUCell(c.hidden, c.deterministic)
        self.prior = GaussianHead(c.deterministic, c.stochastic, c.hidden, min_log_var=-7.0)
        self.posterior = GaussianHead(c.deterministic + c.embedding, c.stochastic, c.hidden, min_log_var=-7.0)
        self.observation: nn.Module = (
            ConvDecoder(features, c.conv_depth)
            if conv
            else nn.Sequential(nn.Linear(features, c.hidden), nn.ReLU(), nn.Linear(c.hidden, c.obs_dim))
        )
        self.reward = nn.Sequential(nn.Linear(features, c.hidden), nn.ReLU(), nn.Linear(c.hidden, 1))

    def initial(self, batch: int, like: Tensor | None = None) -> State:
        """The all-zero state that precedes the first observation (on `like`'s device and dtype)."""
        c = self.config
        options = {} if like is None else {"device": like.device, "dtype": like.dtype}
        return State(
            torch.zeros(batch, c.deterministic, **options), torch.zeros(batch, c.stochastic, **options)
        )

    def deterministic_step(self, state: State, action: Tensor) -> Tensor:
        """``h_t`` from ``(h_{t-1}, s_{t-1})`` and ``a_{t-1} (batch, action_dim)``."""
        return self.gru(self.before_gru(torch.cat([state.s, action], -1)), state.h)

    def imagine(
        self, state: State, action: Tensor, generator: torch.Generator | None
    ) -> tuple[State, Tensor, Tensor]:
        """One prior step: ``(next state with s ~ p(s | h), prior mean, prior log-variance)``."""
        h = self.deterministic_step(state, action)
        mean, log_var = self.prior(h)
        return State(h, reparameterise(mean, log_var, generator)), mean, log_var

    def predicted_reward(self, state: State) -> Tensor:
        """Mean reward at `state`: ``(batch,)``."""
        return self.reward(state.features()).squeeze(-1)

    def observe(
        self, observations: Tensor, actions: Tensor, generator: torch.Generator | None
    ) -> dict[str, Tensor]:
        """Filter a batch of sequences through the posterior.

        The first step starts from `initial` with a zero action; step t > 0 uses ``a_{t-1}``.

        Returns:
            ``h``, ``s`` (posterior samples), ``prior_mean``/``prior_log_var`` (one step from the
            previous posterior state) and ``post_mean``/``post_log_var``; each ``(batch, time, .)``.

        Raises:
            InputError: observations or actions of the wrong shape.
        """
        c = self.config
        if observations.dim() != 3 or observations.shape[-1] != c.obs_dim:
            raise InputError(
                "observations must be (batch, time, obs_dim)", item=f"shape {tuple(observations.shape)}"
            )
        if actions.shape != (*observations.shape[:2], c.action_dim):
            raise InputError(
                "actions must be (batch, time, action_dim) beside the observations",
                item=f"shape {tuple(actions.shape)}",
                expected=f"{(*observations.shape[:2], c.action_dim)}",
            )
        batch, time = observations.shape[:2]
        embedded = self.embed(observations)
        state = self.initial(batch, observations)
        previous = observations.new_zeros(batch, c.action_dim)
        rows: dict[str, list[Tensor]] = {
            k: [] for k in ("h", "s", "prior_mean", "prior_log_var", "post_mean", "post_log_var")
        }
        for t in range(time):
            h = self.deterministic_step(state, previous)
            prior_mean, prior_log_var = self.prior(h)
            post_mean, post_log_var = self.posterior(torch.cat([h, embedded[:, t]], -1))
            state = State(h, reparameterise(post_mean, post_log_var, generator))
            previous = actions[:, t]
            for key, value in zip(rows, (h, state.s, prior_mean, prior_log_var, post_mean, post_log_var)):
                rows[key].append(value)
        return {key: torch.stack(values, 1) for key, values in rows.items()}


@dataclass(frozen=True)
class RSSMTerms:
    """Batch means of one objective evaluation: ``loss`` (to minimise) and its parts (nats per sequence)."""

    loss: Tensor
    observation_log_likelihood: Tensor
    reward_log_likelihood: Tensor
    kl: Tensor


def rssm_loss(
    model: RSSM,
    observations: Tensor,
    actions: Tensor,
    rewards: Tensor,
    generator: torch.Generator | None,
    *,
    overshooting: int | None = None,
) -> RSSMTerms:
    """The variational objective with latent overshooting (module docstring) on ``(batch, time, .)`` data.

    Args:
        rewards: ``(batch, time)``, the reward that followed observation t's action... stored at
            the index of the observation it arrives with (PlaNet's convention: r_t with o_t).
        overshooting: distance D (default: ``model.config.overshooting``), capped at the sequence length.
    """
    c = model.config
    distance = min(overshooting or c.overshooting, observations.shape[1])
    if rewards.shape != observations.shape[:2]:
        raise InputError("rewards must be (batch, time)", item=f"shape {tuple(rewards.shape)}")
    post = model.observe(observations, actions, generator)
    features = torch.cat([post["h"], post["s"]], -1)
    sigma = torch.full_like(observations, c.obs_sigma)
    observation_ll = gaussian_log_density(observations, model.observation(features), 2 * sigma.log()).sum(1)
    reward_mean = model.reward(features).squeeze(-1)
    reward_ll = (-0.5 * (rewards - reward_mean) ** 2 - 0.5 * math.log(2 * math.pi)).sum(1)
    kl = _clamped(
        gaussian_kl_between(
            post["post_mean"], post["post_log_var"], post["prior_mean"], post["prior_log_var"]
        ),
        c.free_nats,
    ).sum(1)
    if distance > 1:
        kl = kl + _overshooting_kl(model, post, actions, distance, generator)
    kl = kl / distance
    loss = -(observation_ll + reward_ll) + kl
    return RSSMTerms(loss.mean(), observation_ll.mean(), reward_ll.mean(), kl.mean())


def _clamped(kl: Tensor, free_nats: float) -> Tensor:
    return kl.clamp(min=free_nats) if free_nats > 0 else kl


def _overshooting_kl(
    model: RSSM, post: dict[str, Tensor], actions: Tensor, distance: int, generator: torch.Generator | None
) -> Tensor:
    """Sum over d = 2..D and t of the clamped KL(stopgrad q(s_t) || p_d(s_t | posterior state at t - d)); ``(batch,)``."""
    batch, time = actions.shape[:2]
    total = actions.new_zeros(batch)
    # Start the prior at every posterior state t0 (flattened into the batch) and roll it forward.
    state = State(post["h"].reshape(batch * time, -1), post["s"].reshape(batch * time, -1))
    starts = torch.arange(time, device=actions.device)
    for step in range(1, distance + 1):
        # After `step` prior steps from t0 we predict s_{t0 + step}, using actions a_{t0} .. a_{t0+step-1}.
        index = (starts + step - 1).clamp(max=time - 1)
        action = actions[:, index].reshape(batch * time, -1)
        state, mean, log_var = model.imagine(state, action, generator)
        if step == 1:
            continue  # d = 1 is the standard term, computed from the posterior pass
        target = starts + step
        valid = target < time
        if not bool(valid.any()):
            break
        chosen = target.clamp(max=time - 1)
        q_mean = post["post_mean"][:, chosen].detach().reshape(batch * time, -1)
        q_log_var = post["post_log_var"][:, chosen].detach().reshape(batch * time, -1)
        kl = _clamped(gaussian_kl_between(q_mean, q_log_var, mean, log_var), model.config.free_nats)
        total = total + (kl.reshape(batch, time) * valid).sum(1)
    return total
