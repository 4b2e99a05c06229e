"""Video feature sequences with annotated segments: synthetic ones, and loaders for the standard files.

A `Video` holds ``features`` ``(T, D)`` float32 (already rescaled to the study's ``T`` snippets) and
``segments`` ``(g, 2)`` action boundaries as fractions of the video, with their labels.

Synthetic videos: background snippets are Gaussian noise; an action of class k adds its prototype (a fixed
random unit-variance vector) ramped in and out over ``onset`` snippets, so the boundaries are visible but soft.

Standard files (nothing is downloaded here):
- ActivityNet (and BSN's THUMOS14 conversion): one JSON, ``{"database": {video: {"duration_second": s,
  "subset": "training" | "validation" | ..., "annotations": [{"segment": [t0, t1], "label": "..."}]}}}``
  (the ``database`` wrapper is optional, as in BSN's ``anet_anno_action.json``).
- THUMOS14 temporal annotations: one ``<Class>_<subset>.txt`` per class, lines ``video_name t0 t1`` (seconds);
  durations from a ``video_name duration`` text file.
- Features: one CSV per video (BSN's ``csv_mean_100`` layout: a header row, one row per snippet, one column
  per channel), or a ``.npy`` ``(snippets, channels)``; rescaled to ``T`` snippets by linear interpolation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from vision_attention.bsn.config import SyntheticVideoConfig

__all__ = [
    "Video",
    "load_activitynet_annotations",
    "load_feature_file",
    "load_thumos_annotations",
    "load_videos",
    "rescale",
    "synthetic_videos",
]


@dataclass(frozen=True)
class Video:
    name: str
    features: np.ndarray  # (T, D) float32
    segments: np.ndarray  # (g, 2) fractions of the video
    labels: tuple[str, ...] = ()


def synthetic_videos(config: SyntheticVideoConfig, seed: int = 0) -> list[Video]:
    """``config.videos`` videos of ``config.scale`` snippets with 1..max_actions non-overlapping actions."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(10_007).normal(size=(config.classes, config.features))
    T = config.scale
    out = []
    for v in range(config.videos):
        count = int(rng.integers(1, config.max_actions + 1))
        for _ in range(1000):
            lengths = rng.uniform(config.min_length, config.max_length, size=count)
            if lengths.sum() <= 1:
                break
            count = max(1, count - 1)
        gaps = rng.dirichlet(np.ones(count + 1)) * (1 - lengths.sum())
        t, segs = gaps[0], []
        for length, gap in zip(lengths, gaps[1:]):
            a, b = round(t * T), round((t + length) * T)
            segs.append((a, max(b, a + 1)))
            t += length + gap
        features = rng.normal(scale=config.noise, size=(T, config.features))
        labels = []
        for a, b in segs:
            k = int(rng.integers(config.classes))
            labels.append(f"action{k}")
            ramp = np.ones(b - a)
            for i in range(min(config.onset, (b - a) // 2)):
                ramp[i] = ramp[-1 - i] = (i + 1) / (config.onset + 1)
            features[a:b] += ramp[:, None] * prototypes[k]
        out.append(
            Video(
                name=f"synthetic_{v:05d}",
                features=features.astype(np.float32),
                segments=np.asarray(segs, dtype=float) / T,
                labels=tuple(labels),
            )
        )
    return out


def rescale(features: np.ndarray, length: int) -> np.ndarray:
    """``(n, D)`` -> ``(length, D)`` by linear interpolation over snippet centres (BSN's fixed ``l_w``)."""
    x = np.asarray(features, dtype=float)
    if x.ndim != 2 or len(x) == 0:
        raise InputError("a feature sequence must be a non-empty (snippets, channels) array", item=x.shape)
    old = (np.arange(len(x)) + 0.5) / len(x)
    new = (np.arange(length) + 0.5) / length
    return np.stack([np.interp(new, old, x[:, d]) for d in range(x.shape[1])], axis=1).astype(np.float32)


def load_feature_file(path: str | Path) -> np.ndarray:
    """One video's features: a CSV (header row, one row per snippet) or a ``.npy`` ``(snippets, channels)``."""
    path = Path(path)
    if not path.exists():
        raise InputError("feature file not found", item=str(path))
    if path.suffix == ".npy":
        array = np.load(path)
    else:
        lines = path.read_text().splitlines()
        rows = []
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                rows.append([float(v) for v in line.split(",")])
            except ValueError:
                raise InputError(
                    "a feature CSV value is not a number", item=f"{path}, line {number}"
                ) from None
            if len(rows[-1]) != len(rows[0]):
                raise InputError(
                    "a feature CSV row has the wrong number of columns",
                    item=f"{path}, line {number}: {len(rows[-1])} columns",
                    expected=f"{len(rows[0])}",
                )
        array = np.asarray(rows, dtype=float)
    if array.ndim != 2 or len(array) == 0:
        raise InputError(
            "features must be a non-empty (snippets, channels) table", item=f"{path}: {array.shape}"
        )
    return array


def load_activitynet_annotations(path: str | Path, subset: str | None = None) -> dict[str, dict]:
    """``{video: {"duration": s, "subset": ..., "segments": (g, 2) seconds, "labels": [...]}}``."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError("annotation file not found", item=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError("annotation file is not JSON", item=f"{path}: {error}") from None
    database = data.get("database", data) if isinstance(data, dict) else None
    if not isinstance(database, dict):
        raise InputError("annotation JSON must map video names to entries", item=str(path))
    out = {}
    for video, entry in database.items():
        where = f"{path}: video {video!r}"
        if not isinstance(entry, dict) or "annotations" not in entry:
            raise InputError("annotation entry has no 'annotations'", item=where)
        duration = entry.get("duration_second", entry.get("duration"))
        if not isinstance(duration, int | float) or duration <= 0:
            raise InputError("annotation entry needs a positive 'duration_second'", item=where)
        if subset is not None and entry.get("subset") != subset:
            continue
        segs, labels = [], []
        for k, a in enumerate(entry["annotations"]):
            seg = a.get("segment") if isinstance(a, dict) else None
            if not (
                isinstance(seg, list | tuple)
                and len(seg) == 2
                and all(isinstance(s, int | float) for s in seg)
            ):
                raise InputError(
                    "an annotation needs 'segment': [start, end]", item=f"{where}, annotation {k}"
                )
            if not seg[0] < seg[1]:
                raise InputError(
                    "an annotated segment must have start < end", item=f"{where}, annotation {k}: {seg}"
                )
            segs.append((float(seg[0]), float(seg[1])))
            labels.append(str(a.get("label", "")))
        out[video] = {
            "duration": float(duration),
            "subset": entry.get("subset"),
            "segments": np.asarray(segs, dtype=float).reshape(-1, 2),
            "labels": labels,
        }
    return out


def load_thumos_annotations(
    folder: str | Path, durations: str | Path, subset: str = "val"
) -> dict[str, dict]:
    """THUMOS14 ``<Class>_<subset>.txt`` files (``video t0 t1`` per line) and a ``video duration`` file."""
    folder = Path(folder)
    lengths: dict[str, float] = {}
    for number, line in enumerate(Path(durations).read_text().splitlines(), start=1):
        if line.strip():
            parts = line.split()
            try:
                lengths[parts[0]] = float(parts[1])
            except (IndexError, ValueError):
                raise InputError(
                    "a duration line must be 'video seconds'", item=f"{durations}, line {number}"
                ) from None
    files = sorted(folder.glob(f"*_{subset}.txt"))
    if not files:
        raise InputError("no THUMOS14 annotation files", item=str(folder), expected=f"<Class>_{subset}.txt")
    out: dict[str, dict] = {}
    for file in files:
        label = file.name[: -len(f"_{subset}.txt")]
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                video, t0, t1 = parts[0], float(parts[1]), float(parts[2])
            except (IndexError, ValueError):
                raise InputError(
                    "an annotation line must be 'video start end'", item=f"{file}, line {number}"
                ) from None
            if video not in lengths:
                raise InputError("annotated video has no duration", item=f"{file}, line {number}: {video}")
            entry = out.setdefault(
                video, {"duration": lengths[video], "subset": subset, "segments": [], "labels": []}
            )
            entry["segments"].append((t0, t1))
            entry["labels"].append(label)
    for entry in out.values():
        entry["segments"] = np.asarray(entry["segments"], dtype=float).reshape(-1, 2)
    return out


def load_videos(annotations: dict[str, dict], feature_folder: str | Path, scale: int = 100) -> list[Video]:
    """Join annotations (either loader) with ``<feature_folder>/<video>.csv`` (or ``.npy``) features."""
    folder = Path(feature_folder)
    out = []
    for video, entry in sorted(annotations.items()):
        file = next((f for f in (folder / f"{video}.csv", folder / f"{video}.npy") if f.exists()), None)
        if file is None:
            raise InputError("no feature file for an annotated video", item=f"{folder}/{video}.csv")
        segments = np.clip(entry["segments"] / entry["duration"], 0.0, 1.0)
        out.append(Video(video, rescale(load_feature_file(file), scale), segments, tuple(entry["labels"])))
    return out


def load_activitynet_proposals(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ActivityNet proposal results ``{"results": {video: [{"segment": [t0, t1], "score": s}, ...]}}``:
    ``{video: (segments (p, 2), scores (p,))}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("proposal file not found", item=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError("proposal file is not JSON", item=f"{path}: {error}") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise InputError("proposal JSON needs a 'results' mapping of videos", item=str(path))
    out = {}
    for video, entries in results.items():
        segs, scores = [], []
        for k, e in enumerate(entries):
            try:
                (t0, t1), s = e["segment"], float(e["score"])
                segs.append((float(t0), float(t1)))
                scores.append(s)
            except (KeyError, TypeError, ValueError):
                raise InputError(
                    "a proposal needs 'segment': [t0, t1] and 'score'", item=f"{path}: {video!r}, entry {k}"
                ) from None
        out[video] = (np.asarray(segs, dtype=float).reshape(-1, 2), np.asarray(scores, dtype=float))
    return out
