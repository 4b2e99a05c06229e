"""`fit_vae`: train a VAE of the family with any objective through the shared loop (`genmodels.train`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from core.errors import InputError
from genmodels.config import VAERunConfig
from genmodels.data import ImageSet
from genmodels.train import run_epochs
from genmodels.vae.bounds import elbo
from genmodels.vae.networks import VAE, build_vae
from genmodels.vae.objectives import Objective

__all__ = ["VAERun", "VAERunConfig", "evaluate_vae", "fit_vae"]


@dataclass
class VAERun:
    """A trained VAE, its objective (GECO's multiplier included) and the per-epoch history."""

    model: VAE
    objective: Objective
    history: list[dict[str, float]]


def evaluate_vae(model: VAE, images: torch.Tensor, seed: int = 0, batch_size: int = 500) -> dict[str, float]:
    """Held-out per-image means: ``elbo`` (one draw, nats), ``kl`` (nats), ``rmse`` (pixel units, at z = mean of q)."""
    generator = torch.Generator().manual_seed(seed)
    totals = {"elbo": 0.0, "kl": 0.0, "squared_error": 0.0}
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size]
            terms = elbo(model, x, generator)
            totals["elbo"] += float(terms.elbo.sum())
            totals["kl"] += float(terms.kl.sum())
            totals["squared_error"] += float((x - model.reconstruct(x)).pow(2).sum())
    n = len(images)
    pixels = math.prod(images.shape[1:])
    return {
        "elbo": totals["elbo"] / n,
        "kl": totals["kl"] / n,
        "rmse": math.sqrt(totals["squared_error"] / (n * pixels)),
    }


def fit_vae(
    data: ImageSet,
    config: VAERunConfig,
    *,
    test: ImageSet | None = None,
    checkpoint: str | Path | None = None,
    device: torch.device | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> VAERun:
    """Train the VAE `config.model` on `data` with `config.objective`, resuming from `checkpoint`.

    Args:
        data: training images; their shape must equal ``config.model.image_shape``.
        test: held-out images evaluated after every epoch (``test_elbo``, ``test_kl``, ``test_rmse``).
        checkpoint: ``.safetensors`` file (resume rule: only ``train.epochs`` may differ).
        on_epoch: called after each epoch's checkpoint (e.g. to log, or to stop a test run).

    Raises:
        InputError: images of another shape than the model's.
    """
    for images in (data, test):
        if images is not None and images.shape != tuple(config.model.image_shape):
            raise InputError(
                "images do not have the model's shape",
                item=f"{images.source}: {images.shape}",
                expected=f"image_shape {tuple(config.model.image_shape)}",
            )
    device = device or torch.device("cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)  # the initial weights, without touching the caller's RNG
        model = build_vae(config.model).to(device)
    objective = Objective(config.objective)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    generator = torch.Generator().manual_seed(config.train.seed)
    train_images = data.tensor().to(device)
    test_images = test.tensor().to(device) if test is not None else None

    def step(index: torch.Tensor, noise: torch.Generator, global_step: int) -> dict[str, float]:
        x = train_images[index.to(device)]
        terms = elbo(model, x, noise if device.type == "cpu" else None)
        loss, metrics = objective(terms, global_step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {
            "loss": float(loss.detach()),
            "elbo": float(terms.elbo.detach().mean()),
            "kl": float(terms.kl.detach().mean()),
            "squared_error": float(terms.squared_error.detach().mean()),
            **metrics,
        }

    def evaluate() -> dict[str, float]:
        if test_images is None:
            return {}
        return {f"test_{k}": v for k, v in evaluate_vae(model, test_images, seed=config.train.seed).items()}

    history = run_epochs(
        desc=f"vae {config.objective.kind}",
        train=config.train,
        run_config=config,
        run_type=VAERunConfig,
        size=len(data),
        step=step,
        stateful={"model": model, "optimizer": optimizer, "objective": objective},
        generator=generator,
        evaluate=evaluate,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return VAERun(model, objective, history)
