"""Forward-model curiosity in four feature spaces (Burda et al., "Large-Scale Study of Curiosity-Driven
Learning", ICLR 2019), as an `hrl.intrinsic.IntrinsicReward` PPO takes.

The reward of a transition is the forward model's error in the feature space phi,
``r = mean_d (f(phi(s), a) - phi(s'))_d^2`` (the paper's code averages over the feature dimensions;
PPO's ``normalize_intrinsic`` divides by the running sd of its discounted return, so the scale is
immaterial). phi is one of:

- ``"pixels"``: the (normalised, flattened) observation itself: the forward model predicts the next image;
- ``"random"``: a CNN with random weights, frozen (stable but possibly uninformative);
- ``"vae"``: the posterior mean of a VAE trained on the observations (informative, non-stationary);
- ``"idf"``: a CNN trained by an inverse-dynamics model p(a | phi(s), phi(s')) (features of what the
  agent controls; non-stationary).

The CNN is the paper's ``small_convnet`` (conv 32 8x8/4, 64 4x4/2, 64 3x3/1, leaky ReLU, then a linear
layer to ``feature_dim``); the forward model is an MLP on [phi(s), one-hot a] whose hidden layers
also get the action (the paper's residual blocks concatenate it at every layer). Gradients of the
forward loss never reach phi (the paper's ``stop_gradient``); a learnt phi is trained only by its own
loss (VAE: the negative ELBO with a unit-variance Gaussian decoder; IDF: the inverse model's cross-entropy).
`update` runs ``epochs`` passes of ``minibatches`` minibatches over the rollout, like PPO's epochs.

Observations arrive as PPO keeps them: (B, C*H*W) floats in [0, 255] of a (C, H, W) image. They
are scaled to [0, 1] or, after `fit_observation_stats` on a random agent's observations, standardised
as the paper's code does: minus the per-pixel mean, over one scalar sd (the mean of the per-pixel sds).

Simplifications (stated, at smoke scale): the forward model has two hidden layers instead of the
paper's four residual blocks; the pixel space predicts the flattened image with that MLP instead of a
deconvolution net; the VAE decoder is an MLP; no batch normalisation in the feature CNN.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from core.errors import InputError
from hrl.curiosity.config import CuriosityConfig
from hrl.intrinsic import IntrinsicReward

__all__ = ["FeatureCuriosity", "ForwardModel", "small_convnet"]


def small_convnet(obs_shape: tuple[int, int, int], out_dim: int) -> nn.Sequential:
    """Burda et al.'s feature CNN: (B, C*H*W) normalised pixels -> (B, out_dim).

    Raises:
        InputError: the image is smaller than the convolutions' 36 x 36 receptive field.
    """
    channels, height, width = obs_shape
    if height < 36 or width < 36:
        raise InputError("the curiosity CNN needs images of at least 36 x 36", item=obs_shape)
    convs = nn.Sequential(
        nn.Unflatten(1, obs_shape),
        nn.Conv2d(channels, 32, 8, stride=4),
        nn.LeakyReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.LeakyReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.LeakyReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        flat = convs(torch.zeros(1, channels * height * width)).shape[1]
    return nn.Sequential(convs, nn.Linear(flat, out_dim))


class ForwardModel(nn.Module):
    """f(phi, a): two hidden layers of `hidden` leaky-ReLU units, the action concatenated to the input
    of every layer (the paper's dynamics net, without its residual blocks)."""

    def __init__(self, feature_dim: int, n_actions: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [
                nn.Linear(feature_dim + n_actions, hidden),
                nn.Linear(hidden + n_actions, hidden),
                nn.Linear(hidden + n_actions, feature_dim),
            ]
        )

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = features
        for i, layer in enumerate(self.layers):
            x = layer(torch.cat([x, action], dim=-1))
            if i < len(self.layers) - 1:
                x = nn.functional.leaky_relu(x)
        return x


class FeatureCuriosity(IntrinsicReward):
    """Burda et al.'s curiosity: a forward model's error in one of four feature spaces.

    Args:
        obs_shape: the (C, H, W) image the observations flatten.
        n_actions: size of the Discrete action space (PPO passes one-hot actions).
        config: `CuriosityConfig`.

    Attributes:
        optimizer: one Adam over the forward model and a learnt feature network (PPO saves it).
    """

    def __init__(
        self, obs_shape: tuple[int, int, int], n_actions: int, config: CuriosityConfig | None = None
    ) -> None:
        super().__init__()
        config = config if config is not None else CuriosityConfig()
        if not isinstance(config, CuriosityConfig):
            raise InputError("FeatureCuriosity needs a CuriosityConfig", item=type(config).__name__)
        if len(obs_shape) != 3:
            raise InputError("FeatureCuriosity needs a (C, H, W) image observation", item=obs_shape)
        if not isinstance(n_actions, int) or n_actions < 1:
            raise InputError("FeatureCuriosity needs a positive number of actions", item=n_actions)
        self.config, self.obs_shape, self.n_actions = config, tuple(obs_shape), n_actions
        self.obs_dim = obs_shape[0] * obs_shape[1] * obs_shape[2]
        dim, hidden = config.feature_dim, config.hidden
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            if config.features == "pixels":
                self.encoder: nn.Module = nn.Identity()
                dim = self.obs_dim
            elif config.features == "vae":
                self.encoder = small_convnet(self.obs_shape, 2 * dim)  # mean and log-sd
                self.decoder = nn.Sequential(
                    nn.Linear(dim, hidden), nn.LeakyReLU(), nn.Linear(hidden, self.obs_dim)
                )
            else:
                self.encoder = small_convnet(self.obs_shape, dim)
                if config.features == "random":
                    self.encoder.requires_grad_(False)
                else:
                    self.inverse = nn.Sequential(
                        nn.Linear(2 * dim, hidden), nn.ReLU(), nn.Linear(hidden, n_actions)
                    )
            self.feature_dim = dim
            self.forward_model = ForwardModel(dim, n_actions, hidden)
        self.optimizer = torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed + 1)
        self.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        self.register_buffer("obs_scale", torch.tensor(255.0))

    def fit_observation_stats(self, obs: torch.Tensor) -> None:
        """Standardise inputs from now on: per-pixel mean, one scalar sd (the mean per-pixel sd).

        Args:
            obs: (N, C*H*W) observations in [0, 255], e.g. a random agent's (the paper: 10 000 steps).

        Raises:
            InputError: fewer than 2 observations or the wrong width.
        """
        if obs.ndim != 2 or obs.shape[0] < 2 or obs.shape[1] != self.obs_dim:
            raise InputError(
                "fit_observation_stats needs (N >= 2, C*H*W) observations",
                item=tuple(obs.shape),
                expected=self.obs_dim,
            )
        obs = obs.float()
        self.obs_mean.copy_(obs.mean(0))
        self.obs_scale.copy_(obs.std(0, unbiased=False).mean().clamp_min(1e-3))

    def normalise(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, C*H*W) pixels in [0, 255] -> the feature networks' inputs (see the module doc)."""
        return (obs - self.obs_mean) / self.obs_scale

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """phi(obs): (B, C*H*W) pixels in [0, 255] -> (B, feature_dim)."""
        out = self.encoder(self.normalise(obs))
        return out[:, : self.feature_dim] if self.config.features == "vae" else out

    def prediction_errors(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B,) mean_d (f(phi(s), a) - phi(s'))_d^2, phi held fixed (the stop-gradient): only the
        forward model gets gradients from it."""
        phi = self.features(batch["obs"]).detach()
        target = self.features(batch["next_obs"]).detach()
        return ((self.forward_model(phi, batch["action"]) - target) ** 2).mean(-1)

    def compute(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The forward model's mean squared error in feature space per transition: (B,)."""
        _check(batch, self.obs_dim, self.n_actions)
        with torch.no_grad():
            return torch.cat([self.prediction_errors(chunk) for chunk in _chunks(batch, 1024)])

    def _feature_loss(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        kind = self.config.features
        if kind == "vae":
            scaled = self.normalise(batch["obs"])
            mean, log_sd = self.encoder(scaled).split(self.feature_dim, dim=-1)
            log_sd = log_sd.clamp(-10.0, 5.0)
            z = mean + log_sd.exp() * torch.randn(mean.shape, generator=self.generator)
            reconstruction = 0.5 * ((self.decoder(z) - scaled) ** 2).sum(-1)
            kl = 0.5 * (mean**2 + (2 * log_sd).exp() - 1.0 - 2 * log_sd).sum(-1)
            return (reconstruction + kl).mean()
        if kind == "idf":
            pair = torch.cat([self.features(batch["obs"]), self.features(batch["next_obs"])], dim=-1)
            return nn.functional.cross_entropy(self.inverse(pair), batch["action"].argmax(-1))
        return torch.zeros(())

    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """``epochs`` passes of ``minibatches`` steps on forward loss + feature loss; the last step's losses."""
        _check(batch, self.obs_dim, self.n_actions)
        size = batch["obs"].shape[0]
        per = max(1, size // self.config.minibatches)
        losses = {"forward_loss": 0.0, "feature_loss": 0.0}
        fixed = None
        if self.config.features in ("pixels", "random"):
            with torch.no_grad():
                fixed = tuple(
                    torch.cat([self.features(chunk[name]) for chunk in _chunks(batch, 1024)])
                    for name in ("obs", "next_obs")
                )
        for _ in range(self.config.epochs):
            order = torch.randperm(size, generator=self.generator)
            for start in range(0, per * self.config.minibatches, per):
                index = order[start : start + per]
                if len(index) == 0:
                    continue
                part = {name: batch[name][index] for name in ("obs", "action", "next_obs")}
                if fixed is not None:  # a frozen phi: its features once per update, not per minibatch
                    error = self.forward_model(fixed[0][index], part["action"]) - fixed[1][index]
                    forward_loss = (error**2).mean(-1).mean()
                else:
                    forward_loss = self.prediction_errors(part).mean()
                feature_loss = self._feature_loss(part)
                self.optimizer.zero_grad(set_to_none=True)
                (forward_loss + feature_loss).backward()
                self.optimizer.step()
                losses = {
                    "forward_loss": float(forward_loss.detach()),
                    "feature_loss": float(feature_loss.detach()),
                }
        return losses


def _check(batch: Mapping[str, torch.Tensor], obs_dim: int, n_actions: int) -> None:
    missing = [name for name in ("obs", "action", "next_obs") if name not in batch]
    if missing:
        raise InputError("curiosity batch lacks fields", item=missing, expected="obs, action, next_obs")
    if batch["obs"].shape[-1] != obs_dim or batch["next_obs"].shape[-1] != obs_dim:
        raise InputError(
            "curiosity batch has the wrong observation width", item=batch["obs"].shape, expected=obs_dim
        )
    if batch["action"].shape[-1] != n_actions:
        raise InputError(
            "curiosity batch needs one-hot actions", item=batch["action"].shape, expected=n_actions
        )


def _chunks(batch: Mapping[str, torch.Tensor], size: int):
    total = batch["obs"].shape[0]
    for start in range(0, max(total, 1), size):
        yield {name: batch[name][start : start + size] for name in ("obs", "action", "next_obs")}
