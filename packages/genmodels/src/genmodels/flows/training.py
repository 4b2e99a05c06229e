"""`fit_flow`: maximum likelihood of a flow on dequantised images through the shared loop (`genmodels.train`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from core.errors import InputError
from genmodels.config import FlowRunConfig
from genmodels.data import ImageSet
from genmodels.flows.glow import Glow, build_flow
from genmodels.flows.likelihood import bits_per_dim, dequantize
from genmodels.train import run_epochs

__all__ = ["FlowRun", "FlowRunConfig", "evaluate_flow", "fit_flow", "flow_log_likelihood", "load_flow"]


@dataclass
class FlowRun:
    """A trained flow and its per-epoch history."""

    model: Glow
    history: list[dict[str, float]]


@torch.no_grad()
def flow_log_likelihood(
    model: Glow, images: torch.Tensor, seed: int = 0, batch_size: int = 500
) -> dict[str, torch.Tensor]:
    """Per-image terms on one dequantisation draw (seeded): ``log_prob``, ``density``, ``volume`` (nats, of
    the continuous y) and ``bpd`` (bits/dim with the dequantisation correction); each ``(n,)``."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    parts: dict[str, list[torch.Tensor]] = {"log_prob": [], "density": [], "volume": [], "bpd": []}
    for start in range(0, len(images), batch_size):
        y = dequantize(images[start : start + batch_size], model.config.grey_levels, generator)
        terms = model.log_prob(y)
        parts["log_prob"].append(terms.log_prob)
        parts["density"].append(terms.density)
        parts["volume"].append(terms.volume)
        parts["bpd"].append(bits_per_dim(terms.log_prob, model.dims, model.config.grey_levels))
    return {key: torch.cat(value).cpu() for key, value in parts.items()}


def evaluate_flow(model: Glow, images: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Held-out means: ``bpd`` (bits/dim), ``log_prob``, ``density``, ``volume`` (nats per image)."""
    return {key: float(value.mean()) for key, value in flow_log_likelihood(model, images, seed).items()}


def fit_flow(
    data: ImageSet,
    config: FlowRunConfig,
    *,
    test: ImageSet | None = None,
    checkpoint: str | Path | None = None,
    device: torch.device | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> FlowRun:
    """Train the flow `config.model` on `data` (fresh dequantisation noise every step), resuming from `checkpoint`.

    Args:
        data: training images in [0, 1] with ``config.model.grey_levels`` levels, shape ``config.model.image_shape``.
        test: held-out images, evaluated after every epoch (``test_bpd``, ``test_log_prob``, ...).
        checkpoint: ``.safetensors`` file (resume rule: only ``train.epochs`` may differ).

    Raises:
        InputError: images of another shape than the flow's.
    """
    for images in (data, test):
        if images is not None and images.shape != tuple(config.model.image_shape):
            raise InputError(
                "images do not have the flow's shape",
                item=f"{images.source}: {images.shape}",
                expected=f"image_shape {tuple(config.model.image_shape)}",
            )
    device = device or torch.device("cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = build_flow(config.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    generator = torch.Generator().manual_seed(config.train.seed)
    train_images = data.tensor().to(device)
    test_images = test.tensor().to(device) if test is not None else None
    levels = config.model.grey_levels

    def step(index: torch.Tensor, noise: torch.Generator, global_step: int) -> dict[str, float]:
        model.train()
        y = dequantize(train_images[index.to(device)], levels, noise)
        terms = model.log_prob(y)
        loss = -terms.log_prob.mean() / model.dims
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        return {
            "bpd": float(bits_per_dim(terms.log_prob.detach(), model.dims, levels).mean()),
            "grad_norm": float(norm),
        }

    def evaluate() -> dict[str, float]:
        if test_images is None:
            return {}
        return {f"test_{k}": v for k, v in evaluate_flow(model, test_images, seed=config.train.seed).items()}

    history = run_epochs(
        desc=f"flow {config.model.coupling}",
        train=config.train,
        run_config=config,
        run_type=FlowRunConfig,
        size=len(data),
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=generator,
        evaluate=evaluate,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    model.eval()
    return FlowRun(model, history)


def load_flow(checkpoint: str | Path, device: torch.device | None = None) -> tuple[Glow, FlowRunConfig]:
    """The flow saved by `fit_flow` at `checkpoint` (eval mode) and its run config.

    Raises:
        InputError: a missing file or one that is not a flow checkpoint (core's messages).
    """
    from core.checkpoint import load_checkpoint, load_state_into

    saved = load_checkpoint(checkpoint, FlowRunConfig)
    model = build_flow(saved.config.model)
    load_state_into(model, saved.state["model"], source=checkpoint)
    return model.to(device or torch.device("cpu")).eval(), saved.config
