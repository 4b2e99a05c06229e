"""The study: a baseline and a confidence network on the same digits, every detector on every OoD set.

1. Train `ConfidenceCNN` twice from the same seeded initialisation with `vision_attention.training.fit`:
   once with plain cross-entropy (the baseline, for max-softmax and ODIN), once with the hints and the
   budget (`loss.confidence_loss`).
2. Split the in-distribution test images and each OoD set into halves: pick each detector's epsilon
   (`OodConfig.epsilons`) by the mean AUROC over the OoD sets on the first half, report AUROC and FPR at
   95% TPR on the second half with that epsilon (ODIN's protocol of tuning on held-out data).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from vision_attention.confidence.config import ConfidenceConfig, OodConfig
from vision_attention.confidence.data import OodData
from vision_attention.confidence.loss import confidence_loss, cross_entropy_loss
from vision_attention.confidence.metrics import auroc, fpr_at_tpr
from vision_attention.confidence.models import ConfidenceCNN
from vision_attention.confidence.scores import detector_scores
from vision_attention.config import TrainConfig
from vision_attention.training import build_model, fit

__all__ = [
    "METHODS",
    "DetectorResult",
    "accuracy",
    "evaluate_detectors",
    "misclassification_auroc",
    "run_study",
    "train_baseline",
    "train_confidence",
]

METHODS = {
    # method name: (which network, detector, perturbed)
    "max-softmax (baseline)": ("baseline", "max-softmax", False),
    "ODIN (baseline)": ("baseline", "odin", True),
    "max-softmax (confidence net)": ("confidence", "max-softmax", False),
    "confidence c": ("confidence", "confidence", False),
    "confidence c + perturbation": ("confidence", "confidence", True),
}


@dataclass(frozen=True)
class DetectorResult:
    """One method on one OoD set (test half): AUROC, FPR at 95% TPR, and the epsilon (and ODIN temperature) chosen on the other half."""

    method: str
    outliers: str
    auroc: float
    fpr95: float
    epsilon: float
    temperature: float


def train_baseline(
    net: ConfidenceConfig, train: TrainConfig, data: OodData, checkpoint: str | Path | None = None
) -> ConfidenceCNN:
    """`ConfidenceCNN` trained with cross-entropy only (its confidence head stays untrained)."""
    model = build_model(lambda: ConfidenceCNN(net), train.seed)

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        return cross_entropy_loss(module, batch, net, train.seed)

    fit(model, loss, [data.train_images, data.train_labels], train, checkpoint=checkpoint, quiet=False)
    return model


def train_confidence(
    net: ConfidenceConfig, train: TrainConfig, data: OodData, checkpoint: str | Path | None = None
) -> ConfidenceCNN:
    """`ConfidenceCNN` trained with hints on ``net.hint_fraction`` of the examples and the budget ``net.budget``."""
    model = build_model(lambda: ConfidenceCNN(net), train.seed)

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        return confidence_loss(module, batch, net, train.seed)

    fit(model, loss, [data.train_images, data.train_labels], train, checkpoint=checkpoint, quiet=False)
    return model


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ``images (n, 1, H, W)`` against ``labels (n,)``."""
    model.eval()
    with torch.no_grad():
        return float((model(images)[0].argmax(1) == labels).float().mean())


def misclassification_auroc(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor
) -> dict[str, float]:
    """AUROC of separating correctly from wrongly classified test images by c and by max-softmax
    (the paper's in-distribution use of c); NaN when every image is classified correctly."""
    model.eval()
    with torch.no_grad():
        logits, confidence = model(images)
    right = (logits.argmax(1) == labels).numpy()
    if right.all():
        return {"wrong": 0, "confidence_auroc": float("nan"), "softmax_auroc": float("nan")}
    softmax = logits.softmax(1).max(1).values.numpy()
    c = confidence.numpy()
    return {
        "wrong": int((~right).sum()),
        "confidence_auroc": auroc(c[right], c[~right]),
        "softmax_auroc": auroc(softmax[right], softmax[~right]),
    }


def evaluate_detectors(
    models: dict[str, torch.nn.Module], data: OodData, ood: OodConfig
) -> list[DetectorResult]:
    """Every method of `METHODS` on every OoD set of `data` (epsilon tuned on the first halves)."""
    halves = {"in": data.test_images.chunk(2)}
    halves.update({name: images.chunk(2) for name, images in data.outliers.items()})
    results = []
    for method, (network, detector, perturbed) in METHODS.items():
        model = models[network]
        epsilons = ood.epsilons if perturbed else (0.0,)
        temperatures = ood.temperatures if detector == "odin" else (1.0,)
        cache: dict[tuple[float, float], dict[str, list[torch.Tensor]]] = {}
        for eps in epsilons:
            for temperature in temperatures:
                cache[(eps, temperature)] = {
                    name: [
                        detector_scores(model, part, detector, epsilon=eps, temperature=temperature)
                        for part in parts
                    ]
                    for name, parts in halves.items()
                }

        def validation(key: tuple[float, float], cache: dict = cache) -> float:
            scores = cache[key]
            return sum(auroc(scores["in"][0], scores[name][0]) for name in data.outliers) / len(data.outliers)

        best = max(cache, key=validation)
        scores = cache[best]
        for name in data.outliers:
            results.append(
                DetectorResult(
                    method=method,
                    outliers=name,
                    auroc=auroc(scores["in"][1], scores[name][1]),
                    fpr95=fpr_at_tpr(scores["in"][1], scores[name][1]),
                    epsilon=best[0],
                    temperature=best[1],
                )
            )
    return results


def run_study(
    data: OodData,
    net: ConfidenceConfig,
    train: TrainConfig,
    ood: OodConfig,
    folder: str | Path | None = None,
) -> tuple[list[DetectorResult], dict[str, float]]:
    """Train both networks (checkpointed under `folder` when given) and evaluate; also returns accuracies,
    the confidence net's final lambda and the training seconds."""
    began = time.perf_counter()
    path = Path(folder) if folder is not None else None
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    baseline = train_baseline(
        net,
        TrainConfig(**{**train.__dict__, "model": "ood-baseline"}),
        data,
        None if path is None else path / "baseline.safetensors",
    )
    confident = train_confidence(
        net,
        TrainConfig(**{**train.__dict__, "model": "ood-confidence"}),
        data,
        None if path is None else path / "confidence.safetensors",
    )
    seconds = time.perf_counter() - began
    info = {
        "baseline_accuracy": accuracy(baseline, data.test_images, data.test_labels),
        "confidence_accuracy": accuracy(confident, data.test_images, data.test_labels),
        "final_lambda": float(confident.lmbda),
        **{
            f"misclassified_{k}": v
            for k, v in misclassification_auroc(confident, data.test_images, data.test_labels).items()
        },
        "train_seconds": seconds,
    }
    return evaluate_detectors({"baseline": baseline, "confidence": confident}, data, ood), info
