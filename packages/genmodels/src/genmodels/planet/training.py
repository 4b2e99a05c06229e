"""`fit_rssm`: PlaNet's world model trained on fixed sequences through the shared resumable loop.

The data are whole sequences ``observations (n, time, obs_dim)``, ``actions (n, time, action_dim)``
and ``rewards (n, time)`` (PlaNet samples chunks of 50 steps from its replay buffer; cut episodes
into such chunks before calling). Each step minimises `rssm_loss` (latent overshooting with the
config's distance) with Adam (epsilon 1e-4) and the gradient norm clipped to 1000, the paper's
settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from core.errors import InputError
from genmodels.config import RSSMRunConfig
from genmodels.planet.rssm import RSSM, rssm_loss

__all__ = ["RSSMRunConfig", "Transitions", "fit_rssm"]


@dataclass(frozen=True)
class Transitions:
    """Training sequences: ``observations (n, time, obs_dim)``, ``actions (n, time, action_dim)``, ``rewards (n, time)``."""

    observations: Tensor
    actions: Tensor
    rewards: Tensor


def fit_rssm(
    data: Transitions,
    config: RSSMRunConfig,
    *,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[RSSM, list[dict[str, float]]]:
    """Train an RSSM on `data`; resume from `checkpoint` (only ``train.epochs`` may differ).

    Raises:
        InputError: sequences that do not fit ``config.model`` (sizes) or each other (lengths).
    """
    from genmodels.train import run_epochs

    c = config.model
    n, time = data.observations.shape[:2]
    if (
        data.observations.shape[-1] != c.obs_dim
        or data.actions.shape != (n, time, c.action_dim)
        or data.rewards.shape != (n, time)
    ):
        raise InputError(
            "sequences do not fit the RSSM config",
            item=(
                f"observations {tuple(data.observations.shape)}, actions {tuple(data.actions.shape)}, "
                f"rewards {tuple(data.rewards.shape)}"
            ),
            expected=f"obs_dim {c.obs_dim}, action_dim {c.action_dim}, one reward per step",
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = RSSM(c)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate, eps=1e-4)
    generator = torch.Generator().manual_seed(config.train.seed)

    def step(index: Tensor, noise: torch.Generator, global_step: int) -> dict[str, float]:
        terms = rssm_loss(model, data.observations[index], data.actions[index], data.rewards[index], noise)
        optimizer.zero_grad(set_to_none=True)
        terms.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1000.0)
        optimizer.step()
        return {
            "loss": float(terms.loss.detach()),
            "observation_log_likelihood": float(terms.observation_log_likelihood.detach()),
            "reward_log_likelihood": float(terms.reward_log_likelihood.detach()),
            "kl": float(terms.kl.detach()),
        }

    history = run_epochs(
        desc="RSSM",
        train=config.train,
        run_config=config,
        run_type=RSSMRunConfig,
        size=n,
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=generator,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
        drop_last=False,
    )
    return model, history
