"""Read StreetLearn-format panorama graphs into a `hrl.envs.city.StreetGraph`.

StreetLearn (Mirowski et al. 2018's released data, https://sites.google.com/view/streetlearn) stores
one protobuf ``streetlearn.Pano`` message per panorama; the fields read here are ``id``,
``coords.lat`` / ``coords.lng`` (degrees), ``heading_deg`` (the compass heading of the panorama's
centre column), ``neighbor`` (messages with an ``id``) and ``compressed_image`` (JPEG/PNG bytes of the
equirectangular panorama). The release keeps them in a LevelDB; this loader reads them as **JSON
lines**, one message per line in protobuf's JSON mapping (``google.protobuf.json_format.MessageToJson``
of each ``Pano``: camelCase keys ``headingDeg``, ``compressedImage`` base64-encoded), e.g.::

    {"id": "a", "coords": {"lat": 51.5, "lng": -0.12}, "headingDeg": 90.0,
     "neighbor": [{"id": "b"}], "compressedImage": "<base64 PNG>"}

snake_case keys (``heading_deg``, ``compressed_image``) are accepted too. Positions are projected to
metres around the graph's mean (equirectangular), neighbour links are made symmetric, links to ids
not in the file are dropped. Landmarks (the goal descriptor's reference points; the paper picks them
per city) are given as pano ids or drawn evenly from the panoramas with a seed.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from hrl.envs.city import StreetGraph

__all__ = ["load_streetlearn", "write_streetlearn"]

_EARTH_M = 6_371_000.0


def _field(record: dict[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    return record.get(camel, record.get(snake, default))


def load_streetlearn(
    path: str | os.PathLike[str],
    landmarks: list[str] | int = 8,
    seed: int = 0,
    images: bool = True,
) -> StreetGraph:
    """Load a JSON-lines file of StreetLearn ``Pano`` messages.

    Args:
        path: the ``.jsonl`` file. landmarks: pano ids, or how many to draw (seeded by `seed`).
        images: decode ``compressedImage`` (PIL); panoramas without one render black.

    Raises:
        InputError: a missing file, a line that is not JSON, a pano without ``id`` or ``coords``, a
            duplicate id, an unknown landmark id, or too many landmarks (each naming the line or id).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no StreetLearn file", item=str(path))
    records = []
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError("line is not JSON", item=f"{path}:{line_no}: {error.msg}") from None
        if "id" not in record or "coords" not in record:
            raise InputError("a Pano needs 'id' and 'coords'", item=f"{path}:{line_no}")
        records.append((line_no, record))
    if not records:
        raise InputError("no panoramas in the file", item=str(path))
    ids = [r["id"] for _, r in records]
    index: dict[str, int] = {}
    for (line_no, _), pano_id in zip(records, ids, strict=True):
        if pano_id in index:
            raise InputError("duplicate pano id", item=f"{path}:{line_no}: {pano_id}")
        index[pano_id] = len(index)
    latlng = np.array([[float(r["coords"]["lat"]), float(r["coords"]["lng"])] for _, r in records])
    lat0, lng0 = latlng.mean(0)
    positions = np.stack(
        [
            np.radians(latlng[:, 1] - lng0) * _EARTH_M * np.cos(np.radians(lat0)),
            np.radians(latlng[:, 0] - lat0) * _EARTH_M,
        ],
        axis=1,
    )
    neighbors: list[set[int]] = [set() for _ in ids]
    for i, (_, record) in enumerate(records):
        for n in record.get("neighbor", []):
            j = index.get(n.get("id"))
            if j is not None and j != i:
                neighbors[i].add(j)
                neighbors[j].add(i)
    headings = np.array([float(_field(r, "headingDeg", "heading_deg", 0.0)) for _, r in records])
    panoramas: list[np.ndarray | None] = []
    for line_no, record in records:
        data = _field(record, "compressedImage", "compressed_image")
        if not images or not data:
            panoramas.append(None)
            continue
        from PIL import Image

        try:
            panoramas.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")))
        except Exception as error:  # any decoding failure names the line
            raise InputError("compressedImage does not decode", item=f"{path}:{line_no}: {error}") from None
    if isinstance(landmarks, int):
        if not 1 <= landmarks <= len(ids):
            raise InputError("landmark count out of range", item=landmarks, expected=f"1..{len(ids)}")
        chosen = sorted(np.random.default_rng(seed).choice(len(ids), size=landmarks, replace=False).tolist())
    else:
        unknown = [x for x in landmarks if x not in index]
        if unknown:
            raise InputError("unknown landmark pano id", item=unknown[0])
        chosen = [index[x] for x in landmarks]
    return StreetGraph(
        positions=positions,
        neighbors=[sorted(n) for n in neighbors],
        landmarks=positions[chosen],
        panoramas=panoramas,
        pano_headings=headings,
        ids=ids,
    )


def write_streetlearn(
    path: str | os.PathLike[str],
    panos: list[dict[str, Any]],
) -> Path:
    """Write panos as JSON lines in the format `load_streetlearn` reads.

    Args:
        panos: dicts with ``id``, ``lat``, ``lng``, ``heading_deg``, ``neighbors`` (ids) and optionally
            ``image`` ((H, W, 3) uint8, stored as base64 PNG).
    """
    from PIL import Image

    lines = []
    for p in panos:
        record: dict[str, Any] = {
            "id": p["id"],
            "coords": {"lat": p["lat"], "lng": p["lng"]},
            "headingDeg": p.get("heading_deg", 0.0),
            "neighbor": [{"id": n} for n in p.get("neighbors", [])],
        }
        if p.get("image") is not None:
            buffer = io.BytesIO()
            Image.fromarray(np.asarray(p["image"], np.uint8)).save(buffer, format="PNG")
            record["compressedImage"] = base64.b64encode(buffer.getvalue()).decode()
        lines.append(json.dumps(record))
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path
