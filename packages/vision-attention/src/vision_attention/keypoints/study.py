"""The KeypointNet study: relative pose from unsupervised vs supervised keypoints, on held-out objects.

Per category: KeypointNet trains on view pairs with the four losses (no keypoint labels); the supervised
baseline, the same network with 8 heads, regresses the 8 annotated keypoints. Both estimate the relative
rotation of two views of a held-out object by orthogonal Procrustes on their 3-D keypoints; the error is the
geodesic angle to the true ``R_AB``. The trivial baselines predict the identity or the mean training rotation.
Training goes through `vision_attention.training.fit` (checkpointed, resumable, bit-identical).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from core.errors import InputError
from vision_attention.config import TrainConfig
from vision_attention.keypoints.config import KeypointConfig, ViewConfig
from vision_attention.keypoints.geometry import angular_distance, procrustes, rotation_mean
from vision_attention.keypoints.loss import keypointnet_loss, supervised_loss
from vision_attention.keypoints.models import KeypointNet, Keypoints
from vision_attention.keypoints.render import ViewPairs
from vision_attention.training import build_model, fit

__all__ = [
    "METHODS",
    "baseline_errors",
    "error_summary",
    "mean_rotation",
    "pose_errors",
    "predict",
    "train_keypoints",
]

METHODS = ("keypointnet", "supervised")
SUPERVISED_KEYPOINTS = 8


def train_keypoints(
    method: str,
    pairs: ViewPairs,
    view: ViewConfig,
    config: KeypointConfig,
    train: TrainConfig,
    *,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    quiet: bool = True,
) -> tuple[KeypointNet, list[dict]]:
    """Train KeypointNet (``method="keypointnet"``) or the supervised baseline (``"supervised"``, 8 heads) on
    `pairs`; the model (eval mode) and the per-epoch history (loss, and for KeypointNet each term).

    Raises:
        InputError: unknown method.
    """
    if method not in METHODS:
        raise InputError("unknown keypoint method", item=method, expected=str(METHODS))
    if method == "supervised":
        config = replace(config, keypoints=SUPERVISED_KEYPOINTS)
    model = build_model(lambda: KeypointNet(config, focal=view.focal, distance=view.distance), train.seed).to(
        device
    )
    terms: dict[str, list[float]] = {}

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        if method == "supervised":
            return supervised_loss(module, batch)
        total, parts = keypointnet_loss(module, batch, config)
        for name, value in parts.items():
            terms.setdefault(name, []).append(float(value.detach()))
        return total

    def evaluate(module: torch.nn.Module) -> dict[str, float]:
        row = {name: float(np.mean(values)) for name, values in terms.items()}
        terms.clear()
        return row

    history = fit(model, loss, pairs.tensors(), train, evaluate=evaluate, checkpoint=checkpoint, quiet=quiet)
    return model, history


def predict(model: KeypointNet, images: torch.Tensor, batch_size: int = 256) -> Keypoints:
    """The model's keypoints for `images` ``(n, 3, S, S)`` (eval mode, no gradients)."""
    model.eval()
    device = next(model.parameters()).device
    parts = []
    with torch.no_grad():
        for chunk in images.split(batch_size):
            parts.append(model(chunk.to(device)))
    return Keypoints(
        *(torch.cat([getattr(p, f).cpu() for p in parts]) for f in ("uv", "z", "probabilities", "xyz"))
    )


def pose_errors(model: KeypointNet, pairs: ViewPairs) -> np.ndarray:
    """Degrees between Procrustes on the predicted 3-D keypoints of each pair's two views and ``R_AB``, ``(n,)``."""
    a, b = predict(model, pairs.images_a), predict(model, pairs.images_b)
    estimate = procrustes(a.xyz.double(), b.xyz.double())
    return np.degrees(angular_distance(estimate, pairs.rotation_ab.double()).numpy())


def baseline_errors(pairs: ViewPairs, rotation: torch.Tensor) -> np.ndarray:
    """Degrees between one fixed rotation ``(3, 3)`` (identity, or `geometry.rotation_mean` of the training
    pairs) and each pair's ``R_AB``, ``(n,)``."""
    target = pairs.rotation_ab.double()
    return np.degrees(angular_distance(rotation.double().expand_as(target), target).numpy())


def mean_rotation(pairs: ViewPairs) -> torch.Tensor:
    """The mean-pose baseline's rotation: the chordal mean of the training pairs' ``R_AB``."""
    return rotation_mean(pairs.rotation_ab.double())


def error_summary(errors: np.ndarray) -> dict[str, float]:
    """Mean and median angular error (degrees) and the fractions under 15 and 30 degrees."""
    return {
        "mean_deg": round(float(np.mean(errors)), 2),
        "median_deg": round(float(np.median(errors)), 2),
        "under_15deg": round(float(np.mean(errors < 15)), 3),
        "under_30deg": round(float(np.mean(errors < 30)), 3),
    }


def run_category(
    category: str,
    *,
    train_pairs: int,
    test_pairs: int,
    view: ViewConfig,
    config: KeypointConfig,
    train: TrainConfig,
    supervised_train: TrainConfig,
    seed: int,
    folder: str | Path | None = None,
    device: str | torch.device = "cpu",
    quiet: bool = True,
) -> dict:
    """One category of the study: train both models on `train_pairs` pairs (objects from `seed`), score them and
    the trivial baselines on `test_pairs` pairs of held-out objects (``seed + 1000``).

    Returns:
        ``{"errors": {method: (n,) degrees}, "models": {method: KeypointNet}, "history": {method: rows},
        "test": ViewPairs, "seconds": {method: training seconds}}``; methods ``keypointnet``, ``supervised``,
        ``identity``, ``mean pose``.
    """
    from vision_attention.keypoints.render import make_pairs

    training = make_pairs(category, train_pairs, view, seed=seed)
    test = make_pairs(category, test_pairs, view, seed=seed + 1000)
    errors, models, history, seconds = {}, {}, {}, {}
    for method, optimisation in (("keypointnet", train), ("supervised", supervised_train)):
        checkpoint = None
        if folder is not None:
            Path(folder).mkdir(parents=True, exist_ok=True)
            checkpoint = Path(folder) / f"{category}-{method}-seed{seed}.safetensors"
        optimisation = replace(optimisation, model=f"keypoints-{category}-{method}", seed=seed)
        model, rows = train_keypoints(
            method, training, view, config, optimisation, checkpoint=checkpoint, device=device, quiet=quiet
        )
        errors[method], models[method], history[method] = pose_errors(model, test), model, rows
        seconds[method] = rows[-1]["seconds"] if rows else 0.0
    errors["identity"] = baseline_errors(test, torch.eye(3))
    errors["mean pose"] = baseline_errors(test, mean_rotation(training))
    return {"errors": errors, "models": models, "history": history, "test": test, "seconds": seconds}
