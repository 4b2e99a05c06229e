"""The study: train a classifier and an in-painter on cluttered canvases, explain test canvases with FIDO.

1. `train_classifier`: `CanvasCNN` on the training canvases (cross-entropy, `vision_attention.training.fit`).
2. `train_inpainter`: `Inpainter` on the same canvases with random masks (`random_keep_masks`), L1 loss
   weighted ``hole_weight`` on the dropped pixels. Neither network ever sees an in-filled image.
3. `explain_all`: for every objective (SSR, SDR) and in-fill (mean, blur, noise, generative), FIDO masks of
   the first correctly classified test canvases for their true class, scored by `mass_in_box`, `pointing`
   and `saliency_metric` against the digit's box, with the mask's size and the class probability under the
   hard mask. Each run's maps are checkpointed under `folder` (a finished run is loaded, not redone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from core.checkpoint import load_checkpoint, save_checkpoint
from vision_attention.config import TrainConfig
from vision_attention.infill.config import INFILLS, OBJECTIVES, FidoConfig, InpainterConfig
from vision_attention.infill.data import Canvases, box_masks
from vision_attention.infill.fido import FidoResult, explain, hard_probability
from vision_attention.infill.infills import make_infill
from vision_attention.infill.metrics import mass_in_box, pointing, saliency_metric
from vision_attention.infill.models import CanvasCNN, Inpainter
from vision_attention.training import build_model, fit

__all__ = [
    "ExplanationScores",
    "accuracy",
    "box_share",
    "explain_all",
    "inpainting_error",
    "random_keep_masks",
    "score_maps",
    "train_classifier",
    "train_inpainter",
]


def train_classifier(
    data: Canvases,
    train: TrainConfig,
    width: int = 16,
    checkpoint: str | Path | None = None,
    quiet: bool = True,
) -> CanvasCNN:
    """`CanvasCNN` (`width`) trained with cross-entropy on ``data``."""
    model = build_model(lambda: CanvasCNN(width), train.seed)

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(module(batch[0]), batch[1])

    fit(model, loss, [data.images, data.labels], train, checkpoint=checkpoint, quiet=quiet)
    return model


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on ``images (n, 1, S, S)``."""
    model.eval()
    with torch.no_grad():
        return float((model(images).argmax(1) == labels).float().mean())


def random_keep_masks(count: int, side: int, generator: torch.Generator) -> torch.Tensor:
    """``(count, 1, side, side)`` float {0, 1} keep masks for training the in-painter, a third of each kind:
    one to three dropped rectangles (sides 4 to ``side / 2`` px), coarse blobs (an 8x8 Bernoulli field with a
    rate in (0.1, 0.9), upsampled), and single pixels dropped at a rate in (0.1, 0.9)."""
    keep = torch.ones(count, 1, side, side)
    kinds = torch.randint(3, (count,), generator=generator)
    rates = 0.1 + 0.8 * torch.rand(count, generator=generator)
    coarse = (torch.rand(count, 1, 8, 8, generator=generator) > rates.view(-1, 1, 1, 1)).float()
    coarse = F.interpolate(coarse, size=(side, side), mode="nearest")
    fine = (torch.rand(count, 1, side, side, generator=generator) > rates.view(-1, 1, 1, 1)).float()
    boxes = torch.randint(4, side // 2 + 1, (count, 3, 2), generator=generator)
    corners = (torch.rand(count, 3, 2, generator=generator) * (side - boxes + 1)).long()
    holes = torch.randint(1, 4, (count,), generator=generator)
    for k in range(count):
        if kinds[k] == 0:
            for h in range(int(holes[k])):
                (r, c), (height, width) = corners[k, h].tolist(), boxes[k, h].tolist()
                keep[k, :, r : r + height, c : c + width] = 0
        else:
            keep[k] = coarse[k] if kinds[k] == 1 else fine[k]
    return keep


def train_inpainter(
    data: Canvases,
    config: InpainterConfig,
    train: TrainConfig,
    checkpoint: str | Path | None = None,
    quiet: bool = True,
) -> Inpainter:
    """`Inpainter` trained on ``data.images`` with `random_keep_masks`, L1 loss (dropped pixels weighted
    ``config.hole_weight``). A batch's masks are drawn from a generator seeded by the batch's row numbers, so
    a resumed run is bit-identical to an uninterrupted one."""
    model = build_model(lambda: Inpainter(config), train.seed)
    rows = torch.arange(len(data), dtype=torch.long)

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        images, index = batch
        seed = int((index * 1_000_003 + train.seed).sum() % (2**31))
        keep = random_keep_masks(len(images), images.shape[-1], torch.Generator().manual_seed(seed))
        error = (module(images, keep) - images).abs()
        weight = keep + config.hole_weight * (1 - keep)
        return (weight * error).mean()

    fit(model, loss, [data.images, rows], train, checkpoint=checkpoint, quiet=quiet)
    return model


def inpainting_error(model: Inpainter, data: Canvases, seed: int = 0) -> dict[str, float]:
    """Mean absolute error on the dropped pixels of `random_keep_masks`: the in-painter's and the mean / blur
    in-fills' (how far each in-fill is from the true pixels)."""
    keep = random_keep_masks(len(data), data.images.shape[-1], torch.Generator().manual_seed(seed))
    holes = 1 - keep
    fills = {
        "generative": make_infill("generative", inpainter=model),
        "mean": make_infill("mean", mean=float(data.images.mean())),
        "blur": make_infill("blur"),
    }
    out = {}
    with torch.no_grad():
        for name, fill in fills.items():
            error = (fill(data.images, keep, None) - data.images).abs()
            out[name] = float((error * holes).sum() / holes.sum())
    return out


@dataclass(frozen=True)
class ExplanationScores:
    """Per-image scores of one (objective, in-fill) run, each ``(n,)``."""

    mass_in_box: torch.Tensor
    pointing: torch.Tensor
    saliency_metric: torch.Tensor
    mask_area: torch.Tensor
    hard_area: torch.Tensor
    hard_probability: torch.Tensor
    generative_probability: torch.Tensor


def score_maps(
    classifier: torch.nn.Module,
    infill,
    images: torch.Tensor,
    labels: torch.Tensor,
    boxes: torch.Tensor,
    theta: torch.Tensor,
    objective: str,
    seed: int = 0,
    reference=None,
) -> ExplanationScores:
    """`ExplanationScores` of FIDO maps ``theta (n, 1, S, S)`` against the digits' ``boxes (n, 4)``;
    ``generative_probability``: p(c) under the hard mask with the `reference` in-fill (the generative one:
    whether the region still works when what is filled in looks like the data), NaN when not given."""
    generator = torch.Generator().manual_seed(seed + 1)
    if reference is None:
        under_reference = torch.full((len(images),), float("nan"))
    else:
        under_reference = hard_probability(classifier, reference, images, labels, theta, objective, generator)
    return ExplanationScores(
        mass_in_box=mass_in_box(theta, boxes),
        pointing=pointing(theta, boxes),
        saliency_metric=saliency_metric(classifier, images, labels, theta),
        mask_area=theta.flatten(1).mean(1),
        hard_area=(theta > 0.5).float().flatten(1).mean(1),
        hard_probability=hard_probability(classifier, infill, images, labels, theta, objective, generator),
        generative_probability=under_reference,
    )


def explain_all(
    classifier: torch.nn.Module,
    inpainter: Inpainter,
    test: Canvases,
    count: int,
    fido: FidoConfig,
    *,
    mean: float,
    objectives: Sequence[str] = OBJECTIVES,
    infills: Sequence[str] = INFILLS,
    folder: str | Path | None = None,
    quiet: bool = True,
) -> tuple[dict[tuple[str, str], tuple[FidoResult, ExplanationScores]], torch.Tensor]:
    """FIDO maps of the first `count` correctly classified test canvases for every objective and in-fill
    (`fido` with those two fields replaced). Returns the runs by ``(objective, infill)`` and the rows used."""
    classifier.eval()
    with torch.no_grad():
        right = torch.nonzero(classifier(test.images).argmax(1) == test.labels)[:, 0]
    rows = right[:count]
    images, labels, boxes = test.images[rows], test.labels[rows], test.boxes[rows]
    path = Path(folder) if folder is not None else None
    runs = {}
    reference = make_infill("generative", inpainter=inpainter)
    for objective in objectives:
        for name in infills:
            config = FidoConfig(**{**fido.__dict__, "objective": objective, "infill": name})
            infill = make_infill(name, mean=mean, blur_sigma=config.blur_sigma, inpainter=inpainter)
            target = None if path is None else path / f"{objective}-{name}-{len(rows)}.safetensors"
            if target is not None and target.exists():
                saved = load_checkpoint(target, FidoConfig, resume=config)
                result = FidoResult(saved.state["theta"], saved.extra["losses"], saved.extra["seconds"])
            else:
                result = explain(classifier, infill, images, labels, config, quiet=quiet)
                if target is not None:
                    save_checkpoint(
                        target,
                        {"theta": result.theta, "rows": rows},
                        config,
                        extra={"losses": result.losses, "seconds": result.seconds},
                    )
            scores = score_maps(
                classifier, infill, images, labels, boxes, result.theta, objective, config.seed, reference
            )
            runs[(objective, name)] = (result, scores)
    return runs, rows


def box_share(boxes: torch.Tensor, side: int) -> float:
    """Mean area share of the boxes: what a uniform map scores in `mass_in_box`."""
    return float(box_masks(boxes, side).float().mean())
