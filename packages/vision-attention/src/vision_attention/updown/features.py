"""Image features for the two models: the released bottom-up format, and features computed here.

- `read_bottom_up_tsv` / `write_bottom_up_tsv`: the TSV the paper's authors released (one line per image:
  ``image_id, image_w, image_h, num_boxes, boxes, features``, tab-separated, the last two base64 float32
  arrays of shape (num_boxes, 4) and (num_boxes, 2048)); a malformed line is an `InputError` naming the
  file, line and field.
- `SceneEncoder`: a small CNN over the scene images (stride 4), pre-trained here to name the colour,
  shape and size of the objects in ground-truth boxes (the analogue of the paper's Visual Genome
  attribute training of its Faster R-CNN), then frozen.
- `region_features`: bottom-up features, the encoder's map `roi_align`-ed (torchvision) in each box,
  mean-pooled, plus the normalised box geometry (x0, y0, x1, y1, area).
- `grid_features`: top-down-only features, the same map average-pooled on a fixed g x g grid, with the
  cells' geometry (the ResNet baseline of the paper's Tables 1 and 2).
"""

from __future__ import annotations

import base64
import binascii
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.errors import InputError
from core.files import atomic_write

__all__ = [
    "TSV_FIELDS",
    "BottomUpRecord",
    "SceneEncoder",
    "grid_features",
    "pad_regions",
    "read_bottom_up_tsv",
    "region_features",
    "write_bottom_up_tsv",
]

TSV_FIELDS = ("image_id", "image_w", "image_h", "num_boxes", "boxes", "features")


@dataclass(frozen=True)
class BottomUpRecord:
    """One image of a bottom-up feature file: ``boxes (k, 4)`` pixels and ``features (k, d)`` float32."""

    image_id: str
    width: int
    height: int
    boxes: np.ndarray
    features: np.ndarray


def _array(text: str, count: int, where: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("not base64 data", item=where) from None
    if len(raw) % 4 or count <= 0 or (len(raw) // 4) % count:
        raise InputError(f"{len(raw)} bytes do not hold {count} rows of float32", item=where)
    return np.frombuffer(raw, dtype=np.float32).reshape(count, -1)


def read_bottom_up_tsv(path: str | Path, feature_size: int | None = None) -> list[BottomUpRecord]:
    """Every image of a bottom-up TSV file.

    Args:
        path: the ``.tsv`` file.
        feature_size: expected feature length (2048 for the released files); None accepts any.

    Raises:
        InputError: the file is missing or a line is malformed (wrong field count, a non-integer size,
            bad base64, box/feature arrays that do not fit ``num_boxes``, boxes not of 4 numbers, boxes
            outside the image, non-finite values, another feature size); the message names file and line.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("bottom-up feature file not found", item=str(source))
    csv.field_size_limit(sys.maxsize)
    records = []
    with source.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            where = f"{source}, line {number}"
            if len(row) != len(TSV_FIELDS):
                raise InputError(
                    f"expected {len(TSV_FIELDS)} tab-separated fields, found {len(row)}",
                    item=where,
                    expected=", ".join(TSV_FIELDS),
                )
            image_id, width, height, count, boxes, features = row
            try:
                width, height, count = int(width), int(height), int(count)
            except ValueError:
                raise InputError("image_w, image_h and num_boxes must be integers", item=where) from None
            if width <= 0 or height <= 0 or count <= 0:
                raise InputError("image_w, image_h and num_boxes must be positive", item=where)
            box_array = _array(boxes, count, f"{where}, field 'boxes'")
            feature_array = _array(features, count, f"{where}, field 'features'")
            if box_array.shape[1] != 4:
                raise InputError(
                    "each box must be 4 numbers (x0, y0, x1, y1)", item=f"{where}, field 'boxes'"
                )
            if feature_size is not None and feature_array.shape[1] != feature_size:
                raise InputError(
                    f"features have size {feature_array.shape[1]}",
                    item=f"{where}, field 'features'",
                    expected=str(feature_size),
                )
            if not (np.isfinite(box_array).all() and np.isfinite(feature_array).all()):
                raise InputError("non-finite values", item=where)
            inside = (box_array[:, 0] >= -1) & (box_array[:, 1] >= -1) & (box_array[:, 2] <= width + 1)
            inside &= (
                (box_array[:, 3] <= height + 1)
                & (box_array[:, 2] >= box_array[:, 0])
                & (box_array[:, 3] >= box_array[:, 1])
            )
            if not inside.all():
                raise InputError(
                    "a box lies outside its image or is inverted",
                    item=f"{where}, box {int(np.argmin(inside))}",
                )
            records.append(BottomUpRecord(image_id, width, height, box_array, feature_array))
    if not records:
        raise InputError("bottom-up feature file holds no images", item=str(source))
    return records


def write_bottom_up_tsv(path: str | Path, records: list[BottomUpRecord]) -> Path:
    """Write `records` in the released TSV format (atomically)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as handle:
            out = csv.writer(handle, delimiter="\t", lineterminator="\n")
            for r in records:
                encode = lambda a: base64.b64encode(  # noqa: E731
                    np.ascontiguousarray(a, dtype=np.float32).tobytes()
                ).decode()
                out.writerow(
                    [r.image_id, r.width, r.height, len(r.boxes), encode(r.boxes), encode(r.features)]
                )

    return atomic_write(path, write)


class SceneEncoder(nn.Module):
    """``(n, 3, s, s)`` -> ``(n, channels, s/4, s/4)``; with attribute heads for pre-training on boxes."""

    STRIDE = 4

    def __init__(self, channels: int = 32, colors: int = 4, shapes: int = 3, sizes: int = 2) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, channels // 2, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels // 2, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.heads = nn.ModuleDict(
            {
                "color": nn.Linear(channels, colors),
                "shape": nn.Linear(channels, shapes),
                "size": nn.Linear(channels, sizes),
            }
        )
        self.channels = channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)

    def pooled_regions(self, images: torch.Tensor, boxes: list[torch.Tensor]) -> torch.Tensor:
        """``(sum k_i, channels)``: the map `roi_align`-ed (3x3, aligned) in each box, mean-pooled."""
        from torchvision.ops import roi_align

        maps = self(images)
        pooled = roi_align(
            maps, [b.float() for b in boxes], output_size=3, spatial_scale=1 / self.STRIDE, aligned=True
        )
        return pooled.mean(dim=(2, 3))


def _geometry(boxes: torch.Tensor, size: int) -> torch.Tensor:
    scaled = boxes.float() / size
    area = (scaled[:, 2] - scaled[:, 0]) * (scaled[:, 3] - scaled[:, 1])
    return torch.cat([scaled, area[:, None]], dim=1)


@torch.no_grad()
def region_features(
    encoder: SceneEncoder, images: torch.Tensor, boxes: list[torch.Tensor], chunk: int = 128
) -> list[torch.Tensor]:
    """Bottom-up features: one ``(k_i, channels + 5)`` tensor per image (box content, then box geometry)."""
    encoder.eval()
    size = images.shape[-1]
    out = []
    for first in range(0, len(images), chunk):
        part = boxes[first : first + chunk]
        pooled = encoder.pooled_regions(images[first : first + chunk], part).split([len(b) for b in part])
        out += [torch.cat([p, _geometry(b, size)], dim=1) for p, b in zip(pooled, part, strict=True)]
    return out


@torch.no_grad()
def grid_features(
    encoder: SceneEncoder, images: torch.Tensor, grid: int = 4, chunk: int = 128
) -> torch.Tensor:
    """Top-down-only features: ``(n, grid^2, channels + 5)``, the map averaged on a grid x grid layout."""
    encoder.eval()
    size = images.shape[-1]
    step = size / grid
    cells = torch.tensor(
        [[c * step, r * step, (c + 1) * step, (r + 1) * step] for r in range(grid) for c in range(grid)]
    )
    geometry = _geometry(cells, size)
    out = []
    for first in range(0, len(images), chunk):
        maps = nn.functional.adaptive_avg_pool2d(encoder(images[first : first + chunk]), grid)
        flat = maps.flatten(2).transpose(1, 2)  # (n, grid^2, channels), row-major cells
        out.append(torch.cat([flat, geometry.expand(len(flat), -1, -1)], dim=2))
    return torch.cat(out)


def pad_regions(
    features: list[torch.Tensor], regions: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(n, K, d)`` zero-padded features and the ``(n, K)`` bool mask of real regions (K = the most regions).

    Raises:
        InputError: an image without regions, or features of different sizes.
    """
    if any(len(f) == 0 for f in features):
        raise InputError(
            "an image has no regions", item=next(i for i, f in enumerate(features) if len(f) == 0)
        )
    if len({f.shape[1] for f in features}) != 1:
        raise InputError("region features differ in size", item=sorted({f.shape[1] for f in features}))
    regions = regions or max(len(f) for f in features)
    padded = torch.zeros(len(features), regions, features[0].shape[1])
    mask = torch.zeros(len(features), regions, dtype=torch.bool)
    for i, f in enumerate(features):
        padded[i, : len(f)] = f[:regions]
        mask[i, : len(f)] = True
    return padded, mask


def train_encoder(
    images: torch.Tensor,
    objects: torch.Tensor,
    train,
    *,
    channels: int = 32,
    checkpoint: str | Path | None = None,
) -> tuple[SceneEncoder, list[dict]]:
    """Pre-train a `SceneEncoder` to name each ground-truth object's colour, shape and size from its box.

    Args:
        images: ``(n, 3, s, s)`` scenes.
        objects: ``(m, 8)`` long rows ``(image index, x0, y0, x1, y1, colour, shape, size)``.
        train: a `vision_attention.config.TrainConfig`.

    Returns:
        The encoder (eval mode) and the training history.
    """
    import torch.nn.functional as F
    from torchvision.ops import roi_align

    from vision_attention.training import build_model, fit

    encoder = build_model(lambda: SceneEncoder(channels), train.seed)

    def loss(model: SceneEncoder, batch: list[torch.Tensor]) -> torch.Tensor:
        (rows,) = batch
        maps = model(images[rows[:, 0]])
        boxes = torch.cat([torch.arange(len(rows))[:, None].float(), rows[:, 1:5].float()], dim=1)
        pooled = roi_align(maps, boxes, output_size=3, spatial_scale=1 / model.STRIDE, aligned=True).mean(
            dim=(2, 3)
        )
        return sum(
            F.cross_entropy(model.heads[name](pooled), rows[:, 5 + k])
            for k, name in enumerate(("color", "shape", "size"))
        )

    history = fit(encoder, loss, [objects], train, checkpoint=checkpoint)
    return encoder.eval(), history
