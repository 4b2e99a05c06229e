"""The BSN pipeline end to end and the sliding-window baseline, scored by AR@AN and AUC.

1. Train `TEM` on the training videos (`tem_targets`, `tem_loss`) with `vision_attention.training.fit`.
2. Per video: starting / ending candidates from the TEM curves (`generate_proposals`), BSP features of the
   actionness curve (`bsp_features`).
3. Train `PEM` on the training videos' proposals (targets: best tIoU with the ground truth; 1 positive with
   tIoU > ``positive_iou`` : 2 negatives, sampled once with the seed).
4. Score ``p_f = p_conf * p_s(t_s) * p_e(t_e)``, Gaussian Soft-NMS, keep ``config.proposals`` per video.

The baseline: multi-scale sliding windows scored by the mean TEM actionness inside, through the same Soft-NMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vision_attention.bsn.config import BSNConfig
from vision_attention.bsn.data import Video
from vision_attention.bsn.metrics import ar_at_an, auc, temporal_iou
from vision_attention.bsn.models import PEM, TEM, tem_loss, tem_targets
from vision_attention.bsn.proposals import bsp_features, generate_proposals, sliding_windows, soft_nms
from vision_attention.config import TrainConfig
from vision_attention.training import build_model, fit

__all__ = [
    "BSNModels",
    "evaluate_proposals",
    "predict_proposals",
    "tem_curves",
    "train_bsn",
    "window_proposals",
]


@dataclass
class BSNModels:
    config: BSNConfig
    tem: TEM
    pem: PEM
    history: dict


def _check(videos: list[Video], config: BSNConfig) -> None:
    if not videos:
        raise ValueError("no videos")
    for v in videos:
        if v.features.shape != (config.scale, config.features):
            raise ValueError(
                f"video {v.name}: features {v.features.shape}, expected ({config.scale}, {config.features}) "
                "(rescale with bsn.data.rescale)"
            )


def tem_curves(tem: TEM, videos: list[Video]) -> np.ndarray:
    """``(n, 3, T)`` actionness, start and end probabilities."""
    tem.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.stack([v.features for v in videos]))
        return torch.cat([tem(chunk) for chunk in x.split(256)]).numpy().astype(float)


def _proposals(curves: np.ndarray, config: BSNConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    segments, boundary = generate_proposals(curves[1], curves[2], config.peak_ratio, config.max_duration)
    return segments, boundary, bsp_features(curves[0], segments, config.center_points, config.boundary_points)


def train_bsn(
    videos: list[Video],
    config: BSNConfig,
    tem_train: TrainConfig,
    pem_train: TrainConfig,
    *,
    folder: str | Path | None = None,
    seed: int = 0,
) -> BSNModels:
    """Train TEM, then PEM on the TEM's proposals of the same videos (checkpoints under `folder`)."""
    _check(videos, config)
    folder = None if folder is None else Path(folder)
    tem = build_model(lambda: TEM(config), tem_train.seed)
    x = torch.from_numpy(np.stack([v.features for v in videos]))
    y = torch.from_numpy(np.stack([tem_targets(v.segments, config.scale) for v in videos])).float()
    tem_history = fit(
        tem,
        lambda m, b: tem_loss(m(b[0]), b[1], config),
        [x, y],
        tem_train,
        checkpoint=None if folder is None else folder / "tem.safetensors",
    )
    curves = tem_curves(tem, videos)
    feats, targets = [], []
    for v, c in zip(videos, curves):
        segments, _, f = _proposals(c, config)
        if len(segments):
            feats.append(f)
            targets.append(
                temporal_iou(segments, v.segments).max(axis=1) if len(v.segments) else np.zeros(len(f))
            )
    feats, targets = np.concatenate(feats), np.concatenate(targets)
    rng = np.random.default_rng(seed)
    positive = np.flatnonzero(targets > config.positive_iou)
    negative = np.flatnonzero(targets <= config.positive_iou)
    if len(positive):
        negative = rng.choice(negative, size=min(len(negative), 2 * len(positive)), replace=False)
    rows = np.sort(np.concatenate([positive, negative]))
    pem = build_model(lambda: PEM(config), pem_train.seed)
    pem_history = fit(
        pem,
        lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(),
        [torch.from_numpy(feats[rows]).float(), torch.from_numpy(targets[rows]).float()],
        pem_train,
        checkpoint=None if folder is None else folder / "pem.safetensors",
    )
    history = {
        "tem": tem_history,
        "pem": pem_history,
        "pem_examples": len(rows),
        "pem_positives": len(positive),
        "proposals_per_video": len(targets) / len(videos),
    }
    return BSNModels(config, tem, pem, history)


def predict_proposals(models: BSNModels, videos: list[Video], use_pem: bool = True) -> dict[str, tuple]:
    """``{video: (segments (k, 2), scores (k,))}`` after Soft-NMS; ``use_pem=False`` scores by ``p_s p_e`` only."""
    config = models.config
    _check(videos, config)
    out = {}
    models.pem.eval()
    for v, c in zip(videos, tem_curves(models.tem, videos)):
        segments, boundary, f = _proposals(c, config)
        score = boundary[:, 0] * boundary[:, 1]
        if use_pem and len(segments):
            with torch.no_grad():
                score = score * models.pem(torch.from_numpy(f).float()).numpy()
        out[v.name] = soft_nms(segments, score, config.nms_sigma, config.nms_threshold, config.proposals)
    return out


def window_proposals(tem: TEM, videos: list[Video], config: BSNConfig) -> dict[str, tuple]:
    """The sliding-window baseline: windows scored by their mean TEM actionness, then the same Soft-NMS."""
    windows = sliding_windows(config.scale)
    first = np.round(windows[:, 0] * config.scale).astype(int)
    last = np.round(windows[:, 1] * config.scale).astype(int)
    out = {}
    for v, c in zip(videos, tem_curves(tem, videos)):
        cumulative = np.concatenate([[0.0], np.cumsum(c[0])])
        score = (cumulative[last] - cumulative[first]) / (last - first)
        out[v.name] = soft_nms(windows, score, config.nms_sigma, config.nms_threshold, config.proposals)
    return out


def evaluate_proposals(
    proposals: dict[str, tuple], videos: list[Video], numbers=tuple(range(1, 101))
) -> dict:
    """AR at AN = 1, 10, 50, 100 and the AUC of AR(AN) over `numbers` (ActivityNet tIoU 0.5:0.05:0.95)."""
    recall = ar_at_an(proposals, {v.name: v.segments for v in videos}, numbers)
    by = dict(zip(numbers, recall))
    return {
        **{f"ar@{n}": float(by[n]) for n in (1, 10, 50, 100) if n in by},
        "auc": auc(recall, numbers),
        "curve": recall.tolist(),
    }
