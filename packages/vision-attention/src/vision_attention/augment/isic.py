"""The ISIC challenge layout: an image folder and a ground-truth CSV (optionally a mask folder).

ISIC 2017 (Codella et al. 2018), the paper's data:

```
ISIC-2017_Training_Data/ISIC_0000000.jpg ...
ISIC-2017_Training_Part3_GroundTruth.csv              image_id,melanoma,seborrheic_keratosis
ISIC-2017_Training_Part1_GroundTruth/ISIC_0000000_segmentation.png ...   (lesion masks, for lesion mix)
```

(and the same for ``Validation`` and ``Test_v2``). The ISIC 2018 / 2019 CSVs (``image,MEL,NV,...``) read
the same way. Images are resized to ``size`` x ``size`` RGB in [0, 1]; masks to ``size`` x ``size`` in
[0, 1]. Every problem is one `InputError` naming the file, the line and the item.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from core.errors import InputError
from vision_attention.augment.data import LesionData

__all__ = ["find_isic_split", "load_isic", "load_isic_split"]

ID_COLUMNS = ("image_id", "image")
LABEL_COLUMNS = ("melanoma", "MEL")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _read_image(path: Path, size: int, mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            resized = image.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(resized, dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError) as error:
        raise InputError("cannot read image", item=f"{path}: {error}") from None


def _find(folder: Path, stems: tuple[str, ...]) -> Path | None:
    for stem in stems:
        for suffix in IMAGE_SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    return None


def load_isic(
    images: str | Path,
    ground_truth: str | Path,
    *,
    masks: str | Path | None = None,
    size: int = 48,
    label: str | None = None,
    id_column: str | None = None,
    limit: int | None = None,
) -> LesionData:
    """The images listed in the `ground_truth` CSV, read from the folder `images` (``<id>.jpg|.jpeg|.png``).

    Args:
        images: the image folder.
        ground_truth: the CSV: an id column (`id_column`, else ``image_id`` or ``image``) and a 0 / 1 label
            column (`label`, else ``melanoma`` or ``MEL``); values like ``1.0`` are accepted.
        masks: a folder of lesion masks (``<id>_segmentation.png`` or ``<id>.png``), for lesion mix.
        size: the side images and masks are resized to.
        label, id_column: the column names, when not the ISIC defaults.
        limit: read only the first `limit` rows (a quick look at a large set).

    Raises:
        InputError: a missing folder or CSV, a CSV without the id or label column (the message lists the
            columns it has), a label that is not 0 / 1, a repeated id, a missing or unreadable image or mask
            (each naming the CSV line), or a CSV without rows.
    """
    images, ground_truth = Path(images), Path(ground_truth)
    if not images.is_dir():
        raise InputError("ISIC image folder not found", item=str(images))
    if not ground_truth.is_file():
        raise InputError("ISIC ground-truth CSV not found", item=str(ground_truth))
    mask_folder = Path(masks) if masks is not None else None
    if mask_folder is not None and not mask_folder.is_dir():
        raise InputError("ISIC mask folder not found", item=str(mask_folder))
    with ground_truth.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        id_name = id_column or next((c for c in ID_COLUMNS if c in header), None)
        label_name = label or next((c for c in LABEL_COLUMNS if c in header), None)
        for wanted, name in (("id", id_name), ("label", label_name)):
            if name is None or name not in header:
                raise InputError(
                    f"the ground-truth CSV has no {wanted} column",
                    item=f"{ground_truth}: columns {header}",
                    expected=f"one of {ID_COLUMNS if wanted == 'id' else LABEL_COLUMNS} (or pass the name)",
                )
        pictures, labels, lesion_masks, ids, seen = [], [], [], [], {}
        for line, row in enumerate(reader, start=2):
            if limit is not None and len(ids) >= limit:
                break
            where = f"{ground_truth}, line {line}"
            image_id = (row.get(id_name) or "").strip()
            if not image_id:
                raise InputError("empty image id", item=where)
            if image_id in seen:
                raise InputError(
                    "repeated image id", item=f"{where}: {image_id} (first on line {seen[image_id]})"
                )
            seen[image_id] = line
            raw = (row.get(label_name) or "").strip()
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if value not in (0.0, 1.0):
                raise InputError(f"label {label_name!r} must be 0 or 1", item=f"{where}: {raw!r}")
            path = _find(images, (image_id,))
            if path is None:
                raise InputError(
                    "image listed in the CSV is missing", item=f"{where}: {image_id} not in {images}"
                )
            pictures.append(_read_image(path, size, "RGB").transpose(2, 0, 1))
            if mask_folder is not None:
                mask_path = _find(mask_folder, (f"{image_id}_segmentation", image_id))
                if mask_path is None:
                    raise InputError("lesion mask missing", item=f"{where}: {image_id} not in {mask_folder}")
                lesion_masks.append(_read_image(mask_path, size, "L")[None])
            labels.append(int(value))
            ids.append(image_id)
    if not ids:
        raise InputError("the ground-truth CSV lists no images", item=str(ground_truth))
    return LesionData(
        images=torch.as_tensor(np.stack(pictures)),
        labels=torch.as_tensor(labels, dtype=torch.int64),
        masks=torch.as_tensor(np.stack(lesion_masks)) if lesion_masks else None,
        ids=ids,
        description=f"ISIC-format images from {images} ({len(ids)}, label {label_name!r}, {size} px)",
    )


def find_isic_split(folder: str | Path, split: str) -> tuple[Path, Path, Path | None]:
    """``(images, ground_truth, masks or None)`` of the ISIC 2017 split ``"Training"``, ``"Validation"`` or
    ``"Test"`` under `folder` (``*<split>*_Data``, ``*<split>*Part3_GroundTruth.csv``,
    ``*<split>*Part1_GroundTruth``).

    Raises:
        InputError: the folder is missing, or a pattern matches nothing or more than one entry.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError("ISIC folder not found", item=str(root))

    def one(pattern: str, required: bool) -> Path | None:
        found = sorted(root.glob(pattern))
        if len(found) > 1 or (required and not found):
            raise InputError(
                f"expected one match of {pattern!r}", item=f"{root}: {[p.name for p in found] or 'none'}"
            )
        return found[0] if found else None

    images = one(f"*{split}*_Data", True)
    truth = one(f"*{split}*Part3_GroundTruth.csv", True)
    masks = one(f"*{split}*Part1_GroundTruth", False)
    assert images is not None and truth is not None
    return images, truth, masks


def load_isic_split(folder: str | Path, split: str, size: int = 48) -> LesionData:
    """`load_isic` on the split found by `find_isic_split` (with its masks when the folder has them)."""
    images, truth, masks = find_isic_split(folder, split)
    return load_isic(images, truth, masks=masks, size=size)
