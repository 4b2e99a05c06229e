"""M: the MDN-RNN of World Models (Ha & Schmidhuber 2018, sec. 2.2; Graves 2013; Bishop 1994).

An LSTM reads ``[z_t, a_t]`` and outputs, for every dimension of the next latent ``z_{t+1}``, a
mixture of ``gaussians`` 1-d Gaussians (as in the paper's reference code: the dimensions are
independent given h), plus the next reward and the done flag (the heads the dream needs; the paper
predicted "done" for Doom). Sampling at temperature tau divides the mixture logits by tau and
multiplies the variances by tau (the reference code's rule), so tau > 1 makes the dream noisier.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from core.errors import InputError
from genmodels.config import MDNRNNConfig, MemoryRunConfig

__all__ = ["MDNRNN", "MDNOutput", "MDNRNNConfig", "mdn_nll", "sample_mdn"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class MDNOutput:
    """Per step: ``logits``, ``means``, ``log_stds`` ``(..., latent, gaussians)``; ``reward``, ``done_logit`` ``(...)``."""

    logits: Tensor
    means: Tensor
    log_stds: Tensor
    reward: Tensor
    done_logit: Tensor


def mdn_nll(output: MDNOutput, target: Tensor) -> Tensor:
    """``-log p(target)`` under the per-dimension mixtures, summed over the latent axis; ``(...)``, nats.

    ``p(z) = prod_d sum_k pi_dk N(z_d; mu_dk, sigma_dk^2)`` with ``pi = softmax(logits)``.
    """
    z = target.unsqueeze(-1)
    log_normal = -0.5 * ((z - output.means) / output.log_stds.exp()) ** 2 - output.log_stds - _LOG_SQRT_2PI
    log_mix = torch.logsumexp(F.log_softmax(output.logits, -1) + log_normal, -1)
    return -log_mix.sum(-1)


def sample_mdn(output: MDNOutput, temperature: float, generator: torch.Generator | None = None) -> Tensor:
    """One draw of z ``(..., latent)`` at temperature tau (logits / tau, variances * tau)."""
    if not temperature > 0:
        raise InputError("temperature must be > 0", item=temperature)
    probs = F.softmax(output.logits / temperature, -1)
    flat = probs.reshape(-1, probs.shape[-1])
    component = torch.multinomial(flat, 1, generator=generator).reshape(*probs.shape[:-1], 1)
    mean = output.means.gather(-1, component).squeeze(-1)
    std = output.log_stds.gather(-1, component).squeeze(-1).exp() * math.sqrt(temperature)
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + std * noise


class MDNRNN(nn.Module):
    """LSTM over ``[z, a]`` with mixture-density, reward and done heads.

    Shapes: ``z (batch, time, latent)``, ``actions (batch, time, action)``; outputs per step.
    """

    def __init__(self, config: MDNRNNConfig) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(config.latent_dim + config.action_dim, config.hidden, batch_first=True)
        per_dim = config.latent_dim * config.gaussians
        self.head = nn.Linear(config.hidden, 3 * per_dim + 2)

    def forward(
        self, z: Tensor, actions: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[MDNOutput, tuple[Tensor, Tensor], Tensor]:
        """Returns ``(mixture of z_{t+1} for each t, final (h, c), hidden h_t for each t)``.

        Raises:
            InputError: `z` or `actions` of the wrong trailing size or mismatched lengths.
        """
        c = self.config
        if z.dim() != 3 or z.shape[-1] != c.latent_dim or actions.shape != (*z.shape[:2], c.action_dim):
            raise InputError(
                "MDN-RNN input shapes do not fit",
                item=f"z {tuple(z.shape)}, actions {tuple(actions.shape)}",
                expected=f"(batch, time, {c.latent_dim}) and (batch, time, {c.action_dim})",
            )
        hidden, state = self.lstm(torch.cat([z, actions], -1), state)
        return self.heads(hidden), state, hidden

    def heads(self, hidden: Tensor) -> MDNOutput:
        """The mixture, reward and done predictions from hidden states ``(..., hidden)``."""
        c = self.config
        out = self.head(hidden)
        per_dim = c.latent_dim * c.gaussians
        shape = (*hidden.shape[:-1], c.latent_dim, c.gaussians)
        logits, means, log_stds = (out[..., i * per_dim : (i + 1) * per_dim].reshape(shape) for i in range(3))
        return MDNOutput(logits, means, log_stds.clamp(-7.0, 3.0), out[..., -2], out[..., -1])


@dataclass(frozen=True)
class Sequences:
    """M's training windows: ``mean``/``log_var`` of V's q(z|x) ``(n, L + 1, latent)``, ``actions``
    ``(n, L, action)``, ``rewards`` and ``done`` ``(n, L)``."""

    mean: Tensor
    log_var: Tensor
    actions: Tensor
    rewards: Tensor
    done: Tensor


def memory_loss(
    model: MDNRNN, batch: Sequences, generator: torch.Generator | None
) -> tuple[Tensor, dict[str, float]]:
    """Mixture NLL of z_{t+1} (z drawn from V's q, as in the reference code) + reward MSE + done BCE, per step."""
    noise = torch.randn(batch.mean.shape, generator=generator, dtype=batch.mean.dtype)
    z = batch.mean + (0.5 * batch.log_var).exp() * noise
    output, _, _ = model(z[:, :-1], batch.actions)
    nll = mdn_nll(output, z[:, 1:]).mean() / model.config.latent_dim
    reward = F.mse_loss(output.reward, batch.rewards)
    done = F.binary_cross_entropy_with_logits(output.done_logit, batch.done)
    loss = nll + model.config.reward_weight * reward + model.config.done_weight * done
    return loss, {
        "nll_per_dim": float(nll.detach()),
        "reward_mse": float(reward.detach()),
        "done_bce": float(done.detach()),
    }


def fit_memory(
    sequences: Sequences,
    config: MemoryRunConfig,
    *,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[MDNRNN, list[dict[str, float]]]:
    """Train M on `sequences` through the shared resumable loop (`genmodels.train.run_epochs`)."""
    from genmodels.train import run_epochs

    if (
        sequences.mean.shape[-1] != config.model.latent_dim
        or sequences.actions.shape[-1] != config.model.action_dim
    ):
        raise InputError(
            "sequences do not fit the MDN-RNN config",
            item=f"latent {sequences.mean.shape[-1]}, action {sequences.actions.shape[-1]}",
            expected=f"latent {config.model.latent_dim}, action {config.model.action_dim}",
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = MDNRNN(config.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    generator = torch.Generator().manual_seed(config.train.seed)

    def step(index: Tensor, noise: torch.Generator, global_step: int) -> dict[str, float]:
        batch = Sequences(
            *(getattr(sequences, name)[index] for name in ("mean", "log_var", "actions", "rewards", "done"))
        )
        loss, metrics = memory_loss(model, batch, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return {"loss": float(loss.detach()), **metrics}

    history = run_epochs(
        desc="memory (MDN-RNN)",
        train=config.train,
        run_config=config,
        run_type=MemoryRunConfig,
        size=len(sequences.mean),
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=generator,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
        drop_last=False,
    )
    return model, history
