"""SMILES data: user files, the bundled MOSES subset, and the full MOSES splits from the `molsets` wheel.

MOSES (Polykovskiy et al. 2020, MIT licence) ships its splits as ``moses/dataset/data/*.csv.gz``
inside the ``molsets`` wheel on PyPI; `fetch_moses` downloads that wheel with
``pip download --no-deps`` and extracts the splits into the cache. The package bundles a random
3000 + 500 subset (train, test) for tests and smoke runs (licence in ``bundled/LICENSE_MOSES.txt``).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.data import bundled_path, cache_dir
from core.errors import InputError
from core.files import atomic_write

__all__ = [
    "MOSES_SPLITS",
    "SmilesRecord",
    "bundled_smiles",
    "fetch_moses",
    "load_records",
    "load_smiles",
    "moses_smiles",
    "moses_split_path",
    "read_records",
    "read_smiles",
]

MOSES_SPLITS = ("train", "test", "test_scaffolds")
MOSES_WHEEL = "molsets==0.3.1"
_BUNDLED = {"train": "moses_train_3000.smi", "test": "moses_test_500.smi"}
_FIELD_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class SmilesRecord:
    """One molecule read from a file: its SMILES, the identifier that followed it (None if none),
    and where it was read (``source`` path, 1-based ``line``) for error messages."""

    smiles: str
    id: str | None
    source: str
    line: int

    @property
    def where(self) -> str:
        """``"<file> line <n>"``."""
        return f"{self.source} line {self.line}"


def read_records(path: str | os.PathLike[str], *, limit: int | None = None) -> list[SmilesRecord]:
    """Molecules of a text file: one per line, the SMILES first, then an optional identifier.

    Fields are separated by any whitespace (spaces, tabs) or commas (CSV); SMILES never contain
    either. The second field, when present, is kept as the record's ``id``. A header line whose
    first field is ``SMILES`` (any case), blank lines and lines starting with ``#`` are skipped;
    ``.gz`` files are read transparently. Validity is checked later (`molgraph.dataset.prepare`
    reports each invalid line with its position).

    Raises:
        InputError: when the file is missing or holds no SMILES.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("SMILES file not found", item=str(source))
    opener = gzip.open if source.suffix == ".gz" else open
    out: list[SmilesRecord] = []
    with opener(source, "rt") as handle:
        for number, line in enumerate(handle, start=1):
            fields = [f for f in _FIELD_SEPARATORS.split(line.strip()) if f]
            if not fields or fields[0].startswith("#") or fields[0].lower() == "smiles":
                continue
            ident = fields[1] if len(fields) > 1 else None
            out.append(SmilesRecord(fields[0], ident, str(source), number))
            if limit is not None and len(out) >= limit:
                break
    if not out:
        raise InputError("no SMILES in file", item=str(source), expected="one SMILES per line")
    return out


def read_smiles(path: str | os.PathLike[str], *, limit: int | None = None) -> list[str]:
    """The SMILES of `read_records` (first field of each line), in file order."""
    return [record.smiles for record in read_records(path, limit=limit)]


def bundled_smiles(split: str = "train") -> list[str]:
    """The bundled MOSES subset: ``"train"`` (3000 molecules) or ``"test"`` (500)."""
    return read_smiles(_bundled_file(split))


def _bundled_file(split: str) -> Path:
    if split not in _BUNDLED:
        raise InputError("unknown bundled split", item=split, expected=f"one of {sorted(_BUNDLED)}")
    return bundled_path("molgraph", "bundled", _BUNDLED[split])


def moses_split_path(split: str = "train", folder: str | os.PathLike[str] | None = None) -> Path:
    """The ``<split>.csv.gz`` file of a MOSES split, in `folder` or in the cache.

    Raises:
        InputError: for an unknown split, or when the file is absent: the message names the file
            and how to get it (``molgraph data moses``, or ``--data DIR`` holding the splits).
    """
    if split not in MOSES_SPLITS:
        raise InputError("unknown MOSES split", item=split, expected=f"one of {MOSES_SPLITS}")
    base = Path(folder) if folder is not None else cache_dir("molgraph") / "moses"
    path = base / f"{split}.csv.gz"
    if not path.is_file():
        raise InputError(
            f"MOSES {split} split not found",
            item=str(path),
            expected="run `molgraph data moses` (downloads the molsets wheel from PyPI and extracts the splits)"
            " or pass --data DIR with train.csv.gz and test.csv.gz",
        )
    return path


def moses_smiles(split: str = "train", *, limit: int | None = None) -> list[str]:
    """A full MOSES split from the cache (run ``molgraph data moses`` first).

    Raises:
        InputError: for an unknown split, or when the split has not been fetched.
    """
    return read_smiles(moses_split_path(split), limit=limit)


def load_records(source: str | os.PathLike[str], *, limit: int | None = None) -> list[SmilesRecord]:
    """Records (`read_records`) from a file path, or from a named set: ``bundled:train``,
    ``bundled:test`` (the bundled subset) or ``moses:<split>`` (a fetched MOSES split, `MOSES_SPLITS`).

    Raises:
        InputError: for an unknown name, a missing file or an unfetched split.
    """
    text = str(source)
    kind, _, split = text.partition(":")
    if kind == "bundled" and split:
        return read_records(_bundled_file(split), limit=limit)
    if kind == "moses" and split:
        return read_records(moses_split_path(split), limit=limit)
    return read_records(text, limit=limit)


def load_smiles(source: str | os.PathLike[str], *, limit: int | None = None) -> list[str]:
    """The SMILES of `load_records` (a file path or a named set), in order."""
    return [record.smiles for record in load_records(source, limit=limit)]


def fetch_moses(dest: str | os.PathLike[str] | None = None, *, wheel: str | None = None) -> dict[str, Path]:
    """Download the ``molsets`` wheel (or use a local `wheel` file) and extract the MOSES splits.

    Args:
        dest: target folder (default ``cache_dir("molgraph") / "moses"``).
        wheel: path of an already downloaded ``molsets-*.whl``; skips the download.

    Returns:
        ``{split: path of <split>.csv.gz}``.

    Raises:
        InputError: when pip is unavailable, the download fails, or the wheel lacks a split.
    """
    target = Path(dest) if dest is not None else cache_dir("molgraph") / "moses"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = Path(wheel) if wheel is not None else _download_wheel(Path(tmp))
        if not wheel_path.is_file():
            raise InputError("wheel file not found", item=str(wheel_path))
        try:
            archive = zipfile.ZipFile(wheel_path)
        except zipfile.BadZipFile as exc:
            raise InputError("not a wheel (zip) file", item=str(wheel_path)) from exc
        out: dict[str, Path] = {}
        with archive:
            names = set(archive.namelist())
            for split in MOSES_SPLITS:
                member = f"moses/dataset/data/{split}.csv.gz"
                if member not in names:
                    raise InputError("wheel has no MOSES split", item=f"{wheel_path}: {member}")
                data = archive.read(member)
                out[split] = atomic_write(target / f"{split}.csv.gz", lambda p, d=data: p.write_bytes(d))
            licence = next((n for n in names if n.endswith("LICENSE")), None)
            if licence:
                text = archive.read(licence)
                atomic_write(target / "LICENSE", lambda p: p.write_bytes(text))
    return out


def _download_wheel(folder: Path) -> Path:
    commands = [[sys.executable, "-m", "pip"], [p] if (p := shutil.which("pip")) else None]
    for base in (c for c in commands if c):
        try:
            subprocess.run(
                [*base, "download", "--no-deps", MOSES_WHEEL, "-d", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            )
        except (subprocess.CalledProcessError, OSError):
            continue
        wheels = sorted(folder.glob("molsets-*.whl"))
        if wheels:
            return wheels[0]
    raise InputError(
        "could not download the molsets wheel with pip",
        item=MOSES_WHEEL,
        expected="network access and pip, or --wheel PATH to a downloaded molsets wheel",
    )
