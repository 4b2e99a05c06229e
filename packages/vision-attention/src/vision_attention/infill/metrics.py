"""Scores of a saliency map against the object's known box, and the saliency metric of Dabkowski & Gal (2017).

- `mass_in_box`: the share of the map's mass inside the box (a uniform map scores the box's area share);
- `pointing`: whether the map's maximum lies inside the box (the pointing game, Zhang et al. 2016);
- `saliency_metric`: ``log(max(a, 0.05)) - log p``, with a the area share of the tightest rectangle around
  the thresholded map and p the classifier's probability of the class on that rectangle cropped and resized
  to the full image (Dabkowski & Gal 2017, sec. 5; the paper's table reports it; lower is better).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from vision_attention.infill.data import box_masks

__all__ = ["mass_in_box", "pointing", "saliency_metric", "tight_boxes"]


def mass_in_box(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """``(n,)`` share of the mass of ``maps (n, 1, S, S)`` (>= 0) inside ``boxes (n, 4)``; 0 for an empty map."""
    inside = box_masks(boxes, maps.shape[-1]).to(maps.dtype)
    total = maps.flatten(1).sum(1)
    return torch.where(total > 0, (maps * inside).flatten(1).sum(1) / total.clamp_min(1e-30), 0.0)


def pointing(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """``(n,)`` bool: the (first) maximum of each map lies inside its box."""
    side = maps.shape[-1]
    flat = maps.flatten(1).argmax(1)
    rows, cols = flat // side, flat % side
    top, left, bottom, right = boxes.unbind(1)
    return (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)


def tight_boxes(maps: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """``(n, 4)`` (top, left, bottom, right), bottom / right exclusive: the smallest rectangle around the
    pixels of ``maps (n, 1, H, W)`` above `threshold` (the maximum pixel alone when none is)."""
    boxes = []
    for m in maps[:, 0]:
        region = m > threshold
        if not region.any():
            region = m == m.max()
        rows = torch.nonzero(region.any(1))[:, 0]
        cols = torch.nonzero(region.any(0))[:, 0]
        boxes.append([int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1])
    return torch.tensor(boxes, dtype=torch.long).view(-1, 4)


def saliency_metric(
    classifier: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    maps: torch.Tensor,
    threshold: float = 0.5,
) -> torch.Tensor:
    """``(n,)`` Dabkowski & Gal's ``log(max(a, 0.05)) - log p(c | crop)`` (see the module; lower is better)."""
    height, width = images.shape[-2:]
    crops = []
    boxes = tight_boxes(maps, threshold)
    for image, (top, left, bottom, right) in zip(images, boxes.tolist(), strict=True):
        crop = image[None, :, top:bottom, left:right]
        crops.append(F.interpolate(crop, size=(height, width), mode="bilinear", align_corners=False))
    with torch.no_grad():
        classifier.eval()
        log_p = F.log_softmax(classifier(torch.cat(crops)), 1).gather(1, labels[:, None])[:, 0]
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).to(images.dtype) / (height * width)
    return torch.log(area.clamp_min(0.05)) - log_p if len(area) else area + math.nan
