"""TD-VAE: temporal-difference variational auto-encoder (Gregor, Papamakarios, Besse, Buesing & Weber 2019).

A belief network b_t = LSTM(x_1 .. x_t) summarises the past. For a pair of times t1 < t2 (t2 - t1
drawn from ``[min_jump, max_jump]``) the loss of one sequence is (the paper's eq. 8, one sample):

    z2 ~ p_B(z | b_t2)                               (the belief at t2 acts as the posterior of z_t2)
    z1 ~ q_S(z | z2, b_t1, b_t2)                     (smoothing: z_t1 inferred from the future)
    loss = - log p_D(x_t2 | z2)                      (decode the observation at t2)
           + KL( q_S(z1 | z2, b_t1, b_t2) || p_B(z1 | b_t1) )     (closed form)
           + log p_B(z2 | b_t2) - log p_T(z2 | z1, t2 - t1)        (one-sample KL of belief vs jump)

p_T is a jumpy transition told the jump length (scaled by ``max_jump``), with a residual mean
(``z1 + f(z1, dt)``), so one model predicts any distance in the training range at once; longer
horizons chain jumps. Rollouts: z_t ~ p_B(z | b_t) at the last observed step, then jumps through
p_T, each state decoded by p_D. All randomness comes from an explicit CPU `torch.Generator`.
Frames (``TDVAEConfig.frame``): a convolutional encoder feeds the belief LSTM and p_D is a
transposed-convolution decoder; both pad circularly along the width (moving digits wrap there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from core.errors import InputError
from genmodels.config import TDVAEConfig, TDVAERunConfig
from genmodels.distributions import (
    GaussianHead,
    gaussian_kl_between,
    gaussian_log_density,
    reparameterise,
)

__all__ = [
    "TDVAE",
    "FrameDecoder",
    "FrameEncoder",
    "TDVAEConfig",
    "TDVAERunConfig",
    "TDVAETerms",
    "fit_tdvae",
    "jump_schedule",
    "predict",
    "tdvae_loss",
]


def _frame_conv(inputs: int, outputs: int) -> nn.Module:
    """A 3 x 3 convolution that pads circularly along the width and with zeros along the height."""

    class _Conv(nn.Conv2d):
        def forward(self, x: Tensor) -> Tensor:
            x = nn.functional.pad(x, (1, 1, 0, 0), mode="circular")
            return super().forward(nn.functional.pad(x, (0, 0, 1, 1)))

    return _Conv(inputs, outputs, 3)


class FrameEncoder(nn.Module):
    """``(n, height * width) -> (n, out)``: conv 3x3 (c), conv 4x4 stride 2 (2c), a dense ReLU layer.

    The stride-2 convolution pads like `_frame_conv` (circular width, zero height).
    """

    def __init__(self, frame: tuple[int, int], channels: int, out: int) -> None:
        super().__init__()
        self.frame, self.channels = frame, channels
        self.first = _frame_conv(1, channels)
        self.down = nn.Conv2d(channels, 2 * channels, 4, stride=2)
        self.dense = nn.Linear(2 * channels * (frame[0] // 2) * (frame[1] // 2), out)

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape[:-1]
        h = nn.functional.relu(self.first(x.reshape(-1, 1, *self.frame)))
        h = nn.functional.pad(nn.functional.pad(h, (1, 2, 0, 0), mode="circular"), (0, 0, 1, 2))
        h = nn.functional.relu(self.down(h))
        return nn.functional.relu(self.dense(h.flatten(1))).reshape(*shape, -1)


class FrameDecoder(nn.Module):
    """``(n, latent) -> (n, height * width)`` logits/means: dense layers to a half-size map, a 2x upsampling
    transposed convolution (c), a 3x3 convolution to one channel (circular width)."""

    def __init__(self, latent: int, frame: tuple[int, int], channels: int, hidden: int) -> None:
        super().__init__()
        self.frame, self.channels = frame, channels
        self.half = (2 * channels, frame[0] // 2, frame[1] // 2)
        self.dense = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, self.half[0] * self.half[1] * self.half[2]),
            nn.ReLU(),
        )
        self.up = nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1)
        self.last = _frame_conv(channels, 1)

    def forward(self, z: Tensor) -> Tensor:
        shape = z.shape[:-1]
        h = self.dense(z).reshape(-1, *self.half)
        h = nn.functional.relu(self.up(h))
        return self.last(h).reshape(*shape, self.frame[0] * self.frame[1])


class TDVAE(nn.Module):
    """The four distributions of TD-VAE and the belief LSTM (sizes from `TDVAEConfig`).

    Shapes: sequences ``x (batch, time, obs_dim)``; beliefs ``(batch, time, belief_dim)``;
    states ``(batch, latent_dim)``.
    """

    def __init__(self, config: TDVAEConfig) -> None:
        super().__init__()
        self.config = c = config
        if c.frame is None:
            self.embed: nn.Module = nn.Sequential(nn.Linear(c.obs_dim, c.hidden), nn.ReLU())
            self.decoder: nn.Module = nn.Sequential(
                nn.Linear(c.latent_dim, c.hidden), nn.ReLU(), nn.Linear(c.hidden, c.obs_dim)
            )
        else:
            self.embed = FrameEncoder(c.frame, c.channels, c.hidden)
            self.decoder = FrameDecoder(c.latent_dim, c.frame, c.channels, c.hidden)
        self.belief = nn.LSTM(c.hidden, c.belief_dim, batch_first=True)
        self.p_b = GaussianHead(c.belief_dim, c.latent_dim, c.hidden)
        self.q_s = GaussianHead(2 * c.belief_dim + c.latent_dim, c.latent_dim, c.hidden)
        self.p_t = GaussianHead(c.latent_dim + 1, c.latent_dim, c.hidden)

    def beliefs(self, x: Tensor) -> Tensor:
        """``b_t`` after each observation: ``(batch, time, belief_dim)``.

        Raises:
            InputError: `x` is not ``(batch, time, obs_dim)``.
        """
        if x.dim() != 3 or x.shape[-1] != self.config.obs_dim:
            raise InputError(
                "TD-VAE sequences must be (batch, time, obs_dim)",
                item=f"shape {tuple(x.shape)}",
                expected=f"obs_dim {self.config.obs_dim}",
            )
        return self.belief(self.embed(x))[0]

    def transition(self, z: Tensor, jump: Tensor | float) -> tuple[Tensor, Tensor]:
        """p_T(z' | z, jump): mean and log-variance ``(batch, latent_dim)``; `jump` in steps."""
        dt = torch.as_tensor(jump, dtype=z.dtype, device=z.device).expand(z.shape[:-1]).unsqueeze(-1)
        mean, log_var = self.p_t(torch.cat([z, dt / self.config.max_jump], -1))
        return z + mean, log_var

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p_D(x | z) summed over the observation: ``(batch,)``."""
        output = self.decoder(z)
        if self.config.likelihood == "bernoulli":
            return -nn.functional.binary_cross_entropy_with_logits(output, x, reduction="none").sum(-1)
        sigma = torch.full_like(output, self.config.sigma)
        return gaussian_log_density(x, output, 2 * sigma.log())

    def decode_mean(self, z: Tensor) -> Tensor:
        """The expected observation under p_D(x | z): ``(batch, obs_dim)``."""
        output = self.decoder(z)
        return torch.sigmoid(output) if self.config.likelihood == "bernoulli" else output


@dataclass(frozen=True)
class TDVAETerms:
    """Per-sequence terms of one TD-VAE loss draw (each ``(batch,)``, nats)."""

    loss: Tensor
    reconstruction: Tensor
    smoothing_kl: Tensor
    transition_kl: Tensor


def tdvae_loss(model: TDVAE, x: Tensor, generator: torch.Generator | None, pairs: int = 1) -> TDVAETerms:
    """`pairs` draws of the TD-VAE loss per sequence of ``x (batch, time, obs_dim)`` (module docstring).

    The beliefs are computed once; for each draw the jump t2 - t1 is uniform in
    ``[min_jump, min(max_jump, time - 1)]`` and t1 uniform in the times that leave room for it,
    drawn from `generator`.

    Returns:
        Terms of shape ``(pairs * batch,)`` (draw-major).

    Raises:
        InputError: sequences shorter than ``min_jump + 1`` steps.
    """
    c = model.config
    batch, time = x.shape[0], x.shape[1]
    longest = min(c.max_jump, time - 1)
    if longest < c.min_jump:
        raise InputError(
            "sequences too short for the jumps", item=f"{time} steps", expected=f">= {c.min_jump + 1}"
        )
    beliefs = model.beliefs(x)
    count = pairs * batch
    jump = torch.randint(c.min_jump, longest + 1, (count,), generator=generator)
    t1 = (torch.rand(count, generator=generator) * (time - jump)).long()
    t2 = t1 + jump
    rows = torch.arange(batch).repeat(pairs)
    rows, jump, t1, t2 = (v.to(x.device) for v in (rows, jump, t1, t2))
    b1, b2 = beliefs[rows, t1], beliefs[rows, t2]
    mean2, log_var2 = model.p_b(b2)
    z2 = reparameterise(mean2, log_var2, generator)
    mean_s, log_var_s = model.q_s(torch.cat([z2, b1, b2], -1))
    z1 = reparameterise(mean_s, log_var_s, generator)
    mean1, log_var1 = model.p_b(b1)
    smoothing = gaussian_kl_between(mean_s, log_var_s, mean1, log_var1)
    mean_t, log_var_t = model.transition(z1, jump.to(x.dtype))
    transition = gaussian_log_density(z2, mean2, log_var2) - gaussian_log_density(z2, mean_t, log_var_t)
    reconstruction = model.log_likelihood(x[rows, t2], z2)
    return TDVAETerms(-reconstruction + smoothing + transition, reconstruction, smoothing, transition)


def jump_schedule(horizon: int, max_jump: int) -> list[int]:
    """Jumps that reach `horizon` steps ahead with as few jumps as possible (each at most `max_jump`)."""
    if horizon < 1 or max_jump < 1:
        raise InputError("horizon and max_jump must be >= 1", item=(horizon, max_jump))
    return [max_jump] * (horizon // max_jump) + ([horizon % max_jump] if horizon % max_jump else [])


@torch.no_grad()
def predict(
    model: TDVAE,
    context: Tensor,
    jumps: Sequence[int],
    *,
    samples: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Mean predicted observation after the jumps (sum of `jumps` steps past the context's last step).

    z ~ p_B(z | b_T) at the context's last step, then z ~ p_T(z | z, jump) for each jump; the
    prediction is the decoder mean averaged over `samples` such rollouts.

    Args:
        context: ``(batch, time, obs_dim)`` observed steps.
        jumps: jump lengths in steps (e.g. ``[1] * h`` step by step, or ``jump_schedule(h, D)``).

    Returns:
        ``(batch, obs_dim)``.
    """
    belief = model.beliefs(context)[:, -1]
    belief = belief.repeat_interleave(samples, 0)
    z = reparameterise(*model.p_b(belief), generator)
    for jump in jumps:
        z = reparameterise(*model.transition(z, float(jump)), generator)
    return model.decode_mean(z).reshape(context.shape[0], samples, -1).mean(1)


def fit_tdvae(
    sequences: Tensor,
    config: TDVAERunConfig,
    *,
    checkpoint: str | Path | None = None,
    device: torch.device | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[TDVAE, list[dict[str, float]]]:
    """Train a TD-VAE on ``sequences (n, time, obs_dim)`` through the shared resumable loop.

    Each step averages ``config.pairs`` independent (t1, t2) draws per sequence (one belief pass).

    Raises:
        InputError: sequences of another observation size than ``config.model.obs_dim``.
    """
    from genmodels.train import run_epochs

    if sequences.dim() != 3 or sequences.shape[-1] != config.model.obs_dim:
        raise InputError(
            "sequences do not fit the TD-VAE config",
            item=f"shape {tuple(sequences.shape)}",
            expected=f"(n, time, {config.model.obs_dim})",
        )
    device = device or torch.device("cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = TDVAE(config.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    generator = torch.Generator().manual_seed(config.train.seed)
    data = sequences.to(device=device, dtype=torch.float32)

    def step(index: Tensor, noise: torch.Generator, global_step: int) -> dict[str, float]:
        x = data[index.to(device)]
        terms = tdvae_loss(model, x, noise, config.pairs)
        loss = terms.loss.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        return {
            "loss": float(loss.detach()),
            **{
                name: float(getattr(terms, name).detach().mean())
                for name in ("reconstruction", "smoothing_kl", "transition_kl")
            },
        }

    history = run_epochs(
        desc="TD-VAE",
        train=config.train,
        run_config=config,
        run_type=TDVAERunConfig,
        size=len(data),
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=generator,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return model, history
